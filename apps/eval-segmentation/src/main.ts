#!/usr/bin/env node
/**
 * g2d-eval-segmentation: U-Net fine-tuning on a (frozen, pretrained) G2D encoder, optionally
 * with G2D's pretrained decoder transferred (`--set seg.transferDecoder=true`).
 *
 *   g2d-eval-segmentation [run] --dataset covid-chestxray:<dir> [--test covid-chestxray:<dir>]
 *                         [--encoder PRESET|PATH] [--fraction 0.01|0.1|1] [--seed N] [--out DIR] [--set k=v]
 *   g2d-eval-segmentation demo [--out DIR]          the synthetic default, a few minutes on 2 CPU cores
 *   g2d-eval-segmentation aggregate --grid apps/eval-segmentation/eval-grid.json
 */
import * as path from 'node:path';
import { initBackend, packageVersion, runBin, type CliArgs, type CliContext, type CliSpec } from '@g2d-ts/core';
import { COMMON_OPTIONS, gridAggregateCommand, parseCommonFlags, resolveEvalConfig } from '@g2d-ts/eval';
import { SegConfigSchema } from './config';
import { runSegmentation } from './run';

/** What `demo` changes from the defaults: a small synthetic set and a short schedule. */
export const DEMO_DEFAULTS = {
  dataset: 'synthetic',
  data: { synthetic: { count: 240 }, target: 'lung-findings' },
  train: { epochs: 6 },
  output: { overlays: 8 },
};

async function run(a: CliArgs, ctx: CliContext, defaults: Record<string, unknown>): Promise<number> {
  const flags = parseCommonFlags(a.values, ctx.cwd);
  const cfg = resolveEvalConfig(SegConfigSchema, defaults, flags);
  const log = (l: string) => ctx.err(`${l}\n`);
  const backend = await initBackend({ log });
  const r = await runSegmentation(cfg, { cwd: ctx.cwd, log, backend: backend.backend });
  ctx.out(`mean Dice ${r.meanDice.toFixed(4)} (IoU ${r.meanIou.toFixed(4)}) on ${r.testImages} test images\n`);
  ctx.out(`results: ${path.join(r.out, 'results.json')}\n  ${path.join(r.out, 'results.md')}\n  ${path.join(r.out, 'per_image.csv')}\n  ${path.join(r.out, 'predictions')}/\n`);
  return 0;
}

const DETAILS = `Datasets (--dataset / --test ADAPTER:DIR): covid-chestxray (lung masks; --set data.masks=lungvae for the
model-made set; images without a mask of the selected set are left out), siim-acr (RLE masks), rsna-pneumonia
(boxes -> masks), synthetic (default; --set data.target=lung-findings|all-findings|<finding>|lungs|heart).
The encoder is frozen when it has pretrained weights and trained along when random (--set seg.freezeEncoder=false|true).
Defaults: AdamW lr 2e-4, BCE + Dice, 12 epochs, batch 8, cosine decay, light augmentation, best validation Dice kept.
Outputs in --out: results.json, results.md, per_image.csv (image, dice), predictions/<image>.png (0/255 at the stored
image's size), overlays/, overlays.png, training.svg, dice_hist.svg, metrics.jsonl.`;

export const spec: CliSpec = {
  name: 'g2d-eval-segmentation',
  version: packageVersion(__dirname, '@g2d-ts/app-eval-segmentation'),
  summary: 'segmentation evaluation: U-Net on the (frozen) encoder, optionally with G2D\'s pretrained decoder',
  defaultCommand: 'run',
  commands: {
    run: {
      summary: 'fine-tune and evaluate on one dataset × fraction × seed',
      options: { ...COMMON_OPTIONS },
      details: DETAILS,
      run: (a, ctx) => run(a, ctx, {}),
    },
    demo: {
      summary: 'the synthetic default with a short schedule (minutes on 2 CPU cores)',
      options: { ...COMMON_OPTIONS },
      details: `Same as run with ${JSON.stringify(DEMO_DEFAULTS)} as defaults (flags and --set still apply).`,
      run: (a, ctx) => run(a, ctx, DEMO_DEFAULTS),
    },
    aggregate: gridAggregateCommand('Segmentation grid'),
  },
};

if (require.main === module) runBin(spec);
