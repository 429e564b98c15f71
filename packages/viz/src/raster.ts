/**
 * RGBA rasters for looking at images: grey -> RGBA, resizing, heat-map and mask overlays,
 * boxes, grids. Every function returns a new image and leaves its inputs unchanged.
 *
 * Coordinates: pixel (x, y) covers [x, x+1) × [y, y+1); resampling uses pixel centres
 * (align_corners = false, as PyTorch's F.interpolate, OpenCV and PIL do).
 */
import { G2DError } from '@g2d-ts/core';
import { colormapTable, COLORMAPS, type ColormapName } from './colormap';
import { checkRange, isPositiveInt } from './util';

/** An 8-bit RGBA image, rows top to bottom, 4 bytes per pixel (the layout of ImageData). */
export interface Rgba {
  width: number;
  height: number;
  data: Uint8ClampedArray;
}

/** A single-channel float or integer map with its own size (heat maps, masks). */
export interface Plane {
  width: number;
  height: number;
  data: ArrayLike<number>;
}

export type Color = readonly [number, number, number] | readonly [number, number, number, number];

/** Throws a G2DError naming `name` unless `img` is a well-formed Rgba. */
export function checkRgba(img: unknown, name: string): Rgba {
  const r = img as Rgba;
  const data: unknown = r?.data;
  if (!r || typeof r !== 'object' || !isPositiveInt(r.width) || !isPositiveInt(r.height) || !(data instanceof Uint8ClampedArray || data instanceof Uint8Array)) {
    throw new G2DError('must be an RGBA image {width, height, data: Uint8ClampedArray}', { source: name });
  }
  if (r.data.length !== r.width * r.height * 4) {
    throw new G2DError(`data has ${r.data.length} bytes, expected width·height·4 = ${r.width * r.height * 4}`, { source: name });
  }
  return r;
}

function checkColor(c: unknown, name: string): [number, number, number, number] {
  if (!Array.isArray(c) || (c.length !== 3 && c.length !== 4) || !c.every((v) => typeof v === 'number' && v >= 0 && v <= 255)) {
    throw new G2DError(`must be [r, g, b] or [r, g, b, a] with values in 0..255, got ${JSON.stringify(c)}`, { source: name });
  }
  return [c[0], c[1], c[2], c.length === 4 ? c[3] : 255];
}

function checkSize(w: unknown, h: unknown, name: string): void {
  if (!isPositiveInt(w) || !isPositiveInt(h)) throw new G2DError(`width and height must be positive integers, got ${JSON.stringify(w)} × ${JSON.stringify(h)}`, { source: name });
}

/** A new image filled with one colour (default opaque black). */
export function createRgba(width: number, height: number, fill: Color = [0, 0, 0, 255]): Rgba {
  checkSize(width, height, 'createRgba');
  const [r, g, b, a] = checkColor(fill, 'createRgba: fill');
  const data = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < data.length; i += 4) {
    data[i] = r;
    data[i + 1] = g;
    data[i + 2] = b;
    data[i + 3] = a;
  }
  return { width, height, data };
}

function copyRgba(img: Rgba): Rgba {
  return { width: img.width, height: img.height, data: new Uint8ClampedArray(img.data) };
}

export interface GrayToRgbaOptions {
  /**
   * the values that map to black and white. Default: [0, 255] for Uint8Array, [0, 65535] for
   * Uint16Array, [0, 1] for floats; 'minmax': the data's own min and max
   */
  range?: [number, number] | 'minmax';
}

/** A grey image as opaque RGBA: round(255·(v − lo)/(hi − lo)), clamped; NaN -> black. */
export function grayToRgba(gray: Uint8Array | Uint16Array | Float32Array | Float64Array, width: number, height: number, opts: GrayToRgbaOptions = {}): Rgba {
  checkSize(width, height, 'grayToRgba');
  if (!ArrayBuffer.isView(gray)) throw new G2DError('gray must be a Uint8Array, Uint16Array, Float32Array or Float64Array', { source: 'grayToRgba' });
  if (gray.length !== width * height) throw new G2DError(`gray has ${gray.length} values, expected width·height = ${width}·${height} = ${width * height}`, { source: 'grayToRgba' });
  let lo: number;
  let hi: number;
  if (opts.range === 'minmax') {
    lo = Infinity;
    hi = -Infinity;
    for (let i = 0; i < gray.length; i++) {
      const v = gray[i]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (!(hi > lo)) hi = lo + 1;
  } else if (opts.range) {
    const r = opts.range;
    if (!Array.isArray(r) || r.length !== 2 || !(r[1] > r[0]) || !r.every(Number.isFinite)) {
      throw new G2DError(`must be [black, white] with black < white, or 'minmax', got ${JSON.stringify(r)}`, { source: 'grayToRgba: options.range' });
    }
    [lo, hi] = r;
  } else if (gray instanceof Uint8Array) [lo, hi] = [0, 255];
  else if (gray instanceof Uint16Array) [lo, hi] = [0, 65535];
  else [lo, hi] = [0, 1];
  const k = 255 / (hi - lo);
  const out = new Uint8ClampedArray(width * height * 4);
  for (let i = 0, o = 0; i < gray.length; i++, o += 4) {
    const v = gray[i]!;
    // Uint8ClampedArray rounds half to even; round half up explicitly for predictability
    const g = Number.isNaN(v) ? 0 : Math.min(255, Math.max(0, Math.floor((v - lo) * k + 0.5)));
    out[o] = g;
    out[o + 1] = g;
    out[o + 2] = g;
    out[o + 3] = 255;
  }
  return { width, height, data: out };
}

/** A decoded grey image of @g2d-ts/data ({width, height, data, maxValue}) as RGBA, 0..maxValue -> black..white. */
export function grayImageToRgba(img: { width: number; height: number; data: Uint8Array | Uint16Array; maxValue: number }): Rgba {
  if (!img || typeof img.maxValue !== 'number' || !(img.maxValue > 0)) throw new G2DError('must be a grey image {width, height, data, maxValue}', { source: 'grayImageToRgba' });
  return grayToRgba(img.data, img.width, img.height, { range: [0, img.maxValue] });
}

/** Per output index: source indices and weights (area average when shrinking, bilinear otherwise). */
function axisWeights(inSize: number, outSize: number, mode: 'auto' | 'bilinear'): { idx: Int32Array; w: Float64Array; start: Int32Array } {
  const scale = inSize / outSize;
  const idx: number[] = [];
  const w: number[] = [];
  const start = new Int32Array(outSize + 1);
  for (let o = 0; o < outSize; o++) {
    start[o] = idx.length;
    if (mode === 'auto' && scale > 1) {
      const a = o * scale;
      const b = (o + 1) * scale;
      for (let i = Math.floor(a); i < Math.min(inSize, Math.ceil(b)); i++) {
        const cover = Math.min(b, i + 1) - Math.max(a, i);
        if (cover > 1e-12) {
          idx.push(i);
          w.push(cover / scale);
        }
      }
    } else {
      const c = Math.min(inSize - 1, Math.max(0, (o + 0.5) * scale - 0.5));
      const i0 = Math.floor(c);
      const f = c - i0;
      idx.push(i0);
      w.push(1 - f);
      if (f > 0 && i0 + 1 < inSize) {
        idx.push(i0 + 1);
        w.push(f);
      }
    }
  }
  start[outSize] = idx.length;
  return { idx: Int32Array.from(idx), w: Float64Array.from(w), start };
}

/** Separable resampling of `channels` interleaved float channels. */
function resample(src: ArrayLike<number>, inW: number, inH: number, channels: number, outW: number, outH: number, mode: 'auto' | 'bilinear'): Float64Array {
  const wx = axisWeights(inW, outW, mode);
  const wy = axisWeights(inH, outH, mode);
  const tmp = new Float64Array(outW * inH * channels);
  for (let y = 0; y < inH; y++) {
    for (let o = 0; o < outW; o++) {
      for (let c = 0; c < channels; c++) {
        let s = 0;
        for (let k = wx.start[o]!; k < wx.start[o + 1]!; k++) s += wx.w[k]! * src[(y * inW + wx.idx[k]!) * channels + c]!;
        tmp[(y * outW + o) * channels + c] = s;
      }
    }
  }
  const out = new Float64Array(outW * outH * channels);
  for (let o = 0; o < outH; o++) {
    for (let x = 0; x < outW; x++) {
      for (let c = 0; c < channels; c++) {
        let s = 0;
        for (let k = wy.start[o]!; k < wy.start[o + 1]!; k++) s += wy.w[k]! * tmp[(wy.idx[k]! * outW + x) * channels + c]!;
        out[(o * outW + x) * channels + c] = s;
      }
    }
  }
  return out;
}

/**
 * Resize an image: area averaging along an axis that shrinks (no aliasing in thumbnails),
 * bilinear along one that grows.
 */
export function resizeRgba(img: Rgba, width: number, height: number): Rgba {
  checkRgba(img, 'resizeRgba: img');
  checkSize(width, height, 'resizeRgba');
  if (width === img.width && height === img.height) return copyRgba(img);
  const f = resample(img.data, img.width, img.height, 4, width, height, 'auto');
  const data = new Uint8ClampedArray(f.length);
  for (let i = 0; i < f.length; i++) data[i] = Math.floor(f[i]! + 0.5);
  return { width, height, data };
}

/** Resize to fit inside maxSide × maxSide keeping the aspect ratio (never enlarges). */
export function fitRgba(img: Rgba, maxSide: number): Rgba {
  checkRgba(img, 'fitRgba: img');
  const s = Math.min(1, maxSide / Math.max(img.width, img.height));
  if (s >= 1) return copyRgba(img);
  return resizeRgba(img, Math.max(1, Math.round(img.width * s)), Math.max(1, Math.round(img.height * s)));
}

/** Bilinear resize of a single-channel map (align_corners = false), float64 out. */
export function resizeBilinearPlane(plane: Plane, width: number, height: number): Float64Array {
  checkPlane(plane, 'resizeBilinearPlane: plane');
  checkSize(width, height, 'resizeBilinearPlane');
  return resample(plane.data, plane.width, plane.height, 1, width, height, 'bilinear');
}

function checkPlane(p: unknown, name: string): Plane {
  const q = p as Plane;
  if (!q || typeof q !== 'object' || !isPositiveInt(q.width) || !isPositiveInt(q.height) || !q.data || typeof q.data.length !== 'number') {
    throw new G2DError('must be {width, height, data} with data an array of numbers', { source: name });
  }
  if (q.data.length !== q.width * q.height) throw new G2DError(`data has ${q.data.length} values, expected width·height = ${q.width * q.height}`, { source: name });
  return q;
}

/** A map given as {width, height, data}, or as a bare array that must be square (or the base's size). */
function asPlane(m: Plane | ArrayLike<number>, base: Rgba, name: string): Plane {
  if (m && typeof m === 'object' && 'width' in m && 'height' in m && 'data' in m) return checkPlane(m, name);
  const a = m as ArrayLike<number>;
  if (!a || typeof a.length !== 'number') throw new G2DError('must be {width, height, data} or an array of numbers', { source: name });
  if (a.length === base.width * base.height) return { width: base.width, height: base.height, data: a };
  const s = Math.round(Math.sqrt(a.length));
  if (s > 0 && s * s === a.length) return { width: s, height: s, data: a };
  throw new G2DError(`has ${a.length} values: neither the base image's ${base.width}×${base.height} nor a square map; pass {width, height, data}`, { source: name });
}

export interface HeatmapOptions {
  /** opacity of the colours over the base (default 0.5) */
  alpha?: number;
  colormap?: ColormapName;
  /**
   * how values map to [0, 1] before colouring: true (default) = the map's min..max;
   * false = taken as already in [0, 1] (clamped); [lo, hi] = a fixed range (comparable
   * colours across images)
   */
  normalize?: boolean | [number, number];
  /** normalised values below this are left uncoloured (default 0: colour everything) */
  threshold?: number;
}

/**
 * Colour a heat map (any size, bilinear-resized to the base) over an image:
 * out = round((1 − α)·base + α·colormap(v)) per channel, base alpha kept.
 */
export function overlayHeatmap(base: Rgba, heat: Plane | Float32Array | ArrayLike<number>, opts: HeatmapOptions = {}): Rgba {
  checkRgba(base, 'overlayHeatmap: base');
  const plane = asPlane(heat as Plane | ArrayLike<number>, base, 'overlayHeatmap: heat');
  const alpha = checkRange(opts.alpha ?? 0.5, 0, 1, 'overlayHeatmap: options.alpha');
  const threshold = checkRange(opts.threshold ?? 0, 0, 1, 'overlayHeatmap: options.threshold');
  const cmapName = opts.colormap ?? 'jet';
  if (!COLORMAPS.includes(cmapName)) throw new G2DError(`unknown colormap ${JSON.stringify(cmapName)}; one of ${COLORMAPS.join(', ')}`, { source: 'overlayHeatmap: options.colormap' });
  const lut = colormapTable(cmapName);
  const src = plane.data;
  for (let i = 0; i < src.length; i++) {
    if (!Number.isFinite(src[i]!)) throw new G2DError(`contains ${src[i]} at index ${i} (row ${Math.floor(i / plane.width)}, column ${i % plane.width})`, { source: 'overlayHeatmap: heat' });
  }
  let lo = 0;
  let hi = 1;
  const norm = opts.normalize ?? true;
  if (norm === true) {
    lo = Infinity;
    hi = -Infinity;
    for (let i = 0; i < src.length; i++) {
      if (src[i]! < lo) lo = src[i]!;
      if (src[i]! > hi) hi = src[i]!;
    }
  } else if (Array.isArray(norm)) {
    if (norm.length !== 2 || !norm.every(Number.isFinite) || !(norm[1] > norm[0])) {
      throw new G2DError(`must be true, false or [lo, hi] with lo < hi, got ${JSON.stringify(norm)}`, { source: 'overlayHeatmap: options.normalize' });
    }
    [lo, hi] = norm;
  } else if (norm !== false) {
    throw new G2DError(`must be true, false or [lo, hi], got ${JSON.stringify(norm)}`, { source: 'overlayHeatmap: options.normalize' });
  }
  const span = hi - lo;
  const unit = new Float64Array(src.length);
  // a constant map has no contrast: it maps to the bottom of the colormap
  for (let i = 0; i < src.length; i++) unit[i] = span > 0 ? Math.min(1, Math.max(0, (src[i]! - lo) / span)) : 0;
  const resized = plane.width === base.width && plane.height === base.height ? unit : resample(unit, plane.width, plane.height, 1, base.width, base.height, 'bilinear');
  const out = copyRgba(base);
  const d = out.data;
  for (let p = 0; p < resized.length; p++) {
    const t = resized[p]!;
    if (threshold > 0 && t < threshold) continue;
    const li = Math.round(255 * Math.min(1, Math.max(0, t))) * 3;
    const o = p * 4;
    for (let c = 0; c < 3; c++) d[o + c] = Math.floor((1 - alpha) * d[o + c]! + alpha * lut[li + c]! + 0.5);
  }
  return out;
}

/** Binary mask (1 = inside) at the base's size: nearest-neighbour resize, then value > threshold. */
function binaryMask(mask: Plane | ArrayLike<number | boolean>, base: Rgba, threshold: number, name: string): Uint8Array {
  const m = asPlane(mask as Plane | ArrayLike<number>, base, name);
  const W = base.width;
  const H = base.height;
  const out = new Uint8Array(W * H);
  for (let y = 0; y < H; y++) {
    const sy = Math.min(m.height - 1, Math.floor(((y + 0.5) * m.height) / H));
    for (let x = 0; x < W; x++) {
      const sx = Math.min(m.width - 1, Math.floor(((x + 0.5) * m.width) / W));
      const v = m.data[sy * m.width + sx] as number | boolean;
      out[y * W + x] = (typeof v === 'boolean' ? v : v > threshold) ? 1 : 0;
    }
  }
  return out;
}

/**
 * Mask pixels within `width` pixels of the outside (4-connected erosion); pixels beyond the
 * image border count as outside, so a mask touching the edge is closed there.
 */
export function maskBoundary(mask: Uint8Array, w: number, h: number, width = 1): Uint8Array {
  let inner = mask;
  for (let k = 0; k < width; k++) {
    const next = new Uint8Array(w * h);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const i = y * w + x;
        next[i] = inner[i] && x > 0 && x < w - 1 && y > 0 && y < h - 1 && inner[i - 1] && inner[i + 1] && inner[i - w] && inner[i + w] ? 1 : 0;
      }
    }
    inner = next;
  }
  const out = new Uint8Array(w * h);
  for (let i = 0; i < out.length; i++) out[i] = mask[i] && !inner[i] ? 1 : 0;
  return out;
}

export interface MaskOptions {
  /** RGB (default red [255, 0, 0]) */
  color?: Color;
  /** opacity (default 0.4 filled, 1 for an outline) */
  alpha?: number;
  /** paint only the boundary pixels of the mask (default false: fill it) */
  outline?: boolean;
  /** outline thickness in pixels (default 1) */
  outlineWidth?: number;
  /** values > threshold are inside (default 0.5; fits 0/1 and 0/255 masks) */
  threshold?: number;
}

/**
 * Paint a mask (the base's size, or any size resized nearest-neighbour) over an image:
 * out = round((1 − α)·base + α·color) on mask pixels (or only on its boundary).
 */
export function overlayMask(base: Rgba, mask: Plane | ArrayLike<number | boolean>, opts: MaskOptions = {}): Rgba {
  checkRgba(base, 'overlayMask: base');
  const [r, g, b] = checkColor(opts.color ?? [255, 0, 0], 'overlayMask: options.color');
  const outline = !!opts.outline;
  const alpha = checkRange(opts.alpha ?? (outline ? 1 : 0.4), 0, 1, 'overlayMask: options.alpha');
  const threshold = opts.threshold ?? 0.5;
  if (typeof threshold !== 'number' || !Number.isFinite(threshold)) throw new G2DError(`must be a finite number, got ${JSON.stringify(threshold)}`, { source: 'overlayMask: options.threshold' });
  const ow = opts.outlineWidth ?? 1;
  if (!isPositiveInt(ow)) throw new G2DError(`must be a positive integer, got ${JSON.stringify(ow)}`, { source: 'overlayMask: options.outlineWidth' });
  let m = binaryMask(mask, base, threshold, 'overlayMask: mask');
  if (outline) m = maskBoundary(m, base.width, base.height, ow);
  const out = copyRgba(base);
  const d = out.data;
  const col = [r, g, b];
  for (let p = 0; p < m.length; p++) {
    if (!m[p]) continue;
    const o = p * 4;
    for (let c = 0; c < 3; c++) d[o + c] = Math.floor((1 - alpha) * d[o + c]! + alpha * col[c]! + 0.5);
  }
  return out;
}

/**
 * Draw a rectangle outline. `box` = [x1, y1, x2, y2] in pixel units, corners rounded to whole
 * pixels; the outline covers pixels x1 ≤ x < x2, y1 ≤ y < y2 within `thickness` of the edge
 * (drawn inside the box; clipped to the image). A 4th colour component blends (0..255).
 */
export function drawBox(img: Rgba, box: readonly [number, number, number, number], color: Color = [255, 0, 0], thickness = 2): Rgba {
  checkRgba(img, 'drawBox: img');
  if (!Array.isArray(box) || box.length !== 4 || !box.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    throw new G2DError(`must be [x1, y1, x2, y2] of finite numbers, got ${JSON.stringify(box)}`, { source: 'drawBox: box' });
  }
  if (box[2] < box[0] || box[3] < box[1]) throw new G2DError(`needs x2 ≥ x1 and y2 ≥ y1, got ${JSON.stringify(box)}`, { source: 'drawBox: box' });
  const [r, g, b, a] = checkColor(color, 'drawBox: color');
  if (!isPositiveInt(thickness)) throw new G2DError(`must be a positive integer, got ${JSON.stringify(thickness)}`, { source: 'drawBox: thickness' });
  const x1 = Math.round(box[0]);
  const y1 = Math.round(box[1]);
  const x2 = Math.max(x1 + 1, Math.round(box[2]));
  const y2 = Math.max(y1 + 1, Math.round(box[3]));
  const out = copyRgba(img);
  const d = out.data;
  const al = a / 255;
  const col = [r, g, b];
  for (let y = Math.max(0, y1); y < Math.min(img.height, y2); y++) {
    const edgeRow = y < y1 + thickness || y >= y2 - thickness;
    for (let x = Math.max(0, x1); x < Math.min(img.width, x2); x++) {
      if (!edgeRow && x >= x1 + thickness && x < x2 - thickness) continue;
      const o = (y * img.width + x) * 4;
      for (let c = 0; c < 3; c++) d[o + c] = al === 1 ? col[c]! : Math.floor((1 - al) * d[o + c]! + al * col[c]! + 0.5);
    }
  }
  return out;
}

/**
 * A grid of images, `cols` per row, `pad` pixels around and between cells; each cell is as
 * large as the largest image and holds its image centred (odd leftovers go right/below).
 */
export function tile(images: readonly Rgba[], cols: number, pad = 4, background: Color = [255, 255, 255, 255]): Rgba {
  if (!Array.isArray(images) || images.length === 0) throw new G2DError('images must be a non-empty array of RGBA images', { source: 'tile' });
  images.forEach((im, i) => checkRgba(im, `tile: images[${i}]`));
  if (!isPositiveInt(cols)) throw new G2DError(`must be a positive integer, got ${JSON.stringify(cols)}`, { source: 'tile: cols' });
  if (!Number.isInteger(pad) || pad < 0) throw new G2DError(`must be a non-negative integer, got ${JSON.stringify(pad)}`, { source: 'tile: pad' });
  const cw = Math.max(...images.map((i) => i.width));
  const ch = Math.max(...images.map((i) => i.height));
  const c = Math.min(cols, images.length);
  const rows = Math.ceil(images.length / c);
  const out = createRgba(c * cw + (c + 1) * pad, rows * ch + (rows + 1) * pad, background);
  images.forEach((im, k) => {
    const ox = pad + (k % c) * (cw + pad) + Math.floor((cw - im.width) / 2);
    const oy = pad + Math.floor(k / c) * (ch + pad) + Math.floor((ch - im.height) / 2);
    for (let y = 0; y < im.height; y++) {
      out.data.set(im.data.subarray(y * im.width * 4, (y + 1) * im.width * 4), ((oy + y) * out.width + ox) * 4);
    }
  });
  return out;
}
