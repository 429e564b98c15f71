/**
 * `createModel(nameOrConfig, {seed, weights})` (open_clip's factory): a preset name, a config
 * object (merged over `base` when it names one) or a saved model's folder.
 */
import { G2DError } from '@g2d-ts/core';
import { mergeConfig, resolveConfig, type G2DConfig, type G2DConfigInput } from './config';
import { G2DModel } from './g2d-model';
import { presetConfig } from './presets';
import { loadG2DWeights, readWeights, type WeightsReport } from './weights';

export interface CreateModelOptions {
  /** Seed of the random initial weights (default 0). */
  seed?: number;
  /** Config overrides merged over the preset (e.g. `{ text: { hiddenDropoutProb: 0 } }`). */
  overrides?: Record<string, unknown>;
}

/** A config from a preset name or a config object (`{ base: 'g2d-resnet18-tiny', ...overrides }` merges over that preset). */
export function buildConfig(nameOrConfig: string | (G2DConfigInput & { base?: string }), overrides: Record<string, unknown> = {}): G2DConfig {
  let raw: Record<string, unknown>;
  if (typeof nameOrConfig === 'string') raw = presetConfig(nameOrConfig);
  else if (nameOrConfig && typeof nameOrConfig === 'object') {
    const { base, ...rest } = nameOrConfig as Record<string, unknown> & { base?: string };
    raw = base ? mergeConfig(presetConfig(base), rest) : { ...rest };
  } else throw new G2DError(`createModel: expected a preset name or a config object, got ${JSON.stringify(nameOrConfig)}`);
  return resolveConfig(mergeConfig(raw, overrides), typeof nameOrConfig === 'string' ? `preset ${nameOrConfig}` : 'model config');
}

/** A G2D model with random weights (seeded). No download. */
export function createModel(nameOrConfig: string | (G2DConfigInput & { base?: string }), opts: CreateModelOptions = {}): G2DModel {
  return new G2DModel(buildConfig(nameOrConfig, opts.overrides), { seed: opts.seed });
}

/**
 * A G2D model with weights: `weights` is any of the reference's three `.pth` kinds or our
 * saved model (safetensors file or its folder with config.json). With our saved model and no
 * `nameOrConfig`, the saved config is used. Returns the model and what was loaded.
 */
export async function createModelWithWeights(
  nameOrConfig: string | (G2DConfigInput & { base?: string }) | undefined,
  weights: string,
  opts: CreateModelOptions = {},
): Promise<{ model: G2DModel; report: WeightsReport }> {
  let cfg: G2DConfig;
  if (nameOrConfig === undefined) {
    const { config, source } = await readWeights(weights);
    if (!config) throw new G2DError('no config.json with a model config beside these weights: name a preset or pass a config', { source });
    cfg = resolveConfig(mergeConfig(config as Record<string, unknown>, opts.overrides ?? {}), source);
  } else cfg = buildConfig(nameOrConfig, opts.overrides);
  const model = new G2DModel(cfg, { seed: opts.seed });
  try {
    const report = await loadG2DWeights(model, weights);
    return { model, report };
  } catch (e) {
    model.dispose();
    throw e;
  }
}

