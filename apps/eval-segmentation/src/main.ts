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
import { runBin, type CliContext, type CliSpec } from '@g2d-ts/core';
import { evalAppSpec } from '@g2d-ts/eval';
import { SegConfigSchema, type SegConfig } from './config';
import { runSegmentation, type SegRunResult } from './run';

/** What `demo` changes from the defaults: a small synthetic set and a short schedule. */
export const DEMO_DEFAULTS = {
  dataset: 'synthetic',
  data: { synthetic: { count: 240 }, target: 'lung-findings' },
  train: { epochs: 6 },
  output: { overlays: 8 },
};

const DETAILS = `Datasets (--dataset / --test ADAPTER:DIR): covid-chestxray (lung masks; --set data.masks=lungvae for the
model-made set; images without a mask of the selected set are left out), siim-acr (RLE masks), rsna-pneumonia
(boxes -> masks), synthetic (default; --set data.target=lung-findings|all-findings|<finding>|lungs|heart).
The encoder is frozen when it has pretrained weights and trained along when random (--set seg.freezeEncoder=false|true).
Defaults: AdamW lr 2e-4, BCE + Dice, 12 epochs, batch 8, cosine decay, light augmentation, best validation Dice kept
(--set train.maxMinutes=M caps the training time; the weights at the cap are validated too).
Outputs in --out: results.json, results.md, per_image.csv (image, dice), predictions/<image>.png (0/255 at the stored
image's size), overlays/, overlays.png, training.svg, dice_hist.svg, metrics.jsonl.`;

/** The summary on stdout. */
function report(r: SegRunResult, _cfg: SegConfig, ctx: CliContext): void {
  ctx.out(`mean Dice ${r.meanDice.toFixed(4)} (IoU ${r.meanIou.toFixed(4)}) on ${r.testImages} test images\n`);
  ctx.out(`results: ${path.join(r.out, 'results.json')}\n  ${path.join(r.out, 'results.md')}\n  ${path.join(r.out, 'per_image.csv')}\n  ${path.join(r.out, 'predictions')}/\n`);
}

const APP = { name: 'g2d-eval-segmentation', packageName: '@g2d-ts/app-eval-segmentation', dir: __dirname, summary: 'segmentation evaluation: U-Net on the (frozen) encoder, optionally with G2D\'s pretrained decoder', gridTitle: 'Segmentation grid' };
export const spec: CliSpec = evalAppSpec({ ...APP, schema: SegConfigSchema, execute: runSegmentation, report, run: { summary: 'fine-tune and evaluate on one dataset × fraction × seed', details: DETAILS }, demo: { summary: 'the synthetic default with a short schedule (minutes on 2 CPU cores)', defaults: DEMO_DEFAULTS } });

if (require.main === module) runBin(spec);
