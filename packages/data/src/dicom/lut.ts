/**
 * From stored values to a displayable grey image: Modality LUT (LUT sequence or rescale
 * slope/intercept), VOI (VOI LUT sequence or window centre/width), then normalisation to the
 * nominal output range and MONOCHROME1 inversion. Arithmetic follows pydicom 2.4's
 * `apply_modality_lut` / `apply_voi_lut(prefer_lut=True)` step by step in float64, so the
 * results agree bit for bit.
 */
import { G2DError } from '@g2d-ts/core';
import type { DicomMeta, DicomPixels, StoredArray } from './read';

export interface PresentationOptions {
  /** apply the VOI LUT / window (first one) when present (default true) */
  voi?: boolean;
  /** which window / VOI LUT to use when several are given (default 0) */
  voiIndex?: number;
  /** invert MONOCHROME1 so that bone is bright (default true) */
  invertMonochrome1?: boolean;
  /** frame to use (default 0) */
  frame?: number;
}

export interface Presented {
  width: number;
  height: number;
  /** grey values in [0, 1]: 0 = the nominal minimum (black), 1 = the nominal maximum (white) */
  data: Float64Array;
  /** the nominal range [lo, hi] of the values before normalisation */
  range: [number, number];
  /** what was applied, in order */
  steps: string[];
}

/** Stored range [min, max] implied by BitsStored and PixelRepresentation. */
export function storedRange(meta: Pick<DicomMeta, 'bitsStored' | 'pixelRepresentation'>): [number, number] {
  const b = meta.bitsStored;
  return meta.pixelRepresentation === 1 ? [-(2 ** (b - 1)), 2 ** (b - 1) - 1] : [0, 2 ** b - 1];
}

/** pydicom `apply_modality_lut`. Returns the values and the nominal output range. */
export function applyModalityLut(values: ArrayLike<number>, meta: DicomMeta): { out: Float64Array; range: [number, number]; step?: string } {
  const n = values.length;
  const out = new Float64Array(n);
  const lut = meta.modalityLut;
  if (lut) {
    const [entries, first, depth] = lut.descriptor;
    const d = lut.data;
    for (let i = 0; i < n; i++) {
      const v = values[i]!;
      let k = v >= first ? v - first : 0;
      if (k > entries - 1) k = entries - 1;
      if (k < 0) k = 0;
      out[i] = d[k]!;
    }
    return { out, range: [0, 2 ** depth - 1], step: `modality LUT sequence (${entries} entries, first ${first}, ${depth} bits)` };
  }
  const [smin, smax] = storedRange(meta);
  if (meta.rescaleSlope !== undefined && meta.rescaleIntercept !== undefined) {
    const s = meta.rescaleSlope;
    const b = meta.rescaleIntercept;
    for (let i = 0; i < n; i++) out[i] = values[i]! * s + b;
    const a = smin * s + b;
    const z = smax * s + b;
    return { out, range: [Math.min(a, z), Math.max(a, z)], step: `rescale slope ${s} intercept ${b}` };
  }
  for (let i = 0; i < n; i++) out[i] = values[i]!;
  return { out, range: [smin, smax] };
}

/** pydicom `apply_voi_lut(prefer_lut=True)` on modality values (in place when windowing). */
export function applyVoi(values: Float64Array, meta: DicomMeta, index = 0): { out: Float64Array; range: [number, number]; step?: string } | undefined {
  const src = meta.source;
  if (meta.voiLut) {
    const [entries, first, depth] = meta.voiLut.descriptor;
    if (!(depth === 8 || (depth >= 10 && depth <= 16))) throw new G2DError(`VOI LUT with ${depth} bits per entry is not supported`, { source: src });
    const d = meta.voiLut.data;
    const out = new Float64Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      let k = v >= first ? Math.trunc(v - first) : 0;
      if (k > entries - 1) k = entries - 1;
      if (k < 0) k = 0;
      out[i] = depth === 8 ? d[k]! & 0xff : d[k]!;
    }
    return { out, range: [0, 2 ** depth - 1], step: `VOI LUT sequence (${entries} entries, ${depth} bits)` };
  }
  const wc = meta.windowCenter;
  const ww = meta.windowWidth;
  if (!wc || !ww) return undefined;
  if (!['MONOCHROME1', 'MONOCHROME2'].includes(meta.photometricInterpretation)) return undefined;
  let center = wc.length > 1 ? wc[index] : wc[0];
  let width = ww.length > 1 ? ww[index] : ww[0];
  if (center === undefined || width === undefined) throw new G2DError(`window index ${index} out of range (${wc.length} windows)`, { source: src });
  const fn = meta.voiLutFunction ?? 'LINEAR';
  let yMin: number;
  let yMax: number;
  if (meta.modalityLut) {
    yMin = 0;
    yMax = 2 ** meta.modalityLut.descriptor[2] - 1;
  } else if (meta.pixelRepresentation === 0) {
    yMin = 0;
    yMax = 2 ** meta.bitsStored - 1;
  } else {
    yMin = -(2 ** (meta.bitsStored - 1));
    yMax = 2 ** (meta.bitsStored - 1) - 1;
  }
  if (meta.rescaleSlope !== undefined && meta.rescaleIntercept !== undefined) {
    yMin = yMin * meta.rescaleSlope + meta.rescaleIntercept;
    yMax = yMax * meta.rescaleSlope + meta.rescaleIntercept;
  }
  const yRange = yMax - yMin;
  const out = values;
  const c0 = center;
  const w0 = width;
  if (fn === 'LINEAR' || fn === 'LINEAR_EXACT') {
    if (fn === 'LINEAR') {
      if (width < 1) throw new G2DError(`Window Width ${width} must be >= 1 for a LINEAR window`, { source: src });
      center -= 0.5;
      width -= 1;
    } else if (width <= 0) throw new G2DError(`Window Width ${width} must be > 0 for a LINEAR_EXACT window`, { source: src });
    const lo = center - width / 2;
    const hi = center + width / 2;
    for (let i = 0; i < out.length; i++) {
      const v = out[i]!;
      if (v <= lo) out[i] = yMin;
      else if (v > hi) out[i] = yMax;
      else out[i] = ((v - center) / width + 0.5) * yRange + yMin;
    }
  } else if (fn === 'SIGMOID') {
    if (width <= 0) throw new G2DError(`Window Width ${width} must be > 0 for a SIGMOID window`, { source: src });
    for (let i = 0; i < out.length; i++) out[i] = yRange / (1 + Math.exp((-4 * (out[i]! - center)) / width)) + yMin;
  } else {
    throw new G2DError(`unsupported VOI LUT Function "${fn}"`, { source: src });
  }
  return { out, range: [Math.min(yMin, yMax), Math.max(yMin, yMax)], step: `window ${fn} centre ${c0} width ${w0}` };
}

/** Luma of pixel-interleaved RGB (ITU-R 601, as Pillow's convert('L') for 8 bits). */
function rgbToGray(px: ArrayLike<number>, n: number, eightBit: boolean): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const r = px[3 * i]!;
    const g = px[3 * i + 1]!;
    const b = px[3 * i + 2]!;
    out[i] = eightBit ? (r * 19595 + g * 38470 + b * 7471 + 0x8000) >>> 16 : (r * 299 + g * 587 + b * 114) / 1000;
  }
  return out;
}

/**
 * The grey image after Modality LUT, VOI and MONOCHROME1 inversion, normalised to [0, 1]
 * over the nominal range (see `g2d-data convert --help` for the exact mapping).
 */
export function present(px: DicomPixels, opts: PresentationOptions = {}): Presented {
  const { meta } = px;
  const frame = opts.frame ?? 0;
  if (!(frame >= 0 && frame < meta.numberOfFrames)) throw new G2DError(`frame ${frame} out of range (0..${meta.numberOfFrames - 1})`, { source: meta.source });
  const n = meta.rows * meta.columns;
  const spp = meta.samplesPerPixel;
  const stored = (px.pixels as StoredArray).subarray(frame * n * spp, (frame + 1) * n * spp);
  const pi = meta.photometricInterpretation;
  const steps: string[] = [];
  let g: Float64Array;
  let range: [number, number];
  if (pi === 'MONOCHROME1' || pi === 'MONOCHROME2') {
    const m = applyModalityLut(stored, meta);
    if (m.step) steps.push(m.step);
    g = m.out;
    range = m.range;
    if (opts.voi !== false) {
      const v = applyVoi(g, meta, opts.voiIndex ?? 0);
      if (v) {
        g = v.out;
        range = v.range;
        if (v.step) steps.push(v.step);
      }
    }
  } else if (spp === 3 && (pi === 'RGB' || pi === 'YBR_FULL')) {
    const [, smax] = storedRange(meta);
    if (pi === 'RGB') {
      g = rgbToGray(stored, n, meta.bitsStored <= 8);
      steps.push('RGB to grey (ITU-R 601 luma)');
    } else {
      g = new Float64Array(n);
      for (let i = 0; i < n; i++) g[i] = stored[3 * i]!;
      steps.push('YBR_FULL: luma channel Y');
    }
    range = [0, smax];
  } else {
    throw new G2DError(`Photometric Interpretation "${pi}" with ${spp} sample(s) cannot be turned into a grey image`, { source: meta.source });
  }
  const [lo, hi] = range;
  const span = hi - lo;
  const inv = pi === 'MONOCHROME1' && opts.invertMonochrome1 !== false;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let u = span > 0 ? (g[i]! - lo) / span : 0;
    if (u < 0) u = 0;
    else if (u > 1) u = 1;
    out[i] = inv ? 1 - u : u;
  }
  steps.push(`normalise [${lo}, ${hi}] to [0, 1]`);
  if (inv) steps.push('MONOCHROME1 inverted (1 - u)');
  return { width: meta.columns, height: meta.rows, data: out, range, steps };
}

/**
 * present() + quantize() in one pass: for grey images with BitsStored <= 16 every step is a
 * function of the stored value alone, so the whole chain is evaluated once per possible value
 * (same arithmetic, same results) and applied as a lookup table.
 */
export function presentQuantized(px: DicomPixels, maxValue: number, opts: PresentationOptions = {}): { width: number; height: number; data: Uint8Array | Uint16Array; steps: string[] } {
  const { meta } = px;
  const pi = meta.photometricInterpretation;
  const mono = pi === 'MONOCHROME1' || pi === 'MONOCHROME2';
  const frame = opts.frame ?? 0;
  const n = meta.rows * meta.columns;
  if (!mono || meta.bitsStored > 16 || meta.samplesPerPixel !== 1 || !(frame >= 0 && frame < meta.numberOfFrames)) {
    const p = present(px, opts);
    const q = quantize(p, maxValue);
    return { width: p.width, height: p.height, data: maxValue <= 255 ? Uint8Array.from(q) : q, steps: p.steps };
  }
  const [smin, smax] = storedRange(meta);
  const count = smax - smin + 1;
  const values = new Int32Array(count);
  for (let k = 0; k < count; k++) values[k] = smin + k;
  const table = present({ meta: { ...meta, rows: 1, columns: count, numberOfFrames: 1 }, pixels: values }, { ...opts, frame: 0 });
  const lut = quantize(table, maxValue);
  const stored = (px.pixels as StoredArray).subarray(frame * n, (frame + 1) * n);
  const out = maxValue <= 255 ? new Uint8Array(n) : new Uint16Array(n);
  applyTable(stored, smin, lut, out);
  return { width: meta.columns, height: meta.rows, data: out, steps: table.steps };
}

/**
 * out[i] = lut[stored[i] - smin]. The common type pairs get their own loop (one array type per
 * access site keeps V8's element loads monomorphic); anything else takes the generic loop.
 */
function applyTable(stored: StoredArray, smin: number, lut: Uint16Array, out: Uint8Array | Uint16Array): void {
  if (smin === 0 && out instanceof Uint8Array) {
    const lut8 = Uint8Array.from(lut);
    if (stored instanceof Uint8Array) return map8to8(stored, lut8, out);
    if (stored instanceof Uint16Array) return map16to8(stored, lut8, out);
  } else if (smin === 0 && out instanceof Uint16Array) {
    if (stored instanceof Uint16Array) return map16to16(stored, lut, out);
    if (stored instanceof Uint8Array) return map8to16(stored, lut, out);
  }
  const n = out.length;
  for (let i = 0; i < n; i++) out[i] = lut[stored[i]! - smin]!;
}

// the packed loops read/write 32-bit words holding 2 or 4 samples (half or a quarter of the
// loads and stores); they assume a little-endian host, as Node on x64/arm64 is
const LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const aligned = (a: ArrayBufferView) => LE && a.byteOffset % 4 === 0;

/**
 * out[i] = lut[s[i]]: the whole 32-bit output words (`per` samples each) through `words` when
 * both arrays are 4-byte aligned (s32 holds the same samples as o32, as 32-bit words), the
 * rest one by one.
 */
function mapPacked<S extends Uint8Array | Uint16Array, O extends Uint8Array | Uint16Array>(
  s: S,
  lut: ArrayLike<number>,
  out: O,
  per: number,
  words: (s32: Uint32Array, o32: Uint32Array, q: number) => void,
): void {
  const n = out.length;
  let i = 0;
  if (aligned(s) && aligned(out)) {
    const q = Math.floor(n / per);
    words(new Uint32Array(s.buffer, s.byteOffset, (q * per * s.BYTES_PER_ELEMENT) / 4), new Uint32Array(out.buffer, out.byteOffset, q), q);
    i = q * per;
  }
  for (; i < n; i++) out[i] = lut[s[i]!]!;
}
function map8to8(s: Uint8Array, lut: Uint8Array, out: Uint8Array): void {
  mapPacked(s, lut, out, 4, (s32, o32, q) => {
    for (let k = 0; k < q; k++) {
      const w = s32[k]!;
      o32[k] = lut[w & 0xff]! | (lut[(w >>> 8) & 0xff]! << 8) | (lut[(w >>> 16) & 0xff]! << 16) | (lut[w >>> 24]! << 24);
    }
  });
}
function map16to8(s: Uint16Array, lut: Uint8Array, out: Uint8Array): void {
  mapPacked(s, lut, out, 4, (s32, o32, q) => {
    for (let k = 0; k < q; k++) {
      const a = s32[2 * k]!;
      const b = s32[2 * k + 1]!;
      o32[k] = lut[a & 0xffff]! | (lut[a >>> 16]! << 8) | (lut[b & 0xffff]! << 16) | (lut[b >>> 16]! << 24);
    }
  });
}
function map16to16(s: Uint16Array, lut: Uint16Array, out: Uint16Array): void {
  mapPacked(s, lut, out, 2, (s32, o32, q) => {
    for (let k = 0; k < q; k++) {
      const w = s32[k]!;
      o32[k] = lut[w & 0xffff]! | (lut[w >>> 16]! << 16);
    }
  });
}
function map8to16(s: Uint8Array, lut: Uint16Array, out: Uint16Array): void {
  for (let i = 0; i < out.length; i++) out[i] = lut[s[i]!]!;
}

/** Quantise a presented image to integers 0..maxValue: floor(u * maxValue + 0.5). */
export function quantize(p: Presented, maxValue: number): Uint16Array {
  const out = new Uint16Array(p.data.length);
  for (let i = 0; i < out.length; i++) out[i] = Math.floor(p.data[i]! * maxValue + 0.5);
  return out;
}
