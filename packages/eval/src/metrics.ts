/**
 * Classification metrics as every evaluation app reports them (results.json `metrics`):
 *
 * - `auc`: per-class ROC AUC (`null` where the test part has only one class) and the macro
 *   mean over the classes where it is defined (sklearn's roc_auc_score per column);
 * - `bestF1`: per class the best F1 over all thresholds, with that threshold and the accuracy
 *   there (MedKLIP's zero-shot F1 / ACC), and their means;
 * - `accuracy`: per class at score >= 0.5 and the mean; `top1` (argmax) when every test image
 *   has exactly one positive class (multi-class data such as COVIDx).
 */
import { G2DError } from '@g2d-ts/core';
import { bestF1, binaryCounts, rocAuc } from '@g2d-ts/metrics';

export interface ClassificationMetrics {
  n: number;
  classes: string[];
  positives: Record<string, number>;
  auc: { perClass: Record<string, number | null>; mean: number | null };
  bestF1: { perClass: Record<string, { f1: number; threshold: number; accuracy: number } | null>; meanF1: number | null; meanAccuracy: number | null };
  accuracy: { threshold: number; perClass: Record<string, number | null>; mean: number | null; top1?: number };
}

const finite = (v: number): number | null => (Number.isFinite(v) ? v : null);

function mean(vals: (number | null)[]): number | null {
  const d = vals.filter((v): v is number => v !== null);
  return d.length ? d.reduce((s, v) => s + v, 0) / d.length : null;
}

/** Column `j` of an N×C matrix. */
export function column(m: readonly (readonly number[])[], j: number): number[] {
  return m.map((r) => r[j]!);
}

/** The metrics above from N×C scores and 0/1 labels. */
export function classificationMetrics(scores: readonly (readonly number[])[], labels: readonly (readonly number[])[], classes: readonly string[], opts: { threshold?: number } = {}): ClassificationMetrics {
  const n = scores.length;
  if (labels.length !== n) throw new G2DError(`classificationMetrics: ${n} score rows but ${labels.length} label rows`);
  const C = classes.length;
  scores.forEach((r, i) => {
    if (r.length !== C || labels[i]!.length !== C) throw new G2DError(`classificationMetrics: row ${i} does not have ${C} columns (classes: ${classes.join(', ')})`);
  });
  const thr = opts.threshold ?? 0.5;
  const auc: Record<string, number | null> = {};
  const f1: ClassificationMetrics['bestF1']['perClass'] = {};
  const acc: Record<string, number | null> = {};
  const pos: Record<string, number> = {};
  classes.forEach((c, j) => {
    const s = column(scores, j);
    const l = column(labels, j);
    const p = l.reduce((a, v) => a + v, 0);
    pos[c] = p;
    auc[c] = n ? finite(rocAuc(s, l)) : null;
    f1[c] = n && p > 0 ? bestF1(s, l) : null;
    if (n) {
      const k = binaryCounts(s, l, thr);
      acc[c] = (k.tp + k.tn) / n;
    } else acc[c] = null;
  });
  const m: ClassificationMetrics = {
    n,
    classes: [...classes],
    positives: pos,
    auc: { perClass: auc, mean: mean(Object.values(auc)) },
    bestF1: {
      perClass: f1,
      meanF1: mean(Object.values(f1).map((v) => (v ? v.f1 : null))),
      meanAccuracy: mean(Object.values(f1).map((v) => (v ? v.accuracy : null))),
    },
    accuracy: { threshold: thr, perClass: acc, mean: mean(Object.values(acc)) },
  };
  if (n && C > 1 && labels.every((r) => r.reduce((a, v) => a + v, 0) === 1)) {
    let ok = 0;
    scores.forEach((r, i) => {
      let arg = 0;
      for (let j = 1; j < C; j++) if (r[j]! > r[arg]!) arg = j;
      if (labels[i]![arg] === 1) ok++;
    });
    m.accuracy.top1 = ok / n;
  }
  return m;
}

/** ROC curve points (sklearn roc_curve without dropping collinear points): one point per distinct score, from (0,0) to (1,1). */
export function rocCurve(scores: ArrayLike<number>, labels: ArrayLike<number>): { fpr: number[]; tpr: number[] } {
  const n = scores.length;
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]!);
  let P = 0;
  for (let i = 0; i < n; i++) P += labels[i] === 1 ? 1 : 0;
  const N = n - P;
  const fpr = [0];
  const tpr = [0];
  if (P === 0 || N === 0) return { fpr: [], tpr: [] };
  let tp = 0;
  let fp = 0;
  for (let k = 0; k < n; k++) {
    const i = idx[k]!;
    if (labels[i] === 1) tp++;
    else fp++;
    if (k === n - 1 || scores[idx[k + 1]!] !== scores[i]) {
      fpr.push(fp / N);
      tpr.push(tp / P);
    }
  }
  return { fpr, tpr };
}

/** The numerically stable logistic function. */
export function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}
