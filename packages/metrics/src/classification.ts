import { G2DError } from '@g2d-ts/core';

type Num = ArrayLike<number>;

function checkPair(scores: Num, labels: Num, fn: string): void {
  if (scores.length !== labels.length) {
    throw new G2DError(`${fn}: scores has ${scores.length} entries but labels has ${labels.length}`);
  }
  for (let i = 0; i < scores.length; i++) {
    if (Number.isNaN(scores[i]!)) throw new G2DError(`${fn}: score at index ${i} is NaN`);
    const l = labels[i]!;
    if (l !== 0 && l !== 1) throw new G2DError(`${fn}: label at index ${i} is ${l}, expected 0 or 1`);
  }
}

/**
 * Area under the ROC curve for binary labels (Mann-Whitney U with average ranks for ties,
 * identical to sklearn.metrics.roc_auc_score). NaN when only one class is present.
 */
export function rocAuc(scores: Num, labels: Num): number {
  checkPair(scores, labels, 'rocAuc');
  const n = scores.length;
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  let nPos = 0;
  let rankSumPos = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && scores[idx[j + 1]!] === scores[idx[i]!]) j++;
    const avgRank = (i + j) / 2 + 1; // 1-based average rank of the tie group
    for (let k = i; k <= j; k++) {
      if (labels[idx[k]!] === 1) {
        nPos++;
        rankSumPos += avgRank;
      }
    }
    i = j + 1;
  }
  const nNeg = n - nPos;
  if (nPos === 0 || nNeg === 0) return NaN;
  return (rankSumPos - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/** Per-class AUC over columns of N×C scores/labels, and their mean over classes where it is defined. */
export function multilabelAuc(scores: number[][], labels: number[][]): { perClass: number[]; mean: number } {
  if (scores.length !== labels.length) throw new G2DError(`multilabelAuc: ${scores.length} score rows but ${labels.length} label rows`);
  const c = scores[0]?.length ?? 0;
  const perClass: number[] = [];
  for (let j = 0; j < c; j++) {
    perClass.push(rocAuc(scores.map((r, i) => {
      if (r.length !== c || labels[i]!.length !== c) throw new G2DError(`multilabelAuc: row ${i} does not have ${c} columns`);
      return r[j]!;
    }), labels.map((r) => r[j]!)));
  }
  const defined = perClass.filter((v) => !Number.isNaN(v));
  return { perClass, mean: defined.length ? defined.reduce((s, v) => s + v, 0) / defined.length : NaN };
}

/** Fraction of predictions equal to labels (any integer classes). NaN for empty input. */
export function accuracy(pred: Num, labels: Num): number {
  if (pred.length !== labels.length) throw new G2DError(`accuracy: ${pred.length} predictions but ${labels.length} labels`);
  if (pred.length === 0) return NaN;
  let ok = 0;
  for (let i = 0; i < pred.length; i++) if (pred[i] === labels[i]) ok++;
  return ok / pred.length;
}

export interface BinaryCounts { tp: number; fp: number; tn: number; fn: number }

export function binaryCounts(scores: Num, labels: Num, threshold = 0.5): BinaryCounts {
  checkPair(scores, labels, 'binaryCounts');
  const c = { tp: 0, fp: 0, tn: 0, fn: 0 };
  for (let i = 0; i < scores.length; i++) {
    const p = scores[i]! >= threshold;
    if (labels[i] === 1) {
      if (p) c.tp++;
      else c.fn++;
    } else if (p) c.fp++;
    else c.tn++;
  }
  return c;
}

/** F1 of the positive class at `threshold` (scores >= threshold are positive). 0 when there are no positives at all in either. */
export function f1Score(scores: Num, labels: Num, threshold = 0.5): number {
  const { tp, fp, fn } = binaryCounts(scores, labels, threshold);
  return tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
}

/**
 * The best F1 over all thresholds (each distinct score), as zero-shot protocols report it,
 * with that threshold and the accuracy there.
 */
export function bestF1(scores: Num, labels: Num): { f1: number; threshold: number; accuracy: number } {
  checkPair(scores, labels, 'bestF1');
  const thresholds = [...new Set(Array.from(scores))].sort((a, b) => a - b);
  let best = { f1: 0, threshold: Infinity, accuracy: NaN };
  for (const t of thresholds) {
    const c = binaryCounts(scores, labels, t);
    const f1 = c.tp === 0 ? 0 : (2 * c.tp) / (2 * c.tp + c.fp + c.fn);
    if (f1 > best.f1) best = { f1, threshold: t, accuracy: (c.tp + c.tn) / scores.length };
  }
  if (best.threshold === Infinity) {
    const c = binaryCounts(scores, labels, Infinity);
    best.accuracy = scores.length ? (c.tp + c.tn) / scores.length : NaN;
  }
  return best;
}
