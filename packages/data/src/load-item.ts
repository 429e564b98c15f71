/** Decode one dataset item: its image and, when it has one, its mask (from a mask image, SIIM RLE or boxes). */
import { G2DError } from '@g2d-ts/core';
import { boxesToMask, decodeSiimRle, type Box, type Mask } from './masks';
import { loadImage, type GrayImage, type ImageMeta, type LoadImageOptions } from './image';
import type { ItemRef } from './datasets/types';
import { isSyntheticItem, loadSyntheticItem } from './synth/adapter';

export interface LoadedItem {
  id: string;
  patientId: string;
  image: GrayImage;
  imageMeta: ImageMeta;
  text?: string;
  labels?: number[];
  boxes?: Box[];
  mask?: Mask;
}

/** Decode an item's image (and mask). Masks come out at the image's size, 0/1. */
export async function loadItem(ref: ItemRef, opts: LoadImageOptions = {}): Promise<LoadedItem> {
  // on-the-fly synthetic items are drawn again, deterministically, instead of read
  if (isSyntheticItem(ref)) return loadSyntheticItem(ref);
  if (!ref.image) throw new G2DError('item has no image (report-only dataset)', { source: ref.id });
  const { image, meta } = await loadImage(ref.image, opts);
  let mask: Mask | undefined;
  const m = ref.mask;
  if (m?.kind === 'image') {
    const mi = await loadImage(m.path);
    if (mi.image.width !== image.width || mi.image.height !== image.height) {
      throw new G2DError(`mask is ${mi.image.width}x${mi.image.height}, image is ${image.width}x${image.height}`, { source: m.path });
    }
    const d = new Uint8Array(mi.image.data.length);
    const half = mi.image.maxValue / 2;
    for (let i = 0; i < d.length; i++) d[i] = mi.image.data[i]! > half ? 1 : 0;
    mask = { width: image.width, height: image.height, data: d };
  } else if (m?.kind === 'rle') {
    mask = decodeSiimRle(m.rle, m.width, m.height, ref.id);
    if (mask.width !== image.width || mask.height !== image.height) {
      throw new G2DError(`RLE mask is ${m.width}x${m.height}, image is ${image.width}x${image.height}`, { source: ref.image });
    }
  } else if (m?.kind === 'boxes') {
    mask = boxesToMask(ref.boxes ?? [], image.width, image.height);
  }
  return { id: ref.id, patientId: ref.patientId, image, imageMeta: meta, text: ref.text, labels: ref.labels, boxes: ref.boxes, mask };
}
