/**
 * Frozen C3–C5 pyramid features of the evaluated encoder (strides 8, 16, 32), one flat row per
 * item (C3, then C4, then C5, each NHWC), through @g2d-ts/eval's on-disk row cache keyed by the
 * encoder's weights hash, the dataset, the transform and the levels: a second fraction or seed
 * never runs the backbone again.
 */
import * as tf from '@tensorflow/tfjs';
import { G2DError } from '@g2d-ts/core';
import { itemFingerprint, RowCache, toInputTensor, transformKey, type DenseItem, type EncoderInfo, type EvalTransform } from '@g2d-ts/eval';
import type { G2DModel } from '@g2d-ts/model';
import { Progress } from '@g2d-ts/train';

export const STRIDES = [8, 16, 32] as const;

export interface PyramidLayout {
  /** pyramid indices of the levels (encoder.reductions) */
  index: number[];
  strides: number[];
  /** [h, w, c] per level */
  shapes: [number, number, number][];
  /** offset of each level in a row */
  offsets: number[];
  rowLength: number;
}

/** Where C3–C5 sit in the encoder's pyramid and their sizes for this input size. */
export function pyramidLayout(model: G2DModel, size: number): PyramidLayout {
  const enc = model.img_model.encoder;
  const index = STRIDES.map((s) => {
    const i = enc.reductions.indexOf(s);
    if (i < 0) throw new G2DError(`the encoder (${enc.name}) has no level with stride ${s} (reductions ${enc.reductions.join(', ')})`);
    return i;
  });
  if (size % 32 !== 0) throw new G2DError(`the input size ${size} must be a multiple of 32 for C3–C5 grids`);
  const shapes = index.map((i, l) => [size / STRIDES[l]!, size / STRIDES[l]!, enc.outChannels[i]!] as [number, number, number]);
  const offsets: number[] = [];
  let o = 0;
  for (const [h, w, c] of shapes) {
    offsets.push(o);
    o += h * w * c;
  }
  return { index, strides: [...STRIDES], shapes, offsets, rowLength: o };
}

/** Rows of `items` (cache first, then the encoder in eval mode, batched). */
export async function pyramidFeatures(opts: {
  model: G2DModel;
  encoder: Pick<EncoderInfo, 'weightsHash'>;
  items: readonly DenseItem[];
  dataset: string;
  transform: EvalTransform;
  layout: PyramidLayout;
  batchSize: number;
  cacheDir?: string;
  label: string;
  log: (l: string) => void;
}): Promise<Float32Array[]> {
  const { model, items, layout, transform } = opts;
  const cache = opts.cacheDir
    ? RowCache.open(opts.cacheDir, 'features', { encoder: opts.encoder.weightsHash, dataset: opts.dataset, transform: transformKey(transform), kind: 'pyramid-c3c5', levels: layout.index }, layout.rowLength, 'float32')
    : undefined;
  const out: Float32Array[] = new Array(items.length);
  const fps = items.map((it) => itemFingerprint(it.ref));
  const todo: number[] = [];
  items.forEach((it, k) => {
    const r = cache?.get(it.id, fps[k]!) as Float32Array | undefined;
    if (r) out[k] = r;
    else todo.push(k);
  });
  if (!todo.length) {
    opts.log(`[detection] ${opts.label}: ${items.length} feature rows from the cache`);
    return out;
  }
  opts.log(`[detection] ${opts.label}: ${items.length - todo.length} of ${items.length} feature rows from the cache, computing ${todo.length} (C3–C5, ${layout.rowLength} values each)`);
  const enc = model.img_model.encoder;
  const was = enc.training;
  enc.eval();
  const bar = new Progress({ total: todo.length, label: opts.label });
  let last = Date.now();
  try {
    for (let s = 0; s < todo.length; s += opts.batchSize) {
      const idx = todo.slice(s, s + opts.batchSize);
      const x = toInputTensor(idx.map((k) => items[k]!.image), transform);
      const flat = tf.tidy(() => {
        const pyr = enc.forward(x);
        return tf.concat(layout.index.map((i) => tf.reshape(pyr[i]!, [idx.length, -1])), 1);
      });
      x.dispose();
      const v = (await flat.data()) as Float32Array;
      flat.dispose();
      idx.forEach((k, j) => {
        const row = v.slice(j * layout.rowLength, (j + 1) * layout.rowLength);
        out[k] = row;
        cache?.set(items[k]!.id, fps[k]!, row);
      });
      bar.update({ step: Math.min(todo.length, s + opts.batchSize), epoch: 0 });
      if (cache && Date.now() - last > 30000) {
        cache.flush();
        last = Date.now();
      }
    }
  } finally {
    bar.done();
    cache?.flush();
    enc.train(was);
  }
  return out;
}

/** The level tensors [B, h, w, c] of a batch of rows. */
export function levelTensors(rows: readonly Float32Array[], layout: PyramidLayout): tf.Tensor4D[] {
  return layout.shapes.map(([h, w, c], l) => {
    const n = h * w * c;
    const buf = new Float32Array(rows.length * n);
    rows.forEach((r, k) => buf.set(r.subarray(layout.offsets[l]!, layout.offsets[l]! + n), k * n));
    return tf.tensor4d(buf, [rows.length, h, w, c]);
  });
}
