/** CSV (RFC 4180: quotes, embedded commas/newlines, CRLF) and text files, plain, .gz or single-entry .zip. */
import { G2DError, decompressAuto, readFileBytes } from '@g2d-ts/core';

/** Rows of fields; each row remembers its 1-based starting line for error messages. */
export function parseCsvRows(text: string, source = '<csv>'): { fields: string[]; line: number }[] {
  const rows: { fields: string[]; line: number }[] = [];
  const n = text.length;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  while (i < n) {
    const rowLine = line;
    const fields: string[] = [];
    // one row
    for (;;) {
      if (text.charCodeAt(i) === 34 /* " */) {
        let f = '';
        let j = i + 1;
        for (;;) {
          const q = text.indexOf('"', j);
          if (q < 0) throw new G2DError(`unterminated quoted field starting on line ${rowLine}`, { source: `${source}:${rowLine}` });
          const chunk = text.slice(j, q);
          for (let k = chunk.indexOf('\n'); k >= 0; k = chunk.indexOf('\n', k + 1)) line++;
          f += chunk;
          if (text.charCodeAt(q + 1) === 34) {
            f += '"';
            j = q + 2;
          } else {
            i = q + 1;
            break;
          }
        }
        // anything up to the delimiter after the closing quote is kept verbatim
        let e = i;
        while (e < n) {
          const c = text.charCodeAt(e);
          if (c === 44 || c === 10 || c === 13) break;
          e++;
        }
        fields.push(f + text.slice(i, e));
        i = e;
      } else {
        let e = i;
        while (e < n) {
          const c = text.charCodeAt(e);
          if (c === 44 || c === 10 || c === 13) break;
          e++;
        }
        fields.push(text.slice(i, e));
        i = e;
      }
      if (i < n && text.charCodeAt(i) === 44) {
        i++;
        continue;
      }
      break;
    }
    // end of row
    if (i < n && text.charCodeAt(i) === 13) i++;
    if (i < n && text.charCodeAt(i) === 10) i++;
    line++;
    if (!(fields.length === 1 && fields[0] === '')) rows.push({ fields, line: rowLine });
  }
  return rows;
}

export type CsvRow = Record<string, string> & { __line?: never };

/**
 * Parse a CSV with a header row into objects. A row whose field count differs from the
 * header's is an error naming `source:line` (or skipped and reported with `onBadRow`).
 */
export function parseCsv(
  text: string,
  source = '<csv>',
  opts: { onBadRow?: (where: string, reason: string) => void; comment?: string } = {},
): Record<string, string>[] {
  let rows = parseCsvRows(text, source);
  if (opts.comment) rows = rows.filter((r) => !(r.fields[0] ?? '').startsWith(opts.comment!));
  if (rows.length === 0) return [];
  const header = rows[0]!.fields.map((h) => h.trim());
  const out: Record<string, string>[] = [];
  for (let k = 1; k < rows.length; k++) {
    const r = rows[k]!;
    if (r.fields.length !== header.length) {
      const reason = `row has ${r.fields.length} field(s), the header has ${header.length}`;
      if (opts.onBadRow) {
        opts.onBadRow(`${source}:${r.line}`, reason);
        continue;
      }
      throw new G2DError(reason, { source: `${source}:${r.line}` });
    }
    const o: Record<string, string> = {};
    header.forEach((h, j) => (o[h] = r.fields[j]!));
    Object.defineProperty(o, '__line', { value: r.line, enumerable: false });
    out.push(o);
  }
  return out;
}

/** Line number of a row returned by parseCsv (for error messages). */
export function rowLine(row: Record<string, string>): number | undefined {
  return (row as unknown as { __line?: number }).__line;
}

/** Read a text file: plain, gzip (.gz) or the first entry of a .zip. */
export function readTextFile(file: string): string {
  return new TextDecoder().decode(decompressAuto(readFileBytes(file), file));
}

/** readTextFile + parseCsv. */
export function readCsv(file: string, opts: Parameters<typeof parseCsv>[2] = {}): Record<string, string>[] {
  return parseCsv(readTextFile(file), file, opts);
}
