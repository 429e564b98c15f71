/**
 * A small deterministic training run on `fit` (a 2-layer MLP with RNG-driven dropout, a
 * shuffled resumable data source, AdamW + warm restarts, accumulation and clipping), used
 * in-process by trainer.test.ts and as a child process (fixtures/toy-run.ts) by the SIGKILL test.
 */
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Rng, writeSafetensors } from '@g2d-ts/core';
import { AdamW, CosineAnnealingWarmRestarts, type FitOptions, type FitResult, type ResumableSource, fit, tensorToRaw } from '../src';

export interface ToyBatch {
  x: Float32Array;
  y: Float32Array;
  n: number;
}

export const D_IN = 8;
export const D_HID = 16;
export const D_OUT = 4;

/** 4-sample batches, a seeded shuffle per epoch, startable at any batch. */
export class ToyData implements ResumableSource<ToyBatch> {
  readonly length: number;
  constructor(
    readonly seed: string,
    readonly items = 26,
    readonly batchSize = 4,
  ) {
    this.length = Math.ceil(items / batchSize);
  }
  private item(i: number): { x: number[]; y: number[] } {
    const r = new Rng(`${this.seed}/item/${i}`);
    const x = Array.from({ length: D_IN }, () => r.normal());
    const y = Array.from({ length: D_OUT }, (_, k) => Math.tanh(x[k]! - 0.5 * x[k + 4]!) + 0.1 * r.normal());
    return { x, y };
  }
  *epoch(epoch: number, startBatch: number): Iterable<ToyBatch> {
    const order = new Rng(`${this.seed}/order/${epoch}`).shuffle(Array.from({ length: this.items }, (_, i) => i));
    for (let b = startBatch; b < this.length; b++) {
      const idx = order.slice(b * this.batchSize, (b + 1) * this.batchSize);
      const x = new Float32Array(idx.length * D_IN);
      const y = new Float32Array(idx.length * D_OUT);
      idx.forEach((i, k) => {
        const it = this.item(i);
        x.set(it.x, k * D_IN);
        y.set(it.y, k * D_OUT);
      });
      yield { x, y, n: idx.length };
    }
  }
}

export function toyModel(seed: string): Map<string, tf.Variable> {
  const r = new Rng(`${seed}/init`);
  const init = (shape: number[], scale: number) => tf.tensor(Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => r.normal(0, scale)), shape);
  const v = (t: tf.Tensor, trainable = true) => {
    const out = tf.variable(t, trainable);
    t.dispose();
    return out;
  };
  return new Map([
    ['fc1.weight', v(init([D_IN, D_HID], 0.4))],
    ['fc1.bias', v(tf.zeros([D_HID]))],
    ['fc2.weight', v(init([D_HID, D_OUT], 0.3))],
    ['fc2.bias', v(tf.zeros([D_OUT]))],
    ['frozen.scale', v(tf.fill([D_OUT], 1.5), false)],
  ]);
}

export interface ToyRunOptions {
  out: string;
  seed?: string;
  epochs?: number;
  accumulate?: number;
  everySteps?: number;
  maxSteps?: number;
  resume?: FitOptions<ToyBatch>['resume'];
  /** busy-wait per step (ms), so a parent process can kill at a chosen step */
  stepDelayMs?: number;
  onStep?: FitOptions<ToyBatch>['onStep'];
  progress?: FitOptions<ToyBatch>['progress'];
  log?: (line: string) => void;
}

/** Runs the toy training into `out`; writes `<out>/final/model.safetensors` (atomically) at the end. */
export async function runToy(o: ToyRunOptions): Promise<{ result: FitResult; vars: Map<string, tf.Variable> }> {
  const seed = o.seed ?? 'toy';
  const vars = toyModel(seed);
  const optimizer = new AdamW(vars, { lr: 3e-2, weightDecay: 1e-2 });
  const scheduler = new CosineAnnealingWarmRestarts({ baseLr: 3e-2, T0: 5, TMult: 2, etaMin: 1e-4 });
  const data = new ToyData(seed);
  const result = await fit<ToyBatch>({
    variables: vars,
    optimizer,
    scheduler,
    data,
    epochs: o.epochs ?? 4,
    accumulate: o.accumulate ?? 2,
    clipGradNorm: 1.0,
    imagesPerBatch: (b) => b.n,
    seed,
    out: o.out,
    maxSteps: o.maxSteps,
    checkpoint: { everySteps: o.everySteps ?? 2, keep: 3 },
    resume: o.resume,
    progress: o.progress ?? false,
    log: o.log,
    onStep: async (info) => {
      if (o.stepDelayMs) {
        const until = Date.now() + o.stepDelayMs;
        while (Date.now() < until) {
          /* busy wait: the step takes this long */
        }
      }
      await o.onStep?.(info);
    },
    step: (batch, ctx) => {
      const x = tf.tensor2d(batch.x, [batch.n, D_IN]);
      const y = tf.tensor2d(batch.y, [batch.n, D_OUT]);
      const h = tf.tanh(tf.add(tf.matMul(x, vars.get('fc1.weight')! as tf.Tensor2D), vars.get('fc1.bias')!));
      // dropout 0.25 drawn from the run's counter-based RNG: the same mask on a resumed run
      const keep = tf.cast(tf.greaterEqual(tf.randomUniform(h.shape, 0, 1, 'float32', ctx.rng.tfSeed()), 0.25), 'float32');
      const hd = tf.div(tf.mul(h, keep), 0.75);
      const pred = tf.mul(tf.add(tf.matMul(hd as tf.Tensor2D, vars.get('fc2.weight')! as tf.Tensor2D), vars.get('fc2.bias')!), vars.get('frozen.scale')!);
      const mse = tf.mean(tf.square(tf.sub(pred, y))) as tf.Scalar;
      return { loss: mse, metrics: { mse: mse.dataSync()[0]!, batch: ctx.batchIndex } };
    },
  });
  const raw = new Map();
  for (const [k, v] of vars) raw.set(k, await tensorToRaw(v, k));
  await writeSafetensors(path.join(o.out, 'final', 'model.safetensors'), raw);
  optimizer.dispose();
  return { result, vars };
}
