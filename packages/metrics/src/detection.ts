import { G2DError } from '@g2d-ts/core';

/** Boxes are `[x1, y1, x2, y2]` (xyxy) in pixels everywhere in g2d-ts. */
export type BoxXYXY = [number, number, number, number];

export function boxArea(b: BoxXYXY): number {
  return Math.max(0, b[2] - b[0]) * Math.max(0, b[3] - b[1]);
}

export function boxIou(a: BoxXYXY, b: BoxXYXY): number {
  const iw = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const ih = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const inter = iw * ih;
  const union = boxArea(a) + boxArea(b) - inter;
  return union <= 0 ? 0 : inter / union;
}

export interface ImageDetections {
  /** predicted boxes with confidence scores */
  boxes: BoxXYXY[];
  scores: number[];
  /** ground-truth boxes of this image (one class) */
  gt: BoxXYXY[];
}

/**
 * Average precision at one IoU threshold over a set of images (single class): detections
 * sorted by score across images, each matched greedily to the unmatched ground truth of
 * highest IoU >= threshold; AP is the area under the all-point interpolated precision-recall
 * curve (VOC2010+/COCO-style, without the 101-point sampling). NaN when there is no ground truth.
 */
export function averagePrecision(images: ImageDetections[], iouThreshold: number): number {
  const dets: { img: number; box: BoxXYXY; score: number }[] = [];
  let nGt = 0;
  images.forEach((im, i) => {
    if (im.boxes.length !== im.scores.length) throw new G2DError(`averagePrecision: image ${i} has ${im.boxes.length} boxes but ${im.scores.length} scores`);
    im.boxes.forEach((box, k) => dets.push({ img: i, box, score: im.scores[k]! }));
    nGt += im.gt.length;
  });
  if (nGt === 0) return NaN;
  dets.sort((a, b) => b.score - a.score);
  const used = images.map((im) => new Array<boolean>(im.gt.length).fill(false));
  const tp: number[] = [];
  for (const d of dets) {
    const gts = images[d.img]!.gt;
    let best = -1, bestIou = iouThreshold;
    gts.forEach((g, j) => {
      if (used[d.img]![j]) return;
      const iou = boxIou(d.box, g);
      if (iou >= bestIou) { bestIou = iou; best = j; }
    });
    if (best >= 0) { used[d.img]![best] = true; tp.push(1); } else tp.push(0);
  }
  // precision/recall curve
  const prec: number[] = [], rec: number[] = [];
  let ctp = 0;
  tp.forEach((t, i) => { ctp += t; prec.push(ctp / (i + 1)); rec.push(ctp / nGt); });
  // all-point interpolation: precision envelope
  for (let i = prec.length - 2; i >= 0; i--) prec[i] = Math.max(prec[i]!, prec[i + 1]!);
  let ap = 0, prevR = 0;
  for (let i = 0; i < prec.length; i++) { ap += (rec[i]! - prevR) * prec[i]!; prevR = rec[i]!; }
  return ap;
}

/** Mean AP over IoU thresholds (default 0.4, 0.45, …, 0.75 as the RSNA detection protocol). */
export function meanAveragePrecision(images: ImageDetections[], thresholds: number[] = range(0.4, 0.75, 0.05)): number {
  const aps = thresholds.map((t) => averagePrecision(images, t));
  return aps.reduce((s, v) => s + v, 0) / aps.length;
}

function range(lo: number, hi: number, step: number): number[] {
  const out: number[] = [];
  for (let v = lo; v <= hi + 1e-9; v += step) out.push(Math.round(v * 1000) / 1000);
  return out;
}
