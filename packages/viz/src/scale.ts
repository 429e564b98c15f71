/**
 * Axis domains and ticks: "nice" linear steps (1, 2, 5 × 10^k) and decade-based log ticks.
 */
import { formatSig, formatTicks } from './util';

export interface Axis {
  /** data values mapped to the two ends of the axis */
  domain: [number, number];
  log: boolean;
  ticks: number[];
  labels: string[];
}

/** The 1/2/5 × 10^k step that gives about `target` intervals over `span`. */
export function niceStep(span: number, target = 5): number {
  const raw = span / Math.max(1, target);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  // thresholds at the geometric means of 1, 2, 5, 10 (as d3 does)
  return (norm < Math.SQRT2 ? 1 : norm < Math.sqrt(10) ? 2 : norm < Math.sqrt(50) ? 5 : 10) * mag;
}

/** Round away float noise in k·step (0.30000000000000004 -> 0.3). */
function clean(v: number, step: number): number {
  const decimals = Math.max(0, Math.min(15, -Math.floor(Math.log10(step)) + 2));
  const r = Number(v.toFixed(decimals));
  return r === 0 ? 0 : r;
}

/** Ticks at multiples of a nice step inside [lo, hi] (both ends included when on a multiple). */
export function linearTicks(lo: number, hi: number, target = 5, integer = false): { ticks: number[]; step: number } {
  const step = Math.max(integer ? 1 : 0, niceStep(hi - lo, target));
  const first = Math.ceil(lo / step - 1e-9);
  const last = Math.floor(hi / step + 1e-9);
  const ticks: number[] = [];
  for (let k = first; k <= last; k++) ticks.push(clean(k * step, step));
  return { ticks, step };
}

/** Widen a degenerate range (all values equal) so it can be drawn. */
function widen(lo: number, hi: number): [number, number] {
  if (hi > lo) return [lo, hi];
  if (lo === 0) return [0, 1];
  const d = Math.abs(lo) * 0.1;
  return [lo - d, hi + d];
}

/**
 * A linear axis. `nice`: extend the ends outwards to tick multiples (value axes); otherwise
 * the exact extent is kept and the ticks fall inside (step axes). `integer`: no tick step
 * below 1 (steps, epochs).
 */
export function linearAxis(lo: number, hi: number, opts: { nice: boolean; target?: number; integer?: boolean }): Axis {
  let [a, b] = widen(lo, hi);
  const target = opts.target ?? 5;
  if (opts.nice) {
    // the ends move out to multiples of the same step the ticks use
    const step = Math.max(opts.integer ? 1 : 0, niceStep(b - a, target));
    a = clean(Math.floor(a / step + 1e-9) * step, step);
    b = clean(Math.ceil(b / step - 1e-9) * step, step);
    const ticks: number[] = [];
    const n = Math.round((b - a) / step);
    for (let k = 0; k <= n; k++) ticks.push(clean(a + k * step, step));
    return { domain: [a, b], log: false, ticks, labels: formatTicks(ticks, step) };
  }
  const { ticks, step } = linearTicks(a, b, target, opts.integer);
  return { domain: [a, b], log: false, ticks, labels: formatTicks(ticks, step) };
}

/** 10^k without the float error of 10 ** -k (10 ** -4 = 0.00009999999999999999). */
function pow10(k: number): number {
  return k >= 0 ? 10 ** k : 1 / 10 ** -k;
}

/** A log10 axis over positive values: ends at whole decades, ticks at 1(-2-5) × 10^k. */
export function logAxis(lo: number, hi: number, opts: { nice: boolean } = { nice: true }): Axis {
  let a = lo;
  let b = hi;
  if (opts.nice) {
    a = pow10(Math.floor(Math.log10(lo) + 1e-9));
    b = pow10(Math.ceil(Math.log10(hi) - 1e-9));
  }
  if (!(b > a)) {
    a = a / Math.sqrt(10);
    b = b * Math.sqrt(10);
  }
  const d0 = Math.floor(Math.log10(a) + 1e-9);
  const d1 = Math.ceil(Math.log10(b) - 1e-9);
  const decades = d1 - d0;
  const mult = decades <= 1 ? [1, 2, 5] : decades <= 3 ? [1, 3] : [1];
  const every = Math.max(1, Math.ceil(decades / 8));
  const ticks: number[] = [];
  for (let d = d0; d <= d1; d++) {
    if ((d - d0) % every !== 0) continue;
    for (const m of mult) {
      const v = Number((m * pow10(d)).toPrecision(3));
      if (v >= a * (1 - 1e-9) && v <= b * (1 + 1e-9)) ticks.push(v);
    }
  }
  return { domain: [a, b], log: true, ticks, labels: ticks.map((t) => formatSig(t, 2)) };
}

/** Maps data values to pixels: domain -> [p0, p1] (p1 < p0 for a y axis). */
export function scaler(axis: Axis, p0: number, p1: number): (v: number) => number {
  const [a, b] = axis.domain;
  if (axis.log) {
    const la = Math.log10(a);
    const k = (p1 - p0) / (Math.log10(b) - la);
    return (v) => p0 + (Math.log10(v) - la) * k;
  }
  const k = (p1 - p0) / (b - a);
  return (v) => p0 + (v - a) * k;
}
