/**
 * Saving and loading whole models: a directory with `config.json` + `model.safetensors`
 * (PyTorch layout and names, so PyTorch/smp can read the weights too), Hugging Face hub ids
 * resolved through the standard cache layout by `@g2d-ts/core`'s `resolvePretrained`
 * (~/.cache/huggingface/hub/models--org--name/snapshots/<rev>/), and bare checkpoint files whose architecture is inferred from the keys
 * (torchvision/timm ResNets, smp.Unet, the G2D reference checkpoints).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  G2DError,
  type FileSpec,
  type PretrainedOptions,
  type RawTensor,
  type ResolvedFiles,
  cachedSnapshot,
  readCheckpoint,
  resolvePretrained as resolveHubFiles,
  writeSafetensors,
} from '@g2d-ts/core';
import { AttentionPool2d, type AttentionPool2dOptions } from './attention-pool';
import { RESNET_CONFIGS, ResNet, type ResNetConfig } from './backbones/resnet';
import { backboneFromConfig, backbones } from './backbones/registry';
import type { Backbone } from './backbones/types';
import { VisionTransformer, type ViTConfig } from './backbones/vit';
import { G2DVisionModel, type G2DVisionOptions } from './g2d';
import { type Module, withoutRandomInit } from './nn/module';
import { ProjectionHead2d, type ProjectionHeadOptions } from './projection';
import { Unet } from './unet';
import { type LoadWeightsReport, loadStateDictInto } from './weights';

export type VisionModel = Backbone | Unet | G2DVisionModel | AttentionPool2d | ProjectionHead2d;

const FORMAT_VERSION = 1;
const WEIGHT_FILES = ['model.safetensors', 'pytorch_model.bin', 'model.pth', 'model.pt'];

/** The JSON written next to the weights. */
export interface SavedConfig {
  library_name: 'g2d-ts';
  g2d_format: number;
  g2d_class: 'ResNet' | 'VisionTransformer' | 'Unet' | 'G2DVisionModel' | 'AttentionPool2d' | 'ProjectionHead2d';
  /** Registry name for backbones. */
  name?: string;
  config: Record<string, unknown>;
}

function classOf(model: Module): SavedConfig['g2d_class'] {
  if (model instanceof ResNet) return 'ResNet';
  if (model instanceof VisionTransformer) return 'VisionTransformer';
  if (model instanceof Unet) return 'Unet';
  if (model instanceof G2DVisionModel) return 'G2DVisionModel';
  if (model instanceof AttentionPool2d) return 'AttentionPool2d';
  if (model instanceof ProjectionHead2d) return 'ProjectionHead2d';
  throw new G2DError(`saveModel: ${model.constructor.name} is not a savable vision model`);
}

/** Writes `dir/config.json` and `dir/model.safetensors` (both atomically). */
export async function saveModel(model: VisionModel, dir: string, metadata: Record<string, string> = {}): Promise<void> {
  const cls = classOf(model);
  const cfg: SavedConfig = {
    library_name: 'g2d-ts',
    g2d_format: FORMAT_VERSION,
    g2d_class: cls,
    ...('name' in model && typeof model.name === 'string' ? { name: model.name } : {}),
    config: (model as { config: Record<string, unknown> }).config as Record<string, unknown>,
  };
  await fs.promises.mkdir(dir, { recursive: true });
  await writeSafetensors(path.join(dir, 'model.safetensors'), model.stateDict(), { format: 'pt', g2d_class: cls, ...metadata });
  const tmp = path.join(dir, `config.json.tmp-${process.pid}`);
  await fs.promises.writeFile(tmp, `${JSON.stringify(cfg, null, 2)}\n`);
  await fs.promises.rename(tmp, path.join(dir, 'config.json'));
}

export interface FromPretrainedOptions extends PretrainedOptions {
  /** Strict name/shape checking (default true). */
  strict?: boolean;
  /** Called with the import report. */
  onReport?: (r: LoadWeightsReport) => void;
}

/** What a vision model directory / hub repo needs: an optional config.json and one weights file. */
const MODEL_FILES: FileSpec[] = [
  { anyOf: ['config.json'], optional: true },
  // a directory/snapshot without the standard names: its only checkpoint file
  { anyOf: WEIGHT_FILES, pattern: /\.(safetensors|pth|pt|bin)$/ },
];

const isFile = (p: string) => fs.existsSync(p) && fs.statSync(p).isFile();

/** @deprecated use `cachedSnapshot(repoId, { revision, cacheDir })` from `@g2d-ts/core`. */
export function findCachedSnapshot(repoId: string, revision = 'main', cacheDir?: string): string | null {
  return cachedSnapshot(repoId, { revision, cacheDir });
}

/**
 * Resolves a local checkpoint file, a model directory or a hub id to a local file or directory
 * holding the weights. The directory/cache/download/offline part is `@g2d-ts/core`'s
 * `resolvePretrained` (which returns the individual files; prefer it in new code).
 */
export async function resolvePretrained(pathOrHubId: string, opts: FromPretrainedOptions = {}): Promise<string> {
  if (isFile(pathOrHubId)) return path.resolve(pathOrHubId);
  return path.resolve((await resolveModelFiles(pathOrHubId, opts)).dir);
}

function resolveModelFiles(pathOrHubId: string, opts: FromPretrainedOptions): Promise<ResolvedFiles> {
  const { revision, cacheDir, offline, accessToken, hubUrl, fetch } = opts;
  return resolveHubFiles(pathOrHubId, MODEL_FILES, { revision, cacheDir, offline, accessToken, hubUrl, fetch });
}

const TIMM_ARCH: Record<string, string> = {
  resnet18: 'resnet18',
  resnet34: 'resnet34',
  resnet50: 'resnet50',
  resnet101: 'resnet101',
  vit_base_patch16_224: 'vit_b_16',
};

/** Builds the model described by a config.json (ours, smp hub, or timm hub). */
export function modelFromConfig(cfg: Record<string, unknown>, source = 'config.json'): VisionModel {
  if (cfg.library_name === 'g2d-ts') {
    const c = (cfg.config ?? {}) as Record<string, unknown>;
    const name = String(cfg.name ?? '');
    switch (cfg.g2d_class) {
      case 'ResNet':
        return new ResNet(name || 'resnet', c as unknown as ResNetConfig);
      case 'VisionTransformer':
        return new VisionTransformer(name || 'vit', c as unknown as ViTConfig);
      case 'Unet':
        return new Unet({
          encoder: String(c.encoder),
          encoderConfig: c.encoderConfig as Record<string, unknown>,
          decoderChannels: c.decoderChannels as number[],
          decoderUseBatchnorm: c.decoderUseBatchnorm as boolean,
          classes: c.classes as number,
        });
      case 'G2DVisionModel':
        return new G2DVisionModel(c as G2DVisionOptions);
      case 'AttentionPool2d':
        return new AttentionPool2d(c as unknown as AttentionPool2dOptions);
      case 'ProjectionHead2d':
        return new ProjectionHead2d(c as unknown as ProjectionHeadOptions);
      default:
        throw new G2DError(`unknown g2d_class "${String(cfg.g2d_class)}"`, { source });
    }
  }
  if (cfg._model_class !== undefined) {
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
  if (typeof cfg.architecture === 'string') {
    const arch = TIMM_ARCH[cfg.architecture];
    if (!arch) throw new G2DError(`timm architecture "${cfg.architecture}" is not supported; supported: ${Object.keys(TIMM_ARCH).join(', ')}`, { source });
    return backbones.create(arch, { inChannels: (cfg.in_chans as number) ?? 3 });
  }
  throw new G2DError('config.json describes no known model (expected g2d-ts, smp or timm format)', { source });
}

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
  throw new G2DError(
    `cannot infer the architecture from the checkpoint keys (${keys.slice(0, 6).join(', ')}…); save a config.json beside it or build the model and call loadWeights`,
    { source },
  );
}

function decoderChannels(sd: Map<string, RawTensor>, p: string): number[] {
  const out: number[] = [];
  for (let i = 0; sd.has(`${p}blocks.${i}.conv1.0.weight`); i++) out.push(sd.get(`${p}blocks.${i}.conv1.0.weight`)!.shape[0]!);
  return out;
}

/**
 * Builds a model and loads its weights from a local directory (config.json + weights), a
 * local checkpoint file (architecture inferred from its keys), or a Hugging Face hub id
 * (cache first; downloads with @huggingface/hub when online).
 */
export async function fromPretrained(pathOrHubId: string, opts: FromPretrainedOptions = {}): Promise<VisionModel> {
  let weights: string;
  let model: VisionModel;
  let sd: Map<string, RawTensor>;
  if (isFile(pathOrHubId)) {
    // a bare checkpoint file: the architecture comes from its keys
    weights = path.resolve(pathOrHubId);
    sd = await readCheckpoint(weights);
    model = withoutRandomInit(() => inferModelFromStateDict(sd, weights));
  } else {
    const r = await resolveModelFiles(pathOrHubId, opts);
    weights = r.files.get(WEIGHT_FILES[0]!)!;
    sd = await readCheckpoint(weights);
    const cfgPath = r.files.get('config.json');
    if (cfgPath) {
      let cfg: Record<string, unknown>;
      try {
        cfg = JSON.parse(fs.readFileSync(cfgPath, 'utf8')) as Record<string, unknown>;
      } catch (e) {
        throw new G2DError(`invalid JSON: ${(e as Error).message}`, { source: cfgPath });
      }
      model = withoutRandomInit(() => modelFromConfig(cfg, cfgPath));
    } else model = withoutRandomInit(() => inferModelFromStateDict(sd, weights));
  }
  try {
    const report = loadStateDictInto(model, sd, weights, { strict: opts.strict ?? true });
    opts.onReport?.(report);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}

export { backboneFromConfig };
/** Re-exported from `@g2d-ts/core` (accepts an explicit directory or the options). */
export { hfCacheDir } from '@g2d-ts/core';
