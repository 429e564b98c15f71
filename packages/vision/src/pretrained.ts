/**
 * Vision models in the @g2d-ts/nn model registry: every vision model class is savable
 * (`saveModel` from @g2d-ts/nn writes config.json + model.safetensors) and loadable by name
 * (`autoFromPretrained`, or the class's static `fromPretrained`). Importing @g2d-ts/vision
 * registers them, plus readers for foreign formats: smp hub configs (`_model_class: 'Unet'`),
 * timm hub configs (`architecture`), and bare checkpoints whose architecture is inferred from
 * their keys (torchvision/timm ResNets and ViTs, smp.Unet, the G2D reference checkpoints).
 */
import { G2DError, type RawTensor } from '@g2d-ts/core';
import { registerCheckpointReader, registerConfigReader, registerModelClass } from '@g2d-ts/nn';
import { AttentionPool2d, type AttentionPool2dOptions } from './attention-pool';
import { RESNET_CONFIGS, ResNet, type ResNetConfig } from './backbones/resnet';
import { backbones } from './backbones/registry';
import type { Backbone } from './backbones/types';
import { VisionTransformer, type ViTConfig } from './backbones/vit';
import { G2DVisionModel, type G2DVisionOptions } from './g2d';
import { ProjectionHead2d, type ProjectionHeadOptions } from './projection';
import { Unet } from './unet';

export type VisionModel = Backbone | Unet | G2DVisionModel | AttentionPool2d | ProjectionHead2d;

registerModelClass('ResNet', { cls: ResNet, fromConfig: (c, saved) => new ResNet(saved.name || 'resnet', c as unknown as ResNetConfig) });
registerModelClass('VisionTransformer', {
  cls: VisionTransformer,
  fromConfig: (c, saved) => new VisionTransformer(saved.name || 'vit', c as unknown as ViTConfig),
});
registerModelClass('Unet', {
  cls: Unet,
  fromConfig: (c) =>
    new Unet({
      encoder: String(c.encoder),
      encoderConfig: c.encoderConfig as Record<string, unknown>,
      decoderChannels: c.decoderChannels as number[],
      decoderUseBatchnorm: c.decoderUseBatchnorm as boolean,
      classes: c.classes as number,
    }),
});
registerModelClass('G2DVisionModel', { cls: G2DVisionModel, fromConfig: (c) => new G2DVisionModel(c as G2DVisionOptions) });
registerModelClass('AttentionPool2d', { cls: AttentionPool2d, fromConfig: (c) => new AttentionPool2d(c as unknown as AttentionPool2dOptions) });
registerModelClass('ProjectionHead2d', { cls: ProjectionHead2d, fromConfig: (c) => new ProjectionHead2d(c as unknown as ProjectionHeadOptions) });

const TIMM_ARCH: Record<string, string> = {
  resnet18: 'resnet18',
  resnet34: 'resnet34',
  resnet50: 'resnet50',
  resnet101: 'resnet101',
  vit_base_patch16_224: 'vit_b_16',
};

/** smp hub config.json (`_model_class`), or null when it is not one. */
function readSmpConfig(cfg: Record<string, unknown>, source: string): VisionModel | null {
  if (cfg._model_class === undefined) return null;
  if (cfg._model_class !== 'Unet') throw new G2DError(`smp model class "${String(cfg._model_class)}" is not supported (only Unet)`, { source });
  const enc = String(cfg.encoder_name);
  if (!backbones.has(enc)) throw new G2DError(`smp encoder "${enc}" is not supported; supported: ${backbones.list().join(', ')}`, { source });
  if (cfg.decoder_attention_type) throw new G2DError('smp decoder_attention_type is not supported', { source });
  if (cfg.encoder_depth !== undefined && cfg.encoder_depth !== 5) throw new G2DError('only encoder_depth 5 is supported', { source });
  return new Unet({
    encoder: enc,
    encoderOptions: { inChannels: (cfg.in_channels as number) ?? 3 },
    decoderChannels: cfg.decoder_channels as number[] | undefined,
    decoderUseBatchnorm: (cfg.decoder_use_batchnorm as boolean) ?? true,
    classes: (cfg.classes as number) ?? 1,
  });
}

/** timm hub config.json (`architecture`), or null when it is not one. */
function readTimmConfig(cfg: Record<string, unknown>, source: string): VisionModel | null {
  if (typeof cfg.architecture !== 'string') return null;
  const arch = TIMM_ARCH[cfg.architecture];
  if (!arch) throw new G2DError(`timm architecture "${cfg.architecture}" is not supported; supported: ${Object.keys(TIMM_ARCH).join(', ')}`, { source });
  return backbones.create(arch, { inChannels: (cfg.in_chans as number) ?? 3 });
}

registerConfigReader('smp', readSmpConfig);
registerConfigReader('timm', readTimmConfig);

function count(keys: string[], re: RegExp): number {
  const s = new Set<string>();
  for (const k of keys) {
    const m = re.exec(k);
    if (m) s.add(m[1]!);
  }
  return s.size;
}

/**
 * Infers the architecture from checkpoint keys: G2D full/encoder-decoder/encoder checkpoints,
 * smp.Unet state dicts, torchvision/timm ResNets (depth from the block counts).
 */
export function inferModelFromStateDict(sd: Map<string, RawTensor>, source = '(state dict)'): VisionModel {
  const m = inferVisionModel(sd, source);
  if (m) return m;
  const keys = [...sd.keys()];
  throw new G2DError(
    `cannot infer the architecture from the checkpoint keys (${keys.slice(0, 6).join(', ')}…); save a config.json beside it or build the model and call loadWeights`,
    { source },
  );
}

function inferVisionModel(sd: Map<string, RawTensor>, source: string): VisionModel | null {
  const keys = [...sd.keys()];
  const find = (suffix: string) => keys.find((k) => k.endsWith(suffix));
  const resnetAt = (p: string): { name: string; cfg: ResNetConfig } => {
    const sub = keys.filter((k) => k.startsWith(p)).map((k) => k.slice(p.length));
    const layers = [1, 2, 3, 4].map((i) => count(sub, new RegExp(`^layer${i}\\.(\\d+)\\.`))) as ResNetConfig['layers'];
    const block = sub.some((k) => /^layer1\.0\.conv3\./.test(k)) ? 'bottleneck' : 'basic';
    const conv1 = sd.get(`${p}conv1.weight`);
    if (!conv1 || layers.some((n) => n === 0)) throw new G2DError(`no ResNet found under "${p}"`, { source });
    const widths = [1, 2, 3, 4].map((i) => sd.get(`${p}layer${i}.0.conv1.weight`)!.shape[0]!) as ResNetConfig['widths'];
    const cfg: ResNetConfig = { block, layers, widths, stemWidth: conv1.shape[0], inChannels: conv1.shape[1] };
    const std = Object.entries(RESNET_CONFIGS).find(
      ([, c]) => c.block === block && c.layers.join() === layers.join() && widths!.join() === '64,128,256,512' && cfg.stemWidth === 64,
    );
    return { name: std ? std[0] : 'resnet', cfg };
  };
  if (sd.has('img_model.encoder.conv1.weight') && find('attnpool.positional_embedding')) {
    const { name, cfg } = resnetAt('img_model.encoder.');
    const pe = sd.get('attnpool.positional_embedding')!;
    const side = Math.round(Math.sqrt(pe.shape[0]! - 1));
    const inW = sd.get('attnpool.mhsa.in_proj_weight')!;
    const heads = 4; // not recoverable from the weights; the reference uses 4
    return new G2DVisionModel({
      backbone: name,
      encoderConfig: name === 'resnet' ? (cfg as unknown as Record<string, unknown>) : undefined,
      inChannels: cfg.inChannels,
      imageSize: side * 32,
      projHidden: sd.get('proj_v.0.weight')!.shape[0],
      projOut: inW.shape[1],
      heads,
      classes: sd.get('img_model.segmentation_head.0.weight')!.shape[0],
      decoderChannels: decoderChannels(sd, 'img_model.decoder.'),
      pseudoConv: sd.has('pseudo_conv.weight'),
    });
  }
  const unetPrefix = ['', 'img_model.'].find((p) => sd.has(`${p}encoder.conv1.weight`) && sd.has(`${p}segmentation_head.0.weight`));
  if (unetPrefix !== undefined) {
    const { name, cfg } = resnetAt(`${unetPrefix}encoder.`);
    return new Unet({
      encoder: name,
      encoderConfig: name === 'resnet' ? (cfg as unknown as Record<string, unknown>) : undefined,
      encoderOptions: { inChannels: cfg.inChannels },
      decoderChannels: decoderChannels(sd, `${unetPrefix}decoder.`),
      decoderUseBatchnorm: sd.has(`${unetPrefix}decoder.blocks.0.conv1.1.running_mean`),
      classes: sd.get(`${unetPrefix}segmentation_head.0.weight`)!.shape[0],
    });
  }
  const conv1 = ['', 'encoder.', 'img_model.encoder.', 'backbone.'].find((p) => sd.has(`${p}conv1.weight`) && sd.has(`${p}layer1.0.conv1.weight`));
  if (conv1 !== undefined) {
    const { name, cfg } = resnetAt(conv1);
    return name === 'resnet' ? new ResNet(name, cfg) : backbones.create(name, { inChannels: cfg.inChannels });
  }
  if (sd.has('conv_proj.weight') || sd.has('patch_embed.proj.weight')) {
    const pe = sd.get('encoder.pos_embedding') ?? sd.get('pos_embed');
    const w = sd.get('conv_proj.weight') ?? sd.get('patch_embed.proj.weight')!;
    const hidden = w.shape[0]!;
    const patch = w.shape[2]!;
    const nLayers = count(keys, /(?:encoder_layer_|blocks\.)(\d+)\./);
    const mlp = (sd.get('encoder.layers.encoder_layer_0.mlp.0.weight') ?? sd.get('blocks.0.mlp.fc1.weight'))?.shape[0] ?? hidden * 4;
    const grid = pe ? Math.round(Math.sqrt(pe.shape[1]! - 1)) : 14;
    const cfg: ViTConfig = { imageSize: grid * patch, patchSize: patch, numLayers: nLayers, numHeads: Math.max(1, hidden / 64), hiddenDim: hidden, mlpDim: mlp, inChannels: w.shape[1] };
    return hidden === 768 && nLayers === 12 && patch === 16 && mlp === 3072
      ? backbones.create('vit_b_16', { inChannels: cfg.inChannels, imageSize: cfg.imageSize })
      : new VisionTransformer('vit', cfg);
  }
  return null;
}

registerCheckpointReader('vision', inferVisionModel);

function decoderChannels(sd: Map<string, RawTensor>, p: string): number[] {
  const out: number[] = [];
  for (let i = 0; sd.has(`${p}blocks.${i}.conv1.0.weight`); i++) out.push(sd.get(`${p}blocks.${i}.conv1.0.weight`)!.shape[0]!);
  return out;
}

