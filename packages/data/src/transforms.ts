/**
 * Dictionary transforms: image, mask and boxes go through one transform together, from ONE
 * random draw, so they stay aligned. Seeded by an `Rng` from @g2d-ts/core. Images are float32,
 * height × width × channels (interleaved, tfjs NHWC order), values in [0, 1] before `normalize`.
 * The reference training pipeline is `referenceTrainTransforms()`:
 * CenterCrop 256, RandomAffine(degrees 15, shear 15), ColorJitter(brightness 0.2, contrast 0.2),
 * grey → 3 channels, ImageNet normalisation.
 */
import * as tf from '@tensorflow/tfjs';
import { G2DError, IMAGENET_NORMALIZATION, Rng, type NormalizationConfig } from '@g2d-ts/core';
import type { Box, Mask } from './masks';

export interface FloatImage {
  width: number;
  height: number;
  channels: number;
  data: Float32Array;
}

export interface Sample {
  image: FloatImage;
  mask?: Mask;
  boxes?: Box[];
  text?: string;
  labels?: number[];
  [k: string]: unknown;
}

export type Transform = (s: Sample, rng: Rng) => Sample;

/** uint8 (or any integer) grey image -> FloatImage in [0, 1]. */
export function floatImage(width: number, height: number, data: ArrayLike<number>, maxValue = 255): FloatImage {
  const out = new Float32Array(width * height);
  for (let i = 0; i < out.length; i++) out[i] = data[i]! / maxValue;
  return { width, height, channels: 1, data: out };
}

export function compose(...ts: Transform[]): Transform {
  return (s, rng) => ts.reduce((acc, t) => t(acc, rng), s);
}

/** Apply `t` with probability p (one draw). */
export function randomApply(t: Transform, p = 0.5): Transform {
  return (s, rng) => (rng.next() < p ? t(s, rng) : s);
}

function mapPixels(img: FloatImage, ow: number, oh: number, src: (x: number, y: number) => [number, number] | undefined, fill = 0): FloatImage {
  const c = img.channels;
  const out = new Float32Array(ow * oh * c).fill(fill);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      const p = src(x, y);
      if (!p) continue;
      const [sx, sy] = p;
      if (sx < 0 || sy < 0 || sx >= img.width || sy >= img.height) continue;
      const si = (sy * img.width + sx) * c;
      const oi = (y * ow + x) * c;
      for (let k = 0; k < c; k++) out[oi + k] = img.data[si + k]!;
    }
  }
  return { width: ow, height: oh, channels: c, data: out };
}

function mapMask(m: Mask, ow: number, oh: number, src: (x: number, y: number) => [number, number] | undefined): Mask {
  const out = new Uint8Array(ow * oh);
  for (let y = 0; y < oh; y++)
    for (let x = 0; x < ow; x++) {
      const p = src(x, y);
      if (!p) continue;
      const [sx, sy] = p;
      if (sx >= 0 && sy >= 0 && sx < m.width && sy < m.height) out[y * ow + x] = m.data[sy * m.width + sx]!;
    }
  return { width: ow, height: oh, data: out };
}

function clipBoxes(boxes: Box[], w: number, h: number): Box[] {
  const out: Box[] = [];
  for (const b of boxes) {
    const x0 = Math.max(0, b.x);
    const y0 = Math.max(0, b.y);
    const x1 = Math.min(w, b.x + b.w);
    const y1 = Math.min(h, b.y + b.h);
    if (x1 > x0 && y1 > y0) out.push({ ...b, x: x0, y: y0, w: x1 - x0, h: y1 - y0 });
  }
  return out;
}

/** torchvision CenterCrop: top = round((H - h) / 2), left = round((W - w) / 2); zero-pads when smaller. */
export function centerCrop(size: number | [number, number]): Transform {
  const [th, tw] = typeof size === 'number' ? [size, size] : size;
  return (s) => {
    const { width: w, height: h } = s.image;
    // torchvision pads (symmetrically, left/top = floor) first when the crop is larger
    const padL = tw > w ? Math.floor((tw - w) / 2) : 0;
    const padT = th > h ? Math.floor((th - h) / 2) : 0;
    const W = Math.max(w, tw);
    const H = Math.max(h, th);
    const top = Math.round((H - th) / 2) - padT;
    const left = Math.round((W - tw) / 2) - padL;
    const src = (x: number, y: number): [number, number] => [x + left, y + top];
    return {
      ...s,
      image: mapPixels(s.image, tw, th, src),
      mask: s.mask && mapMask(s.mask, tw, th, src),
      boxes: s.boxes && clipBoxes(s.boxes.map((b) => ({ ...b, x: b.x - left, y: b.y - top })), tw, th),
    };
  };
}

/** Horizontal flip with probability p. */
export function randomHorizontalFlip(p = 0.5): Transform {
  return (s, rng) => {
    if (!(rng.next() < p)) return s;
    const w = s.image.width;
    const src = (x: number, y: number): [number, number] => [w - 1 - x, y];
    return {
      ...s,
      image: mapPixels(s.image, w, s.image.height, src),
      mask: s.mask && mapMask(s.mask, s.mask.width, s.mask.height, (x, y) => [s.mask!.width - 1 - x, y]),
      boxes: s.boxes?.map((b) => ({ ...b, x: w - b.x - b.w })),
    };
  };
}

/** The inverse affine matrix of torchvision's `_get_inverse_affine_matrix` (output -> input). */
export function inverseAffineMatrix(center: [number, number], angle: number, translate: [number, number], scale: number, shear: [number, number]): number[] {
  const rad = Math.PI / 180;
  const rot = angle * rad;
  const sx = shear[0] * rad;
  const sy = shear[1] * rad;
  const [cx, cy] = center;
  const [tx, ty] = translate;
  const a = Math.cos(rot - sy) / Math.cos(sy);
  const b = (-Math.cos(rot - sy) * Math.tan(sx)) / Math.cos(sy) - Math.sin(rot);
  const c = Math.sin(rot - sy) / Math.cos(sy);
  const d = (-Math.sin(rot - sy) * Math.tan(sx)) / Math.cos(sy) + Math.cos(rot);
  const m = [d / scale, -b / scale, 0, -c / scale, a / scale, 0];
  m[2] += m[0]! * (-cx - tx) + m[1]! * (-cy - ty);
  m[5] += m[3]! * (-cx - tx) + m[4]! * (-cy - ty);
  m[2] += cx;
  m[5] += cy;
  return m;
}

export interface AffineOptions {
  /** rotation range ±degrees (default 15) */
  degrees?: number;
  /** x-shear range ±degrees (default 15) */
  shear?: number;
  fill?: number;
}

/**
 * torchvision RandomAffine(degrees, shear) (draws: angle ~ U(-d, d), then shear_x ~ U(-s, s)),
 * nearest-neighbour resampling about the image centre (PIL pixel-centre convention), fill 0.
 * Boxes become the bounding box of their transformed corners, clipped.
 */
export function randomAffine(opts: AffineOptions = {}): Transform {
  const deg = opts.degrees ?? 15;
  const sh = opts.shear ?? 15;
  return (s, rng) => {
    const angle = rng.uniform(-deg, deg);
    const shearX = sh > 0 ? rng.uniform(-sh, sh) : 0;
    const { width: w, height: h } = s.image;
    const m = inverseAffineMatrix([w * 0.5, h * 0.5], angle, [0, 0], 1, [shearX, 0]);
    const src = (x: number, y: number): [number, number] => {
      const px = x + 0.5;
      const py = y + 0.5;
      return [Math.floor(m[0]! * px + m[1]! * py + m[2]!), Math.floor(m[3]! * px + m[4]! * py + m[5]!)];
    };
    let boxes = s.boxes;
    if (boxes) {
      // forward map = inverse of m
      const det = m[0]! * m[4]! - m[1]! * m[3]!;
      const f = (x: number, y: number): [number, number] => {
        const X = x - m[2]!;
        const Y = y - m[5]!;
        return [(m[4]! * X - m[1]! * Y) / det, (-m[3]! * X + m[0]! * Y) / det];
      };
      boxes = clipBoxes(
        boxes.map((b) => {
          const pts = [f(b.x, b.y), f(b.x + b.w, b.y), f(b.x, b.y + b.h), f(b.x + b.w, b.y + b.h)];
          const xs = pts.map((p) => p[0]);
          const ys = pts.map((p) => p[1]);
          const x0 = Math.min(...xs);
          const y0 = Math.min(...ys);
          return { ...b, x: x0, y: y0, w: Math.max(...xs) - x0, h: Math.max(...ys) - y0 };
        }),
        w,
        h,
      );
    }
    return { ...s, image: mapPixels(s.image, w, h, src, opts.fill ?? 0), mask: s.mask && mapMask(s.mask, s.mask.width, s.mask.height, src), boxes };
  };
}

/**
 * torchvision ColorJitter(brightness, contrast) on float images: factors ~ U(1-b, 1+b) and
 * U(1-c, 1+c), applied in a random order; brightness scales, contrast blends with the mean grey
 * level; results clamped to [0, 1]. Masks and boxes are unchanged.
 */
export function colorJitter(opts: { brightness?: number; contrast?: number } = {}): Transform {
  const b = opts.brightness ?? 0.2;
  const c = opts.contrast ?? 0.2;
  return (s, rng) => {
    const order = rng.shuffle([0, 1]);
    const bf = b > 0 ? rng.uniform(1 - b, 1 + b) : 1;
    const cf = c > 0 ? rng.uniform(1 - c, 1 + c) : 1;
    const d = Float32Array.from(s.image.data);
    const ch = s.image.channels;
    for (const op of order) {
      if (op === 0 && bf !== 1) for (let i = 0; i < d.length; i++) d[i] = Math.min(1, Math.max(0, d[i]! * bf));
      if (op === 1 && cf !== 1) {
        let mean = 0;
        const n = d.length / ch;
        for (let i = 0; i < n; i++) mean += ch === 3 ? 0.299 * d[3 * i]! + 0.587 * d[3 * i + 1]! + 0.114 * d[3 * i + 2]! : d[i * ch]!;
        mean /= n;
        for (let i = 0; i < d.length; i++) d[i] = Math.min(1, Math.max(0, cf * d[i]! + (1 - cf) * mean));
      }
    }
    return { ...s, image: { ...s.image, data: d } };
  };
}

/** Resize to h×w: bilinear (half-pixel centres, edge clamp) for the image, nearest for the mask; boxes scaled. */
export function resize(size: number | [number, number]): Transform {
  const [oh, ow] = typeof size === 'number' ? [size, size] : size;
  return (s) => {
    const { width: w, height: h, channels: c, data } = s.image;
    const out = new Float32Array(ow * oh * c);
    const sy = h / oh;
    const sx = w / ow;
    for (let y = 0; y < oh; y++) {
      const fy = Math.min(h - 1, Math.max(0, (y + 0.5) * sy - 0.5));
      const y0 = Math.floor(fy);
      const y1 = Math.min(h - 1, y0 + 1);
      const wy = fy - y0;
      for (let x = 0; x < ow; x++) {
        const fx = Math.min(w - 1, Math.max(0, (x + 0.5) * sx - 0.5));
        const x0 = Math.floor(fx);
        const x1 = Math.min(w - 1, x0 + 1);
        const wx = fx - x0;
        for (let k = 0; k < c; k++) {
          const a = data[(y0 * w + x0) * c + k]!;
          const b = data[(y0 * w + x1) * c + k]!;
          const d0 = data[(y1 * w + x0) * c + k]!;
          const e = data[(y1 * w + x1) * c + k]!;
          out[(y * ow + x) * c + k] = (a * (1 - wx) + b * wx) * (1 - wy) + (d0 * (1 - wx) + e * wx) * wy;
        }
      }
    }
    const mask = s.mask && mapMask(s.mask, ow, oh, (x, y) => [Math.min(s.mask!.width - 1, Math.floor((x * s.mask!.width) / ow)), Math.min(s.mask!.height - 1, Math.floor((y * s.mask!.height) / oh))]);
    const boxes = s.boxes?.map((b) => ({ ...b, x: b.x / sx, y: b.y / sy, w: b.w / sx, h: b.h / sy }));
    return { ...s, image: { width: ow, height: oh, channels: c, data: out }, mask, boxes };
  };
}

/** Grey (1 channel) -> 3 identical channels (PIL convert('RGB')). */
export function grayTo3Channels(): Transform {
  return (s) => {
    if (s.image.channels === 3) return s;
    if (s.image.channels !== 1) throw new G2DError(`grayTo3Channels expects 1 channel, got ${s.image.channels}`);
    const n = s.image.width * s.image.height;
    const out = new Float32Array(n * 3);
    for (let i = 0; i < n; i++) out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = s.image.data[i]!;
    return { ...s, image: { ...s.image, channels: 3, data: out } };
  };
}

/** ImageNet per-channel mean and std (torchvision's weights; `IMAGENET_NORMALIZATION` in @g2d-ts/core). */
export const IMAGENET_MEAN: readonly number[] = IMAGENET_NORMALIZATION.mean;
export const IMAGENET_STD: readonly number[] = IMAGENET_NORMALIZATION.std;

/** (x - mean[c]) / std[c] per channel (default ImageNet; pass a backbone's `pretrainedCfg.mean/std`). */
export function normalize(mean: readonly number[] = IMAGENET_MEAN, std: readonly number[] = IMAGENET_STD): Transform {
  return (s) => {
    const c = s.image.channels;
    if (mean.length !== c || std.length !== c) throw new G2DError(`normalize: ${mean.length} means / ${std.length} stds for a ${c}-channel image`);
    const d = new Float32Array(s.image.data.length);
    for (let i = 0; i < d.length; i++) d[i] = (s.image.data[i]! - mean[i % c]!) / std[i % c]!;
    return { ...s, image: { ...s.image, data: d } };
  };
}

export interface ReferenceTransformOptions {
  /** crop size (default: the normalization's input size when given, else 256 as the G2D reference) */
  size?: number;
  /**
   * the backbone's pretrained input config (vision: `backbones.meta(name).pretrainedCfg`);
   * default `IMAGENET_NORMALIZATION` (what the G2D reference uses with its ResNet-50)
   */
  normalization?: NormalizationConfig;
}

function referenceOptions(opts: number | ReferenceTransformOptions): { size: number; norm: NormalizationConfig } {
  const o = typeof opts === 'number' ? { size: opts } : opts;
  const norm = o.normalization ?? IMAGENET_NORMALIZATION;
  const size = o.size ?? (o.normalization ? norm.inputSize[1] : 256);
  if (!Number.isInteger(size) || size < 1) throw new G2DError(`transform size must be a positive integer, got ${size}`);
  if (norm.inputSize[0] !== 3) throw new G2DError(`normalization is for ${norm.inputSize[0]}-channel input; the reference transforms make 3 channels`);
  return { size, norm };
}

/** The reference training transforms (PRETRAIN/utils/dataset.py, train stage); a number is the size. */
export function referenceTrainTransforms(opts: number | ReferenceTransformOptions = {}): Transform {
  const { size, norm } = referenceOptions(opts);
  return compose(centerCrop(size), randomAffine({ degrees: 15, shear: 15 }), colorJitter({ brightness: 0.2, contrast: 0.2 }), grayTo3Channels(), normalize(norm.mean, norm.std));
}

/** The reference evaluation transforms: CenterCrop, grey → 3 channels, the backbone's normalisation. */
export function referenceEvalTransforms(opts: number | ReferenceTransformOptions = {}): Transform {
  const { size, norm } = referenceOptions(opts);
  return compose(centerCrop(size), grayTo3Channels(), normalize(norm.mean, norm.std));
}

/** Stack samples' images into a [B, H, W, C] float32 tensor (all must share a shape). */
export function imagesToTensor(samples: Sample[]): tf.Tensor4D {
  if (samples.length === 0) throw new G2DError('imagesToTensor: empty batch');
  const { width: w, height: h, channels: c } = samples[0]!.image;
  const buf = new Float32Array(samples.length * w * h * c);
  samples.forEach((s, k) => {
    if (s.image.width !== w || s.image.height !== h || s.image.channels !== c) {
      throw new G2DError(`imagesToTensor: sample ${k} is ${s.image.width}x${s.image.height}x${s.image.channels}, expected ${w}x${h}x${c}`);
    }
    buf.set(s.image.data, k * w * h * c);
  });
  return tf.tensor4d(buf, [samples.length, h, w, c]);
}
