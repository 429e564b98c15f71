/**
 * The training loop primitive shared by pretraining and the evaluation apps. Given a step
 * closure that returns a scalar loss (and numeric metrics), a data source that can start an
 * epoch at any batch, an AdamW optimizer and an optional scheduler, `fit` runs the epochs:
 * gradients (accumulated over micro-batches, optionally clipped), the optimizer step, the
 * scheduler step, one `metrics.jsonl` line, progress, hooks and checkpoints, and resumes
 * from the newest complete checkpoint exactly where the interrupted run stood.
 */
import * as tf from '@tensorflow/tfjs';
import * as path from 'node:path';
import { G2DError, type Rng } from '@g2d-ts/core';
import type { AdamW } from './adamw';
import {
  type LoadedTrainingState,
  type LoaderPosition,
  type TensorMapLike,
  latestCheckpoint,
  loadTrainingState,
  restoreTrainingState,
  saveTrainingState,
} from './checkpoint';
import { type ClipOptions, GradientAccumulator, clipGradNorm, computeGradients } from './gradients';
import { MetricsLog, type MetricsRecord } from './metrics-log';
import { Progress, type ProgressOptions } from './progress';
import { RunRng } from './rng';
import type { LrScheduler } from './schedulers';
import { type NamedVariables, type VariableSource, resolveVariables } from './variables';

export interface StepContext {
  /** 0-based index of the optimizer step this micro-batch contributes to (the reference's global_step) */
  step: number;
  epoch: number;
  /** index of the batch within its epoch */
  batchIndex: number;
  /** 0 … accumulate−1 */
  microStep: number;
  /** random stream for this (step, microStep): the same on a resumed run */
  rng: Rng;
  /** the run's seed, for other derived streams */
  runRng: RunRng;
}

export interface StepOutput {
  loss: tf.Scalar;
  /** numbers to log (averaged over the micro-batches of a step), e.g. { vla, ps, acc1 } */
  metrics?: Record<string, number>;
}

/** Synchronous (it runs inside the gradient tape). Tensors other than `loss` are freed for you. */
export type StepFn<B> = (batch: B, ctx: StepContext) => StepOutput;

/** A data source that can start an epoch at any batch (`@g2d-ts/data`'s DataLoader is one). */
export interface ResumableSource<B> {
  epoch(epoch: number, startBatch: number): Iterable<B> | AsyncIterable<B>;
  /** batches per epoch, when known (progress total, ETA) */
  readonly length?: number;
}

/**
 * A resumable source, an array (the same batches every epoch) or a function of the epoch
 * (resuming mid-epoch then reads and drops the batches before the position: it must yield
 * the same batches for the same epoch).
 */
export type DataSource<B> = ResumableSource<B> | readonly B[] | ((epoch: number) => Iterable<B> | AsyncIterable<B>);

export interface StepInfo {
  /** 0-based index of the step just taken */
  step: number;
  epoch: number;
  /** batches of this epoch consumed so far */
  batchesDone: number;
  lr: number;
  /** mean loss over the step's micro-batches */
  loss: number;
  metrics: Record<string, number>;
  gradNorm?: number;
  images: number;
  imagesPerSec: number;
  stepSec: number;
  numTensors: number;
  rssMiB: number;
}

export interface EpochInfo {
  epoch: number;
  /** optimizer steps completed so far (all epochs) */
  steps: number;
  /** mean loss and metrics over this epoch's steps in this process (a resumed epoch: since the resume) */
  meanLoss: number;
  meanMetrics: Record<string, number>;
}

export interface CheckpointOptions {
  /** default `<out>/checkpoints` */
  dir?: string;
  /** save every N optimizer steps (default: only at epoch ends and at the end) */
  everySteps?: number;
  /** default true */
  atEpochEnd?: boolean;
  /** save when fit returns (default true) */
  atEnd?: boolean;
  /** keep only this many newest checkpoints */
  keep?: number;
  /** extra weight files per checkpoint (e.g. the encoder in PyTorch layout) */
  exports?: () => Record<string, TensorMapLike> | Promise<Record<string, TensorMapLike>>;
  /** JSON to store with each checkpoint (given back on resume) */
  extra?: () => Record<string, unknown>;
  /** further RNG states to store (the run's seed is always stored) */
  rngStates?: () => Record<string, unknown>;
}

export interface FitOptions<B> {
  variables: VariableSource;
  optimizer: AdamW;
  scheduler?: LrScheduler;
  data: DataSource<B>;
  step: StepFn<B>;
  /** epochs 0 … epochs−1 (the reference's max_epochs: 51 runs 52 epochs: pass 52 for that) */
  epochs: number;
  /** stop after this many optimizer steps in total */
  maxSteps?: number;
  /** micro-batches per optimizer step (default 1); an epoch's leftover micro-batches make a final, smaller step */
  accumulate?: number;
  /** global gradient-norm clipping (torch clip_grad_norm_); a number is maxNorm with the L2 norm */
  clipGradNorm?: number | ClipOptions;
  /** the one seed of the run (default 0); a resumed run keeps its checkpoint's seed */
  seed?: number | string;
  /** output folder: `metrics.jsonl` and `checkpoints/` */
  out?: string;
  /** default `<out>/metrics.jsonl` when `out` is set; false: none */
  metricsFile?: string | false;
  /** false: no checkpoints (default: on when `out` or `checkpoint.dir` is set) */
  checkpoint?: CheckpointOptions | false;
  /** 'latest' (default when checkpoints are on): the newest complete checkpoint if any; a path; a loaded state; false: start fresh */
  resume?: 'latest' | string | LoadedTrainingState | false;
  /** progress bar on a TTY, plain lines when piped (default true) */
  progress?: boolean | Omit<ProgressOptions, 'total' | 'start'>;
  /** images in a batch (default: length of an array, of `samples`, or dim 0 of a tensor / `image` tensor; else 1) */
  imagesPerBatch?: (batch: B) => number;
  /** loss NaN/Inf: 'throw' (default; parameters untouched) or 'skip' the optimizer step */
  onNonFiniteLoss?: 'throw' | 'skip';
  onStep?: (info: StepInfo) => void | Promise<void>;
  onEpochEnd?: (info: EpochInfo) => void | Promise<void>;
  onCheckpoint?: (dir: string, step: number) => void | Promise<void>;
  /** after a checkpoint was restored, before the first step */
  onResume?: (restored: { path: string; step: number; epoch: number; rngStates: Record<string, unknown>; extra: Record<string, unknown> }) => void | Promise<void>;
  /** message lines (resume, checkpoints); default: through the progress display, or stderr */
  log?: (line: string) => void;
  /** stop gracefully (after the current step, with a checkpoint) when aborted */
  signal?: AbortSignal;
}

export interface FitResult {
  /** optimizer steps completed in total */
  steps: number;
  /** the epoch the run stopped in (== epochs when all ran) */
  epoch: number;
  reason: 'done' | 'maxSteps' | 'aborted';
  resumedFrom: string | null;
  lastCheckpoint: string | null;
}

function defaultImages(batch: unknown): number {
  if (Array.isArray(batch)) return batch.length;
  if (batch instanceof tf.Tensor) return batch.shape[0] ?? 1;
  if (batch && typeof batch === 'object') {
    const o = batch as { samples?: unknown; image?: unknown; images?: unknown };
    if (Array.isArray(o.samples)) return o.samples.length;
    for (const t of [o.image, o.images]) if (t instanceof tf.Tensor) return t.shape[0] ?? 1;
  }
  return 1;
}

function isResumable<B>(d: DataSource<B>): d is ResumableSource<B> {
  return !!d && typeof d === 'object' && !Array.isArray(d) && typeof (d as ResumableSource<B>).epoch === 'function';
}

async function* batchesOf<B>(data: DataSource<B>, epoch: number, start: number): AsyncGenerator<B> {
  if (Array.isArray(data)) {
    for (let i = start; i < data.length; i++) yield data[i] as B;
    return;
  }
  if (isResumable(data)) {
    yield* data.epoch(epoch, start) as AsyncIterable<B>;
    return;
  }
  if (typeof data === 'function') {
    let i = 0;
    for await (const b of (data as (e: number) => Iterable<B> | AsyncIterable<B>)(epoch)) if (i++ >= start) yield b;
    return;
  }
  throw new G2DError('fit: data must be an array, a function of the epoch, or an object with epoch(epoch, startBatch)');
}

function batchesPerEpoch<B>(data: DataSource<B>): number | undefined {
  if (Array.isArray(data)) return data.length;
  if (isResumable(data) && typeof data.length === 'number' && Number.isFinite(data.length)) return data.length;
  return undefined;
}

const MiB = 1024 * 1024;
/** fields of a metrics.jsonl line that the loop writes itself */
const RESERVED_METRICS = new Set(['step', 'epoch', 'lr', 'loss', 'gradNorm', 'imagesPerSec', 'numTensors', 'rssMiB']);

export class Trainer<B> {
  readonly opts: FitOptions<B>;
  readonly variables: NamedVariables;
  runRng: RunRng;
  /** optimizer steps completed */
  step = 0;
  epoch = 0;
  private stopRequested = false;
  private progress?: Progress;
  private log: (line: string) => void;

  constructor(opts: FitOptions<B>) {
    if (!opts || typeof opts.step !== 'function') throw new G2DError('fit: `step` (the step closure) is required');
    if (!opts.optimizer) throw new G2DError('fit: `optimizer` is required');
    if (!Number.isInteger(opts.epochs) || opts.epochs < 0) throw new G2DError(`fit: epochs must be an integer >= 0, got ${opts.epochs}`);
    if (opts.maxSteps !== undefined && !(Number.isInteger(opts.maxSteps) && opts.maxSteps >= 0)) {
      throw new G2DError(`fit: maxSteps must be an integer >= 0, got ${opts.maxSteps}`);
    }
    const acc = opts.accumulate ?? 1;
    if (!Number.isInteger(acc) || acc < 1) throw new G2DError(`fit: accumulate must be an integer >= 1, got ${acc}`);
    const ck = opts.checkpoint;
    if (ck && ck.everySteps !== undefined && !(Number.isInteger(ck.everySteps) && ck.everySteps >= 1)) {
      throw new G2DError(`fit: checkpoint.everySteps must be an integer >= 1, got ${ck.everySteps}`);
    }
    this.opts = opts;
    this.variables = resolveVariables(opts.variables, 'fit variables');
    for (const [name, v] of this.variables) {
      if (!opts.optimizer.variables.has(name) || opts.optimizer.variables.get(name) !== v) {
        throw new G2DError(`fit: variable "${name}" is not one of the optimizer's variables (build the optimizer over the same map)`);
      }
    }
    this.runRng = new RunRng(opts.seed ?? 0);
    this.log = opts.log ?? ((l) => (this.progress ? this.progress.log(l) : process.stderr.write(`${l}\n`)));
  }

  /** Asks the loop to stop after the current step (a checkpoint is written when checkpoints are on). */
  stop(): void {
    this.stopRequested = true;
  }

  private checkpointDir(): string | null {
    const ck = this.opts.checkpoint;
    if (ck === false) return null;
    if (ck?.dir) return ck.dir;
    return this.opts.out ? path.join(this.opts.out, 'checkpoints') : null;
  }

  private async save(pos: LoaderPosition): Promise<string> {
    const dir = this.checkpointDir()!;
    const ck = this.opts.checkpoint || {};
    const p = await saveTrainingState(
      dir,
      {
        variables: this.variables,
        optimizer: this.opts.optimizer,
        scheduler: this.opts.scheduler,
        step: this.step,
        epoch: this.epoch,
        loaderPosition: pos,
        rngStates: { run: this.runRng.state(), ...(ck.rngStates?.() ?? {}) },
        extra: ck.extra?.() ?? {},
        exports: ck.exports ? await ck.exports() : undefined,
      },
      { keep: ck.keep },
    );
    await this.opts.onCheckpoint?.(p, this.step);
    return p;
  }

  private async resume(): Promise<{ from: string | null; pos: LoaderPosition }> {
    const r = this.opts.resume ?? (this.checkpointDir() ? 'latest' : false);
    if (r === false) return { from: null, pos: { epoch: 0, batch: 0 } };
    let loaded: LoadedTrainingState;
    if (typeof r === 'string') {
      let p: string | null = r;
      if (r === 'latest') {
        const dir = this.checkpointDir();
        if (!dir) throw new G2DError("fit: resume 'latest' needs `out` or `checkpoint.dir`");
        p = await latestCheckpoint(dir, { onSkip: (c) => this.log(`[train] ignoring incomplete checkpoint ${c.path}: ${c.reason}`) });
        if (!p) return { from: null, pos: { epoch: 0, batch: 0 } };
      }
      loaded = await loadTrainingState(p);
    } else loaded = r;
    const restored = restoreTrainingState(loaded, { variables: this.variables, optimizer: this.opts.optimizer, scheduler: this.opts.scheduler });
    this.step = restored.step;
    this.epoch = restored.epoch;
    const run = restored.rngStates.run as { seed?: number | string } | undefined;
    if (run && run.seed !== undefined) {
      const saved = RunRng.fromState(run as { seed: number | string }, loaded.path);
      if (this.opts.seed !== undefined && saved.seed !== this.opts.seed) {
        this.log(`[train] the checkpoint was written with seed ${JSON.stringify(saved.seed)}; continuing with it (seed ${JSON.stringify(this.opts.seed)} ignored)`);
      }
      this.runRng = saved;
    }
    this.log(`[train] resumed from ${loaded.path} (step ${restored.step}, epoch ${restored.epoch})`);
    await this.opts.onResume?.({ path: loaded.path, step: restored.step, epoch: restored.epoch, rngStates: restored.rngStates, extra: restored.extra });
    return { from: loaded.path, pos: restored.loaderPosition ?? { epoch: restored.epoch, batch: 0 } };
  }

  async fit(): Promise<FitResult> {
    const o = this.opts;
    const N = o.accumulate ?? 1;
    const clip: ClipOptions | undefined = o.clipGradNorm === undefined ? undefined : typeof o.clipGradNorm === 'number' ? { maxNorm: o.clipGradNorm } : o.clipGradNorm;
    const images = o.imagesPerBatch ?? defaultImages;
    const ckDir = this.checkpointDir();
    const ck = o.checkpoint || {};

    const { from, pos } = await this.resume();
    const perEpoch = batchesPerEpoch(o.data);
    let total = 0;
    if (perEpoch !== undefined) total = o.epochs * Math.ceil(perEpoch / N);
    if (o.maxSteps !== undefined) total = total ? Math.min(total, o.maxSteps) : o.maxSteps;

    const metricsFile = o.metricsFile === false ? null : (o.metricsFile ?? (o.out ? path.join(o.out, 'metrics.jsonl') : null));
    const mlog = metricsFile ? await MetricsLog.open(metricsFile, { keepBeforeStep: this.step }) : null;
    if (o.progress !== false) this.progress = new Progress({ ...(typeof o.progress === 'object' ? o.progress : {}), total, start: this.step });
    const acc = new GradientAccumulator();
    let lastCheckpoint: string | null = null;
    let savedAt = -1;
    let reason: FitResult['reason'] = 'done';
    const onAbort = () => this.stop();
    o.signal?.addEventListener('abort', onAbort);
    if (o.signal?.aborted) this.stop();

    // where the data source stands after the last completed step
    let cur: LoaderPosition = { ...pos };
    const saveAt = async (p: LoaderPosition) => {
      if (!ckDir) return;
      lastCheckpoint = await this.save(p);
      savedAt = this.step;
    };

    try {
      const limitReached = () => o.maxSteps !== undefined && this.step >= o.maxSteps;
      if (limitReached()) reason = 'maxSteps';
      for (let epoch = pos.epoch; epoch < o.epochs && reason === 'done'; epoch++) {
        this.epoch = epoch;
        let b = epoch === pos.epoch ? pos.batch : 0;
        let micro = 0;
        let t0 = performance.now();
        let nImages = 0;
        let lossSum = 0;
        let mSums: Record<string, number> = {};
        let epLoss = 0;
        let epSteps = 0;
        const epMetrics: Record<string, number> = {};

        const applyStep = async () => {
          const lr = o.scheduler ? o.scheduler.lr : o.optimizer.lr;
          const loss = lossSum / micro;
          const metrics: Record<string, number> = {};
          for (const [k, v] of Object.entries(mSums)) metrics[k] = v / micro;
          let grads = acc.take();
          let gradNorm: number | undefined;
          if (clip) ({ grads, totalNorm: gradNorm } = clipGradNorm(grads, clip));
          o.optimizer.lr = lr;
          o.optimizer.step(grads);
          o.scheduler?.step();
          const index = this.step;
          this.step += 1;
          const stepSec = (performance.now() - t0) / 1000;
          const info: StepInfo = {
            step: index,
            epoch,
            batchesDone: b,
            lr,
            loss,
            metrics,
            gradNorm,
            images: nImages,
            imagesPerSec: nImages / Math.max(stepSec, 1e-9),
            stepSec,
            numTensors: tf.memory().numTensors,
            rssMiB: process.memoryUsage().rss / MiB,
          };
          const rec: MetricsRecord = { step: index, epoch, lr, loss, ...metrics };
          if (gradNorm !== undefined) rec.gradNorm = gradNorm;
          Object.assign(rec, { imagesPerSec: round3(info.imagesPerSec), numTensors: info.numTensors, rssMiB: round3(info.rssMiB) });
          mlog?.write(rec);
          this.progress?.update({ step: this.step, epoch, loss, terms: metrics, lr, imagesPerSec: info.imagesPerSec });
          epLoss += loss;
          epSteps += 1;
          for (const [k, v] of Object.entries(metrics)) epMetrics[k] = (epMetrics[k] ?? 0) + v;
          await o.onStep?.(info);
          micro = 0;
          lossSum = 0;
          mSums = {};
          nImages = 0;
          cur = { epoch, batch: b };
        };

        // a step's time runs from the end of the previous one (its hooks and checkpoint excluded),
        // so imagesPerSec includes waiting for the data
        for await (const batch of batchesOf(o.data, epoch, b)) {
          const ctx: StepContext = {
            step: this.step,
            epoch,
            batchIndex: b,
            microStep: micro,
            rng: this.runRng.for('step', this.step, micro),
            runRng: this.runRng,
          };
          let metrics: Record<string, number> | undefined;
          const trainable = o.optimizer.trainable();
          const { value, grads } = computeGradients(trainable, () => {
            const out = o.step(batch, ctx);
            if (!out || !(out.loss instanceof tf.Tensor)) throw new G2DError('fit: the step closure must return { loss: tf.Scalar, metrics? }');
            if (out.loss.rank !== 0) throw new G2DError(`fit: the loss must be a scalar, got shape [${out.loss.shape.join(', ')}]`);
            metrics = out.metrics;
            return out.loss;
          });
          const lossValue = (await value.data())[0]!;
          value.dispose();
          b += 1;
          nImages += images(batch);
          if (!Number.isFinite(lossValue)) {
            const where = `step ${this.step}, epoch ${epoch}, batch ${b - 1}`;
            if ((o.onNonFiniteLoss ?? 'throw') === 'throw') {
              for (const g of grads.values()) g.dispose();
              throw new G2DError(`the loss is ${lossValue} at ${where} (parameters not updated)`);
            }
            this.log(`[train] loss ${lossValue} at ${where}: optimizer step skipped`);
            for (const g of grads.values()) g.dispose();
            acc.dispose();
            t0 = performance.now();
            micro = 0;
            lossSum = 0;
            mSums = {};
            nImages = 0;
            continue;
          }
          acc.add(grads);
          lossSum += lossValue;
          for (const [k, v] of Object.entries(metrics ?? {})) {
            if (typeof v !== 'number') throw new G2DError(`fit: metric "${k}" must be a number, got ${typeof v}`);
            if (RESERVED_METRICS.has(k)) throw new G2DError(`fit: metric name "${k}" is reserved (${[...RESERVED_METRICS].join(', ')})`);
            mSums[k] = (mSums[k] ?? 0) + v;
          }
          micro += 1;
          if (micro < N) continue;
          await applyStep();
          if (ckDir && ck.everySteps && this.step % ck.everySteps === 0) await saveAt(cur);
          t0 = performance.now();
          if (limitReached()) reason = 'maxSteps';
          else if (this.stopRequested) reason = 'aborted';
          if (reason !== 'done') break;
        }
        if (reason !== 'done') {
          acc.dispose();
          break;
        }
        if (micro > 0) {
          await applyStep();
          if (ckDir && ck.everySteps && this.step % ck.everySteps === 0) await saveAt(cur);
        }
        this.epoch = epoch + 1;
        cur = { epoch: epoch + 1, batch: 0 };
        const meanMetrics: Record<string, number> = {};
        for (const [k, v] of Object.entries(epMetrics)) meanMetrics[k] = v / Math.max(1, epSteps);
        await o.onEpochEnd?.({ epoch, steps: this.step, meanLoss: epSteps ? epLoss / epSteps : NaN, meanMetrics });
        if (ckDir && (ck.atEpochEnd ?? true)) await saveAt(cur);
        if (limitReached()) reason = 'maxSteps';
        else if (this.stopRequested) reason = 'aborted';
      }
      if (ckDir && (ck.atEnd ?? true) && savedAt !== this.step && this.step > 0) {
        await saveAt(cur);
      }
    } finally {
      acc.dispose();
      o.signal?.removeEventListener('abort', onAbort);
      this.progress?.done();
      this.progress = undefined;
      mlog?.close();
    }
    return { steps: this.step, epoch: this.epoch, reason, resumedFrom: from, lastCheckpoint };
  }

}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}

/** Runs a training loop (see `Trainer`). */
export function fit<B>(opts: FitOptions<B>): Promise<FitResult> {
  return new Trainer(opts).fit();
}
