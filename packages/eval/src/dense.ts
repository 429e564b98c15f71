/**
 * Dense-task items (segmentation, detection, grounding): one item decoded once into what the
 * model sees (the reference preprocessing: crop to the non-zero box, min-max scale, resize to
 * `size`², uint8) together with the geometry that maps model pixels back to the stored image
 * file's pixels, where every dense output (predicted masks, boxes, heat maps) and every metric
 * is computed:
 *
 *   input pixel (u, v) of `size`² covers stored pixels x0 + (u + ½)·cw/size − ½ … (the crop
 *   [y0..y1] × [x0..x1], cw = x1 − x0 + 1), so stored → input is u = (x − x0)·size/cw.
 *
 * Masks at the input size are sampled nearest (as @g2d-ts/data's `prepareItem`), probability
 * maps go back to the stored size bilinearly (pixel centres, align_corners = false), zero outside
 * the crop. Boxes are xyxy in pixels ([x1, y1, x2, y2], @g2d-ts/metrics' convention).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { G2DError } from '@g2d-ts/core';
import {
  generateSynthetic,
  isSyntheticItem,
  loadImage,
  loadItem,
  loadSyntheticItem,
  nonZeroBBox,
  referencePreprocess,
  SYNTH_FINDINGS,
  type GrayImage,
  type Box,
  type ItemRef,
  type SynthOptions,
  type SynthSample,
} from '@g2d-ts/data';
import { imageName, type LoadedDataset } from './data';

export type BoxXYXY = [number, number, number, number];

export interface LabelledBox {
  box: BoxXYXY;
  label?: string;
}

export interface DenseItem {
  ref: ItemRef;
  id: string;
  /** the image's file name without extension (the item id for generated items): output file names and CSV rows */
  name: string;
  patientId: string;
  /** the stored image's size */
  width: number;
  height: number;
  /** the reference preprocessing's crop of the stored image, [y0, y1, x0, x1] inclusive */
  crop: [number, number, number, number];
  /** `size`² preprocessed grey image (uint8) */
  image: Uint8Array;
  size: number;
  /** the item's mask at the stored size (0/1), when it has one */
  mask?: Uint8Array;
  /** boxes at the stored size (xyxy), when the item has any */
  boxes?: LabelledBox[];
  /** the decoded stored image (kept only with `keepImage`, for overlays) */
  stored?: GrayImage;
  /** synthetic items with `findingMasks`: stored-size 0/1 mask per finding name (see LoadDenseOptions) */
  findingMasks?: Map<string, Uint8Array>;
}

export interface LoadDenseOptions {
  size: number;
  variant: 'code' | 'clean';
  /** keep the decoded stored image on the item (overlays) */
  keepImage?: boolean;
  /** load the item's mask (default true) */
  mask?: boolean;
  /**
   * synthetic items: also the stored-size mask of every finding they have (and, generated on
   * the fly, the anatomy: `lungs`, `heart`) in `findingMasks`; `root` = the folder of a
   * `synthetic:<dir>` dataset
   */
  findingMasks?: boolean;
  root?: string;
}

/** The preprocessing crop of a stored image ([y0, y1, x0, x1]), an error naming the file when it is all zero. */
export function preprocessCrop(img: GrayImage, source: string): [number, number, number, number] {
  const bb = nonZeroBBox(img);
  if (!bb) throw new G2DError('image is entirely zero: nothing to crop to', { source });
  return bb;
}

/** Decodes one item (image, mask, boxes) into a DenseItem. Errors name the item's file. */
export async function loadDenseItem(ref: ItemRef, opts: LoadDenseOptions): Promise<DenseItem> {
  let img: GrayImage;
  let mask: Uint8Array | undefined;
  let rawBoxes: Box[] | undefined;
  let source: string;
  let findingMasks: Map<string, Uint8Array> | undefined;
  if (isSyntheticItem(ref)) {
    source = `synthetic item ${ref.id}`;
    const src = ref.meta?.synthetic as { index: number; options: SynthOptions; mask?: string };
    if (opts.findingMasks) {
      // one drawing gives the image, the boxes and every mask
      const s = generateSynthetic(src.index, src.options);
      img = { width: s.size, height: s.size, data: s.image, maxValue: 255 };
      findingMasks = syntheticSampleMasks(s);
      mask = src.mask ? findingMasks.get(src.mask) ?? new Uint8Array(s.size * s.size) : undefined;
      rawBoxes = s.findings.map((f) => ({ x: f.box[0], y: f.box[1], w: f.box[2] - f.box[0], h: f.box[3] - f.box[1], label: f.name }));
    } else {
      const it = loadSyntheticItem(ref);
      img = it.image;
      mask = it.mask?.data;
      rawBoxes = it.boxes;
    }
  } else {
    if (!ref.image) throw new G2DError('item has no image', { source: ref.id });
    source = ref.image;
    if (opts.mask === false) img = (await loadImage(ref.image)).image;
    else {
      const it = await loadItem(ref);
      img = it.image;
      mask = it.mask?.data;
    }
    rawBoxes = ref.boxes;
    if (opts.findingMasks && opts.root) findingMasks = await syntheticFindingMasks(ref, opts.root);
  }
  const crop = preprocessCrop(img, source);
  const image = referencePreprocess(img, { size: opts.size, variant: opts.variant, source });
  const boxes = rawBoxes?.length ? rawBoxes.map((b) => ({ box: [b.x, b.y, b.x + b.w, b.y + b.h] as BoxXYXY, label: b.label })) : undefined;
  return {
    ref,
    id: ref.id,
    name: imageName(ref),
    patientId: ref.patientId,
    width: img.width,
    height: img.height,
    crop,
    image,
    size: opts.size,
    mask: opts.mask === false ? undefined : mask,
    boxes,
    stored: opts.keepImage ? img : undefined,
    findingMasks,
  };
}

/** A stored-size 0/1 mask sampled to the input size (nearest, as `prepareItem`). */
export function maskToInput(mask: ArrayLike<number>, item: Pick<DenseItem, 'width' | 'crop' | 'size'>): Uint8Array {
  const [y0, y1, x0, x1] = item.crop;
  const N = item.size;
  const ch = y1 - y0 + 1;
  const cw = x1 - x0 + 1;
  const out = new Uint8Array(N * N);
  for (let y = 0; y < N; y++) {
    const sy = y0 + Math.min(ch - 1, Math.floor(((y + 0.5) * ch) / N));
    for (let x = 0; x < N; x++) out[y * N + x] = mask[sy * item.width + x0 + Math.min(cw - 1, Math.floor(((x + 0.5) * cw) / N))]! > 0 ? 1 : 0;
  }
  return out;
}

/**
 * An input-size map (probabilities, heat) back to the stored size: bilinear at pixel centres
 * inside the crop, `outside` (default 0) elsewhere.
 */
export function mapToStored(map: ArrayLike<number>, item: Pick<DenseItem, 'width' | 'height' | 'crop' | 'size'>, outside = 0): Float32Array {
  const [y0, y1, x0, x1] = item.crop;
  const N = item.size;
  if (map.length !== N * N) throw new G2DError(`mapToStored: map has ${map.length} values, expected ${N}x${N}`);
  const { width: W, height: H } = item;
  const ch = y1 - y0 + 1;
  const cw = x1 - x0 + 1;
  const out = new Float32Array(W * H).fill(outside);
  const sx = N / cw;
  const sy = N / ch;
  // per-column source indices and weights
  const xi0 = new Int32Array(cw);
  const xi1 = new Int32Array(cw);
  const xw = new Float32Array(cw);
  for (let x = 0; x < cw; x++) {
    const f = Math.min(N - 1, Math.max(0, (x + 0.5) * sx - 0.5));
    xi0[x] = Math.floor(f);
    xi1[x] = Math.min(N - 1, xi0[x]! + 1);
    xw[x] = f - xi0[x]!;
  }
  for (let y = 0; y < ch; y++) {
    const f = Math.min(N - 1, Math.max(0, (y + 0.5) * sy - 0.5));
    const a = Math.floor(f);
    const b = Math.min(N - 1, a + 1);
    const wy = f - a;
    const o = (y0 + y) * W + x0;
    for (let x = 0; x < cw; x++) {
      const top = map[a * N + xi0[x]!]! * (1 - xw[x]!) + map[a * N + xi1[x]!]! * xw[x]!;
      const bot = map[b * N + xi0[x]!]! * (1 - xw[x]!) + map[b * N + xi1[x]!]! * xw[x]!;
      out[o + x] = top * (1 - wy) + bot * wy;
    }
  }
  return out;
}

/** A stored-pixel box (xyxy) in input pixels. */
export function boxToInput(b: readonly number[], item: Pick<DenseItem, 'crop' | 'size'>): BoxXYXY {
  const [y0, y1, x0, x1] = item.crop;
  const sx = item.size / (x1 - x0 + 1);
  const sy = item.size / (y1 - y0 + 1);
  return [(b[0]! - x0) * sx, (b[1]! - y0) * sy, (b[2]! - x0) * sx, (b[3]! - y0) * sy];
}

/** An input-pixel box (xyxy) in stored pixels, clipped to the image. */
export function boxToStored(b: readonly number[], item: Pick<DenseItem, 'crop' | 'size' | 'width' | 'height'>): BoxXYXY {
  const [y0, y1, x0, x1] = item.crop;
  const sx = (x1 - x0 + 1) / item.size;
  const sy = (y1 - y0 + 1) / item.size;
  const c = (v: number, hi: number) => Math.min(hi, Math.max(0, v));
  return [c(x0 + b[0]! * sx, item.width), c(y0 + b[1]! * sy, item.height), c(x0 + b[2]! * sx, item.width), c(y0 + b[3]! * sy, item.height)];
}

/** Finding masks (union per finding name) and the anatomy (`lungs`, `heart`) of a generated study. */
function syntheticSampleMasks(s: SynthSample): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const f of s.findings) {
    const prev = out.get(f.name);
    if (prev) for (let i = 0; i < prev.length; i++) prev[i] = prev[i]! | f.mask[i]!;
    else out.set(f.name, Uint8Array.from(f.mask));
  }
  out.set('lungs', Uint8Array.from(s.anatomy.lungs));
  out.set('heart', Uint8Array.from(s.anatomy.heart));
  return out;
}

/**
 * Stored-size masks of the synthetic findings of one item (on-the-fly or from a `g2d-data synth`
 * folder, `root` = that folder), by finding name; findings the study does not have are absent.
 * With `anatomy`, also `lungs` and `heart` (on-the-fly items only).
 */
export async function syntheticFindingMasks(ref: ItemRef, root?: string): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  const src = ref.meta?.synthetic as { index: number; options: SynthOptions } | undefined;
  if (isSyntheticItem(ref) && src) return syntheticSampleMasks(generateSynthetic(src.index, src.options));
  if (!root) throw new G2DError('syntheticFindingMasks: a synthetic folder item needs its root', { source: ref.id });
  const findings = (ref.meta?.findings as string[] | undefined) ?? [];
  const id = ref.image ? path.basename(ref.image, path.extname(ref.image)) : ref.id;
  for (const f of findings) {
    if (!(SYNTH_FINDINGS as readonly string[]).includes(f)) continue;
    const file = path.join(root, 'masks', f, `${id}.png`);
    if (!fs.existsSync(file)) throw new G2DError(`the item lists finding "${f}" but its mask file is missing`, { source: file });
    const m = (await loadImage(file)).image;
    const half = m.maxValue / 2;
    const d = new Uint8Array(m.data.length);
    for (let i = 0; i < d.length; i++) d[i] = m.data[i]! > half ? 1 : 0;
    out.set(f, d);
  }
  return out;
}

/**
 * A `--test` dataset prepared for `makeSplits` in a dense task: `makeSplits` re-maps a test
 * folder's class labels onto the training data's classes (classification needs them, and
 * refuses a folder lacking a class); segmentation, detection and grounding do not use image
 * labels, so the test items get the training data's class list and all-zero labels.
 */
export function denseTestDataset(test: LoadedDataset, data: LoadedDataset): LoadedDataset {
  const zeros = data.classes.map(() => 0);
  return { ...test, classes: [...data.classes], index: { ...test.index, classes: [...data.classes], items: test.index.items.map((it) => ({ ...it, labels: [...zeros] })) } };
}
