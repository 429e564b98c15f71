/**
 * Box helpers of the detection head: IoU / GIoU of xyxy boxes and greedy non-maximum
 * suppression. Boxes are `[x1, y1, x2, y2]` in pixels (the convention of @g2d-ts/metrics).
 */
import { G2DError } from '@g2d-ts/core';

export type BoxXYXY = [number, number, number, number];

function area(b: readonly number[]): number {
  return Math.max(0, b[2]! - b[0]!) * Math.max(0, b[3]! - b[1]!);
}

/** Intersection over union (0 when the union is empty). */
export function iouXYXY(a: readonly number[], b: readonly number[]): number {
  const iw = Math.max(0, Math.min(a[2]!, b[2]!) - Math.max(a[0]!, b[0]!));
  const ih = Math.max(0, Math.min(a[3]!, b[3]!) - Math.max(a[1]!, b[1]!));
  const inter = iw * ih;
  const union = area(a) + area(b) - inter;
  return union > 0 ? inter / union : 0;
}

/** Generalised IoU (Rezatofighi et al. 2019): IoU − (|C| − |A ∪ B|) / |C|, C the smallest enclosing box. In [−1, 1]. */
export function giouXYXY(a: readonly number[], b: readonly number[]): number {
  const iw = Math.max(0, Math.min(a[2]!, b[2]!) - Math.max(a[0]!, b[0]!));
  const ih = Math.max(0, Math.min(a[3]!, b[3]!) - Math.max(a[1]!, b[1]!));
  const inter = iw * ih;
  const union = area(a) + area(b) - inter;
  const cw = Math.max(a[2]!, b[2]!) - Math.min(a[0]!, b[0]!);
  const ch = Math.max(a[3]!, b[3]!) - Math.min(a[1]!, b[1]!);
  const c = cw * ch;
  const iou = union > 0 ? inter / union : 0;
  return c > 0 ? iou - (c - union) / c : iou;
}

/**
 * Greedy NMS: boxes by decreasing score (ties: lower index first); a box is kept unless its
 * IoU with an already kept box is > `iouThreshold`. Returns the kept indices in that order.
 */
export function nonMaxSuppression(boxes: readonly (readonly number[])[], scores: readonly number[], iouThreshold = 0.5, maxOutput = Infinity): number[] {
  if (boxes.length !== scores.length) throw new G2DError(`nonMaxSuppression: ${boxes.length} boxes but ${scores.length} scores`);
  if (!(iouThreshold >= 0 && iouThreshold <= 1)) throw new G2DError(`nonMaxSuppression: "iouThreshold" must be in [0, 1], got ${iouThreshold}`);
  const order = scores.map((_, i) => i).sort((a, b) => scores[b]! - scores[a]! || a - b);
  const kept: number[] = [];
  for (const i of order) {
    if (kept.length >= maxOutput) break;
    if (kept.every((j) => iouXYXY(boxes[i]!, boxes[j]!) <= iouThreshold)) kept.push(i);
  }
  return kept;
}
