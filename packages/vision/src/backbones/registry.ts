import { IMAGENET_NORMALIZATION, createRegistry, type NormalizationConfig } from '@g2d-ts/core';
import { RESNET_CONFIGS, ResNet, type ResNetConfig } from './resnet';
import type { Backbone, BackboneOptions } from './types';
import { VIT_CONFIGS, VisionTransformer, type ViTConfig } from './vit';

/**
 * Backbone registry: `backbones.create('resnet50', { inChannels: 1 })`, `backbones.list()`.
 * Unknown names fail with the list of valid ones. `meta(name)` gives outChannels/reductions and
 * `pretrainedCfg` (a `NormalizationConfig`: mean/std/input size/interpolation of the weights).
 */
export const backbones = createRegistry<BackboneOptions, Backbone>('backbone');

for (const [name, cfg] of Object.entries(RESNET_CONFIGS)) {
  const exp = cfg.block === 'basic' ? 1 : 4;
  backbones.register(name, (o) => new ResNet(name, cfg, o), {
    family: 'resnet',
    outChannels: [3, 64, 64 * exp, 128 * exp, 256 * exp, 512 * exp],
    reductions: [1, 2, 4, 8, 16, 32],
    // torchvision IMAGENET1K_V1 weights (the data transforms take this as `normalization`)
    pretrainedCfg: IMAGENET_NORMALIZATION,
  });
}
for (const [name, cfg] of Object.entries(VIT_CONFIGS)) {
  backbones.register(name, (o) => new VisionTransformer(name, { ...cfg, ...pick(o, ['imageSize']) } as ViTConfig, o), {
    family: 'vit',
    outChannels: [3, cfg.hiddenDim],
    reductions: [1, cfg.patchSize],
    pretrainedCfg: { ...IMAGENET_NORMALIZATION, inputSize: [3, cfg.imageSize, cfg.imageSize] } satisfies NormalizationConfig,
  });
}

function pick(o: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

/** A backbone from a saved config ({family, name, ...}), including custom-width ResNets. */
export function backboneFromConfig(name: string, config: Record<string, unknown>, opts: BackboneOptions = {}): Backbone {
  if ('block' in config && 'layers' in config) return new ResNet(name, config as unknown as ResNetConfig, opts);
  if ('patchSize' in config && 'hiddenDim' in config) return new VisionTransformer(name, config as unknown as ViTConfig, opts);
  return backbones.create(name, opts);
}
