#!/usr/bin/env node
/**
 * g2d-eval-detection: a YOLOv3-style head on the frozen C3–C5 features of a G2D encoder.
 *
 *   g2d-eval-detection [run] --dataset nih-cxr14:<dir> [--test ...] [--encoder PRESET|PATH]
 *                      [--fraction 0.01|0.1|1] [--seed N] [--out DIR] [--set k=v]
 *   g2d-eval-detection demo [--out DIR]        the synthetic default, a few minutes on 2 CPU cores
 *   g2d-eval-detection aggregate --grid apps/eval-detection/eval-grid.json
 */
import * as path from 'node:path';
import { runBin, type CliContext, type CliSpec } from '@g2d-ts/core';
import { evalAppSpec } from '@g2d-ts/eval';
import { DetConfigSchema, type DetConfig } from './config';
import { runDetection, type DetRunResult } from './run';

export const DEMO_DEFAULTS = {
  dataset: 'synthetic',
  data: { synthetic: { count: 240 } },
  train: { epochs: 10 },
  output: { overlays: 8 },
};

const DETAILS = `Datasets (--dataset / --test ADAPTER:DIR): nih-cxr14 (expert boxes, bbox.csv; 8 classes), rsna-pneumonia
(one class), object-cxr (one class), synthetic (default; the finding boxes). Images without any box annotation are
left out; an empty box list is a negative image. --set data.boxClasses=single merges the classes.
The encoder is always frozen; its C3–C5 features are cached (--cache-dir). Defaults: AdamW lr 5e-4, 30 epochs,
batch 16, k-means anchors, GIoU box loss, NMS 0.5, mAP over IoU 0.4–0.75, best validation mAP kept.
Outputs in --out: results.json, results.md, predictions.csv (image, class, score, x1, y1, x2, y2 in the stored
image's pixels), overlays/, overlays.png, overlays.html, training.svg, metrics.jsonl.`;

/** The summary on stdout. */
function report(r: DetRunResult, cfg: DetConfig, ctx: CliContext): void {
  ctx.out(`mAP (IoU ${cfg.det.iouThresholds[0]}–${cfg.det.iouThresholds.at(-1)}) ${(100 * r.map).toFixed(2)} on ${r.testImages} test images\n`);
  for (const [c, v] of Object.entries(r.perClass)) ctx.out(`  ${c.padEnd(20)} ${v === null ? '—' : (100 * v).toFixed(2)}\n`);
  ctx.out(`results: ${path.join(r.out, 'results.json')}\n  ${path.join(r.out, 'results.md')}\n  ${path.join(r.out, 'predictions.csv')}\n`);
}

const APP = { name: 'g2d-eval-detection', packageName: '@g2d-ts/app-eval-detection', dir: __dirname, summary: 'detection evaluation: a YOLOv3-style head on frozen C3–C5 features', gridTitle: 'Detection grid' };
export const spec: CliSpec = evalAppSpec({ ...APP, schema: DetConfigSchema, execute: runDetection, report, run: { summary: 'train the head and evaluate on one dataset × fraction × seed', details: DETAILS }, demo: { summary: 'the synthetic default with a short schedule (minutes on 2 CPU cores)', defaults: DEMO_DEFAULTS } });

if (require.main === module) runBin(spec);
