/**
 * An on-disk cache of fixed-length rows per item (features of a frozen encoder, preprocessed
 * images), so a sweep over fractions and seeds never re-runs the backbone.
 *
 * One file per key, `<dir>/<kind>/<key>.g2dc`: the key is a sha256 of its parts (for features:
 * encoder weights hash + dataset identity + transform + feature kind). Inside: a JSON header
 * (parts, row length, dtype, item ids and per-item fingerprints: image file size and mtime, so
 * a changed image is recomputed) and the rows. Items are added incrementally; a flush re-reads
 * the file, merges what another process added meanwhile, and replaces it atomically (temp
 * file, fsync, rename), so concurrent grid cells never leave a torn file: at worst one
 * writer's new rows are lost and recomputed next time.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { G2DError, writeFileAtomic } from '@g2d-ts/core';
import type { ItemRef } from '@g2d-ts/data';
import { findWorkspaceRoot } from './encoder';

const MAGIC = 'G2DCACHE1\n';
export type RowDType = 'float32' | 'uint8';

/** The cache folder: explicit, else $G2D_EVAL_CACHE, else <workspace>/.cache/g2d-eval, else ~/.cache/g2d-ts/eval. */
export function defaultCacheDir(explicit?: string, cwd: string = process.cwd()): string {
  if (explicit) return path.resolve(cwd, explicit);
  if (process.env.G2D_EVAL_CACHE) return path.resolve(process.env.G2D_EVAL_CACHE);
  const root = findWorkspaceRoot(cwd);
  if (root) return path.join(root, '.cache', 'g2d-eval');
  return path.join(process.env.HOME ?? cwd, '.cache', 'g2d-ts', 'eval');
}

/** sha256 of canonical JSON of the parts (first 32 hex chars). */
export function cacheKey(parts: Record<string, unknown>): string {
  const canon = (v: unknown): unknown =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.keys(v as object).sort().map((k) => [k, canon((v as Record<string, unknown>)[k])])) : Array.isArray(v) ? v.map(canon) : v;
  return crypto.createHash('sha256').update(JSON.stringify(canon(parts))).digest('hex').slice(0, 32);
}

/** What identifies an item's image content: file size and mtime (generated items: their id). */
export function itemFingerprint(it: ItemRef): string {
  if (!it.image) return 'generated';
  try {
    const st = fs.statSync(it.image);
    return `${st.size}-${Math.round(st.mtimeMs)}`;
  } catch {
    return 'missing';
  }
}

interface Header {
  parts: Record<string, unknown>;
  rowLength: number;
  dtype: RowDType;
  ids: string[];
  fingerprints: string[];
}

type Rows = Float32Array | Uint8Array;

function alloc(dtype: RowDType, n: number): Rows {
  return dtype === 'float32' ? new Float32Array(n) : new Uint8Array(n);
}

function readCacheFile(file: string, expect: { rowLength: number; dtype: RowDType }): Map<string, { fp: string; row: Rows }> {
  const out = new Map<string, { fp: string; row: Rows }>();
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return out;
    throw new G2DError(`cannot read the cache file: ${(e as Error).message}`, { source: file, cause: e });
  }
  // a foreign or damaged file is ignored (and replaced at the next flush), never trusted
  if (buf.length < MAGIC.length + 4 || buf.toString('latin1', 0, MAGIC.length) !== MAGIC) return out;
  const hlen = buf.readUInt32LE(MAGIC.length);
  const hstart = MAGIC.length + 4;
  let h: Header;
  try {
    h = JSON.parse(buf.toString('utf8', hstart, hstart + hlen)) as Header;
  } catch {
    return out;
  }
  if (h.rowLength !== expect.rowLength || h.dtype !== expect.dtype || !Array.isArray(h.ids)) return out;
  const bpe = h.dtype === 'float32' ? 4 : 1;
  let off = hstart + hlen;
  off += (4 - (off % 4)) % 4;
  if (buf.length !== off + h.ids.length * h.rowLength * bpe) return out;
  const copy = new Uint8Array(buf.buffer.slice(buf.byteOffset + off, buf.byteOffset + buf.length));
  const all = h.dtype === 'float32' ? new Float32Array(copy.buffer) : copy;
  h.ids.forEach((id, k) => out.set(id, { fp: h.fingerprints[k] ?? '', row: all.subarray(k * h.rowLength, (k + 1) * h.rowLength) }));
  return out;
}

/** A row cache for one key (see the module comment). */
export class RowCache {
  readonly file: string;
  readonly key: string;
  private rows: Map<string, { fp: string; row: Rows }>;
  private dirty = false;

  private constructor(
    readonly dir: string,
    readonly kind: string,
    readonly parts: Record<string, unknown>,
    readonly rowLength: number,
    readonly dtype: RowDType,
  ) {
    this.key = cacheKey({ kind, ...parts, rowLength, dtype });
    this.file = path.join(dir, kind, `${this.key}.g2dc`);
    this.rows = readCacheFile(this.file, { rowLength, dtype });
  }

  /** Opens (or starts) the cache of `kind` (e.g. 'features', 'images') for these key parts. */
  static open(dir: string, kind: string, parts: Record<string, unknown>, rowLength: number, dtype: RowDType): RowCache {
    if (!Number.isInteger(rowLength) || rowLength < 1) throw new G2DError(`RowCache: rowLength must be a positive integer, got ${rowLength}`);
    return new RowCache(dir, kind, parts, rowLength, dtype);
  }

  get size(): number {
    return this.rows.size;
  }

  /** The cached row of `id` when its fingerprint matches, else undefined. */
  get(id: string, fingerprint: string): Rows | undefined {
    const r = this.rows.get(id);
    return r && r.fp === fingerprint ? r.row : undefined;
  }

  set(id: string, fingerprint: string, row: ArrayLike<number>): void {
    if (row.length !== this.rowLength) throw new G2DError(`RowCache.set: row of "${id}" has ${row.length} values, expected ${this.rowLength}`, { source: this.file });
    const r = alloc(this.dtype, this.rowLength);
    r.set(row);
    this.rows.set(id, { fp: fingerprint, row: r });
    this.dirty = true;
  }

  /** Writes the cache (merged with rows another process added meanwhile) atomically. */
  flush(): void {
    if (!this.dirty) return;
    const onDisk = readCacheFile(this.file, { rowLength: this.rowLength, dtype: this.dtype });
    for (const [id, r] of onDisk) if (!this.rows.has(id)) this.rows.set(id, r);
    const ids = [...this.rows.keys()].sort();
    const header: Header = { parts: this.parts, rowLength: this.rowLength, dtype: this.dtype, ids, fingerprints: ids.map((id) => this.rows.get(id)!.fp) };
    const hbuf = Buffer.from(JSON.stringify(header), 'utf8');
    let off = MAGIC.length + 4 + hbuf.length;
    const pad = (4 - (off % 4)) % 4;
    off += pad;
    const bpe = this.dtype === 'float32' ? 4 : 1;
    const body = Buffer.alloc(off + ids.length * this.rowLength * bpe);
    body.write(MAGIC, 0, 'latin1');
    body.writeUInt32LE(hbuf.length, MAGIC.length);
    hbuf.copy(body, MAGIC.length + 4);
    ids.forEach((id, k) => {
      const r = this.rows.get(id)!.row;
      Buffer.from(r.buffer, r.byteOffset, r.byteLength).copy(body, off + k * this.rowLength * bpe);
    });
    writeFileAtomicSync(this.file, body);
    this.dirty = false;
  }
}

/** temp file + fsync + rename + fsync of the folder (@g2d-ts/core's `writeFileAtomic`, which also finishes short writes). */
export function writeFileAtomicSync(file: string, data: string | Uint8Array): void {
  writeFileAtomic(file, data);
}
