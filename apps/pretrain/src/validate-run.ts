/**
 * `g2d-pretrain validate`: the validation of a finished (or running) run, again, on its newest
 * weights: final/ if present, else latest/ (the last epoch's). The data come from the run's
 * config, so `--set data.maxVal=...` / `data.maxMaskVal=...` re-scores on more held-out pairs.
 * Writes <out>/validation.json (atomically); nothing the run wrote is changed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { G2DError } from '@g2d-ts/core';
import { createModelWithWeights } from '@g2d-ts/model';
import { writeFileAtomic } from '@g2d-ts/train';
import type { G2DModel } from '@g2d-ts/model';
import type { PretrainConfig } from './config';
import { openPairs, type PairItem } from './data';
import { validate, type ValidationResult, type ValidationSummary } from './evaluate';

/**
 * Validation as a run's config asks for it: retrieval on the first `data.maxVal` held-out pairs,
 * attention and pseudo masks on the first max(`data.maxVal`, `data.maxMaskVal`) images.
 */
export function validateAsConfigured(model: G2DModel, val: PairItem[], cfg: PretrainConfig): Promise<ValidationResult> {
  return validate(model, val, { seed: cfg.train.seed, retrieval: cfg.data.maxVal, masks: Math.max(cfg.data.maxVal, cfg.data.maxMaskVal) });
}

export interface ValidateRunResult {
  summary: ValidationSummary;
  /** the weights folder validated */
  weights: string;
  /** the validation.json written */
  file: string;
}

export async function validateRun(outDir: string, cfg: PretrainConfig, opts: { log?: (l: string) => void } = {}): Promise<ValidateRunResult> {
  const out = path.resolve(outDir);
  const log = opts.log ?? (() => undefined);
  const weights = ['final', 'latest'].map((d) => path.join(out, d)).find((d) => fs.existsSync(path.join(d, 'model.safetensors')));
  if (!weights) throw new G2DError('no weights to validate yet (neither final/model.safetensors nor latest/model.safetensors): the first epoch has not finished', { source: out });
  const { model } = await createModelWithWeights(undefined, weights);
  try {
    const pairs = openPairs(cfg, model.config.imageSize);
    if (pairs.val.length < 2) throw new G2DError(`the run has ${pairs.val.length} validation pair(s); validation needs at least 2 (data.valFraction)`, { source: out });
    const { summary } = await validateAsConfigured(model, pairs.val, cfg);
    log(`validate: ${weights}; retrieval on ${summary.n} pairs, attention and pseudo masks on ${summary.attention?.n ?? 0} images`);
    const file = path.join(out, 'validation.json');
    await writeFileAtomic(file, `${JSON.stringify({ weights: path.relative(out, weights), data: cfg.data, ...summary }, null, 2)}\n`);
    return { summary, weights, file };
  } finally {
    model.dispose();
  }
}
