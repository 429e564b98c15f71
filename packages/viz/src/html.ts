/**
 * Self-contained offline HTML reports: one file with inline CSS, inline SVG charts and images
 * as data URIs; no scripts, no external requests. Text is escaped unless it is marked as
 * trusted markup (`Html`, made by the helpers here or by `rawHtml`).
 */
import { G2DError } from '@g2d-ts/core';
import { pngDataUri } from './png';
import { checkRgba, type Rgba } from './raster';
import { base64, escapeXml, formatSig } from './util';

/** Trusted markup. Strings passed where `HtmlContent` is expected are escaped; `Html` is not. */
export interface Html {
  readonly __html: string;
}

class TrustedHtml implements Html {
  constructor(readonly __html: string) {}
  toString(): string {
    return this.__html;
  }
}

/** Mark a string as trusted markup (it is inserted verbatim). */
export function rawHtml(markup: string): Html {
  if (typeof markup !== 'string') throw new G2DError(`expects a string, got ${typeof markup}`, { source: 'rawHtml' });
  return new TrustedHtml(markup);
}

export function isHtml(x: unknown): x is Html {
  return x instanceof TrustedHtml || (typeof x === 'object' && x !== null && typeof (x as Html).__html === 'string');
}

/** Escape text for HTML content and attribute values. */
export const escapeHtml = escapeXml;

export type HtmlContent = Html | string | number | null | undefined | readonly HtmlContent[];

/** Markup of content: strings and numbers escaped, Html verbatim, arrays concatenated. */
export function renderContent(c: HtmlContent): string {
  if (c === null || c === undefined) return '';
  if (Array.isArray(c)) return c.map((x) => renderContent(x as HtmlContent)).join('');
  if (isHtml(c)) return c.__html;
  return escapeXml(String(c));
}

/** Tagged template: `html\`<b>${name}</b>\`` escapes `name` unless it is Html. */
export function html(strings: TemplateStringsArray, ...values: HtmlContent[]): Html {
  let s = strings[0]!;
  for (let i = 0; i < values.length; i++) s += renderContent(values[i]) + strings[i + 1]!;
  return new TrustedHtml(s);
}

/** A paragraph of text. */
export function paragraph(text: HtmlContent): Html {
  return html`<p>${text}</p>`;
}

/** Preformatted text (logs, configs, reports), escaped. */
export function preformatted(text: string): Html {
  return html`<pre>${text}</pre>`;
}

/** A collapsible block that works without JavaScript (<details>). */
export function details(summary: HtmlContent, body: HtmlContent, open = false): Html {
  return html`<details${rawHtml(open ? ' open' : '')}><summary>${summary}</summary>${body}</details>`;
}

export type Cell = string | number | boolean | null | undefined | Html;
export type Align = 'left' | 'right' | 'center';

export interface TableOptions {
  /** per column, or one for all; default: right for columns holding only numbers (or text starting with one), else left */
  align?: Align | readonly Align[];
  caption?: HtmlContent;
  /** decimals for non-integer numbers (default: 4 significant digits) */
  digits?: number;
}

export function formatCell(v: Cell, digits?: number): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return 'NaN';
    if (!Number.isFinite(v)) return v > 0 ? '∞' : '−∞';
    if (Number.isInteger(v) && digits === undefined) return String(v);
    return digits !== undefined ? v.toFixed(digits) : formatSig(v, 4);
  }
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  return String(v);
}

/** Validate a table's shape; returns the column count. */
export function checkTable(rows: unknown, headers: unknown, where: string): number {
  if (!Array.isArray(rows)) throw new G2DError('rows must be an array of arrays', { source: where });
  if (headers !== undefined && !Array.isArray(headers)) throw new G2DError('headers must be an array', { source: where });
  const n = headers ? (headers as unknown[]).length : rows.length ? (Array.isArray(rows[0]) ? rows[0].length : -1) : 0;
  rows.forEach((r, i) => {
    if (!Array.isArray(r)) throw new G2DError(`must be an array of cells, got ${JSON.stringify(r)}`, { source: `${where}: rows[${i}]` });
    if (r.length !== n) throw new G2DError(`has ${r.length} cells but the table has ${n} columns`, { source: `${where}: rows[${i}]` });
  });
  return n;
}

export function columnAlign(rows: readonly (readonly Cell[])[], n: number, align: TableOptions['align']): Align[] {
  if (typeof align === 'string') return Array.from({ length: n }, () => align);
  if (Array.isArray(align)) {
    if (align.length !== n) throw new G2DError(`has ${align.length} entries for ${n} columns`, { source: 'table: options.align' });
    return align.slice() as Align[];
  }
  return Array.from({ length: n }, (_, c) => {
    let numbers = 0;
    for (const r of rows) {
      const v = r[c];
      // numbers, and text that starts like one ("0.873 ± 0.012", "−1.5"), read best right-aligned
      if (typeof v === 'number' || (typeof v === 'string' && /^[-+−]?(\d|\.\d)/.test(v))) numbers++;
      else if (v !== null && v !== undefined && v !== '—' && v !== '') return 'left';
    }
    return numbers > 0 ? 'right' : 'left';
  });
}

/** An HTML table; every text cell is escaped (Html cells are inserted as they are). */
export function htmlTable(rows: readonly (readonly Cell[])[], headers?: readonly (string | Html)[], opts: TableOptions = {}): Html {
  const n = checkTable(rows, headers, 'htmlTable');
  const align = columnAlign(rows, n, opts.align);
  const cls = (c: number) => (align[c] === 'left' ? '' : ` class="${align[c] === 'right' ? 'num' : 'center'}"`);
  const cell = (v: Cell) => (isHtml(v) ? v.__html : escapeXml(formatCell(v, opts.digits)));
  const parts = ['<table class="g2d-table">'];
  if (opts.caption !== undefined) parts.push(`<caption>${renderContent(opts.caption)}</caption>`);
  if (headers) parts.push(`<thead><tr>${headers.map((h, c) => `<th${cls(c)}>${renderContent(h)}</th>`).join('')}</tr></thead>`);
  parts.push('<tbody>');
  for (const r of rows) parts.push(`<tr>${r.map((v, c) => `<td${cls(c)}>${cell(v)}</td>`).join('')}</tr>`);
  parts.push('</tbody></table>');
  return rawHtml(parts.join(''));
}

/** A two-column table of key/value pairs (run settings, data sizes). */
export function keyValueTable(entries: Record<string, Cell> | readonly (readonly [string, Cell])[], opts: Omit<TableOptions, 'align'> = {}): Html {
  const rows = Array.isArray(entries) ? (entries as [string, Cell][]) : Object.entries(entries as Record<string, Cell>);
  return htmlTable(
    rows.map(([k, v]) => [k, v]),
    undefined,
    { ...opts, align: ['left', 'left'] },
  );
}

/** Image input for figures: an RGBA image, PNG/JPEG bytes, or a data: URI. */
export type ImageSource = Rgba | Uint8Array | string;

/** A data: URI for an image source; anything that would make the page fetch a file is refused. */
export function imageSrc(img: ImageSource, where = 'image'): string {
  if (typeof img === 'string') {
    if (!/^data:image\/(png|jpeg|gif|webp|svg\+xml);base64,[A-Za-z0-9+/=]*$/.test(img)) {
      throw new G2DError(`must be a base64 data:image/… URI (the page is self-contained and fetches nothing), got "${img.slice(0, 60)}${img.length > 60 ? '…' : ''}"`, { source: where });
    }
    return img;
  }
  if (img instanceof Uint8Array) {
    if (img.length >= 8 && img[0] === 0x89 && img[1] === 0x50 && img[2] === 0x4e && img[3] === 0x47) return `data:image/png;base64,${base64(img)}`;
    if (img.length >= 3 && img[0] === 0xff && img[1] === 0xd8 && img[2] === 0xff) return `data:image/jpeg;base64,${base64(img)}`;
    throw new G2DError('bytes are neither PNG nor JPEG', { source: where });
  }
  return pngDataUri(checkRgba(img, where));
}

function checkSvg(svg: unknown, where: string): string {
  if (typeof svg !== 'string') throw new G2DError('svg must be a string of SVG markup', { source: where });
  const s = svg.replace(/^\s*<\?xml[^>]*\?>\s*/, '');
  if (!/^\s*<svg[\s>]/.test(s)) throw new G2DError('svg must start with an <svg> element', { source: where });
  if (/<script[\s>]|\son\w+\s*=|\b(?:href|src)\s*=\s*["'](?!#|data:)/i.test(s)) {
    throw new G2DError('svg must not contain scripts, event handlers or external references (the page runs no JS and fetches nothing)', { source: where });
  }
  return s;
}

function media(o: { image?: ImageSource; svg?: string; alt?: string; width?: number; pixelated?: boolean }, where: string): string {
  if (o.image !== undefined && o.svg !== undefined) throw new G2DError('give either image or svg, not both', { source: where });
  if (o.svg !== undefined) return `<div class="svg">${checkSvg(o.svg, `${where}.svg`)}</div>`;
  if (o.image === undefined) return '';
  const style: string[] = [];
  if (o.width !== undefined) {
    if (!(o.width > 0)) throw new G2DError(`width must be a positive number of pixels, got ${JSON.stringify(o.width)}`, { source: where });
    style.push(`width:${Math.round(o.width)}px`);
  }
  if (o.pixelated) style.push('image-rendering:pixelated');
  const dims = typeof o.image === 'object' && 'width' in o.image && 'height' in o.image ? ` width="${o.image.width}" height="${o.image.height}"` : '';
  return `<img src="${imageSrc(o.image, `${where}.image`)}" alt="${escapeXml(o.alt ?? '')}"${dims}${style.length ? ` style="${style.join(';')}"` : ''}>`;
}

export interface FigureOptions {
  image?: ImageSource;
  /** an SVG chart (inlined) instead of an image */
  svg?: string;
  caption?: HtmlContent;
  alt?: string;
  /** display width in CSS pixels (default: natural size, shrunk to fit) */
  width?: number;
  /** nearest-neighbour upscaling (small maps such as 8×8 attention) */
  pixelated?: boolean;
}

/** An image or chart with a caption. */
export function figure(opts: FigureOptions): Html {
  if (!opts || typeof opts !== 'object') throw new G2DError('expects {image | svg, caption?}', { source: 'figure' });
  const cap = opts.caption !== undefined ? `<figcaption>${renderContent(opts.caption)}</figcaption>` : '';
  return rawHtml(`<figure>${media(opts, 'figure')}${cap}</figure>`);
}

/** Figures side by side, wrapping on narrow screens. */
export function figureRow(items: readonly Html[]): Html {
  return rawHtml(`<div class="g2d-row">${items.map((i) => renderContent(i)).join('')}</div>`);
}

export interface GridCell {
  image?: ImageSource;
  svg?: string;
  caption?: HtmlContent;
  /** a text block under the caption (e.g. the report beside an image), whitespace kept */
  text?: HtmlContent;
  alt?: string;
  pixelated?: boolean;
}

/** A grid of images (or charts), each with an optional caption and text block. */
export function imageGrid(cells: readonly GridCell[], opts: { columns?: number } = {}): Html {
  if (!Array.isArray(cells)) throw new G2DError('cells must be an array of {image | svg, caption?, text?}', { source: 'imageGrid' });
  const cols = opts.columns ?? 4;
  if (!Number.isInteger(cols) || cols < 1 || cols > 24) throw new G2DError(`must be an integer in [1, 24], got ${JSON.stringify(cols)}`, { source: 'imageGrid: options.columns' });
  const parts = [`<div class="g2d-grid" style="--cols:${cols}">`];
  cells.forEach((c, i) => {
    const where = `imageGrid: cells[${i}]`;
    if (!c || typeof c !== 'object') throw new G2DError('must be an object {image | svg, caption?, text?}', { source: where });
    parts.push('<div class="g2d-cell">');
    parts.push(media(c, where));
    if (c.caption !== undefined) parts.push(`<div class="caption">${renderContent(c.caption)}</div>`);
    if (c.text !== undefined) parts.push(`<div class="text">${renderContent(c.text)}</div>`);
    parts.push('</div>');
  });
  parts.push('</div>');
  return rawHtml(parts.join(''));
}

export interface Section {
  title: string;
  /** anchor id (default: from the title) */
  id?: string;
  body: HtmlContent;
}

export interface PageOptions {
  title: string;
  subtitle?: HtmlContent;
  sections: readonly Section[];
  /** table of contents (default: when there are 3 or more sections) */
  toc?: boolean;
  footer?: HtmlContent;
  /** extra CSS appended to the built-in style sheet */
  css?: string;
  lang?: string;
}

const CSS = `
:root{color-scheme:light}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',Arial,sans-serif;color:#1d1d1f;background:#f5f6f8}
main{max-width:1240px;margin:0 auto;padding:24px 28px 48px}
header h1{font-size:26px;line-height:1.25;margin:0 0 4px}
header .subtitle{color:#555;margin:0}
nav.toc{margin:14px 0 4px;font-size:14px}
nav.toc a{margin-right:14px;color:#2458a6;text-decoration:none}
nav.toc a:hover{text-decoration:underline}
section{background:#fff;border:1px solid #e1e4e8;border-radius:8px;padding:16px 20px 18px;margin:18px 0}
section>h2{font-size:19px;margin:0 0 12px}
p{margin:6px 0 10px}
table.g2d-table{border-collapse:collapse;font-size:14px;margin:8px 0 12px;font-variant-numeric:tabular-nums}
table.g2d-table caption{caption-side:top;text-align:left;font-weight:600;padding:0 0 6px}
table.g2d-table th,table.g2d-table td{padding:4px 12px;border-bottom:1px solid #e6e8eb;text-align:left;vertical-align:top}
table.g2d-table thead th{border-bottom:2px solid #b9bec6;background:#f3f4f6;font-weight:600}
table.g2d-table tbody tr:nth-child(even){background:#fafbfc}
table.g2d-table .num{text-align:right}
table.g2d-table .center{text-align:center}
figure{margin:6px 0;max-width:100%}
figure img,figure svg,.g2d-cell img,.g2d-cell svg{max-width:100%;height:auto;display:block}
.g2d-cell img{width:100%}
figcaption{font-size:13px;color:#444;margin-top:4px}
.g2d-row{display:flex;flex-wrap:wrap;gap:14px;align-items:flex-start}
.g2d-row>figure{flex:0 1 auto}
.g2d-grid{display:grid;gap:14px;grid-template-columns:repeat(var(--cols),minmax(0,1fr))}
.g2d-cell{min-width:0}
.g2d-cell .caption{font-size:13px;font-weight:600;margin-top:4px}
.g2d-cell .text{font-size:12.5px;color:#333;white-space:pre-wrap;max-height:16em;overflow:auto;margin-top:2px}
pre{background:#f3f4f6;padding:8px 10px;border-radius:6px;overflow:auto;font-size:13px}
details{margin:8px 0}
summary{cursor:pointer;font-weight:600}
footer{color:#777;font-size:12px;margin-top:24px}
@media (max-width:800px){.g2d-grid{grid-template-columns:repeat(2,minmax(0,1fr))}}
@media print{body{background:#fff}section{break-inside:avoid;border:none}}
`;

function slug(title: string): string {
  const s = title
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return s || 'section';
}

/** A complete, self-contained HTML document (string). */
export function htmlPage(opts: PageOptions): string {
  if (!opts || typeof opts.title !== 'string') throw new G2DError('title must be a string', { source: 'htmlPage' });
  if (!Array.isArray(opts.sections)) throw new G2DError('sections must be an array of {title, body}', { source: 'htmlPage' });
  if (opts.css !== undefined && (typeof opts.css !== 'string' || /@import|url\s*\(\s*['"]?(?!data:|#)/i.test(opts.css))) {
    throw new G2DError('css must be a string without @import or external url(...)', { source: 'htmlPage: options.css' });
  }
  const used = new Set<string>();
  const ids = opts.sections.map((s, i) => {
    if (!s || typeof s.title !== 'string') throw new G2DError('title must be a string', { source: `htmlPage: sections[${i}]` });
    const base = s.id !== undefined ? slug(s.id) : slug(s.title);
    let id = base;
    for (let k = 2; used.has(id); k++) id = `${base}-${k}`;
    used.add(id);
    return id;
  });
  const toc = opts.toc ?? opts.sections.length >= 3;
  const parts: string[] = [];
  parts.push('<!DOCTYPE html>');
  parts.push(`<html lang="${escapeXml(opts.lang ?? 'en')}"><head><meta charset="utf-8">`);
  parts.push('<meta name="viewport" content="width=device-width, initial-scale=1">');
  parts.push(`<title>${escapeXml(opts.title)}</title>`);
  parts.push(`<style>${CSS}${opts.css ?? ''}</style></head><body><main>`);
  parts.push(`<header><h1>${escapeXml(opts.title)}</h1>${opts.subtitle !== undefined ? `<p class="subtitle">${renderContent(opts.subtitle)}</p>` : ''}</header>`);
  if (toc && opts.sections.length) {
    parts.push(`<nav class="toc">${opts.sections.map((s, i) => `<a href="#${ids[i]}">${escapeXml(s.title)}</a>`).join('')}</nav>`);
  }
  opts.sections.forEach((s, i) => {
    parts.push(`<section id="${ids[i]}"><h2>${escapeXml(s.title)}</h2>${renderContent(s.body)}</section>`);
  });
  if (opts.footer !== undefined) parts.push(`<footer>${renderContent(opts.footer)}</footer>`);
  parts.push('</main></body></html>\n');
  return parts.join('\n');
}
