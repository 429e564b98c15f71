/**
 * Line charts for training curves: several named series, gaps at NaN/null, optional log y,
 * EMA smoothing (TensorBoard's debiased form), and per-pixel min/max decimation so a curve
 * of 100 000 steps stays a few kilobytes without losing its spikes.
 */
import { G2DError } from '@g2d-ts/core';
import { chartSize, renderFrame, seriesColor, type LegendItem, type Rect } from '../frame';
import { linearAxis, logAxis, scaler } from '../scale';
import { checkRange, escapeXml, num } from '../util';

export type Point = readonly [number, number | null | undefined];

export interface LineSeries {
  name: string;
  /** [x, y] pairs in drawing order; y null/undefined/NaN (or ≤ 0 on a log axis) leaves a gap */
  points?: ReadonlyArray<Point>;
  /** alternative to `points`: parallel x and y columns (e.g. from metrics.jsonl) */
  x?: ArrayLike<number>;
  y?: ArrayLike<number | null | undefined>;
  /** CSS colour; default: the categorical palette in series order */
  color?: string;
  dashed?: boolean;
}

export interface LineChartOptions {
  series: LineSeries[];
  title?: string;
  xLabel?: string;
  yLabel?: string;
  /** log10 y axis; non-positive values become gaps */
  logY?: boolean;
  /** pixels (default 640 × 360) */
  width?: number;
  height?: number;
  /**
   * EMA weight in [0, 1) (TensorBoard's slider): the smoothed curve is drawn over a faint raw
   * one. 0 (default) draws the raw data only.
   */
  smoothing?: number;
  /** fixed axis ranges instead of the data's (y: e.g. [0, 100] for accuracy in %) */
  xDomain?: [number, number];
  yDomain?: [number, number];
  /** markers on every drawn point (for short series) */
  markers?: boolean;
}

interface Resolved {
  name: string;
  xs: Float64Array;
  ys: Float64Array;
  color: string;
  dashed: boolean;
}

function resolveSeries(s: LineSeries, i: number, logY: boolean): Resolved {
  const where = `lineChart: series[${i}]`;
  if (!s || typeof s !== 'object') throw new G2DError('must be an object {name, points} or {name, x, y}', { source: where });
  if (typeof s.name !== 'string') throw new G2DError(`name must be a string, got ${JSON.stringify(s.name)}`, { source: where });
  let xs: Float64Array;
  let ys: Float64Array;
  const toY = (v: unknown, at: string): number => {
    if (v === null || v === undefined) return NaN;
    if (typeof v !== 'number') throw new G2DError(`y must be a number, null or undefined, got ${JSON.stringify(v)}`, { source: at });
    return logY && v <= 0 ? NaN : v;
  };
  if (s.points !== undefined) {
    if (!Array.isArray(s.points)) throw new G2DError('points must be an array of [x, y] pairs', { source: where });
    const n = s.points.length;
    xs = new Float64Array(n);
    ys = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      const p = s.points[j];
      const at = `${where}.points[${j}]`;
      if (!Array.isArray(p) || p.length !== 2) throw new G2DError(`must be an [x, y] pair, got ${JSON.stringify(p)}`, { source: at });
      if (typeof p[0] !== 'number' || !Number.isFinite(p[0])) throw new G2DError(`x must be a finite number, got ${JSON.stringify(p[0])}`, { source: at });
      xs[j] = p[0];
      ys[j] = toY(p[1], at);
    }
  } else if (s.x !== undefined && s.y !== undefined) {
    if (s.x.length !== s.y.length) throw new G2DError(`x has ${s.x.length} values but y has ${s.y.length}`, { source: where });
    const n = s.x.length;
    xs = new Float64Array(n);
    ys = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      const xv = s.x[j];
      if (typeof xv !== 'number' || !Number.isFinite(xv)) throw new G2DError(`must be a finite number, got ${JSON.stringify(xv)}`, { source: `${where}.x[${j}]` });
      xs[j] = xv;
      ys[j] = toY(s.y[j], `${where}.y[${j}]`);
    }
  } else {
    throw new G2DError('needs `points` ([x, y] pairs) or both `x` and `y`', { source: where });
  }
  return { name: s.name, xs, ys, color: s.color ?? seriesColor(i), dashed: !!s.dashed };
}

/** TensorBoard's debiased exponential moving average; non-finite values are skipped (stay gaps). */
export function emaSmooth(ys: ArrayLike<number>, weight: number): Float64Array {
  const out = new Float64Array(ys.length);
  let last = 0;
  let k = 0;
  for (let i = 0; i < ys.length; i++) {
    const y = ys[i]!;
    if (!Number.isFinite(y)) {
      out[i] = NaN;
      continue;
    }
    last = last * weight + (1 - weight) * y;
    k++;
    out[i] = weight === 0 ? y : last / (1 - weight ** k);
  }
  return out;
}

/**
 * Pixel-space polyline pieces: split at gaps, and where a piece has more points than
 * 2 × its pixel width, keep per pixel column the first, lowest, highest and last point.
 */
function pieces(xs: Float64Array, ys: Float64Array, sx: (v: number) => number, sy: (v: number) => number, maxPerPx: number): number[][] {
  const out: number[][] = [];
  let cur: number[] = [];
  const flush = () => {
    if (cur.length) out.push(cur);
    cur = [];
  };
  // column buffer: first/min/max/last of the current pixel column
  let col = NaN;
  let buf: { first: [number, number]; min: [number, number]; max: [number, number]; last: [number, number]; n: number } | null = null;
  const emit = () => {
    if (!buf) return;
    const pts = buf.n === 1 ? [buf.first] : [buf.first, buf.min, buf.max, buf.last];
    // order min/max by x so the path goes forward
    const uniq: [number, number][] = [];
    for (const p of pts.slice().sort((a, b) => a[0] - b[0])) {
      if (!uniq.some((q) => q[0] === p[0] && q[1] === p[1])) uniq.push(p);
    }
    for (const p of uniq) cur.push(p[0], p[1]);
    buf = null;
  };
  const n = xs.length;
  // count finite points to decide whether decimation is needed at all
  let finite = 0;
  for (let i = 0; i < n; i++) if (Number.isFinite(ys[i]!)) finite++;
  let minX = Infinity;
  let maxX = -Infinity;
  for (let i = 0; i < n; i++) {
    const px = sx(xs[i]!);
    if (px < minX) minX = px;
    if (px > maxX) maxX = px;
  }
  const decimate = finite > maxPerPx * Math.max(1, maxX - minX);
  for (let i = 0; i < n; i++) {
    const y = ys[i]!;
    if (!Number.isFinite(y)) {
      emit();
      col = NaN;
      flush();
      continue;
    }
    const px = sx(xs[i]!);
    const py = sy(y);
    if (!decimate) {
      cur.push(px, py);
      continue;
    }
    const c = Math.floor(px);
    if (c !== col) {
      emit();
      col = c;
    }
    const p: [number, number] = [px, py];
    if (!buf) buf = { first: p, min: p, max: p, last: p, n: 1 };
    else {
      buf.n++;
      buf.last = p;
      if (py < buf.min[1]) buf.min = p;
      if (py > buf.max[1]) buf.max = p;
    }
  }
  emit();
  flush();
  return out;
}

function pathOf(piece: number[]): string {
  let d = `M${num(piece[0]!)} ${num(piece[1]!)}`;
  for (let i = 2; i < piece.length; i += 2) d += `L${num(piece[i]!)} ${num(piece[i + 1]!)}`;
  return d;
}

function drawSeries(pcs: number[][], color: string, opts: { width: number; opacity?: number; dashed?: boolean; markers?: boolean; name: string }): string {
  const parts: string[] = [];
  const dash = opts.dashed ? ' stroke-dasharray="6 4"' : '';
  const op = opts.opacity !== undefined ? ` opacity="${opts.opacity}"` : '';
  const paths = pcs.filter((p) => p.length >= 4).map(pathOf);
  if (paths.length) {
    parts.push(`<path d="${paths.join('')}" fill="none" stroke="${escapeXml(color)}" stroke-width="${opts.width}" stroke-linejoin="round" stroke-linecap="round"${dash}${op}/>`);
  }
  // isolated points (a value between two gaps) would be invisible as a path
  const dots: string[] = [];
  for (const p of pcs) {
    if (p.length === 2 || opts.markers) {
      for (let i = 0; i < p.length; i += 2) dots.push(`<circle cx="${num(p[i]!)}" cy="${num(p[i + 1]!)}" r="${opts.markers ? 2.5 : 2}"/>`);
    }
  }
  if (dots.length) parts.push(`<g fill="${escapeXml(color)}"${op}>${dots.join('')}</g>`);
  return `<g class="series" data-name="${escapeXml(opts.name)}">${parts.join('')}</g>`;
}

function checkDomain(d: unknown, name: string, log: boolean): [number, number] {
  if (!Array.isArray(d) || d.length !== 2 || !d.every((v) => typeof v === 'number' && Number.isFinite(v)) || !(d[1] > d[0]) || (log && d[0] <= 0)) {
    throw new G2DError(`must be [min, max] with min < max${log ? ' and min > 0 (log axis)' : ''}, got ${JSON.stringify(d)}`, { source: `lineChart: options.${name}` });
  }
  return [d[0], d[1]];
}

/** An SVG line chart (string). Deterministic: same options, same bytes. */
export function lineChart(opts: LineChartOptions): string {
  if (!opts || !Array.isArray(opts.series)) throw new G2DError('options.series must be an array of series', { source: 'lineChart' });
  const { width, height } = chartSize(opts, 640, 360, 'lineChart');
  const logY = !!opts.logY;
  const smoothing = opts.smoothing === undefined ? 0 : checkRange(opts.smoothing, 0, 0.999, 'lineChart: options.smoothing');
  const series = opts.series.map((s, i) => resolveSeries(s, i, logY));

  let x0 = Infinity;
  let x1 = -Infinity;
  let y0 = Infinity;
  let y1 = -Infinity;
  for (const s of series) {
    for (let j = 0; j < s.xs.length; j++) {
      const y = s.ys[j]!;
      if (!Number.isFinite(y)) continue;
      const x = s.xs[j]!;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
  }
  const empty = !(x1 >= x0);
  // steps and epochs: no ticks between whole numbers
  const integerX = series.every((s) => s.xs.every((x) => Number.isInteger(x)));
  const xd = opts.xDomain ? checkDomain(opts.xDomain, 'xDomain', false) : null;
  const yd = opts.yDomain ? checkDomain(opts.yDomain, 'yDomain', logY) : null;
  const xTarget = Math.max(2, Math.round((width - 120) / 90));
  const yTarget = Math.max(2, Math.round((height - 110) / 45));
  const xAxis = xd
    ? linearAxis(xd[0], xd[1], { nice: false, target: xTarget, integer: integerX })
    : linearAxis(empty ? 0 : x0, empty ? 1 : x1, { nice: false, target: xTarget, integer: integerX });
  const yAxis = yd
    ? logY
      ? logAxis(yd[0], yd[1], { nice: false })
      : linearAxis(yd[0], yd[1], { nice: false, target: yTarget })
    : logY
      ? logAxis(empty ? 1 : y0, empty ? 10 : y1)
      : linearAxis(empty ? 0 : y0, empty ? 1 : y1, { nice: true, target: yTarget });

  const legend: LegendItem[] = series.map((s) => ({ name: s.name, color: s.color, kind: 'line', dash: s.dashed }));
  return renderFrame({
    kind: 'line',
    width,
    height,
    title: opts.title,
    xLabel: opts.xLabel,
    yLabel: opts.yLabel,
    x: xAxis,
    y: yAxis,
    legend,
    message: empty ? 'no data' : undefined,
    body: (plot: Rect) => {
      const sx = scaler(xAxis, plot.x, plot.x + plot.w);
      const sy = scaler(yAxis, plot.y + plot.h, plot.y);
      const parts: string[] = [];
      for (const s of series) {
        if (smoothing > 0) {
          parts.push(drawSeries(pieces(s.xs, s.ys, sx, sy, 2), s.color, { width: 1.2, opacity: 0.25, dashed: s.dashed, name: `${s.name} (raw)` }));
          parts.push(drawSeries(pieces(s.xs, emaSmooth(s.ys, smoothing), sx, sy, 2), s.color, { width: 2, dashed: s.dashed, markers: opts.markers, name: s.name }));
        } else {
          parts.push(drawSeries(pieces(s.xs, s.ys, sx, sy, 2), s.color, { width: 1.8, dashed: s.dashed, markers: opts.markers, name: s.name }));
        }
      }
      return parts.join('');
    },
  });
}
