/**
 * The frame every chart shares: background, title, legend (wrapped rows above the plot, so
 * it never covers data), grid, axes with tick labels (thinned when they would overlap),
 * axis titles and a clip path for the data. Charts supply axes and a body renderer.
 */
import { G2DError } from '@g2d-ts/core';
import { scaler, type Axis } from './scale';
import { escapeXml, hashString, num, textWidth } from './util';

/** Tableau 10: distinct, colour-blind-friendlier than the classic category10. */
export const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'] as const;

/** The i-th categorical colour (cycles). */
export function seriesColor(i: number): string {
  return PALETTE[i % PALETTE.length]!;
}

export const FONT_FAMILY = "'DejaVu Sans', 'Helvetica Neue', Arial, sans-serif";
const TICK_FONT = 11;
const LABEL_FONT = 12;
const TITLE_FONT = 15;
const LEGEND_FONT = 12;
const PAD = 10;

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface LegendItem {
  name: string;
  color: string;
  kind: 'line' | 'box';
  dash?: boolean;
}

export interface FrameSpec {
  /** chart kind, used in the root's class (`g2d-chart-<kind>`) */
  kind: string;
  width: number;
  height: number;
  title?: string;
  xLabel?: string;
  yLabel?: string;
  /** numeric axis drawn at the bottom (absent: the chart draws category labels itself) */
  x?: Axis;
  /** pixels at the right end of the plot that the x axis does not span (room for value labels) */
  xReserve?: number;
  /** numeric axis drawn on the left */
  y?: Axis;
  /** room for category labels left of the plot when there is no y axis */
  leftLabelWidth?: number;
  /** at least this many pixels left of the plot (e.g. for slanted category labels) */
  minLeft?: number;
  /** room for category labels below the plot when there is no x axis */
  bottomLabelHeight?: number;
  legend?: LegendItem[];
  /** make the plot area square (ROC) */
  square?: boolean;
  /** the data, drawn clipped to the plot area */
  body: (plot: Rect) => string;
  /** drawn on top of the axes, not clipped (category labels, value labels) */
  overlay?: (plot: Rect) => string;
  /** shown in the middle of the plot instead of data (e.g. "no data") */
  message?: string;
}

function truncate(text: string, maxWidth: number, fontSize: number): string {
  if (textWidth(text, fontSize) <= maxWidth) return text;
  let s = text;
  while (s.length > 1 && textWidth(s + '…', fontSize) > maxWidth) s = s.slice(0, -1);
  return s + '…';
}

interface LegendLayout {
  height: number;
  svg: (left: number, top: number) => string;
}

function layoutLegend(items: LegendItem[], maxWidth: number): LegendLayout {
  if (items.length === 0) return { height: 0, svg: () => '' };
  const rowH = 18;
  const swatch = 22;
  const gap = 16;
  const placed: { item: LegendItem; label: string; dx: number; row: number }[] = [];
  let dx = 0;
  let row = 0;
  for (const item of items) {
    const label = truncate(item.name, Math.max(40, maxWidth - swatch), LEGEND_FONT);
    const w = swatch + textWidth(label, LEGEND_FONT);
    if (dx > 0 && dx + w > maxWidth) {
      row++;
      dx = 0;
    }
    placed.push({ item, label, dx, row });
    dx += w + gap;
  }
  return {
    height: (row + 1) * rowH + 4,
    svg: (left, top) => {
      const parts = ['<g class="legend">'];
      for (const p of placed) {
        const x = left + p.dx;
        const cy = top + p.row * rowH + rowH / 2;
        const sw =
          p.item.kind === 'line'
            ? `<line x1="${num(x)}" y1="${num(cy)}" x2="${num(x + 16)}" y2="${num(cy)}" stroke="${escapeXml(p.item.color)}" stroke-width="2.5"${p.item.dash ? ' stroke-dasharray="5 3"' : ''}/>`
            : `<rect x="${num(x + 3)}" y="${num(cy - 5)}" width="10" height="10" fill="${escapeXml(p.item.color)}"/>`;
        parts.push(
          `<g class="legend-item">${sw}<text x="${num(x + swatch)}" y="${num(cy)}" dy="0.35em" font-size="${LEGEND_FONT}" fill="#222">${escapeXml(p.label)}</text></g>`,
        );
      }
      parts.push('</g>');
      return parts.join('');
    },
  };
}

/** Indices of the ticks to label so that labels `minGap` px apart never overlap. */
function thin(positions: number[], widths: number[], minGap: number): number[] {
  const n = positions.length;
  for (let every = 1; every <= Math.max(1, n); every++) {
    let ok = true;
    for (let i = every; i < n; i += every) {
      const prev = i - every;
      if (Math.abs(positions[i]! - positions[prev]!) < (widths[i]! + widths[prev]!) / 2 + minGap) {
        ok = false;
        break;
      }
    }
    if (ok) {
      const keep: number[] = [];
      for (let i = 0; i < n; i += every) keep.push(i);
      return keep;
    }
  }
  return n > 0 ? [0] : [];
}

/** A chart's size in pixels: its options' width/height or the chart's defaults, checked (checkSize). */
export function chartSize(opts: { width?: number; height?: number }, defaultWidth: number, defaultHeight: number, where: string): { width: number; height: number } {
  const width = opts.width ?? defaultWidth;
  const height = opts.height ?? defaultHeight;
  checkSize(width, height, where);
  return { width, height };
}

export function checkSize(width: unknown, height: unknown, where: string): void {
  for (const [k, v] of [
    ['width', width],
    ['height', height],
  ] as const) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 120 || v > 20000) {
      throw new G2DError(`${k} must be a number of pixels in [120, 20000], got ${JSON.stringify(v)}`, { source: `${where}: options.${k}` });
    }
  }
}

/** Assemble a complete chart SVG. */
export function renderFrame(spec: FrameSpec): string {
  const { width, height } = spec;
  let top = PAD;
  const titleY = spec.title ? top + TITLE_FONT : 0;
  if (spec.title) top += TITLE_FONT + 8;

  const yTickW = spec.y ? Math.max(0, ...spec.y.labels.map((l) => textWidth(l, TICK_FONT))) : 0;
  const left = Math.ceil(Math.max(spec.minLeft ?? 0, PAD + (spec.yLabel ? LABEL_FONT + 8 : 0) + (spec.y ? yTickW + 10 : (spec.leftLabelWidth ?? 0) + 8)));
  const lastXLabel = spec.x?.labels[spec.x.labels.length - 1] ?? '';
  const right = Math.ceil(Math.max(PAD + 4, spec.x ? textWidth(lastXLabel, TICK_FONT) / 2 + 4 : PAD));
  const legend = layoutLegend(spec.legend ?? [], width - left - right);
  const legendTop = top;
  top += legend.height + (legend.height ? 4 : 6);
  const bottom = Math.ceil(PAD + (spec.xLabel ? LABEL_FONT + 8 : 0) + (spec.x ? TICK_FONT + 10 : (spec.bottomLabelHeight ?? 0) + 8));

  let plot: Rect = { x: left, y: top, w: width - left - right, h: height - top - bottom };
  if (plot.w < 40 || plot.h < 40) {
    throw new G2DError(`the ${width}×${height} chart leaves only ${Math.round(plot.w)}×${Math.round(plot.h)} px for the plot after title, legend and labels; make it larger`, {
      source: `${spec.kind}Chart: options.width/height`,
    });
  }
  if (spec.square) {
    const s = Math.min(plot.w, plot.h);
    plot = { x: plot.x, y: plot.y, w: s, h: s };
  }
  const pr = plot.x + plot.w;
  const pb = plot.y + plot.h;

  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="g2d-chart g2d-chart-${escapeXml(spec.kind)}" width="${num(width)}" height="${num(height)}" viewBox="0 0 ${num(width)} ${num(height)}" font-family="${escapeXml(FONT_FAMILY)}" role="img"${spec.title ? ` aria-label="${escapeXml(spec.title)}"` : ''}>`,
  );
  const body = spec.message ? '' : spec.body(plot);
  const clipId = `g2dclip-${hashString(`${spec.kind}|${width}|${height}|${spec.title ?? ''}|${body.length}|${body}`)}`;
  parts.push(`<defs><clipPath id="${clipId}"><rect x="${num(plot.x - 2)}" y="${num(plot.y - 2)}" width="${num(plot.w + 4)}" height="${num(plot.h + 4)}"/></clipPath></defs>`);
  parts.push(`<rect class="background" x="0" y="0" width="${num(width)}" height="${num(height)}" fill="#ffffff"/>`);
  if (spec.title) {
    // centred over the whole chart; shrunk (down to 11 px), then truncated, to fit its width
    const room = width - 2 * PAD;
    const bold = 1.08;
    const size = Math.max(11, Math.min(TITLE_FONT, Math.floor(room / (textWidth(spec.title, 1) * bold))));
    const text = truncate(spec.title, room / bold, size);
    parts.push(`<text class="title" x="${num(width / 2)}" y="${num(titleY)}" text-anchor="middle" font-size="${size}" font-weight="600" fill="#111">${escapeXml(text)}</text>`);
  }
  parts.push(legend.svg(plot.x, legendTop));

  const attrs: string[] = [];
  if (spec.x) attrs.push(`data-x-domain="${spec.x.domain[0]} ${spec.x.domain[1]}"`, `data-x-scale="${spec.x.log ? 'log' : 'linear'}"`);
  if (spec.y) attrs.push(`data-y-domain="${spec.y.domain[0]} ${spec.y.domain[1]}"`, `data-y-scale="${spec.y.log ? 'log' : 'linear'}"`);
  parts.push(`<g class="plot"${attrs.length ? ' ' + attrs.join(' ') : ''}>`);
  parts.push(`<rect x="${num(plot.x)}" y="${num(plot.y)}" width="${num(plot.w)}" height="${num(plot.h)}" fill="#fbfbfb" stroke="none"/>`);

  // grid + ticks
  const grid: string[] = [];
  const ticks: string[] = [];
  if (spec.y) {
    const pos = spec.y.ticks.map(scaler(spec.y, pb, plot.y));
    const keep = thin(pos, pos.map(() => TICK_FONT), 2);
    for (let i = 0; i < pos.length; i++) {
      grid.push(`<line x1="${num(plot.x)}" y1="${num(pos[i]!)}" x2="${num(pr)}" y2="${num(pos[i]!)}"/>`);
    }
    for (const i of keep) {
      ticks.push(`<line x1="${num(plot.x - 4)}" y1="${num(pos[i]!)}" x2="${num(plot.x)}" y2="${num(pos[i]!)}" stroke="#444"/>`);
      ticks.push(`<text class="tick y-tick" x="${num(plot.x - 7)}" y="${num(pos[i]!)}" dy="0.32em" text-anchor="end" font-size="${TICK_FONT}" fill="#444">${escapeXml(spec.y.labels[i]!)}</text>`);
    }
  }
  if (spec.x) {
    const pos = spec.x.ticks.map(scaler(spec.x, plot.x, pr - (spec.xReserve ?? 0)));
    const keep = thin(pos, spec.x.labels.map((l) => textWidth(l, TICK_FONT)), 10);
    for (let i = 0; i < pos.length; i++) {
      grid.push(`<line x1="${num(pos[i]!)}" y1="${num(plot.y)}" x2="${num(pos[i]!)}" y2="${num(pb)}"/>`);
    }
    for (const i of keep) {
      ticks.push(`<line x1="${num(pos[i]!)}" y1="${num(pb)}" x2="${num(pos[i]!)}" y2="${num(pb + 4)}" stroke="#444"/>`);
      ticks.push(`<text class="tick x-tick" x="${num(pos[i]!)}" y="${num(pb + 6 + TICK_FONT)}" text-anchor="middle" font-size="${TICK_FONT}" fill="#444">${escapeXml(spec.x.labels[i]!)}</text>`);
    }
  }
  parts.push(`<g class="grid" stroke="#e3e3e3" stroke-width="1">${grid.join('')}</g>`);
  if (spec.message) {
    parts.push(`<text class="message" x="${num(plot.x + plot.w / 2)}" y="${num(plot.y + plot.h / 2)}" text-anchor="middle" font-size="${LABEL_FONT + 2}" fill="#777">${escapeXml(spec.message)}</text>`);
  } else {
    parts.push(`<g class="data" clip-path="url(#${clipId})">${body}</g>`);
  }
  parts.push(`<g class="axes" stroke="#444" stroke-width="1"><line x1="${num(plot.x)}" y1="${num(plot.y)}" x2="${num(plot.x)}" y2="${num(pb)}"/><line x1="${num(plot.x)}" y1="${num(pb)}" x2="${num(pr)}" y2="${num(pb)}"/></g>`);
  parts.push(`<g class="ticks">${ticks.join('')}</g>`);
  if (spec.overlay && !spec.message) parts.push(spec.overlay(plot));
  parts.push('</g>');

  if (spec.xLabel) {
    parts.push(`<text class="axis-label x-label" x="${num(plot.x + plot.w / 2)}" y="${num(pb + (spec.x ? TICK_FONT + 10 : (spec.bottomLabelHeight ?? 0) + 8) + LABEL_FONT + 2)}" text-anchor="middle" font-size="${LABEL_FONT}" fill="#222">${escapeXml(spec.xLabel)}</text>`);
  }
  if (spec.yLabel) {
    const cx = PAD + LABEL_FONT - 2;
    const cy = plot.y + plot.h / 2;
    parts.push(`<text class="axis-label y-label" x="${num(cx)}" y="${num(cy)}" transform="rotate(-90 ${num(cx)} ${num(cy)})" text-anchor="middle" font-size="${LABEL_FONT}" fill="#222">${escapeXml(spec.yLabel)}</text>`);
  }
  parts.push('</svg>');
  return parts.join('');
}
