#!/usr/bin/env node
/**
 * g2d-eval-grounding: zero-shot grounding with a G2D checkpoint: prompt-to-patch similarity maps
 * against boxes or masks (pointing game, IoU, Dice) and heat-map overlays.
 *
 *   g2d-eval-grounding [run] --dataset nih-cxr14:<dir> [--test ...] [--encoder PRESET|PATH] [--out DIR] [--set k=v]
 *   g2d-eval-grounding demo [--out DIR]        the synthetic default
 */
import * as path from 'node:path';
import { runBin, type CliContext, type CliSpec } from '@g2d-ts/core';
import { evalAppSpec } from '@g2d-ts/eval';
import { GroundConfigSchema, type GroundConfig } from './config';
import { runGrounding, type GroundRunResult } from './run';

export const DEMO_DEFAULTS = { dataset: 'synthetic', data: { synthetic: { count: 120 } }, output: { overlays: 8 } };

const DETAILS = `Datasets (--dataset / --test ADAPTER:DIR): nih-cxr14 (expert boxes by finding), rsna-pneumonia (boxes),
siim-acr (pneumothorax masks), synthetic (default; exact finding masks). Prompts: the positive prompts of the
dataset's set in @g2d-ts/heads' zero-shot prompt file (--set grounding.prompts=FILE, grounding.promptSet=NAME).
Every image is evaluated by default (--set grounding.split=test: the held-out split only). The predicted region
is the min-max normalised map at or above grounding.threshold (0.5).
Outputs in --out: results.json, results.md, per_case.csv, overlays/, overlays.png, overlays.html, pointing.svg.`;

/** The summary on stdout. */
function report(r: GroundRunResult, _cfg: GroundConfig, ctx: CliContext): void {
  const pct = (v: number) => (Number.isFinite(v) ? (100 * v).toFixed(1) : '—');
  ctx.out(`${r.cases} cases: pointing ${pct(r.overall.pointing)} (chance ${pct(r.overall.chance)}), IoU ${pct(r.overall.iou)}, Dice ${pct(r.overall.dice)}\n`);
  for (const [f, m] of Object.entries(r.perFinding)) ctx.out(`  ${f.padEnd(20)} n=${String(m.n).padStart(4)}  pointing ${pct(m.pointing)} (chance ${pct(m.chance)})  IoU ${pct(m.iou)}  Dice ${pct(m.dice)}\n`);
  ctx.out(`results: ${path.join(r.out, 'results.json')}\n  ${path.join(r.out, 'results.md')}\n  ${path.join(r.out, 'overlays.png')}\n`);
}

const APP = { name: 'g2d-eval-grounding', packageName: '@g2d-ts/app-eval-grounding', dir: __dirname, summary: 'zero-shot grounding: prompt-to-patch similarity maps vs boxes / masks', gridTitle: 'Grounding grid' };
export const spec: CliSpec = evalAppSpec({ ...APP, schema: GroundConfigSchema, execute: runGrounding, report, run: { summary: 'evaluate grounding on one dataset', details: DETAILS }, demo: { summary: 'the synthetic default (a minute on 2 CPU cores)', defaults: DEMO_DEFAULTS } });

if (require.main === module) runBin(spec);
