/**
 * Named model configs (open_clip's `model_configs/`): one JSON file per preset in
 * `packages/model/configs/`, bundled into the build. `listModels()`, `getModelConfig(name)`;
 * an unknown name is an error that lists the valid ones.
 */
import { G2DError } from '@g2d-ts/core';
import { resolveConfig, type G2DConfig } from './config';
import resnet50 from '../configs/g2d-resnet50.json';
import resnet18Tiny from '../configs/g2d-resnet18-tiny.json';

const PRESETS: Record<string, unknown> = {
  'g2d-resnet50': resnet50,
  'g2d-resnet18-tiny': resnet18Tiny,
};

/** Names of the built-in model presets, sorted. */
export function listModels(): string[] {
  return Object.keys(PRESETS).sort();
}

/** The raw (unresolved) preset object, for merging overrides into. */
export function presetConfig(name: string): Record<string, unknown> {
  const p = PRESETS[name];
  if (!p) throw new G2DError(`unknown model "${name}"; valid names: ${listModels().join(', ')}`);
  return structuredClone(p) as Record<string, unknown>;
}

/** A preset's validated config, recipe resolved. */
export function getModelConfig(name: string): G2DConfig {
  return resolveConfig(presetConfig(name), `preset ${name}`);
}
