#!/usr/bin/env node
/**
 * g2d-pretrain: G2D pretraining.
 *   g2d-pretrain train --config <yaml> --out <dir> [--set key=value ...] [--resume <ckpt> | --fresh]
 *   g2d-pretrain demo [--out runs/pretrain-demo] [--set key=value ...] [--fresh]
 *   g2d-pretrain report --out <dir>
 *   g2d-pretrain validate --out <dir> [--set data.maxMaskVal=N ...]
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { G2DError, initBackend, packageVersion, runBin, stringOption, UsageError, type CliContext, type CliSpec, type CliValues } from '@g2d-ts/core';
import { configOfRun, loadPretrainConfig } from './config';
import { readMetrics } from '@g2d-ts/train';
import { describeLearning, learningSummary } from './learning';
import { runPretraining } from './run';
import { validateRun } from './validate-run';
import { writeReport } from './report';
import type { StoredPseudoMaskScore, ValidationSummary } from './evaluate';

const CONFIGS = path.resolve(__dirname, '..', 'configs');

function sets(values: CliValues): string[] {
  const v = values.set;
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
}

function summary(ctx: CliContext, res: Awaited<ReturnType<typeof runPretraining>>): void {
  ctx.out(`done: ${res.steps} steps${res.resumedFrom ? ` (resumed from ${res.resumedFrom})` : ''}\n`);
  printValidation(ctx, res.validation?.summary);
  for (const l of describeLearning(learningSummary(readMetrics(path.join(res.out, 'metrics.jsonl')) as Record<string, unknown>[]))) ctx.out(`${l}\n`);
  ctx.out(`outputs: ${res.out}\n  final model: ${res.final}\n  report: ${path.join(res.out, 'report.html')}\n  metrics: ${path.join(res.out, 'metrics.jsonl')}\n`);
}

function printValidation(ctx: CliContext, v: ValidationSummary | undefined): void {
  if (v) {
    ctx.out(`validation (${v.n} held-out pairs): image->report top-1 ${(100 * v.i2tTop1).toFixed(1)}% (chance ${(100 * v.chance).toFixed(1)}%), top-5 ${(100 * v.i2tTop5).toFixed(1)}%`);
    if (v.findingsMatchTop1 !== undefined) ctx.out(`; top report with the same findings ${(100 * v.findingsMatchTop1).toFixed(1)}% (chance ${(100 * v.findingsMatchChance!).toFixed(1)}%)`);
    ctx.out('\n');
    if (v.attention) {
      ctx.out(`  attention over the ${v.attention.cells} cells (mean of heads): peak ${v.attention.peak.toFixed(2)}x uniform, entropy ${v.attention.entropy.toFixed(3)} of uniform's\n`);
      if (v.attention.mean) ctx.out(`  where it sits on average (x uniform, rows top to bottom): ${v.attention.mean.map((r) => r.map((x) => x.toFixed(2)).join(' ')).join(' | ')}\n`);
    }
    if (v.pseudoMaskIoU) {
      const e = Object.entries(v.pseudoMaskIoU);
      const line = (label: string, r: StoredPseudoMaskScore, what: string) =>
        ctx.out(
          `    ${label.padEnd(15)} ${r.pseudo.toFixed(4)} vs random ${r.random.toFixed(4)}` +
            (r.ciRandom ? ` [${r.ciRandom[0].toFixed(4)}, ${r.ciRandom[1].toFixed(4)}]` : '') +
            (typeof r.other === 'number' ? `, other images' masks ${r.other.toFixed(4)}` : '') +
            ` (${r.n} images${what})\n`,
        );
      ctx.out(`  pseudo-mask IoU with each finding's true mask (${v.attention?.n ?? v.n} held-out images; own - random with its 95 % bootstrap interval):\n`);
      for (const [k, r] of e) line(k, r, '');
      if (v.pseudoMaskAny) line('any finding', v.pseudoMaskAny, ", the union of each image's finding masks");
      const other = e.filter(([, r]) => typeof r.other === 'number' && r.pseudo > r.other).length;
      const clearly = e.filter(([, r]) => r.ciRandom && r.ciRandom[0] > 0).length;
      ctx.out(
        `  pseudo masks beat a random mask of the same area for ${e.filter(([, r]) => r.pseudo > r.random).length} of ${e.length} findings` +
          (e.every(([, r]) => r.ciRandom) ? ` (${clearly} with the interval above 0)` : '') +
          `${e.every(([, r]) => typeof r.other === 'number') ? `, other images' masks for ${other} of ${e.length}` : ''}\n`,
      );
    }
  }
}

async function train(configFile: string | undefined, out: string, values: CliValues, ctx: CliContext, demo: boolean): Promise<number> {
  if (values.resume !== undefined && values.fresh) throw new UsageError('--resume and --fresh exclude each other');
  const { config, source } = loadPretrainConfig(configFile, sets(values));
  await initBackend({ log: (l) => ctx.err(`${l}\n`) });
  ctx.out(`${demo ? 'G2D pretraining demo (synthetic data, tiny model)' : `G2D pretraining "${config.name}"`}: outputs in ${out}\n`);
  const resume = values.fresh ? false : (stringOption(values, 'resume') ? ctx.resolvePath(stringOption(values, 'resume')!) : 'latest');
  const res = await runPretraining(config, out, { resume, configSource: source, log: (l) => ctx.err(`${l}\n`) });
  summary(ctx, res);
  return 0;
}

const common = {
  set: { type: 'string', multiple: true, value: 'KEY=VALUE', description: 'override a config key (dotted path; YAML value), e.g. train.epochs=2' },
  resume: { type: 'string', value: 'CKPT', description: 'resume from this checkpoint folder (default: the newest complete one in <out>/checkpoints)' },
  fresh: { type: 'boolean', description: 'start over: remove the checkpoints, logs and outputs already in --out' },
} as const;

export const spec: CliSpec = {
  name: 'g2d-pretrain',
  version: packageVersion(__dirname, '@g2d-ts/app-pretrain'),
  summary: 'G2D pretraining: vision-language alignment + pseudo segmentation, crash-safe and resumable',
  commands: {
    train: {
      summary: 'train from a config (ours, or the reference PRETRAIN/config.yaml)',
      options: { config: { type: 'string', value: 'YAML', description: 'run config (apps/pretrain/configs/*.yaml, or the reference config.yaml)' }, out: { type: 'string', value: 'DIR', description: 'output folder (required)' }, ...common },
      details: `Configs shipped: ${fs.existsSync(CONFIGS) ? fs.readdirSync(CONFIGS).join(', ') : '(none found)'} in ${CONFIGS}.\nRerunning the same command resumes from the newest complete checkpoint.`,
      run: async (a, ctx) => {
        const out = stringOption(a.values, 'out');
        if (!out) throw new UsageError('train needs --out <dir>');
        const cfg = stringOption(a.values, 'config');
        return train(cfg ? ctx.resolvePath(cfg) : undefined, ctx.resolvePath(out), a.values, ctx, false);
      },
    },
    demo: {
      summary: 'the demo: the synthetic default dataset with the tiny preset (minutes on 2 CPU cores)',
      options: { out: { type: 'string', value: 'DIR', description: 'output folder (default runs/pretrain-demo)' }, ...common },
      run: async (a, ctx) => {
        const out = ctx.resolvePath(stringOption(a.values, 'out') ?? path.join('runs', 'pretrain-demo'));
        return train(path.join(CONFIGS, 'demo.yaml'), out, a.values, ctx, true);
      },
    },
    report: {
      summary: 'rebuild <out>/report.html of a run (also while it trains)',
      options: { out: { type: 'string', value: 'DIR', description: 'the run folder (required)' } },
      run: async (a, ctx) => {
        const outOpt = stringOption(a.values, 'out');
        if (!outOpt) throw new UsageError('report needs --out <dir>');
        const out = ctx.resolvePath(outOpt);
        if (!fs.existsSync(path.join(out, 'run.json'))) throw new G2DError('not a pretraining run folder (no run.json)', { source: out });
        await initBackend({ log: false });
        const file = await writeReport(out, { log: (l) => ctx.err(`${l}\n`) });
        ctx.out(`${file}\n`);
        return 0;
      },
    },
    validate: {
      summary: "re-validate a run's newest weights (final/, else latest/) on its held-out pairs, e.g. on more images",
      options: {
        out: { type: 'string', value: 'DIR', description: 'the run folder (required)' },
        set: { type: 'string', multiple: true, value: 'KEY=VALUE', description: 'override a key of the run config, e.g. data.maxMaskVal=1024 (the images whose pseudo masks are scored)' },
      },
      details: 'Prints retrieval, the attention spread and (synthetic data) the pseudo masks against each finding\'s true mask, and writes <out>/validation.json. Training outputs are not touched.',
      run: async (a, ctx) => {
        const outOpt = stringOption(a.values, 'out');
        if (!outOpt) throw new UsageError('validate needs --out <dir>');
        const out = ctx.resolvePath(outOpt);
        const config = configOfRun(out, sets(a.values));
        await initBackend({ log: false });
        const r = await validateRun(out, config, { log: (l) => ctx.err(`${l}\n`) });
        printValidation(ctx, r.summary);
        ctx.out(`weights: ${r.weights}\nwritten: ${r.file}\n`);
        return 0;
      },
    },
  },
};

if (require.main === module) runBin(spec);
