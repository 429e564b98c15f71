/**
 * Frozen-encoder features with the on-disk cache: each item's feature row is keyed by the
 * encoder's weights hash, the dataset identity, the transform and the feature kind, so the
 * second cell of a sweep (another fraction, another seed, another head) reads them back and
 * never runs the backbone again.
 *
 * Kinds: `avgpool` = global average of the encoder's last stage (C5; 512-d for ResNet-18,
 * 2048-d for ResNet-50: the input of MGCA/G2D's linear probe), `embedding` = the model's
 * L2-normalised image embedding (attention-pooled projection; what zero-shot compares with
 * prompt embeddings).
 */
import * as tf from '@tensorflow/tfjs';
import { G2DError } from '@g2d-ts/core';
import type { ItemRef } from '@g2d-ts/data';
import type { G2DModel } from '@g2d-ts/model';
import { Progress } from '@g2d-ts/train';
import { itemFingerprint, RowCache } from './cache';
import type { EncoderInfo } from './encoder';
import { loadPreprocessed, openImageCache, toInputTensor, transformKey, type EvalTransform } from './preprocess';

export const FEATURE_KINDS = ['avgpool', 'embedding'] as const;
export type FeatureKind = (typeof FEATURE_KINDS)[number];

/** Feature width of a kind for this model. */
export function featureDim(model: G2DModel, kind: FeatureKind): number {
  if (kind === 'embedding') return model.config.projection.out;
  const ch = model.img_model.encoder.outChannels;
  return ch[ch.length - 1]!;
}

/** Features of one normalised batch [B, S, S, 3] -> [B, D] (eval mode, no gradient). */
export function computeFeatures(model: G2DModel, x: tf.Tensor4D, kind: FeatureKind): tf.Tensor2D {
  if (kind === 'embedding') return model.encodeImage(x);
  const enc = model.img_model.encoder;
  const wasTraining = enc.training;
  enc.eval();
  try {
    const pyramid = enc.forward(x);
    try {
      return tf.mean(pyramid[pyramid.length - 1]!, [1, 2]) as tf.Tensor2D;
    } finally {
      for (const t of pyramid) if (t !== x) t.dispose();
    }
  } finally {
    enc.train(wasTraining);
  }
}

export interface ExtractOptions {
  model: G2DModel;
  encoder: Pick<EncoderInfo, 'weightsHash'>;
  items: readonly ItemRef[];
  /** dataset identity (LoadedDataset.identity) */
  dataset: string;
  transform: EvalTransform;
  kind: FeatureKind;
  batchSize?: number;
  /** cache folder for features (undefined: no feature cache) */
  cacheDir?: string;
  /** cache folder for preprocessed images (undefined: none) */
  imageCacheDir?: string;
  /** progress bar/lines on stderr (default true) */
  progress?: boolean;
  label?: string;
  log?: (line: string) => void;
}

export interface ExtractResult {
  /** one row per item, in the order of `items` */
  features: Float32Array[];
  dim: number;
  /** rows read from the cache */
  cached: number;
  /** rows computed now */
  computed: number;
  seconds: number;
  cacheFile?: string;
}

/** Features of `items` (see the module comment). */
export async function extractFeatures(opts: ExtractOptions): Promise<ExtractResult> {
  const t0 = performance.now();
  const { model, items, kind, transform } = opts;
  if (!(FEATURE_KINDS as readonly string[]).includes(kind)) throw new G2DError(`feature kind must be one of ${FEATURE_KINDS.join(', ')}, got "${kind}"`);
  if (transform.size !== model.config.imageSize) throw new G2DError(`extractFeatures: transform size ${transform.size} != model imageSize ${model.config.imageSize}`);
  const dim = featureDim(model, kind);
  const cache = opts.cacheDir
    ? RowCache.open(opts.cacheDir, 'features', { encoder: opts.encoder.weightsHash, dataset: opts.dataset, transform: transformKey(transform), kind }, dim, 'float32')
    : undefined;
  const images = opts.imageCacheDir ? openImageCache(opts.imageCacheDir, opts.dataset, transform) : undefined;
  const out: (Float32Array | undefined)[] = new Array(items.length);
  const fps = items.map(itemFingerprint);
  const todo: number[] = [];
  items.forEach((it, k) => {
    const r = cache?.get(it.id, fps[k]!) as Float32Array | undefined;
    if (r) out[k] = r;
    else todo.push(k);
  });
  const cached = items.length - todo.length;
  const bs = opts.batchSize ?? 32;
  const log = opts.log ?? (() => undefined);
  if (todo.length) {
    log(`[eval] ${opts.label ?? 'features'}: ${cached} of ${items.length} from the cache, computing ${todo.length} (${kind}, ${dim}-d)`);
    const bar = opts.progress === false ? undefined : new Progress({ total: todo.length, label: opts.label ?? 'features' });
    let last = Date.now();
    let done = 0;
    try {
      for (let s = 0; s < todo.length; s += bs) {
        const idx = todo.slice(s, s + bs);
        const grays: Uint8Array[] = [];
        for (const k of idx) {
          const it = items[k]!;
          let g = images?.get(it.id, fps[k]!) as Uint8Array | undefined;
          if (!g) {
            g = await loadPreprocessed(it, transform);
            images?.set(it.id, fps[k]!, g);
          }
          grays.push(g);
        }
        const x = toInputTensor(grays, transform);
        let f: tf.Tensor2D;
        try {
          f = computeFeatures(model, x, kind);
        } finally {
          x.dispose();
        }
        const data = (await f.data()) as Float32Array;
        f.dispose();
        idx.forEach((k, j) => {
          const row = data.slice(j * dim, (j + 1) * dim);
          out[k] = row;
          cache?.set(items[k]!.id, fps[k]!, row);
        });
        done += idx.length;
        bar?.update({ step: done, epoch: 0, imagesPerSec: (done * 1000) / (performance.now() - t0) });
        if (Date.now() - last > 30000) {
          cache?.flush();
          images?.flush();
          last = Date.now();
        }
      }
    } finally {
      cache?.flush();
      images?.flush();
    }
  }
  return { features: out as Float32Array[], dim, cached, computed: todo.length, seconds: (performance.now() - t0) / 1000, cacheFile: cache?.file };
}
