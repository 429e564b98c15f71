#!/usr/bin/env node
/**
 * g2d-eval-classification: linear-probe (default) and fine-tuned classification of a G2D
 * encoder, with the shared evaluation conventions of @g2d-ts/eval (flags, splits, caches,
 * results files), plus `aggregate` for grids.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { loadConfig, runBin, UsageError, type CliSpec } from '@g2d-ts/core';
import { COMMON_OPTIONS, evalAppSpec } from '@g2d-ts/eval';
import { ClassificationConfigSchema, defaultsFor, PROTOCOLS, type Protocol } from './config';
import { runClassification } from './run';

function pickProtocol(flag: unknown, overrides: [string, unknown][], configFile?: string): Protocol {
  let p: unknown = flag;
  if (p === undefined) p = [...overrides].reverse().find(([k]) => k === 'protocol')?.[1];
  if (p === undefined && configFile && fs.existsSync(configFile)) p = (loadConfig(configFile, z.record(z.unknown())) as Record<string, unknown>).protocol;
  if (p === undefined) return 'linear';
  if (typeof p !== 'string' || !(PROTOCOLS as readonly string[]).includes(p)) throw new UsageError(`option --protocol must be one of ${PROTOCOLS.join(', ')}, got "${String(p)}"`);
  return p as Protocol;
}

export const spec: CliSpec = evalAppSpec({
  name: 'g2d-eval-classification',
  packageName: '@g2d-ts/app-eval-classification',
  dir: __dirname,
  summary: 'linear-probe and fine-tuned classification of a G2D encoder',
  schema: ClassificationConfigSchema,
  run: {
    summary: 'train and test one protocol on one dataset, fraction and seed',
    usage: '[--protocol linear|finetune] [--dataset ADAPTER[:DIR]] [--encoder PRESET|PATH] [--fraction F] [--seed N] [--out DIR] [options]',
    options: {
      protocol: { type: 'string', value: 'linear|finetune', description: 'linear: frozen encoder + linear layer on cached features (default);\nfinetune: the whole encoder + linear layer' },
      ...COMMON_OPTIONS,
    },
    details:
      'Writes <out>/results.json (metrics.auc.perClass, metrics.auc.mean, ...), results.md, predictions.csv,\n' +
      'roc.svg, auc-per-class.svg, training-loss.svg, training-auc.svg, training.json.\n' +
      'Protocol defaults (the reference protocols): linear 50 epochs, lr 5e-4, batch 8, AdamW wd 1e-6;\n' +
      'finetune 50 epochs, lr 1e-4, batch 64. Early stopping on the validation mean AUC (train.patience).\n' +
      'Config keys: train.{epochs,batchSize,lr,headLr,weightDecay,patience,minDelta,dropout,maxMinutes}, features,\n' +
      'data.{splitSeed,ratios,classes,synthetic.count,...}, cache.{dir,features,images}; set them with --set key=value.',
    defaults: (flags, args) => {
      const protocol = pickProtocol(args.values.protocol, flags.overrides, flags.config);
      if (args.values.protocol !== undefined) flags.overrides.push(['protocol', protocol]);
      return defaultsFor(protocol);
    },
  },
  gridTitle: 'Classification grid',
  execute: runClassification,
  report: (r, _cfg, ctx) => {
    const m = r.metrics;
    ctx.out(`${r.encoder.note}\n`);
    ctx.out(`test AUC per class (${m.n} images):\n`);
    for (const c of m.classes) ctx.out(`  ${c.padEnd(24)} ${m.auc.perClass[c] === null ? '   —  (one class only in the test split)' : m.auc.perClass[c]!.toFixed(4)}  (positives ${m.positives[c]})\n`);
    ctx.out(`  ${'mean'.padEnd(24)} ${m.auc.mean === null ? '—' : m.auc.mean.toFixed(4)}\n`);
    if (m.accuracy.top1 !== undefined) ctx.out(`  top-1 accuracy           ${m.accuracy.top1.toFixed(4)}\n`);
    ctx.out(`${r.training.epochsRun} epochs (${r.training.stoppedBy}), ${r.seconds.toFixed(1)} s (${r.cpuSeconds.toFixed(1)} s CPU); results in ${path.relative(ctx.cwd, r.out) || '.'}/\n`);
  },
});

if (require.main === module) runBin(spec);
