#!/usr/bin/env node
/**
 * g2d-eval-zeroshot: zero-shot classification from a G2D checkpoint (positive vs negative
 * prompt similarity), with the shared evaluation conventions of @g2d-ts/eval.
 */
import * as path from 'node:path';
import { runBin, type CliSpec } from '@g2d-ts/core';
import { COMMON_OPTIONS, evalAppSpec } from '@g2d-ts/eval';
import { ZeroShotConfigSchema } from './config';
import { runZeroShot } from './run';

export const spec: CliSpec = evalAppSpec({
  name: 'g2d-eval-zeroshot',
  packageName: '@g2d-ts/app-eval-zeroshot',
  dir: __dirname,
  summary: 'zero-shot classification of a G2D checkpoint from positive/negative prompt pairs',
  schema: ZeroShotConfigSchema,
  run: {
    summary: 'score every test image against each class\'s prompts; AUC, F1 and ACC (MedKLIP protocol)',
    usage: '[--dataset ADAPTER[:DIR]] [--encoder PRESET|PATH] [--prompts FILE] [--out DIR] [options]',
    options: {
      ...COMMON_OPTIONS,
      prompts: { type: 'string', value: 'FILE', description: 'prompt file (JSON/YAML, layout of @g2d-ts/heads prompts/zero-shot.json); default: the shipped one' },
      'prompt-set': { type: 'string', value: 'NAME', description: 'prompt set in the file (default: the dataset adapter name: synthetic, nih-cxr14, chexpert, rsna-pneumonia, siim-acr)' },
    },
    details:
      'Writes <out>/results.json (metrics.auc.perClass, metrics.auc.mean, metrics.bestF1 = F1 and ACC at the best-F1\n' +
      'threshold per class), results.md, predictions.csv, auc-per-class.svg (sorted bars), roc.svg.\n' +
      '--fraction does not apply (nothing is trained); the test split is the one the trained protocols use.',
    defaults: (flags, args, ctx) => {
      if (typeof args.values.prompts === 'string') flags.overrides.push(['prompts', ctx.resolvePath(args.values.prompts)]);
      if (typeof args.values['prompt-set'] === 'string') flags.overrides.push(['promptSet', args.values['prompt-set']]);
      if (args.values.fraction !== undefined) ctx.err('[eval] note: --fraction does not apply to zero-shot (nothing is trained); ignored\n');
      return {};
    },
  },
  gridTitle: 'Zero-shot grid',
  execute: runZeroShot,
  report: (r, _cfg, ctx) => {
    const m = r.metrics;
    ctx.out(`${r.encoder.note}\n`);
    ctx.out(`zero-shot per class (${m.n} images): AUC / F1 / ACC at the best-F1 threshold\n`);
    for (const c of m.classes) {
      const a = m.auc.perClass[c];
      const f = m.bestF1.perClass[c];
      ctx.out(`  ${c.padEnd(24)} ${a === null ? '  —   ' : a.toFixed(4)}  ${f ? f.f1.toFixed(4) : '  —   '}  ${f ? f.accuracy.toFixed(4) : '  —   '}  (positives ${m.positives[c]})\n`);
    }
    ctx.out(`  ${'mean'.padEnd(24)} ${m.auc.mean === null ? '—' : m.auc.mean.toFixed(4)}  ${m.bestF1.meanF1 === null ? '—' : m.bestF1.meanF1.toFixed(4)}  ${m.bestF1.meanAccuracy === null ? '—' : m.bestF1.meanAccuracy.toFixed(4)}\n`);
    ctx.out(`${r.seconds.toFixed(1)} s; results in ${path.relative(ctx.cwd, r.out) || '.'}/\n`);
  },
});

if (require.main === module) runBin(spec);
