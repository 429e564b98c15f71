/**
 * Anchors of the YOLOv3-style detection head: the YOLOv3 defaults (COCO, 416² input) scaled to
 * the input size, or k-means on the training boxes with YOLO's distance d = 1 − IoU(wh, anchor)
 * (boxes and anchors compared as if they shared a corner). Anchors are [w, h] in input pixels,
 * grouped per pyramid level, smallest level (finest stride) first.
 */
import { G2DError, Rng } from '@g2d-ts/core';

/** [width, height] in input pixels. */
export type Anchor = [number, number];

/** YOLOv3's nine COCO anchors for a 416² input, grouped for strides 8, 16, 32. */
export const YOLOV3_ANCHORS: readonly (readonly Anchor[])[] = [
  [
    [10, 13],
    [16, 30],
    [33, 23],
  ],
  [
    [30, 61],
    [62, 45],
    [59, 119],
  ],
  [
    [116, 90],
    [156, 198],
    [373, 326],
  ],
];

/** YOLOv3's defaults scaled from 416² to `imageSize`² (three levels, three anchors each). */
export function defaultAnchors(imageSize: number): Anchor[][] {
  if (!(imageSize > 0) || !Number.isFinite(imageSize)) throw new G2DError(`defaultAnchors: "imageSize" must be a positive number, got ${imageSize}`);
  const s = imageSize / 416;
  return YOLOV3_ANCHORS.map((lvl) => lvl.map(([w, h]) => [w * s, h * s] as Anchor));
}

/** IoU of two boxes of sizes `a` and `b` placed at the same corner. */
export function whIou(a: readonly [number, number], b: readonly [number, number]): number {
  const inter = Math.min(a[0], b[0]) * Math.min(a[1], b[1]);
  const union = a[0] * a[1] + b[0] * b[1] - inter;
  return union > 0 ? inter / union : 0;
}

export interface KmeansAnchorOptions {
  /** anchors in total (default 9) */
  k?: number;
  /** pyramid levels to split them over, smallest anchors to the finest level (default 3; k must divide) */
  levels?: number;
  /** seed of the k-means++ initialisation (default 0) */
  seed?: number | string;
  /** Lloyd iterations at most (default 100) */
  iterations?: number;
}

export interface KmeansAnchorResult {
  anchors: Anchor[][];
  /** mean over boxes of the best IoU with any anchor (YOLOv2's "Avg IOU") */
  meanIou: number;
}

/**
 * k-means anchors (YOLOv2/v3): clusters of box sizes under d = 1 − IoU, k-means++ seeded,
 * centroids = per-cluster medians of w and h (robust on small sets), sorted by area and
 * split evenly over the levels. Deterministic for a given seed and input order.
 */
export function kmeansAnchors(sizes: readonly (readonly [number, number])[], opts: KmeansAnchorOptions = {}): KmeansAnchorResult {
  const k = opts.k ?? 9;
  const levels = opts.levels ?? 3;
  const iterations = opts.iterations ?? 100;
  if (!Number.isInteger(k) || k < 1) throw new G2DError(`kmeansAnchors: option "k" must be a positive integer, got ${k}`);
  if (!Number.isInteger(levels) || levels < 1 || k % levels !== 0) throw new G2DError(`kmeansAnchors: option "levels" (${levels}) must divide k (${k})`);
  if (!Array.isArray(sizes)) throw new G2DError('kmeansAnchors: "sizes" must be an array of [w, h]');
  sizes.forEach((s, i) => {
    if (!Array.isArray(s) || s.length !== 2 || !(s[0] > 0) || !(s[1] > 0) || !Number.isFinite(s[0]) || !Number.isFinite(s[1])) {
      throw new G2DError(`kmeansAnchors: sizes[${i}] must be [w, h] with positive finite values, got ${JSON.stringify(s)}`);
    }
  });
  const distinct = new Set(sizes.map((s) => `${s[0]},${s[1]}`)).size;
  if (distinct < k) throw new G2DError(`kmeansAnchors: ${sizes.length} box(es) with ${distinct} distinct size(s) cannot give ${k} anchors (use defaultAnchors)`);
  const rng = new Rng(opts.seed ?? 0);
  // k-means++ with the 1 - IoU distance
  const cent: [number, number][] = [[...sizes[rng.int(sizes.length)]!] as [number, number]];
  const d2 = new Float64Array(sizes.length);
  while (cent.length < k) {
    let total = 0;
    for (let i = 0; i < sizes.length; i++) {
      let best = Infinity;
      for (const c of cent) best = Math.min(best, 1 - whIou(sizes[i]!, c));
      d2[i] = best * best;
      total += d2[i]!;
    }
    let pick = 0;
    if (total > 0) {
      let r = rng.next() * total;
      for (pick = 0; pick < sizes.length - 1; pick++) {
        r -= d2[pick]!;
        if (r <= 0) break;
      }
    } else pick = rng.int(sizes.length);
    cent.push([...sizes[pick]!] as [number, number]);
  }
  const assign = new Int32Array(sizes.length).fill(-1);
  for (let it = 0; it < iterations; it++) {
    let changed = false;
    for (let i = 0; i < sizes.length; i++) {
      let best = 0;
      let bestD = Infinity;
      cent.forEach((c, j) => {
        const d = 1 - whIou(sizes[i]!, c);
        if (d < bestD) {
          bestD = d;
          best = j;
        }
      });
      if (assign[i] !== best) {
        assign[i] = best;
        changed = true;
      }
    }
    for (let j = 0; j < k; j++) {
      const ws: number[] = [];
      const hs: number[] = [];
      for (let i = 0; i < sizes.length; i++) {
        if (assign[i] !== j) continue;
        ws.push(sizes[i]![0]);
        hs.push(sizes[i]![1]);
      }
      if (ws.length) cent[j] = [median(ws), median(hs)];
    }
    if (!changed) break;
  }
  let iouSum = 0;
  for (const s of sizes) iouSum += Math.max(...cent.map((c) => whIou(s, c)));
  cent.sort((a, b) => a[0] * a[1] - b[0] * b[1]);
  const per = k / levels;
  const anchors = Array.from({ length: levels }, (_, l) => cent.slice(l * per, (l + 1) * per));
  return { anchors, meanIou: iouSum / sizes.length };
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
