import { G2DError } from '@g2d-ts/core';

type Num = ArrayLike<number>;

function checkSameSize(a: Num, b: Num, fn: string): void {
  if (a.length !== b.length) throw new G2DError(`${fn}: prediction has ${a.length} pixels but target has ${b.length}`);
}

/**
 * Dice of one image: prediction binarised at `threshold` (> threshold for probabilities,
 * as the segmentation protocol does at 0.5), target > 0.5. An empty prediction on an empty
 * target scores `emptyScore` (1 by the protocol).
 */
export function dice(pred: Num, target: Num, opts: { threshold?: number; emptyScore?: number } = {}): number {
  checkSameSize(pred, target, 'dice');
  const thr = opts.threshold ?? 0.5;
  let inter = 0, sp = 0, st = 0;
  for (let i = 0; i < pred.length; i++) {
    const p = pred[i]! > thr ? 1 : 0;
    const t = target[i]! > 0.5 ? 1 : 0;
    if (Number.isNaN(pred[i]!)) throw new G2DError(`dice: prediction pixel ${i} is NaN`);
    inter += p & t; sp += p; st += t;
  }
  return sp + st === 0 ? (opts.emptyScore ?? 1) : (2 * inter) / (sp + st);
}

/** Intersection over union of binarised masks; both empty → `emptyScore` (1). */
export function maskIou(pred: Num, target: Num, opts: { threshold?: number; emptyScore?: number } = {}): number {
  checkSameSize(pred, target, 'maskIou');
  const thr = opts.threshold ?? 0.5;
  let inter = 0, union = 0;
  for (let i = 0; i < pred.length; i++) {
    const p = pred[i]! > thr, t = target[i]! > 0.5;
    if (p && t) inter++;
    if (p || t) union++;
  }
  return union === 0 ? (opts.emptyScore ?? 1) : inter / union;
}

/**
 * Pointing game: is the heatmap's maximum (first on ties) inside the target region
 * (a mask of the heatmap's size)? Returns 1/0; NaN when the target is empty.
 */
export function pointingHit(heatmap: Num, targetMask: Num): number {
  checkSameSize(heatmap, targetMask, 'pointingHit');
  let any = false;
  for (let i = 0; i < targetMask.length; i++) if (targetMask[i]! > 0.5) { any = true; break; }
  if (!any) return NaN;
  let arg = 0;
  for (let i = 1; i < heatmap.length; i++) if (heatmap[i]! > heatmap[arg]!) arg = i;
  return targetMask[arg]! > 0.5 ? 1 : 0;
}
