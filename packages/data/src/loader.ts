/**
 * Async batches with prefetch; decoding + reference preprocessing run in worker threads
 * (node:worker_threads), so the training step never waits on I/O. The order is a function of
 * (seed, epoch) only, augmentations draw from Rng(`${seed}/${epoch}/${itemIndex}`) so results do
 * not depend on worker timing, and `startBatch` resumes mid-epoch. Items that fail to decode
 * are skipped (policy 'skip': logged, counted, reported by `report()`) or abort ('fail').
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { G2DError, Rng } from '@g2d-ts/core';
import type { ItemRef } from './datasets/types';
import { prepareItem, type PrepareItemOptions, type PreparedItem } from './prepare-item';
import { floatImage, type Sample, type Transform } from './transforms';

export interface LoaderOptions extends Partial<PrepareItemOptions> {
  batchSize: number;
  seed?: number | string;
  /** shuffle each epoch (default true) */
  shuffle?: boolean;
  /** worker threads (default min(4, cpus - 1), at least 1); 0 decodes on the main thread */
  workers?: number;
  /** batches decoded ahead of the consumer (default 2) */
  prefetch?: number;
  /** drop the last, smaller batch when the items do not fill it (default false: it is kept, as PyTorch drop_last=False) */
  dropLast?: boolean;
  /** applied on the main thread to each sample, with the item's own Rng */
  transform?: Transform;
  onError?: 'skip' | 'fail';
  log?: (msg: string) => void;
}

export interface Batch {
  epoch: number;
  /** index of this batch within the epoch (pass index + 1 as startBatch to resume after it) */
  index: number;
  samples: Sample[];
  ids: string[];
}

type Job = { resolve: (v: PreparedItem) => void; reject: (e: Error) => void };

type WorkerScript = { file: string; eval?: boolean; tsconfig?: string };

function workerScript(): WorkerScript | undefined {
  const here = typeof __dirname !== 'undefined' ? __dirname : process.cwd();
  for (const name of ['worker.js', 'worker.cjs', 'worker.mjs']) {
    const f = path.join(here, name);
    if (fs.existsSync(f)) return { file: f };
  }
  const ts = path.join(here, 'worker.ts');
  if (fs.existsSync(ts)) {
    // running from sources (tests, tsx): bootstrap the TypeScript worker through tsx's CommonJS hook
    let tsxCjs: string;
    try {
      tsxCjs = createRequire(ts).resolve('tsx/cjs');
    } catch {
      return undefined;
    }
    const code = `require(${JSON.stringify(tsxCjs)}); require(${JSON.stringify(ts)});`;
    return { file: code, eval: true, tsconfig: path.join(here, '..', 'tsconfig.worker.json') };
  }
  return undefined;
}

class WorkerPool {
  private workers: Worker[] = [];
  private jobs = new Map<number, Job>();
  private next = 0;
  private rr = 0;
  constructor(n: number, script: WorkerScript) {
    for (let i = 0; i < n; i++) {
      const w = new Worker(script.file, {
        eval: script.eval,
        env: script.tsconfig && fs.existsSync(script.tsconfig) ? { ...process.env, TSX_TSCONFIG_PATH: script.tsconfig } : process.env,
      });
      w.on('message', (m: { id: number; ok: boolean; item?: PreparedItem; error?: string; g2d?: boolean }) => {
        const j = this.jobs.get(m.id);
        if (!j) return;
        this.jobs.delete(m.id);
        if (this.jobs.size === 0) for (const x of this.workers) x.unref();
        if (m.ok) j.resolve(m.item!);
        else j.reject(m.g2d ? new G2DError(m.error!) : new Error(m.error));
      });
      w.on('error', (e) => {
        for (const j of this.jobs.values()) j.reject(e);
        this.jobs.clear();
      });
      w.unref();
      this.workers.push(w);
    }
  }
  run(ref: ItemRef, opts: PrepareItemOptions): Promise<PreparedItem> {
    const id = this.next++;
    const w = this.workers[this.rr++ % this.workers.length]!;
    if (this.jobs.size === 0) for (const x of this.workers) x.ref(); // keep the process alive while work is pending
    return new Promise((resolve, reject) => {
      this.jobs.set(id, { resolve, reject });
      w.postMessage({ id, ref, opts });
    });
  }
  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers = [];
  }
}

export class DataLoader {
  readonly items: readonly ItemRef[];
  private opts: LoaderOptions;
  private pool?: WorkerPool;
  private skipped: { id: string; source?: string; reason: string }[] = [];
  private prep: PrepareItemOptions;

  constructor(items: readonly ItemRef[], opts: LoaderOptions) {
    if (!(opts.batchSize >= 1)) throw new G2DError(`batchSize must be >= 1, got ${opts.batchSize}`);
    this.items = items;
    this.opts = opts;
    this.prep = { size: opts.size ?? 256, variant: opts.variant ?? 'code' };
    const n = opts.workers ?? Math.max(1, Math.min(4, os.cpus().length - 1));
    const script = n > 0 ? workerScript() : undefined;
    if (n > 0 && script) this.pool = new WorkerPool(n, script);
  }

  /** Number of batches per epoch. */
  get length(): number {
    const n = this.items.length / this.opts.batchSize;
    return this.opts.dropLast ? Math.floor(n) : Math.ceil(n);
  }

  /** The item order of an epoch (deterministic in seed and epoch). */
  order(epoch: number): number[] {
    const idx = Array.from({ length: this.items.length }, (_, i) => i);
    return this.opts.shuffle === false ? idx : new Rng(`${this.opts.seed ?? 0}/epoch/${epoch}`).shuffle(idx);
  }

  private decode(i: number): Promise<PreparedItem> {
    const ref = this.items[i]!;
    return this.pool ? this.pool.run(ref, this.prep) : prepareItem(ref, this.prep);
  }

  /** Batches of one epoch, from `startBatch` on (resume). */
  async *epoch(epoch = 0, startBatch = 0): AsyncGenerator<Batch> {
    const order = this.order(epoch);
    const bs = this.opts.batchSize;
    const nb = this.length;
    const ahead = Math.max(1, this.opts.prefetch ?? 2) * bs;
    const pending = new Map<number, Promise<PreparedItem>>();
    let cursor = startBatch * bs;
    const end = Math.min(order.length, nb * bs);
    const fill = (upTo: number) => {
      while (cursor < Math.min(end, upTo)) {
        const p = this.decode(order[cursor]!);
        p.catch(() => undefined); // handled when awaited
        pending.set(cursor, p);
        cursor++;
      }
    };
    for (let b = startBatch; b < nb; b++) {
      const lo = b * bs;
      const hi = Math.min(end, lo + bs);
      fill(hi + ahead);
      const samples: Sample[] = [];
      const ids: string[] = [];
      for (let k = lo; k < hi; k++) {
        const idx = order[k]!;
        let it: PreparedItem;
        try {
          it = await pending.get(k)!;
        } catch (e) {
          pending.delete(k);
          const ref = this.items[idx]!;
          if (this.opts.onError === 'fail' || !(e instanceof G2DError)) throw e instanceof G2DError ? e : new G2DError(`decoding failed: ${(e as Error).message}`, { source: ref.image ?? ref.id, cause: e });
          this.skipped.push({ id: ref.id, source: ref.image, reason: e.message });
          (this.opts.log ?? ((m: string) => process.stderr.write(`${m}\n`)))(`[g2d-data] skip ${ref.image ?? ref.id}: ${e.message}`);
          continue;
        }
        pending.delete(k);
        let s: Sample = { image: floatImage(it.width, it.height, it.image), text: it.text, labels: it.labels, boxes: it.boxes, id: it.id };
        if (it.mask) s.mask = { width: it.width, height: it.height, data: it.mask };
        if (this.opts.transform) s = this.opts.transform(s, new Rng(`${this.opts.seed ?? 0}/${epoch}/${idx}`));
        samples.push(s);
        ids.push(it.id);
      }
      yield { epoch, index: b, samples, ids };
    }
  }

  /** Items skipped so far (policy 'skip'), with the reason. */
  report(): { skipped: number; items: { id: string; source?: string; reason: string }[] } {
    return { skipped: this.skipped.length, items: this.skipped.slice() };
  }

  async close(): Promise<void> {
    await this.pool?.close();
    this.pool = undefined;
  }
}
