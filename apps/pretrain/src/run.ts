/**
 * One pretraining run: model from the config, pairs, the shared training loop (@g2d-ts/train's
 * `fit`: AdamW, per-iteration scheduler, crash-safe checkpoints, exact resume, metrics.jsonl,
 * progress), validation every epoch, the reference's export kinds every `exportEvery` epochs,
 * and the final model + report.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { G2DError } from '@g2d-ts/core';
import { buildConfig, createModel, createModelWithWeights, exportReferenceCheckpoints, mergeConfig, saveG2DModel, type G2DModel } from '@g2d-ts/model';
import { AdamW, createScheduler, fit, writeFileAtomic, type SchedulerConfig } from '@g2d-ts/train';
import type { PretrainConfig } from './config';
import { openPairs, PairBatches, type PairBatch, type PairSet } from './data';
import type { ValidationResult } from './evaluate';
import { validateAsConfigured } from './validate-run';
import { writeReport } from './report';

export interface RunOptions {
  /** 'latest' (default: the newest complete checkpoint in <out>/checkpoints), a checkpoint path, or false (--fresh) */
  resume?: 'latest' | string | false;
  log?: (line: string) => void;
  /** the config file, recorded in run.json */
  configSource?: string;
  /** skip the report at the end (tests) */
  report?: boolean;
}

export interface RunResult {
  out: string;
  steps: number;
  epochs: number;
  final: string;
  validation: ValidationResult | null;
  resumedFrom: string | null;
}

function schedulerConfig(cfg: PretrainConfig, totalSteps: number): SchedulerConfig {
  const s = cfg.train.scheduler;
  switch (s.kind) {
    case 'cosine-warm-restarts':
      return { kind: s.kind, T0: s.T0, TMult: s.Tmult, etaMin: s.etaMin };
    case 'warmup-cosine':
      return { kind: s.kind, warmupSteps: s.warmupSteps, totalSteps: Math.max(s.totalSteps ?? totalSteps, s.warmupSteps), etaMin: s.minLr };
    case 'constant':
      return { kind: 'constant' };
  }
}

/** The model config a run uses: the preset, the recipe and the overrides. */
export function runModelConfig(cfg: PretrainConfig) {
  const overrides = mergeConfig(cfg.modelOverrides, cfg.recipe ? { recipe: cfg.recipe } : {});
  return buildConfig(cfg.model, overrides);
}

async function buildModel(cfg: PretrainConfig, log: (l: string) => void): Promise<G2DModel> {
  const mc = runModelConfig(cfg);
  if (!cfg.init) return createModel(mc as never, { seed: cfg.train.seed });
  const { model, report } = await createModelWithWeights(mc as never, cfg.init, { seed: cfg.train.seed });
  log(`initialised from ${report.source} (${report.kind}: ${report.parts.join(', ')}; ${report.loaded} tensors${report.ignored.length ? `, unused: ${report.ignored.length}` : ''})`);
  return model;
}

/** BatchNorm `num_batches_tracked` counters: not variables, so they travel in the checkpoint's extra JSON. */
function counters(model: G2DModel): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [n, e] of model.namedEntries()) if (e.kind === 'counter') out[n] = e.get();
  return out;
}

function restoreCounters(model: G2DModel, saved: unknown): void {
  if (!saved || typeof saved !== 'object') return;
  for (const [n, e] of model.namedEntries()) {
    const v = (saved as Record<string, unknown>)[n];
    if (e.kind === 'counter' && typeof v === 'number') e.set(v);
  }
}

export async function runPretraining(cfg: PretrainConfig, outDir: string, opts: RunOptions = {}): Promise<RunResult> {
  const out = path.resolve(outDir);
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  if (fs.existsSync(out) && !fs.statSync(out).isDirectory()) throw new G2DError('--out exists and is not a folder', { source: out });
  fs.mkdirSync(out, { recursive: true });
  if (opts.resume === false) {
    // --fresh: start over; earlier checkpoints and logs of this folder are removed
    for (const f of ['checkpoints', 'metrics.jsonl', 'val.jsonl', 'final', 'latest', 'exports', 'report.html']) fs.rmSync(path.join(out, f), { recursive: true, force: true });
  }
  const model = (await buildModel(cfg, log)).setMemoryMode(cfg.train.memory);
  const mc = model.config;
  const pairs: PairSet = openPairs(cfg, mc.imageSize);
  log(`data: ${pairs.name}: ${pairs.train.length} training pairs, ${pairs.val.length} validation pairs (split by patient)`);
  const tokenizer = model.tokenizer;
  const batches = new PairBatches(pairs.train, {
    batchSize: cfg.train.batchSize,
    seed: `${cfg.train.seed}/data`,
    size: mc.imageSize,
    mean: mc.preprocessing.mean,
    std: mc.preprocessing.std,
    augment: cfg.data.augment,
    tokenizer,
    maxLength: mc.text.maxLength,
    padding: cfg.data.padding,
  });
  const stepsPerEpoch = Math.ceil(batches.length / cfg.train.gradAccumulation);
  const totalSteps = Math.min(cfg.train.maxSteps ?? Infinity, stepsPerEpoch * cfg.train.epochs);
  const trainable = model.numParams({ trainable: true });
  log(
    `model: ${mc.name} (${mc.recipe}; ${(model.numParams() / 1e6).toFixed(1)} M parameters, ${(trainable / 1e6).toFixed(1)} M trainable); ` +
      `${cfg.train.epochs} epochs x ${stepsPerEpoch} steps = ${totalSteps} steps of batch ${cfg.train.batchSize}; VLA only for the first ${mc.loss.vlaOnlySteps} steps`,
  );
  await writeFileAtomic(
    path.join(out, 'run.json'),
    `${JSON.stringify({ config: cfg, configSource: opts.configSource ?? null, model: mc, data: { name: pairs.name, train: pairs.train.length, val: pairs.val.length, notes: pairs.notes }, totalSteps, backend: tf.getBackend() }, null, 2)}\n`,
  );

  const variables = model.namedVariables();
  const optimizer = new AdamW(variables, { lr: cfg.train.lr, weightDecay: cfg.train.weightDecay, betas: cfg.train.betas, eps: cfg.train.eps, lrScale: cfg.train.lrScale });
  const scheduler = createScheduler(cfg.train.lr, schedulerConfig(cfg, totalSteps), 'train.scheduler');
  const S = mc.imageSize;
  let lastVal: ValidationResult | null = null;

  const result = await fit<PairBatch>({
    variables,
    optimizer,
    scheduler,
    data: batches,
    epochs: cfg.train.epochs,
    maxSteps: cfg.train.maxSteps,
    accumulate: cfg.train.gradAccumulation,
    clipGradNorm: cfg.train.clipGradNorm ?? undefined,
    seed: cfg.train.seed,
    out,
    checkpoint: { everySteps: cfg.train.checkpointEvery, keep: cfg.train.keepCheckpoints, extra: () => ({ counters: counters(model) }) },
    resume: opts.resume === undefined ? 'latest' : opts.resume,
    imagesPerBatch: (b) => b.batch,
    log,
    onResume: (r) => {
      restoreCounters(model, r.extra.counters);
      log(`resumed from ${r.path} (step ${r.step}, epoch ${r.epoch})`);
    },
    step: (b, ctx) => {
      const images = tf.tensor4d(b.images, [b.batch, S, S, 3]);
      const inputIds = tf.tensor2d(b.inputIds, [b.batch, b.length], 'int32');
      const attentionMask = tf.tensor2d(b.attentionMask, [b.batch, b.length], 'int32');
      const outp = model.forward({ images, inputIds, attentionMask }, { training: true, dropoutSeed: ctx.rng.int(2 ** 31 - 1) });
      const t0 = performance.now();
      const t = model.loss(outp, { step: ctx.step });
      const lossMs = performance.now() - t0;
      return { loss: t.loss, metrics: { vla: t.vla, ps: t.ps ?? Number.NaN, acc1: t.acc1, acc5: t.acc5, psActive: t.psActive ? 1 : 0, lossMs } };
    },
    onEpochEnd: async (info) => {
      // the newest weights for `report` at any time, and the reference's export kinds every N epochs
      await saveG2DModel(model, path.join(out, 'latest'), { run: { epoch: info.epoch, steps: info.steps } });
      if ((info.epoch + 1) % cfg.train.exportEvery === 0 || info.epoch === 0) {
        await exportReferenceCheckpoints(model, path.join(out, 'exports'), { name: `${cfg.name}_${info.epoch}` });
      }
      if (pairs.val.length >= 2) {
        lastVal = await validateAsConfigured(model, pairs.val, cfg);
        const line = { epoch: info.epoch, step: info.steps, ...lastVal.summary };
        fs.appendFileSync(path.join(out, 'val.jsonl'), `${JSON.stringify(line)}\n`);
        log(
          `epoch ${info.epoch}: loss ${info.meanLoss.toFixed(4)} | val image->report top-1 ${(100 * lastVal.summary.i2tTop1).toFixed(1)}% ` +
            `(chance ${(100 * lastVal.summary.chance).toFixed(1)}%)` +
            (lastVal.summary.findingsMatchTop1 !== undefined ? `, same findings ${(100 * lastVal.summary.findingsMatchTop1).toFixed(1)}% (chance ${(100 * lastVal.summary.findingsMatchChance!).toFixed(1)}%)` : ''),
        );
      }
    },
  });

  const final = path.join(out, 'final');
  await saveG2DModel(model, final, { run: { steps: result.steps, epoch: result.epoch } });
  await exportReferenceCheckpoints(model, final, { name: cfg.name });
  // the final run's validation (also for a run resumed at its very end)
  if (!lastVal && pairs.val.length >= 2) {
    lastVal = await validateAsConfigured(model, pairs.val, cfg);
    fs.appendFileSync(path.join(out, 'val.jsonl'), `${JSON.stringify({ epoch: result.epoch, step: result.steps, ...lastVal.summary })}\n`);
  }
  if (opts.report ?? true) await writeReport(out, { model, pairs, log });
  optimizer.dispose();
  model.dispose();
  return { out, steps: result.steps, epochs: result.epoch, final, validation: lastVal, resumedFrom: result.resumedFrom };
}
