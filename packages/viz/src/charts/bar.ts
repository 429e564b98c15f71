/**
 * Bar charts for scores: one bar per label, optional error bars (± std over seeds), sorted or
 * in the given order, vertical or horizontal (long class names read better horizontally),
 * value labels, an optional reference line (chance level).
 */
import { G2DError } from '@g2d-ts/core';
import { chartSize, renderFrame, seriesColor, type Rect } from '../frame';
import { linearAxis, scaler } from '../scale';
import { escapeXml, num, textWidth } from '../util';

export interface Bar {
  label: string;
  /** null/NaN: no bar, the value label reads "n/a" (e.g. an AUC undefined for a class) */
  value: number | null;
  /** half-length of the error bar (e.g. the std over seeds) */
  error?: number | null;
  color?: string;
}

export interface BarChartOptions {
  bars: Bar[];
  title?: string;
  /** title of the value axis */
  valueLabel?: string;
  /** title of the category axis */
  categoryLabel?: string;
  /** true or 'desc': largest first; 'asc': smallest first; default: the given order */
  sorted?: boolean | 'asc' | 'desc';
  /** bars grow to the right with labels on the left (default: vertical) */
  horizontal?: boolean;
  /** value axis range (default: from 0 / the data, widened to nice ticks) */
  domain?: [number, number];
  /** print the value at the end of every bar (default true) */
  showValues?: boolean;
  /** decimals of the value labels (default: 3 significant digits of the largest value, for all bars) */
  digits?: number;
  /** a dashed line across the plot at this value, e.g. {value: 0.5, label: 'chance'} */
  reference?: { value: number; label?: string };
  /** one colour for every bar (default: the first palette colour) */
  color?: string;
  /** pixels; default 640 wide, height from the number of bars when horizontal, else 360 */
  width?: number;
  height?: number;
}

const TICK_FONT = 11;

/** An SVG bar chart (string). */
export function barChart(opts: BarChartOptions): string {
  if (!opts || !Array.isArray(opts.bars)) throw new G2DError('options.bars must be an array of {label, value, error?}', { source: 'barChart' });
  const bars = opts.bars.map((b, i) => {
    const where = `barChart: bars[${i}]`;
    if (!b || typeof b !== 'object') throw new G2DError('must be an object {label, value, error?}', { source: where });
    if (typeof b.label !== 'string') throw new G2DError(`label must be a string, got ${JSON.stringify(b.label)}`, { source: where });
    if (b.value !== null && typeof b.value !== 'number') throw new G2DError(`value must be a number or null, got ${JSON.stringify(b.value)}`, { source: where });
    if (b.error !== undefined && b.error !== null && (typeof b.error !== 'number' || !(b.error >= 0))) {
      throw new G2DError(`error must be a non-negative number, got ${JSON.stringify(b.error)}`, { source: where });
    }
    const value = b.value === null || !Number.isFinite(b.value) ? null : b.value;
    const error = b.error === null || b.error === undefined || !Number.isFinite(b.error) ? null : b.error;
    return { label: b.label, value, error, color: b.color ?? opts.color ?? seriesColor(0) };
  });
  if (opts.sorted) {
    const dir = opts.sorted === 'asc' ? 1 : -1;
    // stable sort; bars without a value go last
    bars.sort((a, b) => (a.value === null ? (b.value === null ? 0 : 1) : b.value === null ? -1 : dir * (a.value - b.value)));
  }
  const horizontal = !!opts.horizontal;
  const { width, height } = chartSize(opts, 640, horizontal ? Math.max(160, 90 + 26 * bars.length) : 360, 'barChart');

  let lo = 0;
  let hi = 0;
  for (const b of bars) {
    if (b.value === null) continue;
    lo = Math.min(lo, b.value - (b.error ?? 0));
    hi = Math.max(hi, b.value + (b.error ?? 0));
  }
  if (opts.reference) {
    if (typeof opts.reference.value !== 'number' || !Number.isFinite(opts.reference.value)) {
      throw new G2DError(`value must be a finite number, got ${JSON.stringify(opts.reference.value)}`, { source: 'barChart: options.reference' });
    }
    lo = Math.min(lo, opts.reference.value);
    hi = Math.max(hi, opts.reference.value);
  }
  let axis;
  if (opts.domain) {
    const d = opts.domain;
    if (!Array.isArray(d) || d.length !== 2 || !d.every((v) => Number.isFinite(v)) || !(d[1] > d[0])) {
      throw new G2DError(`must be [min, max] with min < max, got ${JSON.stringify(d)}`, { source: 'barChart: options.domain' });
    }
    axis = linearAxis(d[0], d[1], { nice: false, target: horizontal ? Math.max(2, Math.round(width / 110)) : Math.max(2, Math.round(height / 60)) });
  } else {
    axis = linearAxis(lo, hi, { nice: true, target: horizontal ? Math.max(2, Math.round(width / 110)) : Math.max(2, Math.round(height / 60)) });
  }

  const showValues = opts.showValues ?? true;
  // one number of decimals for the whole chart: 3 significant digits of the largest value
  const maxAbs = Math.max(0, ...bars.map((b) => (b.value === null ? 0 : Math.abs(b.value))));
  const digits = opts.digits ?? (maxAbs > 0 ? Math.max(0, Math.min(6, 3 - Math.ceil(Math.log10(maxAbs) + 1e-9))) : 0);
  if (!Number.isInteger(digits) || digits < 0 || digits > 12) throw new G2DError(`must be an integer in [0, 12], got ${JSON.stringify(opts.digits)}`, { source: 'barChart: options.digits' });
  const fmt = (v: number) => v.toFixed(digits);
  const valueText = (b: (typeof bars)[number]) => (b.value === null ? 'n/a' : horizontal && b.error !== null ? `${fmt(b.value)} ± ${fmt(b.error)}` : fmt(b.value));

  const labelWidths = bars.map((b) => textWidth(b.label, TICK_FONT));
  const maxLabel = Math.max(0, ...labelWidths);
  // vertical bars: rotate category labels when they do not fit under their bar
  const approxSlot = (width - 80) / Math.max(1, bars.length);
  const rotate = !horizontal && maxLabel > approxSlot - 4;
  const angle = 40;
  const bottomLabelHeight = horizontal ? 0 : rotate ? Math.min(200, maxLabel * Math.sin((angle * Math.PI) / 180) + 14) : TICK_FONT + 6;
  // horizontal: value labels right of the bars need room inside the plot
  const maxValueText = showValues ? Math.max(0, ...bars.map((b) => textWidth(valueText(b), TICK_FONT))) : 0;

  const geometry = (plot: Rect) => {
    const n = Math.max(1, bars.length);
    const along = horizontal ? plot.h : plot.w;
    const slot = along / n;
    const thick = Math.min(slot * 0.7, 48);
    const vs = horizontal ? scaler(axis, plot.x, plot.x + plot.w - (showValues ? maxValueText + 6 : 0)) : scaler(axis, plot.y + plot.h, plot.y);
    return { slot, thick, vs };
  };

  return renderFrame({
    kind: 'bar',
    width,
    height,
    title: opts.title,
    xLabel: horizontal ? opts.valueLabel : opts.categoryLabel,
    yLabel: horizontal ? opts.categoryLabel : opts.valueLabel,
    x: horizontal ? axis : undefined,
    xReserve: horizontal && showValues ? maxValueText + 6 : 0,
    y: horizontal ? undefined : axis,
    leftLabelWidth: horizontal ? Math.min(maxLabel, width * 0.4) : 0,
    bottomLabelHeight,
    // a slanted first label reaches left of its bar by width·cos(angle)
    minLeft: rotate ? Math.min(width * 0.3, labelWidths[0]! * Math.cos((angle * Math.PI) / 180) - approxSlot / 2 + 12) : 0,
    message: bars.length === 0 ? 'no data' : undefined,
    body: (plot) => {
      const { slot, thick, vs } = geometry(plot);
      const zero = vs(Math.min(Math.max(0, axis.domain[0]), axis.domain[1]));
      const parts: string[] = [];
      bars.forEach((b, i) => {
        if (b.value === null) return;
        const c = (horizontal ? plot.y : plot.x) + slot * (i + 0.5);
        const v = vs(b.value);
        const attrs = `data-label="${escapeXml(b.label)}" data-value="${b.value}"${b.error !== null ? ` data-error="${b.error}"` : ''}`;
        if (horizontal) {
          parts.push(`<rect class="bar" ${attrs} x="${num(Math.min(zero, v))}" y="${num(c - thick / 2)}" width="${num(Math.abs(v - zero))}" height="${num(thick)}" fill="${escapeXml(b.color)}"/>`);
        } else {
          parts.push(`<rect class="bar" ${attrs} x="${num(c - thick / 2)}" y="${num(Math.min(zero, v))}" width="${num(thick)}" height="${num(Math.abs(v - zero))}" fill="${escapeXml(b.color)}"/>`);
        }
        if (b.error !== null && b.error > 0) {
          const e0 = vs(b.value - b.error);
          const e1 = vs(b.value + b.error);
          const cap = Math.min(thick / 2, 6);
          const d = horizontal
            ? `M${num(e0)} ${num(c)}H${num(e1)}M${num(e0)} ${num(c - cap)}V${num(c + cap)}M${num(e1)} ${num(c - cap)}V${num(c + cap)}`
            : `M${num(c)} ${num(e0)}V${num(e1)}M${num(c - cap)} ${num(e0)}H${num(c + cap)}M${num(c - cap)} ${num(e1)}H${num(c + cap)}`;
          parts.push(`<path class="error-bar" d="${d}" stroke="#222" stroke-width="1.3" fill="none"/>`);
        }
      });
      if (opts.reference) {
        const r = vs(opts.reference.value);
        const d = horizontal ? `M${num(r)} ${num(plot.y)}V${num(plot.y + plot.h)}` : `M${num(plot.x)} ${num(r)}H${num(plot.x + plot.w)}`;
        parts.push(`<path class="reference" d="${d}" stroke="#666" stroke-width="1.2" stroke-dasharray="5 4" fill="none"/>`);
      }
      return parts.join('');
    },
    overlay: (plot) => {
      const { slot, vs } = geometry(plot);
      const parts: string[] = [];
      bars.forEach((b, i) => {
        const c = (horizontal ? plot.y : plot.x) + slot * (i + 0.5);
        const label = escapeXml(b.label);
        if (horizontal) {
          parts.push(`<text class="category" x="${num(plot.x - 6)}" y="${num(c)}" dy="0.32em" text-anchor="end" font-size="${TICK_FONT}" fill="#222">${label}</text>`);
        } else if (rotate) {
          const y = plot.y + plot.h + 8;
          parts.push(`<text class="category" x="${num(c)}" y="${num(y)}" dy="0.32em" text-anchor="end" transform="rotate(-${angle} ${num(c)} ${num(y)})" font-size="${TICK_FONT}" fill="#222">${label}</text>`);
        } else {
          parts.push(`<text class="category" x="${num(c)}" y="${num(plot.y + plot.h + 6 + TICK_FONT)}" text-anchor="middle" font-size="${TICK_FONT}" fill="#222">${label}</text>`);
        }
        if (!showValues) return;
        const text = escapeXml(valueText(b));
        const base = b.value === null ? 0 : b.value;
        const tip = b.value === null ? vs(Math.max(0, axis.domain[0])) : vs(base + (base >= 0 ? 1 : -1) * (b.error ?? 0));
        if (horizontal) {
          const neg = base < 0;
          parts.push(`<text class="value" x="${num(neg ? tip - 4 : tip + 4)}" y="${num(c)}" dy="0.32em" text-anchor="${neg ? 'end' : 'start'}" font-size="${TICK_FONT}" fill="#333">${text}</text>`);
        } else {
          const neg = base < 0;
          parts.push(`<text class="value" x="${num(c)}" y="${num(neg ? tip + 4 + TICK_FONT : tip - 4)}" text-anchor="middle" font-size="${TICK_FONT}" fill="#333">${text}</text>`);
        }
      });
      if (opts.reference?.label) {
        const r = vs(opts.reference.value);
        const t = escapeXml(opts.reference.label);
        parts.push(
          horizontal
            ? `<text class="reference-label" x="${num(r + 3)}" y="${num(plot.y + TICK_FONT)}" font-size="${TICK_FONT}" fill="#666">${t}</text>`
            : `<text class="reference-label" x="${num(plot.x + plot.w - 3)}" y="${num(r - 4)}" text-anchor="end" font-size="${TICK_FONT}" fill="#666">${t}</text>`,
        );
      }
      return parts.join('');
    },
  });
}
