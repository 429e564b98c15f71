/** Decode one item and apply the reference preprocessing to image, mask and boxes together. */
import { G2DError } from '@g2d-ts/core';
import { loadItem } from './load-item';
import type { ItemRef } from './datasets/types';
import { nonZeroBBox, referencePreprocess } from './preprocess';
import type { Box } from './masks';

export interface PreparedItem {
  id: string;
  patientId: string;
  width: number;
  height: number;
  /** uint8 grey (reference preprocessing) or the full-resolution image scaled to 0..255 */
  image: Uint8Array;
  mask?: Uint8Array;
  boxes?: Box[];
  text?: string;
  labels?: number[];
}

export interface PrepareItemOptions {
  /** N of the N×N reference preprocessing; 0 = no preprocessing (image as decoded, scaled to uint8) */
  size: number;
  variant?: 'code' | 'clean';
}

export async function prepareItem(ref: ItemRef, opts: PrepareItemOptions): Promise<PreparedItem> {
  const it = await loadItem(ref);
  const { image } = it;
  const base = { id: ref.id, patientId: ref.patientId, text: it.text, labels: it.labels };
  if (!opts.size) {
    const d = new Uint8Array(image.data.length);
    for (let i = 0; i < d.length; i++) d[i] = Math.round((image.data[i]! * 255) / image.maxValue);
    return { ...base, width: image.width, height: image.height, image: d, mask: it.mask?.data, boxes: it.boxes };
  }
  const variant = opts.variant ?? 'code';
  const N = opts.size;
  const bb = nonZeroBBox(image);
  if (!bb) throw new G2DError('image is entirely zero', { source: ref.image });
  const [y0, y1, x0, x1] = bb;
  const out = referencePreprocess(image, { size: N, variant, source: ref.image });
  const ch = y1 - y0 + 1;
  const cw = x1 - x0 + 1;
  let mask: Uint8Array | undefined;
  if (it.mask) {
    mask = new Uint8Array(N * N);
    for (let y = 0; y < N; y++) {
      const sy = y0 + Math.min(ch - 1, Math.floor(((y + 0.5) * ch) / N));
      for (let x = 0; x < N; x++) mask[y * N + x] = it.mask.data[sy * image.width + x0 + Math.min(cw - 1, Math.floor(((x + 0.5) * cw) / N))]!;
    }
  }
  const boxes = it.boxes?.map((b) => ({ ...b, x: ((b.x - x0) * N) / cw, y: ((b.y - y0) * N) / ch, w: (b.w * N) / cw, h: (b.h * N) / ch }));
  return { ...base, width: N, height: N, image: out, mask, boxes };
}
