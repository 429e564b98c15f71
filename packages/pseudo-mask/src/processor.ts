/**
 * The parameter-free processor on plain typed arrays (no tensors, no gradients).
 * `attentionToPseudoMask` in index.ts wraps this for tfjs tensors.
 */
import { G2DError } from '@g2d-ts/core';
import {
  WeightedMultiset,
  indexCounts,
  nearestIndices,
  numpyMeanF32Upsampled,
  numpyMedianF32,
  numpyQuantileLinear,
} from './numeric';
import { countRange, rowStride, setRange, writeOnes } from './bits';
import { BinarySmoother, type BilateralOptions } from './bilateral';
import { OtsuScratch, otsuBodyBits } from './otsu';

export type PseudoMaskMode = 'code' | 'paper';
/** `'quantil'` is accepted as an alias of `'quantile'` (the reference's spelling). */
export type ThresholdKind = 'quantile' | 'mean' | 'median' | 'quantil';
export type MaskDType = 'float32' | 'int32' | 'bool';
export type ImageLayout = 'NCHW' | 'NHWC' | 'auto';

export interface PseudoMaskFromArrayOptions {
  /** 'code' (the reference implementation, default) or 'paper' (body mask, `>=`, smoothing) */
  mode?: PseudoMaskMode;
  /** 1 (default): one mask from the mean of the heads; = heads: one mask per head */
  numMaps?: number;
  /** per-map threshold statistic (default 'quantile') */
  threshold?: ThresholdKind;
  /** the quantile used when threshold is 'quantile' (default 0.85) */
  quantile?: number;
  /** output size: a number for size x size (default 256) or [height, width] */
  size?: number | [number, number];
  /** output dtype (default 'float32', what the reference feeds to its loss) */
  dtype?: MaskDType;
  /** paper mode: the radiographs (B x C x H x W, B x H x W x C or B x H x W) for the body mask */
  image?: unknown;
  /** layout of a rank-4 `image` (default 'auto': channels where the size is 1 or 3, else NCHW) */
  imageLayout?: ImageLayout;
  /** paper mode: a precomputed body mask (B x 1 x H x W or B x H x W, nonzero = body) instead of `image` */
  bodyMask?: unknown;
  /** paper mode: which Otsu class is the body (default 'bright', as on a radiograph) */
  bodyPolarity?: 'bright' | 'dark';
  /** paper mode: fill the holes of the Otsu body mask (the dark lungs inside the body; default true) */
  fillBodyHoles?: boolean;
  /** paper mode: histogram bins for Otsu (default 256) */
  otsuBins?: number;
  /** paper mode: bilateral smoothing of the mask edges (default true = DEFAULT_BILATERAL); false to skip */
  smoothing?: boolean | BilateralOptions;
}

/** A dense array with its shape, row-major. */
export interface ArrayWithShape<T extends ArrayLike<number> = ArrayLike<number>> {
  data: T;
  shape: number[];
}

export interface ResolvedOptions {
  mode: PseudoMaskMode;
  numMaps: number;
  threshold: 'quantile' | 'mean' | 'median';
  quantile: number;
  outH: number;
  outW: number;
  dtype: MaskDType;
  imageLayout: ImageLayout;
  bodyPolarity: 'bright' | 'dark';
  fillBodyHoles: boolean;
  otsuBins: number;
  smoothing: false | BilateralOptions;
}

const SRC = 'attentionToPseudoMask';

function isPositiveInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0;
}

/** Validates and fills in the options (errors name the option). */
export function resolveOptions(opts: PseudoMaskFromArrayOptions, heads: number): ResolvedOptions {
  const mode = opts.mode ?? 'code';
  if (mode !== 'code' && mode !== 'paper') {
    throw new G2DError(`option "mode" must be 'code' or 'paper', got ${JSON.stringify(mode)}`, { source: SRC });
  }
  const numMaps = opts.numMaps ?? 1;
  if (!isPositiveInt(numMaps) || (numMaps !== 1 && numMaps !== heads)) {
    throw new G2DError(
      `option "numMaps" must be 1 (mean of the heads) or the number of heads (${heads}, one mask per head), got ${JSON.stringify(numMaps)}`,
      { source: SRC },
    );
  }
  const thr = opts.threshold ?? 'quantile';
  if (!['quantile', 'quantil', 'mean', 'median'].includes(thr)) {
    throw new G2DError(`option "threshold" must be 'quantile', 'mean' or 'median', got ${JSON.stringify(thr)}`, { source: SRC });
  }
  const quantile = opts.quantile ?? 0.85;
  if (typeof quantile !== 'number' || !(quantile >= 0 && quantile <= 1)) {
    throw new G2DError(`option "quantile" must be a number in [0, 1], got ${JSON.stringify(quantile)}`, { source: SRC });
  }
  const size = opts.size ?? 256;
  let outH: number;
  let outW: number;
  if (Array.isArray(size)) {
    if (size.length !== 2 || !isPositiveInt(size[0]) || !isPositiveInt(size[1])) {
      throw new G2DError(`option "size" must be a positive integer or [height, width], got ${JSON.stringify(size)}`, { source: SRC });
    }
    [outH, outW] = size;
  } else {
    if (!isPositiveInt(size)) {
      throw new G2DError(`option "size" must be a positive integer or [height, width], got ${JSON.stringify(size)}`, { source: SRC });
    }
    outH = outW = size;
  }
  const dtype = opts.dtype ?? 'float32';
  if (!['float32', 'int32', 'bool'].includes(dtype)) {
    throw new G2DError(`option "dtype" must be 'float32', 'int32' or 'bool', got ${JSON.stringify(dtype)}`, { source: SRC });
  }
  const imageLayout = opts.imageLayout ?? 'auto';
  if (!['NCHW', 'NHWC', 'auto'].includes(imageLayout)) {
    throw new G2DError(`option "imageLayout" must be 'NCHW', 'NHWC' or 'auto', got ${JSON.stringify(imageLayout)}`, { source: SRC });
  }
  const bodyPolarity = opts.bodyPolarity ?? 'bright';
  if (bodyPolarity !== 'bright' && bodyPolarity !== 'dark') {
    throw new G2DError(`option "bodyPolarity" must be 'bright' or 'dark', got ${JSON.stringify(bodyPolarity)}`, { source: SRC });
  }
  const otsuBins = opts.otsuBins ?? 256;
  if (!isPositiveInt(otsuBins) || otsuBins < 2) {
    throw new G2DError(`option "otsuBins" must be an integer >= 2, got ${JSON.stringify(otsuBins)}`, { source: SRC });
  }
  let smoothing: false | BilateralOptions;
  const sm = opts.smoothing ?? true;
  if (sm === false) smoothing = false;
  else if (sm === true) smoothing = {};
  else if (typeof sm === 'object' && sm !== null) {
    for (const k of ['sigmaSpace', 'sigmaColor'] as const) {
      const v = sm[k];
      if (v !== undefined && !(typeof v === 'number' && v > 0)) {
        throw new G2DError(`option "smoothing.${k}" must be a positive number, got ${JSON.stringify(v)}`, { source: SRC });
      }
    }
    if (sm.radius !== undefined && !(Number.isInteger(sm.radius) && sm.radius >= 0)) {
      throw new G2DError(`option "smoothing.radius" must be a non-negative integer, got ${JSON.stringify(sm.radius)}`, { source: SRC });
    }
    smoothing = sm;
  } else {
    throw new G2DError(`option "smoothing" must be a boolean or {sigmaSpace, sigmaColor, radius}, got ${JSON.stringify(sm)}`, { source: SRC });
  }
  return {
    mode,
    numMaps,
    threshold: thr === 'quantil' ? 'quantile' : (thr as 'quantile' | 'mean' | 'median'),
    quantile,
    outH,
    outW,
    dtype,
    imageLayout,
    bodyPolarity,
    fillBodyHoles: opts.fillBodyHoles ?? true,
    otsuBins,
    smoothing,
  };
}

export function assertFiniteArray(values: ArrayLike<number>, what: string): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) {
      throw new G2DError(`${what} contains ${Number.isNaN(v) ? 'NaN' : 'an infinite value'} at flat index ${i}`, { source: SRC });
    }
  }
}

function allocate(dtype: MaskDType, n: number): Float32Array | Int32Array | Uint8Array {
  return dtype === 'float32' ? new Float32Array(n) : dtype === 'int32' ? new Int32Array(n) : new Uint8Array(n);
}

/**
 * The source maps the thresholds act on, as float32: for one map the heads are summed in
 * order in float32 and divided by the head count (the reference's `torch.sum(.., dim=1) / 4`),
 * otherwise each head as it is.
 */
function sourceMaps(att: ArrayLike<number>, B: number, heads: number, hw: number, numMaps: number): Float32Array {
  const out = new Float32Array(B * numMaps * hw);
  if (numMaps === heads) {
    for (let i = 0; i < out.length; i++) out[i] = att[i]!;
    return out;
  }
  const f = Math.fround;
  for (let b = 0; b < B; b++) {
    const base = b * heads * hw;
    for (let p = 0; p < hw; p++) {
      let acc = f(att[base + p]!);
      for (let k = 1; k < heads; k++) acc = f(acc + f(att[base + k * hw + p]!));
      out[b * hw + p] = acc / heads;
    }
  }
  return out;
}

/**
 * Writes the 0/1 mask of one source map into `out` at `offset`: pixel (r, c) is 1 when
 * `m[rowIdx[r] * w + colIdx[c]]` is above `thr`.
 */
function writeMask(
  out: Float32Array | Int32Array | Uint8Array,
  offset: number,
  m: Float32Array,
  mOff: number,
  w: number,
  rowIdx: Int32Array,
  colIdx: Int32Array,
  thr: number,
): void {
  const outH = rowIdx.length;
  const outW = colIdx.length;
  // rows that come from the same source row are identical: build once, copy the rest
  let prevSrc = -1;
  for (let r = 0; r < outH; r++) {
    const o = offset + r * outW;
    const sr = rowIdx[r]!;
    if (sr === prevSrc) {
      out.copyWithin(o, o - outW, o);
      continue;
    }
    prevSrc = sr;
    const src = mOff + sr * w;
    for (let c = 0; c < outW; c++) out[o + c] = m[src + colIdx[c]!]! > thr ? 1 : 0;
  }
}

interface ImageView {
  B: number;
  H: number;
  W: number;
  /** channels */
  C: number;
  /** writes the grey values of image b (mean over the channels) into `dst` (length H * W) */
  grey(b: number, dst: Float32Array): void;
}

function imageView(img: ArrayWithShape, layout: ImageLayout, B: number, what: string): ImageView {
  const { data, shape } = img;
  if (shape[0] !== B) {
    throw new G2DError(`${what} has batch size ${shape[0]} but the attention map has ${B}`, { source: SRC });
  }
  if (shape.length !== 3 && shape.length !== 4) {
    throw new G2DError(`${what} must be B x C x H x W, B x H x W x C or B x H x W, got shape [${shape.join(', ')}]`, { source: SRC });
  }
  let nchw = true;
  if (shape.length === 4) {
    if (layout === 'auto') {
      const chFirst = shape[1] === 1 || shape[1] === 3;
      const chLast = shape[3] === 1 || shape[3] === 3;
      nchw = chFirst || !chLast;
    } else nchw = layout === 'NCHW';
  }
  const [H, W, C] =
    shape.length === 3 ? [shape[1]!, shape[2]!, 1] : nchw ? [shape[2]!, shape[3]!, shape[1]!] : [shape[1]!, shape[2]!, shape[3]!];
  const plane = H * W;
  if (C === 1) {
    return { B, H, W, C, grey: (b, dst) => { for (let p = 0; p < plane; p++) dst[p] = data[b * plane + p]!; } };
  }
  if (nchw) {
    return {
      B, H, W, C,
      grey: (b, dst) => {
        dst.fill(0);
        for (let c = 0; c < C; c++) {
          const off = (b * C + c) * plane;
          for (let p = 0; p < plane; p++) dst[p] += data[off + p]!;
        }
        for (let p = 0; p < plane; p++) dst[p] /= C;
      },
    };
  }
  return {
    B, H, W, C,
    grey: (b, dst) => {
      const off = b * plane * C;
      for (let p = 0; p < plane; p++) {
        let s = 0;
        for (let c = 0; c < C; c++) s += data[off + p * C + c]!;
        dst[p] = s / C;
      }
    },
  };
}


type BodyOptions = { imageLayout?: ImageLayout; bodyPolarity?: 'bright' | 'dark'; fillBodyHoles?: boolean; otsuBins?: number };

/**
 * The body masks of the radiographs as bit rows (B x H rows of `rowStride(W)` words; see
 * bits.ts). With `check`, NaN / infinite values in the image are reported as errors of
 * option "image" (first flat index), before any shape error, as the processor does.
 */
function bodyBitsFromImage(img: ArrayWithShape, opts: BodyOptions, B: number, check: boolean): { bits: Int32Array; H: number; W: number } {
  let view: ImageView;
  try {
    view = imageView(img, opts.imageLayout ?? 'auto', B, 'option "image"');
  } catch (e) {
    if (check) assertFiniteArray(img.data, 'option "image"');
    throw e;
  }
  const { H, W } = view;
  const n = H * W;
  const S = rowStride(W);
  const data = img.data;
  // one grey channel stored as float32: Otsu reads the images in place, else via a grey copy
  const direct = view.C === 1 && data instanceof Float32Array ? data : null;
  if (check && !direct) assertFiniteArray(data, 'option "image"');
  const scratch = new OtsuScratch(H, W, opts.otsuBins ?? 256);
  const grey = direct ? null : new Float32Array(n);
  const bright = (opts.bodyPolarity ?? 'bright') === 'bright';
  const fill = opts.fillBodyHoles ?? true;
  const bits = new Int32Array(B * H * S);
  for (let b = 0; b < B; b++) {
    let a: Float32Array;
    let off = 0;
    if (direct) {
      a = direct;
      off = b * n;
    } else {
      view.grey(b, grey!);
      a = grey!;
    }
    if (!otsuBodyBits(a, off, scratch, bright, fill, bits, b * H * S, check && direct !== null)) {
      assertFiniteArray(data, 'option "image"'); // throws: the image holds a NaN / infinite value
    }
  }
  return { bits, H, W };
}

/**
 * Body masks (B x H x W, 1 = body) from the radiographs: Otsu's threshold on each image's
 * grey-level histogram, the `bodyPolarity` class as the body, holes filled (optional).
 * A constant image (no threshold) is all body.
 */
export function bodyMasksFromImage(
  img: ArrayWithShape,
  opts: BodyOptions = {},
  B = img.shape[0]!,
): { data: Uint8Array; shape: [number, number, number] } {
  const { bits, H, W } = bodyBitsFromImage(img, opts, B, false);
  const out = new Uint8Array(B * H * W);
  for (let b = 0; b < B; b++) writeOnes(bits, b * H * rowStride(W), H, W, out, b * H * W);
  return { data: out, shape: [B, H, W] };
}

/**
 * The processor on a plain array: `att` is B x heads x h x w (row-major), the result is the
 * B x numMaps x outH x outW mask of 0/1 in the requested dtype. Inputs are validated
 * (NaN / infinite values are an error naming the argument).
 */
export function pseudoMaskFromArray(
  att: ArrayWithShape,
  options: PseudoMaskFromArrayOptions = {},
): ArrayWithShape<Float32Array | Int32Array | Uint8Array> & { shape: [number, number, number, number] } {
  const { data, shape } = att;
  if (shape.length !== 4 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new G2DError(`argument "attMap" must be a non-empty B x heads x h x w array, got shape [${shape.join(', ')}]`, { source: SRC });
  }
  const [B, heads, h, w] = shape as [number, number, number, number];
  if (data.length !== B * heads * h * w) {
    throw new G2DError(`argument "attMap" has ${data.length} values, its shape [${shape.join(', ')}] needs ${B * heads * h * w}`, { source: SRC });
  }
  const o = resolveOptions(options, heads);
  assertFiniteArray(data, 'argument "attMap"');

  const hw = h * w;
  const M = o.numMaps;
  const { outH, outW } = o;
  const plane = outH * outW;
  const maps = sourceMaps(data, B, heads, hw, M);
  const rowIdx = nearestIndices(h, outH);
  const colIdx = nearestIndices(w, outW);
  const rowCnt = indexCounts(rowIdx, h);
  const colCnt = indexCounts(colIdx, w);
  const out = allocate(o.dtype, B * M * plane);

  if (o.mode === 'code') {
    const weights = new Float64Array(hw);
    for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) weights[i * w + j] = rowCnt[i]! * colCnt[j]!;
    for (let k = 0; k < B * M; k++) {
      const mOff = k * hw;
      let thr: number;
      if (o.threshold === 'mean') {
        thr = numpyMeanF32Upsampled(maps, mOff, w, rowIdx, colIdx);
      } else {
        const set = new WeightedMultiset(maps.subarray(mOff, mOff + hw), weights);
        const stat = (i: number) => set.orderStat(i);
        thr = o.threshold === 'median' ? numpyMedianF32(stat, plane) : numpyQuantileLinear(stat, plane, o.quantile);
      }
      // The reference writes 1 where v > thr and then 0 where the (updated) map is <= thr,
      // so when thr >= 1 the freshly written ones are cleared again: the mask is empty.
      if (thr >= 1) continue;
      writeMask(out, k * plane, maps, mOff, w, rowIdx, colIdx, thr);
    }
    return { data: out, shape: [B, M, outH, outW] };
  }

  // paper mode: body mask -> attention outside the body ignored -> `>=` threshold over the
  // body -> bilateral smoothing of the edges -> again restricted to the body. All masks are
  // bit rows (bits.ts): the body once per image, the attention mask once per map.
  const S = rowStride(outW);
  const body = paperBodyBits(options, o, B, outH, outW);
  // the output columns [c0, c1) of each source column (nearest indices never decrease)
  const c0 = new Int32Array(w);
  const c1 = new Int32Array(w);
  for (let c = outW - 1; c >= 0; c--) c0[colIdx[c]!] = c;
  for (let c = 0; c < outW; c++) c1[colIdx[c]!] = c + 1;
  const cnt = new Float64Array(hw);
  const attRows = new Int32Array(h * S);
  const raw = new Int32Array(outH * S);
  const smoother = o.smoothing ? new BinarySmoother(outH, outW, o.smoothing) : null;
  for (let b = 0; b < B; b++) {
    const bOff = b * outH * S;
    // in-body pixels per source cell (the multiplicities of the in-body values)
    cnt.fill(0);
    for (let r = 0; r < outH; r++) {
      const sr = rowIdx[r]! * w;
      const ro = bOff + r * S;
      for (let j = 0; j < w; j++) if (c1[j]! > c0[j]!) cnt[sr + j] += countRange(body, ro, c0[j]!, c1[j]!);
    }
    let nBody = 0;
    for (let i = 0; i < hw; i++) nBody += cnt[i]!;
    if (nBody === 0) continue; // no body: empty masks
    for (let mi = 0; mi < M; mi++) {
      const k = b * M + mi;
      const mOff = k * hw;
      const src = maps.subarray(mOff, mOff + hw);
      let thr: number;
      if (o.threshold === 'mean') {
        let s = 0;
        for (let i = 0; i < hw; i++) s += cnt[i]! * src[i]!;
        thr = s / nBody;
      } else {
        const set = new WeightedMultiset(src, cnt);
        const stat = (i: number) => set.orderStat(i);
        thr = o.threshold === 'median' ? numpyMedianF32(stat, nBody) : numpyQuantileLinear(stat, nBody, o.quantile);
      }
      // raw mask = body AND (value >= thr), one attention bit row per source row
      attRows.fill(0);
      for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) if (src[i * w + j]! >= thr) setRange(attRows, i * S, c0[j]!, c1[j]!);
      for (let r = 0; r < outH; r++) {
        const ro = r * S;
        const ao = rowIdx[r]! * S;
        const bo = bOff + r * S;
        for (let q = 1; q < S - 1; q++) raw[ro + q] = body[bo + q]! & attRows[ao + q]!;
      }
      // smoothing flips only pixels inside the body, so the result stays inside it
      if (smoother) smoother.smooth(raw, 0, body, bOff);
      writeOnes(raw, 0, outH, outW, out, k * plane);
    }
  }
  return { data: out, shape: [B, M, outH, outW] };
}

/**
 * The body masks at the output size (nearest resize) as bit rows (B x outH rows of
 * `rowStride(outW)` words), from `bodyMask` (nonzero = body) or Otsu on `image`.
 */
function paperBodyBits(options: PseudoMaskFromArrayOptions, o: ResolvedOptions, B: number, outH: number, outW: number): Int32Array {
  const S = rowStride(outW);
  if (options.bodyMask !== undefined) {
    const bm = options.bodyMask as ArrayWithShape;
    const s = bm.shape;
    const ok = s[0] === B && (s.length === 3 || (s.length === 4 && s[1] === 1));
    if (!ok) {
      throw new G2DError(`option "bodyMask" must be B x 1 x H x W or B x H x W with B = ${B}, got shape [${s.join(', ')}]`, { source: SRC });
    }
    const H = s[s.length - 2]!;
    const W = s[s.length - 1]!;
    const data = bm.data;
    const out = new Int32Array(B * outH * S);
    if (H === outH && W === outW && data.length === B * H * W) {
      // pack and validate in one pass (every value is read; v * 0 is NaN exactly for NaN
      // and infinite values, so the sums stay 0 for finite data)
      let z0 = 0;
      let z1 = 0;
      let z2 = 0;
      let z3 = 0;
      for (let row = 0; row < B * H; row++) {
        const d = row * S + 1;
        for (let x0 = 0; x0 < W; x0 += 32) {
          const m = W - x0 < 32 ? W - x0 : 32;
          const p = row * W + x0;
          let word = 0;
          if (m === 32) {
            for (let k = 0; k < 32; k += 4) {
              const a = data[p + k]!;
              const b = data[p + k + 1]!;
              const c = data[p + k + 2]!;
              const e = data[p + k + 3]!;
              z0 += a * 0;
              z1 += b * 0;
              z2 += c * 0;
              z3 += e * 0;
              word |= ((a !== 0 ? 1 : 0) | (b !== 0 ? 2 : 0) | (c !== 0 ? 4 : 0) | (e !== 0 ? 8 : 0)) << k;
            }
          } else {
            for (let k = 0; k < m; k++) {
              const a = data[p + k]!;
              z0 += a * 0;
              word |= (a !== 0 ? 1 : 0) << k;
            }
          }
          out[d + (x0 >> 5)] = word;
        }
      }
      const bad = z0 + z1 + z2 + z3 !== 0;
      if (bad) assertFiniteArray(data, 'option "bodyMask"');
      return out;
    }
    assertFiniteArray(data, 'option "bodyMask"');
    const ri = nearestIndices(H, outH);
    const ci = nearestIndices(W, outW);
    for (let b = 0; b < B; b++) {
      for (let r = 0; r < outH; r++) {
        const sp = b * H * W + ri[r]! * W;
        const d = (b * outH + r) * S + 1;
        for (let c = 0; c < outW; c++) if (data[sp + ci[c]!]) out[d + (c >> 5)] |= 1 << (c & 31);
      }
    }
    return out;
  }
  if (options.image === undefined) {
    throw new G2DError('paper mode needs option "image" (the radiographs, for the body mask) or option "bodyMask"', { source: SRC });
  }
  const { bits, H, W } = bodyBitsFromImage(options.image as ArrayWithShape, o, B, true);
  if (H === outH && W === outW) return bits;
  const S1 = rowStride(W);
  const ri = nearestIndices(H, outH);
  const ci = nearestIndices(W, outW);
  const out = new Int32Array(B * outH * S);
  for (let b = 0; b < B; b++) {
    for (let r = 0; r < outH; r++) {
      const d = (b * outH + r) * S;
      if (r > 0 && ri[r] === ri[r - 1]) {
        out.copyWithin(d, d - S, d);
        continue;
      }
      const so = (b * H + ri[r]!) * S1 + 1;
      if (W === outW) {
        for (let q = 1; q < S - 1; q++) out[d + q] = bits[so + q - 1]!;
        continue;
      }
      for (let c = 0; c < outW; c++) {
        const x = ci[c]!;
        if ((bits[so + (x >> 5)]! >>> (x & 31)) & 1) out[d + 1 + (c >> 5)] |= 1 << (c & 31);
      }
    }
  }
  return out;
}
