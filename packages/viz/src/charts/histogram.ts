/**
 * Overlaid histograms on shared bins, normalised so that distributions of different sizes
 * compare (e.g. pixel intensities of two datasets, or of a preprocessing before/after).
 */
import { G2DError } from '@g2d-ts/core';
import { chartSize, renderFrame, seriesColor, type LegendItem } from '../frame';
import { linearAxis, logAxis, scaler } from '../scale';
import { escapeXml, num } from '../util';

export interface HistogramSeries {
  name: string;
  /** samples; NaN/±Infinity are ignored (and counted in the legend) */
  values: ArrayLike<number>;
  color?: string;
}

export type HistogramNormalize = 'density' | 'probability' | 'count';

export interface HistogramChartOptions {
  series: HistogramSeries[];
  /** number of equal-width bins (default 50) */
  bins?: number;
  /** [min, max] of the bins (default: the finite values' range); values outside are left out */
  range?: [number, number];
  /**
   * 'density' (default): the area under each histogram is 1 (numpy density=True);
   * 'probability': bar heights sum to 1; 'count': raw counts
   */
  normalize?: HistogramNormalize;
  logY?: boolean;
  title?: string;
  xLabel?: string;
  /** default: the normalisation's name */
  yLabel?: string;
  width?: number;
  height?: number;
}

export interface HistogramResult {
  /** bins + 1 edges */
  edges: Float64Array;
  /** counts per bin (the last bin includes its right edge, like numpy) */
  counts: Float64Array;
  /** finite values that fell inside the range */
  inside: number;
  /** values left out: non-finite or outside the range */
  skipped: number;
}

/** Counts of `values` in `bins` equal-width bins over [lo, hi] (numpy.histogram semantics). */
export function histogram(values: ArrayLike<number>, bins: number, lo: number, hi: number): HistogramResult {
  const edges = new Float64Array(bins + 1);
  for (let i = 0; i <= bins; i++) edges[i] = lo + ((hi - lo) * i) / bins;
  const counts = new Float64Array(bins);
  let inside = 0;
  let skipped = 0;
  const k = bins / (hi - lo);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v) || v < lo || v > hi) {
      skipped++;
      continue;
    }
    let b = Math.floor((v - lo) * k);
    if (b >= bins) b = bins - 1;
    // floating-point guard against the computed bin disagreeing with the edges
    if (b > 0 && v < edges[b]!) b--;
    else if (b < bins - 1 && v >= edges[b + 1]!) b++;
    counts[b]!++;
    inside++;
  }
  return { edges, counts, inside, skipped };
}

/** An SVG chart of overlaid step histograms (string). */
export function histogramChart(opts: HistogramChartOptions): string {
  if (!opts || !Array.isArray(opts.series)) throw new G2DError('options.series must be an array of {name, values}', { source: 'histogramChart' });
  const { width, height } = chartSize(opts, 640, 360, 'histogramChart');
  const bins = opts.bins ?? 50;
  if (!Number.isInteger(bins) || bins < 1 || bins > 10000) throw new G2DError(`must be an integer in [1, 10000], got ${JSON.stringify(bins)}`, { source: 'histogramChart: options.bins' });
  const normalize = opts.normalize ?? 'density';
  if (!['density', 'probability', 'count'].includes(normalize)) {
    throw new G2DError(`must be 'density', 'probability' or 'count', got ${JSON.stringify(normalize)}`, { source: 'histogramChart: options.normalize' });
  }
  opts.series.forEach((s, i) => {
    if (!s || typeof s.name !== 'string') throw new G2DError('name must be a string', { source: `histogramChart: series[${i}]` });
    if (!s.values || typeof s.values.length !== 'number') throw new G2DError('values must be an array or typed array of numbers', { source: `histogramChart: series[${i}]` });
  });
  let lo = Infinity;
  let hi = -Infinity;
  if (opts.range) {
    const r = opts.range;
    if (!Array.isArray(r) || r.length !== 2 || !r.every((v) => Number.isFinite(v)) || !(r[1] > r[0])) {
      throw new G2DError(`must be [min, max] with min < max, got ${JSON.stringify(r)}`, { source: 'histogramChart: options.range' });
    }
    [lo, hi] = r;
  } else {
    for (const s of opts.series) {
      for (let i = 0; i < s.values.length; i++) {
        const v = s.values[i]!;
        if (!Number.isFinite(v)) continue;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
    if (hi === lo) {
      lo -= 0.5;
      hi += 0.5;
    }
  }
  const empty = !(hi > lo);
  const hs = empty ? [] : opts.series.map((s) => histogram(s.values, bins, lo, hi));
  const heights = hs.map((h) => {
    const out = new Float64Array(bins);
    const bw = (hi - lo) / bins;
    for (let b = 0; b < bins; b++) {
      const c = h.counts[b]!;
      out[b] = normalize === 'count' ? c : h.inside === 0 ? 0 : normalize === 'probability' ? c / h.inside : c / (h.inside * bw);
    }
    return out;
  });
  let top = 0;
  let minPos = Infinity;
  for (const hgt of heights) {
    for (const v of hgt) {
      if (v > top) top = v;
      if (v > 0 && v < minPos) minPos = v;
    }
  }
  const logY = !!opts.logY;
  const xAxis = linearAxis(empty ? 0 : lo, empty ? 1 : hi, { nice: false, target: Math.max(2, Math.round((width - 120) / 90)) });
  const yAxis = logY ? logAxis(Number.isFinite(minPos) ? minPos : 0.1, top > 0 ? top : 1) : linearAxis(0, top > 0 ? top : 1, { nice: true, target: Math.max(2, Math.round((height - 110) / 45)) });
  const series = opts.series.map((s, i) => ({ name: s.name, color: s.color ?? seriesColor(i) }));
  const legend: LegendItem[] = series.map((s, i) => {
    const h = hs[i];
    const extra = h ? ` (n=${h.inside}${h.skipped ? `, ${h.skipped} left out` : ''})` : '';
    return { name: s.name + extra, color: s.color, kind: 'box' };
  });
  const noData = empty || hs.every((h) => h.inside === 0);
  return renderFrame({
    kind: 'histogram',
    width,
    height,
    title: opts.title,
    xLabel: opts.xLabel,
    yLabel: opts.yLabel ?? (normalize === 'count' ? 'count' : normalize === 'probability' ? 'fraction' : 'density'),
    x: xAxis,
    y: yAxis,
    legend,
    message: noData ? 'no data' : undefined,
    body: (plot) => {
      const sx = scaler(xAxis, plot.x, plot.x + plot.w);
      const sy = scaler(yAxis, plot.y + plot.h, plot.y);
      const base = plot.y + plot.h;
      const yOf = (v: number) => (logY ? (v > 0 ? Math.min(base, sy(v)) : base) : sy(v));
      const parts: string[] = [];
      heights.forEach((hgt, i) => {
        const h = hs[i]!;
        let d = `M${num(sx(h.edges[0]!))} ${num(base)}`;
        for (let b = 0; b < bins; b++) {
          const y = yOf(hgt[b]!);
          d += `V${num(y)}H${num(sx(h.edges[b + 1]!))}`;
        }
        d += `V${num(base)}`;
        const c = escapeXml(series[i]!.color);
        parts.push(`<g class="series" data-name="${escapeXml(series[i]!.name)}"><path d="${d}Z" fill="${c}" fill-opacity="0.22" stroke="none"/><path d="${d}" fill="none" stroke="${c}" stroke-width="1.6" stroke-linejoin="miter"/></g>`);
      });
      return parts.join('');
    },
  });
}
