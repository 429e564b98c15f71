/**
 * The output files every evaluation app writes into `--out` (outside checks read them by
 * these names), each atomically (temp file, fsync, rename):
 *
 * - `results.json`: `{ task, protocol?, config, encoder, data, runtime, metrics, ... }`
 *   (NaN and ±Infinity become null);
 * - `results.md`: the headline table laid out like the paper's (rows = encoder/method,
 *   columns = dataset × fraction), then the details the app adds (per-class tables…);
 * - `predictions.csv`: one row per test image, `image` (file name without extension), then
 *   `<class>_score`, `<class>_label` (0/1) per class; scores printed with full precision
 *   (the shortest text that reads back as the same double), so metrics recomputed from the
 *   file are exactly the ones in results.json.
 */
import * as path from 'node:path';
import { G2DError } from '@g2d-ts/core';
import { formatMeanStd, markdownTable } from '@g2d-ts/viz';
import { writeFileAtomicSync } from './cache';

/** JSON with NaN/±Infinity as null, 1-space indented. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 1) + '\n';
}

export function writeJson(file: string, value: unknown): void {
  writeFileAtomicSync(file, toJson(value));
}

export function writeText(file: string, text: string): void {
  writeFileAtomicSync(file, text);
}

export interface ResultsDocument {
  /** 'classification', 'zero-shot-classification', 'segmentation', … */
  task: string;
  protocol?: string;
  /** the resolved config (what repeats the run) */
  config: unknown;
  encoder: unknown;
  data: {
    dataset: string;
    displayName: string;
    test?: string;
    classes: string[];
    fraction: number;
    seed: number;
    splitSource: string;
    sizes: Record<string, { images: number; patients: number }>;
    [k: string]: unknown;
  };
  runtime: { seconds: number; backend: string; phases?: Record<string, number>; [k: string]: unknown };
  metrics: unknown;
  [k: string]: unknown;
}

export function writeResultsJson(out: string, doc: ResultsDocument): string {
  const file = path.join(out, 'results.json');
  writeJson(file, doc);
  return file;
}

/** One CSV field (RFC 4180 quoting when needed). */
export function csvField(v: string | number): string {
  const s = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : v;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export interface PredictionRow {
  image: string;
  scores: ArrayLike<number>;
  labels: ArrayLike<number>;
}

/** The predictions.csv text (see the module comment). */
export function predictionsCsv(classes: readonly string[], rows: readonly PredictionRow[]): string {
  const head = ['image', ...classes.flatMap((c) => [`${c}_score`, `${c}_label`])];
  const lines = [head.map(csvField).join(',')];
  rows.forEach((r, i) => {
    if (r.scores.length !== classes.length || r.labels.length !== classes.length) {
      throw new G2DError(`predictions.csv: row ${i} (${r.image}) has ${r.scores.length} scores / ${r.labels.length} labels for ${classes.length} classes`);
    }
    const cells: (string | number)[] = [r.image];
    for (let j = 0; j < classes.length; j++) {
      const l = r.labels[j]!;
      if (l !== 0 && l !== 1) throw new G2DError(`predictions.csv: label of ${classes[j]} for ${r.image} is ${l}, expected 0 or 1`);
      cells.push(r.scores[j]!, l);
    }
    lines.push(cells.map(csvField).join(','));
  });
  return lines.join('\n') + '\n';
}

export function writePredictionsCsv(out: string, classes: readonly string[], rows: readonly PredictionRow[]): string {
  const file = path.join(out, 'predictions.csv');
  writeText(file, predictionsCsv(classes, rows));
  return file;
}

/** `1%`, `10%`, `100%` (fractions as the paper's column headers). */
export function fractionLabel(f: number): string {
  const p = f * 100;
  return `${Number.isInteger(p) ? p : Number(p.toPrecision(3))}%`;
}

/** A value or mean ± std, for table cells. */
export type TableValue = number | null | { mean: number | null; std?: number | null; n?: number };

export interface PaperTable {
  /** column headers: dataset × fraction, e.g. `NIH ChestX-ray14 1%` */
  columns: string[];
  /** rows = encoder / method */
  rows: { method: string; cells: Record<string, TableValue> }[];
  /** scale values for display (AUC as 0-100 like the paper: 100) */
  scale?: number;
  digits?: number;
}

function cell(v: TableValue | undefined, scale: number, digits: number): string {
  if (v === undefined || v === null) return '—';
  if (typeof v === 'number') return Number.isFinite(v) ? (v * scale).toFixed(digits) : '—';
  if (v.mean === null || !Number.isFinite(v.mean)) return '—';
  const s = formatMeanStd(v.mean * scale, v.std === null || v.std === undefined ? undefined : v.std * scale, digits);
  return v.n !== undefined && v.n > 1 ? `${s} (n=${v.n})` : s;
}

/** The paper-style table (rows = method, columns = dataset × fraction) as Markdown. */
export function paperTableMarkdown(t: PaperTable): string {
  const scale = t.scale ?? 100;
  const digits = t.digits ?? (scale === 100 ? 1 : 3);
  return markdownTable(
    ['Method', ...t.columns],
    t.rows.map((r) => [r.method, ...t.columns.map((c) => cell(r.cells[c], scale, digits))]),
    { align: ['left', ...t.columns.map(() => 'right' as const)] },
  );
}

export function writeResultsMd(out: string, markdown: string): string {
  const file = path.join(out, 'results.md');
  writeText(file, markdown.endsWith('\n') ? markdown : markdown + '\n');
  return file;
}
