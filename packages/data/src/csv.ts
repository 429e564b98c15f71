/** CSV (RFC 4180: quotes, embedded commas/newlines, CRLF) and text files, plain, .gz or single-entry .zip. */
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import { G2DError } from '@g2d-ts/core';

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

/** Extract the first (or the named) file of a .zip archive (stored or deflated). */
export function unzipEntry(zip: Uint8Array, source: string, name?: string): Buffer {
  const dv = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 65557); i--) {
    if (dv.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new G2DError('not a zip archive (no end-of-central-directory record)', { source });
  const count = dv.getUint16(eocd + 10, true);
  let p = dv.getUint32(eocd + 16, true);
  for (let k = 0; k < count; k++) {
    if (dv.getUint32(p, true) !== 0x02014b50) throw new G2DError('corrupt zip central directory', { source });
    const method = dv.getUint16(p + 10, true);
    const csize = dv.getUint32(p + 20, true);
    const nlen = dv.getUint16(p + 28, true);
    const elen = dv.getUint16(p + 30, true);
    const clen = dv.getUint16(p + 32, true);
    const local = dv.getUint32(p + 42, true);
    const fname = Buffer.from(zip.subarray(p + 46, p + 46 + nlen)).toString('utf8');
    p += 46 + nlen + elen + clen;
    if (fname.endsWith('/') || (name && fname !== name)) continue;
    const lnlen = dv.getUint16(local + 26, true);
    const lelen = dv.getUint16(local + 28, true);
    const start = local + 30 + lnlen + lelen;
    const data = zip.subarray(start, start + csize);
    if (method === 0) return Buffer.from(data);
    if (method === 8) return zlib.inflateRawSync(data);
    throw new G2DError(`zip entry "${fname}" uses unsupported compression method ${method}`, { source });
  }
  throw new G2DError(name ? `zip has no entry "${name}"` : 'zip archive is empty', { source });
}

/** Read a text file: plain, gzip (.gz) or the first entry of a .zip. */
export function readTextFile(file: string): string {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new G2DError(code === 'ENOENT' ? 'file not found' : `cannot read file (${code ?? e})`, { source: file, cause: e });
  }
  try {
    if (buf[0] === 0x1f && buf[1] === 0x8b) buf = zlib.gunzipSync(buf);
    else if (buf[0] === 0x50 && buf[1] === 0x4b && buf[2] === 0x03 && buf[3] === 0x04) buf = unzipEntry(buf, file);
  } catch (e) {
    if (e instanceof G2DError) throw e;
    throw new G2DError(`corrupt compressed file: ${(e as Error).message}`, { source: file, cause: e });
  }
  return buf.toString('utf8');
}

/** readTextFile + parseCsv. */
export function readCsv(file: string, opts: Parameters<typeof parseCsv>[2] = {}): Record<string, string>[] {
  return parseCsv(readTextFile(file), file, opts);
}
