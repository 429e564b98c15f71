/**
 * `g2d-data prepare`: the reference preprocessing applied to a whole dataset, written as raw
 * uint8 shards (N*N bytes per image, fixed-size records, so `np.memmap(shard, uint8, 'r',
 * shape=(count, N, N))` or `openCache()` read any image without loading the rest) and a
 * manifest. Each shard is written to a temporary file, fsynced, renamed, then recorded in the
 * manifest (written the same way), so an interrupted run resumes after the last complete shard.
 *
 * A cache is keyed by its inputs: the manifest holds a SHA-256 fingerprint of the resolved
 * input paths (in order) and the options (size, variant, shard size). A run into an existing
 * cache with a different list or different options is refused with what differs (or, with
 * `overwrite`, starts a new cache). Items that were skipped (unreadable) are retried by the
 * next run, never counted as done.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { G2DError, isAtomicTempName, writeFileAtomic } from '@g2d-ts/core';
import { loadImage } from './image';
import { referencePreprocess } from './preprocess';
import { parseCsv } from './csv';

export interface CacheManifest {
  /** 'g2d-cache-v2' (v1 caches, without a fingerprint, are still readable by `openCache`) */
  format: 'g2d-cache-v2' | 'g2d-cache-v1';
  size: number;
  variant: 'code' | 'clean';
  shardSize: number;
  /** list the cache was made from (absolute), or '<files>' */
  list: string;
  /** number of input rows */
  inputs: number;
  /** sha256 of the resolved input paths and the options; a resume must match it (v2) */
  fingerprint?: string;
  /** input rows handled so far (prepared + skipped) */
  processed: number;
  /** every input row has been tried */
  complete: boolean;
  shards: { file: string; count: number }[];
  /** cache entry k: its list entry (`source`), input row (0-based, v2), shard and record */
  items: { source: string; row?: number; shard: number; index: number }[];
  /** rows that could not be read in the latest try (retried by the next run) */
  skipped: { source: string; row?: number; reason: string }[];
}

export interface PrepareOptions {
  /** a .txt (one path per line) or .csv list of images; or give `files` */
  list?: string;
  /** image paths (absolute, or relative to `root`), instead of `list` */
  files?: string[];
  outDir: string;
  /** folder relative image paths resolve against (default: the list's folder, else `cwd`) */
  root?: string;
  /** where relative `list`, `outDir` and `root` resolve (default process.cwd()) */
  cwd?: string;
  column?: string;
  size?: number;
  shardSize?: number;
  variant?: 'code' | 'clean';
  onError?: 'skip' | 'fail';
  /** an existing cache made from other inputs or options is replaced instead of refused */
  overwrite?: boolean;
  progress?: boolean;
  /** stop after this many shards (tests use it to simulate an interruption) */
  maxShards?: number;
  log?: (s: string) => void;
}

export interface PrepareResult {
  manifestPath: string;
  /** images prepared by this run */
  written: number;
  /** images already in the cache before this run */
  resumedFrom: number;
  /** inputs that could not be read (after this run's retries) */
  skipped: { source: string; row?: number; reason: string }[];
  manifest: CacheManifest;
}

/** Paths from a .txt (one per line) or a CSV (column `column`, else image/path/file/Path, else the first). */
export function readImageList(list: string, column?: string): string[] {
  let text: string;
  try {
    text = fs.readFileSync(list, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new G2DError(code === 'ENOENT' ? 'list file not found' : code === 'EISDIR' ? 'the list is a folder, not a file' : `cannot read list (${(e as Error).message})`, { source: list });
  }
  if (!/\.csv$/i.test(list)) return text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const rows = parseCsv(text, list);
  if (rows.length === 0) return [];
  const cols = Object.keys(rows[0]!);
  const col = column ?? ['image', 'path', 'file', 'Path', 'Image Index', 'filename'].find((c) => cols.includes(c)) ?? cols[0]!;
  if (!cols.includes(col)) throw new G2DError(`no column "${col}" (columns: ${cols.join(', ')})`, { source: list });
  return rows.map((r, i) => {
    const v = r[col];
    if (!v) throw new G2DError(`empty "${col}"`, { source: `${list}:${i + 2}` });
    return v;
  });
}

function progressBar(done: number, total: number, t0: number): string {
  const w = 28;
  const f = total ? done / total : 1;
  const rate = done / Math.max(1e-3, (Date.now() - t0) / 1000);
  const eta = rate > 0 ? (total - done) / rate : 0;
  return `\r[${'#'.repeat(Math.round(f * w)).padEnd(w, '.')}] ${done}/${total} ${rate.toFixed(1)} img/s ETA ${eta < 60 ? `${eta.toFixed(0)}s` : `${(eta / 60).toFixed(1)}m`} `;
}

/** Files a cache folder may hold besides the manifest (an interrupted run may leave a shard). */
const CACHE_FILE = /^(shard-\d+\.u8|shard-\d+\.u8\.tmp|manifest\.json\.tmp)$/;
const isCacheFile = (f: string): boolean => CACHE_FILE.test(f) || (isAtomicTempName(f) && /^\.(shard-\d+\.u8|manifest\.json)\./.test(f));

/** The SHA-256 of the resolved inputs and the options a cache depends on. */
export function cacheFingerprint(absPaths: readonly string[], o: { size: number; variant: string; shardSize: number }): string {
  const h = createHash('sha256');
  h.update(`g2d-cache-v2\0size=${o.size}\0variant=${o.variant}\0shardSize=${o.shardSize}\0inputs=${absPaths.length}\0`);
  for (const p of absPaths) h.update(`${p}\0`);
  return h.digest('hex');
}

function readManifest(manifestPath: string): CacheManifest {
  let m: CacheManifest;
  try {
    m = JSON.parse(fs.readFileSync(manifestPath, 'utf8')) as CacheManifest;
  } catch (e) {
    throw new G2DError(`not a readable cache manifest (${(e as Error).message}); delete it or use another output folder`, { source: manifestPath });
  }
  if (!m || typeof m !== 'object' || !Array.isArray(m.shards) || !Array.isArray(m.items) || typeof m.size !== 'number') {
    throw new G2DError('not a g2d-data cache manifest (no shards/items/size)', { source: manifestPath });
  }
  m.skipped ??= [];
  return m;
}

/** Why an existing cache does not match this run (undefined when it does). */
function mismatch(m: CacheManifest, want: { size: number; variant: string; shardSize: number; fingerprint: string; sources: string[] }): string | undefined {
  if (m.format !== 'g2d-cache-v2' || !m.fingerprint) return `it was made by an older g2d-data (${m.format ?? 'unknown format'}) that did not record its inputs, so it cannot be resumed safely`;
  const opts: string[] = [];
  if (m.size !== want.size) opts.push(`size ${m.size} (this run: ${want.size})`);
  if (m.variant !== want.variant) opts.push(`variant ${m.variant} (this run: ${want.variant})`);
  if (m.shardSize !== want.shardSize) opts.push(`shard size ${m.shardSize} (this run: ${want.shardSize})`);
  if (opts.length) return `it was made with ${opts.join(', ')}`;
  if (m.fingerprint === want.fingerprint) return undefined;
  if (m.inputs !== want.sources.length) return `it was made from a different input list (${m.inputs} inputs; this run has ${want.sources.length})`;
  const known = [...m.items, ...m.skipped].filter((x) => x.row !== undefined).sort((a, b) => a.row! - b.row!);
  const diff = known.find((x) => want.sources[x.row!] !== x.source);
  if (diff) return `it was made from a different input list (row ${diff.row! + 1} was "${diff.source}", this run has "${want.sources[diff.row!]}")`;
  return 'it was made from a different input list (the same entries resolve to other files: another --root or working directory?)';
}

export async function prepareDataset(opts: PrepareOptions): Promise<PrepareResult> {
  const size = opts.size ?? 256;
  const shardSize = opts.shardSize ?? 4096;
  const variant = opts.variant ?? 'code';
  if (!Number.isInteger(size) || size < 1 || !Number.isInteger(shardSize) || shardSize < 1) throw new G2DError(`size and shard size must be integers >= 1 (got ${size}, ${shardSize})`);
  if (variant !== 'code' && variant !== 'clean') throw new G2DError(`variant must be "code" or "clean", got "${String(variant)}"`);
  if (!opts.list && !opts.files) throw new G2DError('prepare needs a list file or a files array');
  const cwd = opts.cwd ?? process.cwd();
  const listPath = opts.list ? path.resolve(cwd, opts.list) : undefined;
  const sources = opts.files ?? readImageList(listPath!, opts.column);
  // relative entries resolve against the root, once (entries that are already absolute are kept)
  const root = path.resolve(cwd, opts.root ?? (listPath ? path.dirname(listPath) : '.'));
  const abs = sources.map((s) => (path.isAbsolute(s) ? path.normalize(s) : path.join(root, s)));
  const outDir = path.resolve(cwd, opts.outDir);
  const fingerprint = cacheFingerprint(abs, { size, variant, shardSize });

  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(outDir);
  } catch {
    st = undefined;
  }
  if (st && !st.isDirectory()) throw new G2DError('the output is a file, not a folder: give a new or existing cache folder', { source: outDir });
  fs.mkdirSync(outDir, { recursive: true });
  const manifestPath = path.join(outDir, 'manifest.json');
  const fresh = (): CacheManifest => ({
    format: 'g2d-cache-v2', size, variant, shardSize, list: listPath ?? '<files>', inputs: sources.length, fingerprint,
    processed: 0, complete: false, shards: [], items: [], skipped: [],
  });
  let m: CacheManifest;
  if (fs.existsSync(manifestPath)) {
    m = readManifest(manifestPath);
    const why = mismatch(m, { size, variant, shardSize, fingerprint, sources });
    if (why) {
      if (!opts.overwrite) {
        throw new G2DError(`refusing to resume this cache: ${why}. Use another output folder, or overwrite it (--overwrite) to start a new cache`, { source: outDir });
      }
      for (const f of fs.readdirSync(outDir)) if (isCacheFile(f) || f === 'manifest.json') fs.rmSync(path.join(outDir, f), { force: true });
      m = fresh();
    }
  } else {
    const foreign = fs.readdirSync(outDir).filter((f) => !isCacheFile(f));
    if (foreign.length) {
      throw new G2DError(`the output folder is not empty and holds no cache manifest (${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', ...' : ''}): give a new or empty folder`, { source: outDir });
    }
    m = fresh();
  }
  // a manifest list of 'files' does not say where it came from; keep the first one's
  if (m.list !== (listPath ?? '<files>')) m.list = listPath ?? '<files>';

  const done = new Set(m.items.map((it) => it.row));
  const pending: number[] = [];
  for (let r = 0; r < sources.length; r++) if (!done.has(r)) pending.push(r);
  const resumedFrom = m.items.length;
  const rec = size * size;
  const t0 = Date.now();
  const log = opts.log ?? ((s: string) => process.stderr.write(s));
  let written = 0;
  let shardsThisRun = 0;
  let lastDraw = 0;
  const tty = !!(process.stderr as { isTTY?: boolean }).isTTY;
  const tried = new Set<number>();
  let p = 0;
  const commit = (): void => {
    m.skipped = m.skipped.filter((s) => s.row === undefined || !tried.has(s.row));
    m.skipped.push(...skippedNow);
    skippedNow.length = 0;
    m.processed = m.items.length + m.skipped.length;
    m.complete = p >= pending.length;
    writeFileAtomic(manifestPath, JSON.stringify(m));
  };
  const skippedNow: CacheManifest['skipped'] = [];
  while (p < pending.length) {
    if (opts.maxShards !== undefined && shardsThisRun >= opts.maxShards) break;
    const shardIdx = m.shards.length;
    const buf = Buffer.alloc(Math.min(shardSize, pending.length - p) * rec);
    const items: CacheManifest['items'] = [];
    while (p < pending.length && items.length < shardSize) {
      const row = pending[p]!;
      const source = sources[row]!;
      const file = abs[row]!;
      try {
        const { image } = await loadImage(file);
        const u8 = referencePreprocess(image, { size, variant, source: file });
        if (items.length * rec + u8.length > buf.length) throw new G2DError(`preprocessing returned ${u8.length} bytes, expected ${rec}`, { source: file });
        buf.set(u8, items.length * rec);
        items.push({ source, row, shard: shardIdx, index: items.length });
      } catch (e) {
        if (opts.onError === 'fail' || !(e instanceof G2DError)) throw e;
        skippedNow.push({ source, row, reason: e.message });
      }
      tried.add(row);
      p++;
      // redraw at most 4x/s on a terminal; elsewhere (CI logs) one line per 10 s
      const now = Date.now();
      if (opts.progress && (p === pending.length || now - lastDraw >= (tty ? 250 : 10_000))) {
        lastDraw = now;
        log(tty ? progressBar(p, pending.length, t0) : `${progressBar(p, pending.length, t0).slice(1)}\n`);
      }
    }
    if (items.length) {
      const file = `shard-${String(shardIdx).padStart(5, '0')}.u8`;
      writeFileAtomic(path.join(outDir, file), buf.subarray(0, items.length * rec));
      m.shards.push({ file, count: items.length });
      m.items.push(...items);
      written += items.length;
    }
    commit();
    shardsThisRun++;
  }
  if (pending.length === 0 || !fs.existsSync(manifestPath)) commit();
  if (opts.progress && tty && pending.length) log('\n');
  if (m.skipped.length) log(`[g2d-data] skipped ${m.skipped.length} unreadable item(s); listed in ${manifestPath}\n`);
  return { manifestPath, written, resumedFrom, skipped: m.skipped, manifest: m };
}

/** Random access to a prepared cache. */
export interface PreparedCache {
  manifest: CacheManifest;
  length: number;
  /** image k as uint8 N*N (read from its shard without loading the rest) */
  get(k: number): Uint8Array;
  source(k: number): string;
  close(): void;
}

export function openCache(dir: string): PreparedCache {
  const mp = path.join(dir, 'manifest.json');
  if (!fs.existsSync(mp)) throw new G2DError('no manifest.json: not a prepared cache', { source: dir });
  const manifest = readManifest(mp);
  const rec = manifest.size * manifest.size;
  const fds = new Map<number, number>();
  const fd = (s: number) => {
    let f = fds.get(s);
    if (f === undefined) {
      f = fs.openSync(path.join(dir, manifest.shards[s]!.file), 'r');
      fds.set(s, f);
    }
    return f;
  };
  return {
    manifest,
    length: manifest.items.length,
    get(k) {
      const it = manifest.items[k];
      if (!it) throw new G2DError(`index ${k} out of range (0..${manifest.items.length - 1})`, { source: dir });
      const out = new Uint8Array(rec);
      const n = fs.readSync(fd(it.shard), out, 0, rec, it.index * rec);
      if (n !== rec) throw new G2DError(`shard ${manifest.shards[it.shard]!.file} is truncated at item ${it.index}`, { source: dir });
      return out;
    },
    source: (k) => manifest.items[k]!.source,
    close() {
      for (const f of fds.values()) fs.closeSync(f);
      fds.clear();
    },
  };
}
