/**
 * Image preprocessing for a model config, as every evaluation app applies it: decode, the
 * reference preprocessing (crop to the non-zero box, min-max scale, resize to
 * `imageSize`², uint8; `preprocessing.variant` of the model's recipe), then at batch time grey
 * → 3 channels and the model's per-channel normalisation (`preprocessing.mean/std`). This is
 * the reference's evaluation transform (CenterCrop of an already square image is a no-op).
 *
 * Preprocessed uint8 images can go through the row cache (`kind: 'images'`), so a second
 * encoder or a second protocol does not decode and resize them again.
 */
import * as tf from '@tensorflow/tfjs';
import { G2DError } from '@g2d-ts/core';
import { isSyntheticItem, loadImage, loadSyntheticItem, referencePreprocess, type ItemRef } from '@g2d-ts/data';
import type { G2DConfig } from '@g2d-ts/model';
import { itemFingerprint, RowCache } from './cache';

export interface EvalTransform {
  size: number;
  variant: 'code' | 'clean';
  mean: [number, number, number];
  std: [number, number, number];
}

/** The evaluation transform of a model config. */
export function transformFor(config: Pick<G2DConfig, 'imageSize' | 'preprocessing'>): EvalTransform {
  const [m0, m1, m2] = config.preprocessing.mean;
  const [s0, s1, s2] = config.preprocessing.std;
  return { size: config.imageSize, variant: config.preprocessing.variant, mean: [m0, m1, m2], std: [s0, s1, s2] };
}

/** Stable text of a transform (cache keys, results.json). */
export function transformKey(t: EvalTransform): string {
  return `reference-${t.variant}-${t.size}px-mean${t.mean.join(',')}-std${t.std.join(',')}`;
}

/** One item's preprocessed grey image, `size`² uint8. Errors name the item's file. */
export async function loadPreprocessed(it: ItemRef, t: Pick<EvalTransform, 'size' | 'variant'>): Promise<Uint8Array> {
  let img;
  let source: string;
  if (isSyntheticItem(it)) {
    img = loadSyntheticItem(it).image;
    source = `synthetic item ${it.id}`;
  } else {
    if (!it.image) throw new G2DError('item has no image', { source: it.id });
    img = (await loadImage(it.image)).image;
    source = it.image;
  }
  return referencePreprocess(img, { size: t.size, variant: t.variant, source });
}

/** `[B, S, S, 3]` normalised float32 input from preprocessed grey images. */
export function toInputTensor(images: readonly Uint8Array[], t: EvalTransform): tf.Tensor4D {
  const S = t.size;
  const n = S * S;
  const buf = new Float32Array(images.length * n * 3);
  const a = t.mean.map((m, c) => 1 / (255 * t.std[c]!));
  const b = t.mean.map((m, c) => -m / t.std[c]!);
  images.forEach((g, k) => {
    if (g.length !== n) throw new G2DError(`toInputTensor: image ${k} has ${g.length} pixels, expected ${S}x${S}`);
    let o = k * n * 3;
    for (let i = 0; i < n; i++) {
      const v = g[i]!;
      buf[o++] = v * a[0]! + b[0]!;
      buf[o++] = v * a[1]! + b[1]!;
      buf[o++] = v * a[2]! + b[2]!;
    }
  });
  return tf.tensor4d(buf, [images.length, S, S, 3]);
}

export interface ImageSourceOptions {
  /** the row cache folder (undefined: no image cache) */
  cacheDir?: string;
  /** dataset identity (cache key) */
  dataset: string;
}

/**
 * Preprocessed images of `items` by id, loaded through the image cache when it is on
 * (`onItem` is called after each item, for progress).
 */
export async function loadImages(
  items: readonly ItemRef[],
  t: EvalTransform,
  opts: ImageSourceOptions & { onItem?: (done: number) => void },
): Promise<Uint8Array[]> {
  const cache = opts.cacheDir ? openImageCache(opts.cacheDir, opts.dataset, t) : undefined;
  const out: Uint8Array[] = [];
  let last = Date.now();
  try {
    for (let k = 0; k < items.length; k++) {
      const it = items[k]!;
      const fp = itemFingerprint(it);
      let img = cache?.get(it.id, fp) as Uint8Array | undefined;
      if (!img) {
        img = await loadPreprocessed(it, t);
        cache?.set(it.id, fp, img);
        if (cache && Date.now() - last > 30000) {
          cache.flush();
          last = Date.now();
        }
      }
      out.push(img);
      opts.onItem?.(k + 1);
    }
  } finally {
    cache?.flush();
  }
  return out;
}

export function openImageCache(dir: string, dataset: string, t: Pick<EvalTransform, 'size' | 'variant'>): RowCache {
  return RowCache.open(dir, 'images', { dataset, size: t.size, variant: t.variant }, t.size * t.size, 'uint8');
}
