/**
 * Markdown tables for results.md files: escaped cells, aligned columns (padded so the raw
 * file reads as a table too), and a mean ± std formatter for aggregated seeds.
 */
import { checkTable, columnAlign, formatCell, isHtml, type Align, type Cell } from './html';

export interface MarkdownTableOptions {
  /** per column, or one for all; default: right for columns holding only numbers, else left */
  align?: Align | readonly Align[];
  /** decimals for non-integer numbers (default: 4 significant digits) */
  digits?: number;
}

/**
 * Cell text safe inside a pipe table: backslash, `|`, `<` and `>` backslash-escaped (so text
 * never turns into a column break or inline HTML), line breaks as spaces.
 */
export function escapeMarkdownCell(text: string): string {
  return text.replace(/[\\|<>]/g, (c) => `\\${c}`).replace(/\r?\n|\r/g, ' ');
}

/** A GitHub-flavoured Markdown pipe table (string ending in a newline). */
export function markdownTable(headers: readonly string[], rows: readonly (readonly Cell[])[], opts: MarkdownTableOptions = {}): string {
  const n = checkTable(rows, headers, 'markdownTable');
  const align = columnAlign(rows, n, opts.align);
  const text = (v: Cell) => escapeMarkdownCell(isHtml(v) ? v.__html : formatCell(v, opts.digits));
  const head = headers.map((h) => escapeMarkdownCell(String(h)));
  const body = rows.map((r) => r.map(text));
  const widths = head.map((h, c) => Math.max(3, [...h].length, ...body.map((r) => [...r[c]!].length)));
  const pad = (s: string, c: number) => {
    const fill = ' '.repeat(widths[c]! - [...s].length);
    return align[c] === 'right' ? fill + s : align[c] === 'center' ? fill.slice(0, fill.length >> 1) + s + fill.slice(fill.length >> 1) : s + fill;
  };
  const rule = (c: number) => {
    const w = widths[c]!;
    return align[c] === 'right' ? '-'.repeat(w - 1) + ':' : align[c] === 'center' ? ':' + '-'.repeat(w - 2) + ':' : '-'.repeat(w);
  };
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const out = [line(head.map(pad)), line(head.map((_, c) => rule(c)))];
  for (const r of body) out.push(line(r.map(pad)));
  return out.join('\n') + '\n';
}

/** "0.873 ± 0.012" (mean ± std with fixed decimals); "—" when the mean is missing. */
export function formatMeanStd(mean: number | null | undefined, std: number | null | undefined, digits = 3): string {
  if (mean === null || mean === undefined || !Number.isFinite(mean)) return '—';
  if (std === null || std === undefined || !Number.isFinite(std)) return mean.toFixed(digits);
  return `${mean.toFixed(digits)} ± ${std.toFixed(digits)}`;
}

/** Mean and (population, ddof 0; or sample, ddof 1) standard deviation of finite values. */
export function meanStd(values: ArrayLike<number>, ddof: 0 | 1 = 1): { mean: number; std: number; n: number } {
  let n = 0;
  let s = 0;
  for (let i = 0; i < values.length; i++) {
    if (Number.isFinite(values[i]!)) {
      s += values[i]!;
      n++;
    }
  }
  if (n === 0) return { mean: NaN, std: NaN, n: 0 };
  const mean = s / n;
  let q = 0;
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i]!)) q += (values[i]! - mean) ** 2;
  return { mean, std: n - ddof > 0 ? Math.sqrt(q / (n - ddof)) : 0, n };
}
