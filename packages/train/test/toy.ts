/** The toy problem of tools/train/gen_optim_goldens.py, and its golden file. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { type SchedulerConfig, type LrScheduler, createScheduler } from '../src';

export interface GoldenStep {
  lr: number;
  micro: { x: number[]; y: number[] }[];
  grads: Record<'W' | 'b', number[]>;
  total_norm?: number;
  params: Record<'W' | 'b', number[]>;
}
export interface GoldenCase {
  name: string;
  seed: number;
  lr: number;
  betas: [number, number];
  eps: number;
  weight_decay: number;
  accumulate?: number;
  clip?: { max_norm: number; norm_type: number | 'inf' };
  scheduler?: { kind: string; T_0?: number; T_mult?: number; eta_min?: number; warmup_steps?: number; total_steps?: number };
  shapes: Record<'W' | 'b' | 'F' | 'U', number[]>;
  init: Record<'W' | 'b' | 'F' | 'U', number[]>;
  steps: GoldenStep[];
}
export interface Golden {
  meta: Record<string, string>;
  cases: GoldenCase[];
  lr_sequences: { base_lr: number; scheduler: NonNullable<GoldenCase['scheduler']>; lrs: number[] }[];
}

export const GOLDEN_FILE = path.join(__dirname, 'fixtures', 'optim-goldens.json');
export function loadGolden(): Golden {
  return JSON.parse(fs.readFileSync(GOLDEN_FILE, 'utf8')) as Golden;
}

/** The golden's scheduler spec (torch/transformers names) as our scheduler. */
export function schedulerFor(baseLr: number, spec: GoldenCase['scheduler']): LrScheduler | undefined {
  if (!spec) return undefined;
  let config: SchedulerConfig;
  if (spec.kind === 'cosine-warm-restarts') config = { kind: 'cosine-warm-restarts', T0: spec.T_0!, TMult: spec.T_mult, etaMin: spec.eta_min };
  else if (spec.kind === 'warmup-cosine') config = { kind: 'warmup-cosine', warmupSteps: spec.warmup_steps!, totalSteps: spec.total_steps! };
  else if (spec.kind === 'warmup-constant') config = { kind: 'constant', warmupSteps: spec.warmup_steps };
  else throw new Error(`unknown golden scheduler ${spec.kind}`);
  return createScheduler(baseLr, config);
}

export interface Toy {
  vars: Map<string, tf.Variable>;
  dispose(): void;
}

/** W, b trainable; F frozen (trainable false); U trainable but unused by the loss. */
export function toyVariables(c: GoldenCase): Toy {
  const vars = new Map<string, tf.Variable>();
  for (const k of ['W', 'b', 'F', 'U'] as const) {
    vars.set(k, tf.variable(tf.tensor(c.init[k], c.shapes[k], 'float32'), k !== 'F'));
  }
  return { vars, dispose: () => vars.forEach((v) => v.dispose()) };
}

/** mean((tanh(x @ W + b) @ F − y)²) */
export function toyLoss(vars: Map<string, tf.Variable>, x: tf.Tensor2D, y: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const h = tf.tanh(tf.add(tf.matMul(x, vars.get('W')! as tf.Tensor2D), vars.get('b')!));
    return tf.mean(tf.square(tf.sub(tf.matMul(h as tf.Tensor2D, vars.get('F')! as tf.Tensor2D), y))) as tf.Scalar;
  });
}

export function microTensors(c: GoldenCase, m: { x: number[]; y: number[] }): { x: tf.Tensor2D; y: tf.Tensor2D } {
  const dIn = c.shapes.W[0]!;
  const dOut = c.shapes.F[1]!;
  return { x: tf.tensor2d(m.x, [m.x.length / dIn, dIn]), y: tf.tensor2d(m.y, [m.y.length / dOut, dOut]) };
}
