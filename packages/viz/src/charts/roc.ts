/**
 * ROC curves on a square unit plot with the chance diagonal; the legend carries each
 * curve's AUC. Long curves are thinned to points at least half a pixel apart.
 */
import { G2DError } from '@g2d-ts/core';
import { chartSize, renderFrame, seriesColor, type LegendItem } from '../frame';
import { linearAxis, scaler } from '../scale';
import { escapeXml, num } from '../util';

export interface RocCurve {
  name: string;
  fpr: ArrayLike<number>;
  tpr: ArrayLike<number>;
  /** shown in the legend as "name (AUC 0.873)"; null/undefined: not shown */
  auc?: number | null;
  color?: string;
}

export interface RocChartOptions {
  curves: RocCurve[];
  title?: string;
  /** pixels (default 460 × 500: a square plot plus title and legend) */
  width?: number;
  height?: number;
  /** decimals of the AUC in the legend (default 3) */
  digits?: number;
}

/** An SVG ROC chart (string). */
export function rocChart(opts: RocChartOptions): string {
  if (!opts || !Array.isArray(opts.curves)) throw new G2DError('options.curves must be an array of {name, fpr, tpr, auc}', { source: 'rocChart' });
  const { width, height } = chartSize(opts, 460, 500, 'rocChart');
  const digits = opts.digits ?? 3;
  const curves = opts.curves.map((c, i) => {
    const where = `rocChart: curves[${i}]`;
    if (!c || typeof c !== 'object') throw new G2DError('must be an object {name, fpr, tpr, auc}', { source: where });
    if (typeof c.name !== 'string') throw new G2DError(`name must be a string, got ${JSON.stringify(c.name)}`, { source: where });
    if (!c.fpr || !c.tpr || typeof c.fpr.length !== 'number' || typeof c.tpr.length !== 'number') throw new G2DError('fpr and tpr must be arrays of numbers', { source: where });
    if (c.fpr.length !== c.tpr.length) throw new G2DError(`fpr has ${c.fpr.length} values but tpr has ${c.tpr.length}`, { source: where });
    for (const key of ['fpr', 'tpr'] as const) {
      const a = c[key];
      for (let j = 0; j < a.length; j++) {
        const v = a[j]!;
        if (typeof v !== 'number' || !(v >= -1e-9 && v <= 1 + 1e-9)) throw new G2DError(`must be a number in [0, 1], got ${JSON.stringify(v)}`, { source: `${where}.${key}[${j}]` });
      }
    }
    if (c.auc !== undefined && c.auc !== null && (typeof c.auc !== 'number' || Number.isNaN(c.auc))) {
      throw new G2DError(`auc must be a number, null or undefined, got ${JSON.stringify(c.auc)}`, { source: where });
    }
    const auc = typeof c.auc === 'number' && Number.isFinite(c.auc) ? c.auc : null;
    return { name: c.name, fpr: c.fpr, tpr: c.tpr, auc, color: c.color ?? seriesColor(i) };
  });
  const axis = linearAxis(0, 1, { nice: false, target: 5 });
  const legend: LegendItem[] = curves.map((c) => ({ name: c.auc === null ? c.name : `${c.name} (AUC ${c.auc.toFixed(digits)})`, color: c.color, kind: 'line' }));
  return renderFrame({
    kind: 'roc',
    width,
    height,
    title: opts.title,
    xLabel: 'false positive rate',
    yLabel: 'true positive rate',
    x: axis,
    y: axis,
    legend,
    square: true,
    message: curves.length === 0 ? 'no data' : undefined,
    body: (plot) => {
      const sx = scaler(axis, plot.x, plot.x + plot.w);
      const sy = scaler(axis, plot.y + plot.h, plot.y);
      const parts = [`<path class="chance" d="M${num(sx(0))} ${num(sy(0))}L${num(sx(1))} ${num(sy(1))}" stroke="#999" stroke-width="1" stroke-dasharray="5 4" fill="none"/>`];
      for (const c of curves) {
        const n = c.fpr.length;
        if (n === 0) continue;
        let d = '';
        let lx = NaN;
        let ly = NaN;
        for (let j = 0; j < n; j++) {
          const x = sx(Math.min(1, Math.max(0, c.fpr[j]!)));
          const y = sy(Math.min(1, Math.max(0, c.tpr[j]!)));
          if (j > 0 && j < n - 1 && Math.abs(x - lx) < 0.5 && Math.abs(y - ly) < 0.5) continue;
          d += `${j === 0 ? 'M' : 'L'}${num(x)} ${num(y)}`;
          lx = x;
          ly = y;
        }
        parts.push(`<path class="curve" data-name="${escapeXml(c.name)}" d="${d}" stroke="${escapeXml(c.color)}" stroke-width="2" fill="none" stroke-linejoin="round"/>`);
      }
      return parts.join('');
    },
  });
}
