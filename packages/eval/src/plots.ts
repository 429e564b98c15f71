/**
 * The figures evaluation apps write next to their results (SVG, via @g2d-ts/viz): ROC curves
 * per class, per-class score bars, training curves.
 */
import * as path from 'node:path';
import { barChart, lineChart, rocChart } from '@g2d-ts/viz';
import { column, rocCurve, type ClassificationMetrics } from './metrics';
import { writeText } from './results';

/** ROC curves of every class with a defined AUC (legend: class and AUC). */
export function rocSvg(classes: readonly string[], scores: readonly (readonly number[])[], labels: readonly (readonly number[])[], m: ClassificationMetrics, title = 'ROC (test)'): string {
  const curves = classes
    .map((c, j) => ({ c, j, auc: m.auc.perClass[c] ?? null }))
    .filter((x) => x.auc !== null)
    .map(({ c, j, auc }) => ({ name: c, auc, ...rocCurve(column(scores, j), column(labels, j)) }));
  return rocChart({ curves, title, width: 640, height: 560 });
}

/** Sorted horizontal bars of a per-class value (e.g. AUC), chance line at 0.5. */
export function perClassBarSvg(values: Record<string, number | null>, opts: { title: string; valueLabel?: string; reference?: number } ): string {
  const bars = Object.entries(values).map(([label, value]) => ({ label, value }));
  return barChart({
    bars,
    title: opts.title,
    valueLabel: opts.valueLabel ?? 'AUC',
    horizontal: true,
    sorted: 'desc',
    domain: [0, 1],
    showValues: true,
    digits: 3,
    reference: { value: opts.reference ?? 0.5, label: 'chance' },
    width: 720,
    height: Math.max(220, 60 + bars.length * 26),
  });
}

/** Training curves: loss per epoch (train/val) and validation AUC per epoch. */
export function trainingCurvesSvg(history: readonly { epoch: number; trainLoss: number; valLoss?: number | null; valAuc?: number | null }[], title = 'Training'): { loss: string; auc: string } {
  const x = history.map((h) => h.epoch);
  const loss = lineChart({
    title: `${title}: loss`,
    xLabel: 'epoch',
    yLabel: 'BCE loss',
    markers: history.length <= 60,
    series: [
      { name: 'train', x, y: history.map((h) => h.trainLoss) },
      { name: 'validation', x, y: history.map((h) => h.valLoss ?? null) },
    ],
  });
  const auc = lineChart({
    title: `${title}: validation mean AUC`,
    xLabel: 'epoch',
    yLabel: 'AUC',
    markers: history.length <= 60,
    series: [{ name: 'val AUC', x, y: history.map((h) => h.valAuc ?? null) }],
  });
  return { loss, auc };
}

/** Writes `<out>/<name>` (SVG text). */
export function writeSvg(out: string, name: string, svg: string): string {
  const file = path.join(out, name);
  writeText(file, svg);
  return file;
}
