/**
 * `g2d-data prepare`: the reference preprocessing applied to a whole dataset, written as raw
 * uint8 shards (N*N bytes per image, fixed-size records, so `np.memmap(shard, uint8, 'r',
 * shape=(count, N, N))` or `openCache()` read any image without loading the rest) and a
 * manifest. Each shard is written to a temporary file, renamed, then recorded in the manifest,
 * so an interrupted run resumes after the last complete shard.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { G2DError } from '@g2d-ts/core';
import { loadImage } from './image';
import { referencePreprocess } from './preprocess';
import { parseCsv } from './csv';

export interface CacheManifest {
  format: 'g2d-cache-v1';
  size: number;
  variant: 'code' | 'clean';
  shardSize: number;
  /** list the cache was made from, and how many of its entries were handled */
  list: string;
  inputs: number;
  processed: number;
  complete: boolean;
  shards: { file: string; count: number }[];
  items: { source: string; shard: number; index: number }[];
  skipped: { source: string; reason: string }[];
}

export interface PrepareOptions {
  /** a .txt (one path per line) or .csv list of images; or give `files` */
  list?: string;
  /** image paths (absolute, or relative to `root`), instead of `list` */
  files?: string[];
  outDir: string;
  root?: string;
  column?: string;
  size?: number;
  shardSize?: number;
  variant?: 'code' | 'clean';
  onError?: 'skip' | 'fail';
  progress?: boolean;
  /** stop after this many shards (tests use it to simulate an interruption) */
  maxShards?: number;
  log?: (s: string) => void;
}

export interface PrepareResult {
  manifestPath: string;
  written: number;
  resumedFrom: number;
  skipped: { source: string; reason: string }[];
  manifest: CacheManifest;
}

/** Paths from a .txt (one per line) or a CSV (column `column`, else image/path/file/Path, else the first). */
export function readImageList(list: string, column?: string): string[] {
  let text: string;
  try {
    text = fs.readFileSync(list, 'utf8');
  } catch (e) {
    throw new G2DError((e as NodeJS.ErrnoException).code === 'ENOENT' ? 'list file not found' : `cannot read list (${(e as Error).message})`, { source: list });
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

export async function prepareDataset(opts: PrepareOptions): Promise<PrepareResult> {
  const size = opts.size ?? 256;
  const shardSize = opts.shardSize ?? 4096;
  const variant = opts.variant ?? 'code';
  if (size < 1 || shardSize < 1) throw new G2DError('size and shard size must be >= 1');
  if (!opts.list && !opts.files) throw new G2DError('prepare needs a list file or a files array');
  const files = opts.files ?? readImageList(opts.list!, opts.column);
  const root = opts.root ?? (opts.list ? path.dirname(path.resolve(opts.list)) : process.cwd());
  fs.mkdirSync(opts.outDir, { recursive: true });
  const manifestPath = path.join(opts.outDir, 'manifest.json');
  let m: CacheManifest;
  if (fs.existsSync(manifestPath)) {
    m = JSON.parse(fs.readFileSync(manifestPath, 'utf8')) as CacheManifest;
    if (m.size !== size || m.variant !== variant || m.shardSize !== shardSize || m.inputs !== files.length) {
      throw new G2DError(
        `existing cache was made with size ${m.size}, variant ${m.variant}, shard size ${m.shardSize}, ${m.inputs} inputs; ` +
          `this run asks for ${size}, ${variant}, ${shardSize}, ${files.length}: use another --out or delete it`,
        { source: manifestPath },
      );
    }
  } else {
    m = { format: 'g2d-cache-v1', size, variant, shardSize, list: opts.list ? path.resolve(opts.list) : '<files>', inputs: files.length, processed: 0, complete: false, shards: [], items: [], skipped: [] };
  }
  const resumedFrom = m.processed;
  const rec = size * size;
  const t0 = Date.now();
  const log = opts.log ?? ((s: string) => process.stderr.write(s));
  let written = 0;
  let shardsThisRun = 0;
  let lastDraw = 0;
  const tty = !!(process.stderr as { isTTY?: boolean }).isTTY;
  let i = m.processed;
  while (i < files.length) {
    if (opts.maxShards !== undefined && shardsThisRun >= opts.maxShards) break;
    const shardIdx = m.shards.length;
    const buf = Buffer.alloc(shardSize * rec);
    const items: CacheManifest['items'] = [];
    const skipped: CacheManifest['skipped'] = [];
    while (i < files.length && items.length < shardSize) {
      const rel = files[i]!;
      const abs = path.isAbsolute(rel) ? rel : path.join(root, rel);
      try {
        const { image } = await loadImage(abs);
        const u8 = referencePreprocess(image, { size, variant, source: abs });
        buf.set(u8, items.length * rec);
        items.push({ source: rel, shard: shardIdx, index: items.length });
      } catch (e) {
        if (opts.onError === 'fail' || !(e instanceof G2DError)) throw e;
        skipped.push({ source: rel, reason: e.message });
      }
      i++;
      // redraw at most 4x/s on a terminal; elsewhere (CI logs) one line per 10 s
      const now = Date.now();
      if (opts.progress && (i === files.length || now - lastDraw >= (tty ? 250 : 10_000))) {
        lastDraw = now;
        log(tty ? progressBar(i, files.length, t0) : `${progressBar(i, files.length, t0).slice(1)}\n`);
      }
    }
    const file = `shard-${String(shardIdx).padStart(5, '0')}.u8`;
    const tmp = path.join(opts.outDir, `${file}.tmp`);
    fs.writeFileSync(tmp, buf.subarray(0, items.length * rec));
    fs.renameSync(tmp, path.join(opts.outDir, file));
    m.shards.push({ file, count: items.length });
    m.items.push(...items);
    m.skipped.push(...skipped);
    m.processed = i;
    m.complete = i >= files.length;
    fs.writeFileSync(`${manifestPath}.tmp`, JSON.stringify(m));
    fs.renameSync(`${manifestPath}.tmp`, manifestPath);
    written += items.length;
    shardsThisRun++;
  }
  if (files.length === 0) {
    m.complete = true;
    fs.writeFileSync(manifestPath, JSON.stringify(m));
  }
  if (opts.progress && tty) log('\n');
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
  const manifest = JSON.parse(fs.readFileSync(mp, 'utf8')) as CacheManifest;
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
