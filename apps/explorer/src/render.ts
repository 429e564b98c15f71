/**
 * Canvas drawing: the grey image at display size, and overlays stretched over the region the
 * model sees (the preprocessing's crop, resized anisotropically to S², so a map of the model's
 * input maps back onto that rectangle). Heat maps are coloured with @g2d-ts/viz's colormaps and
 * get an opacity that grows with the value (low values leave the image visible); small maps
 * (attention, grounding: the bottleneck grid) are upsampled by the canvas' bilinear smoothing.
 */
import type { GrayImage } from '@g2d-ts/data/browser';
import { colormapTable, maskBoundary, type ColormapName } from '@g2d-ts/viz';

export interface BaseLayer {
  canvas: HTMLCanvasElement;
  /** display pixels per original pixel */
  scale: number;
}

/** The grey image as an RGB canvas, longest side at most `maxSide` display pixels (nearest sampling). */
export function baseLayer(img: GrayImage, maxSide = 768): BaseLayer {
  const scale = Math.min(1, maxSide / Math.max(img.width, img.height));
  const dw = Math.max(1, Math.round(img.width * scale));
  const dh = Math.max(1, Math.round(img.height * scale));
  const k = 255 / (img.maxValue || 1);
  const xs = new Int32Array(dw);
  for (let x = 0; x < dw; x++) xs[x] = Math.min(img.width - 1, Math.floor((x + 0.5) / scale));
  const canvas = paintedCanvas(dw, dh, (px) => {
    for (let y = 0; y < dh; y++) {
      const row = Math.min(img.height - 1, Math.floor((y + 0.5) / scale)) * img.width;
      for (let x = 0, o = y * dw * 4; x < dw; x++, o += 4) {
        const v = img.data[row + xs[x]!]! * k;
        px[o] = v;
        px[o + 1] = v;
        px[o + 2] = v;
        px[o + 3] = 255;
      }
    }
  });
  return { canvas, scale };
}

/** A w×h canvas whose RGBA pixels (all transparent black at first) `paint` writes. */
function paintedCanvas(w: number, h: number, paint: (rgba: Uint8ClampedArray) => void): HTMLCanvasElement {
  const c = document.createElement('canvas');
  c.width = w;
  c.height = h;
  const ctx = c.getContext('2d')!;
  const img = ctx.createImageData(w, h);
  paint(img.data);
  ctx.putImageData(img, 0, 0);
  return c;
}

export interface HeatOptions {
  /** value range mapped to the colormap (default: the map's min..max) */
  range?: [number, number];
  /** opacity at the top of the range (default 0.6) */
  alpha?: number;
  colormap?: ColormapName;
}

/** A w×h heat layer: colour and opacity both rise with the normalised value. */
export function heatLayer(values: ArrayLike<number>, w: number, h: number, opts: HeatOptions = {}): HTMLCanvasElement {
  let [lo, hi] = opts.range ?? [Infinity, -Infinity];
  if (!opts.range) {
    for (let i = 0; i < w * h; i++) {
      const v = values[i]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  const span = hi > lo ? hi - lo : 1;
  const alpha = opts.alpha ?? 0.6;
  const lut = colormapTable(opts.colormap ?? 'jet');
  return paintedCanvas(w, h, (px) => {
    for (let i = 0; i < w * h; i++) {
      const t = Math.min(1, Math.max(0, (values[i]! - lo) / span));
      const j = Math.round(t * 255) * 3;
      px[i * 4] = lut[j]!;
      px[i * 4 + 1] = lut[j + 1]!;
      px[i * 4 + 2] = lut[j + 2]!;
      px[i * 4 + 3] = Math.round(255 * alpha * t);
    }
  });
}

/** A binary mask drawn at display size (`dw`×`dh`): translucent fill and an opaque outline. */
export function maskLayer(mask: Uint8Array, size: number, dw: number, dh: number, color: [number, number, number] = [0, 229, 255], fill = 0.25): HTMLCanvasElement {
  const w = Math.max(1, Math.round(dw));
  const h = Math.max(1, Math.round(dh));
  const up = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    const sy = Math.min(size - 1, Math.floor(((y + 0.5) * size) / h));
    for (let x = 0; x < w; x++) up[y * w + x] = mask[sy * size + Math.min(size - 1, Math.floor(((x + 0.5) * size) / w))]!;
  }
  const edge = maskBoundary(up, w, h, 2);
  return paintedCanvas(w, h, (px) => {
    for (let i = 0; i < w * h; i++) {
      if (!up[i]) continue;
      px[i * 4] = color[0];
      px[i * 4 + 1] = color[1];
      px[i * 4 + 2] = color[2];
      px[i * 4 + 3] = edge[i] ? 255 : Math.round(255 * fill);
    }
  });
}

export interface Layer {
  canvas: HTMLCanvasElement;
  /** bilinear upsampling (heat maps) or nearest (masks already at display size) */
  smooth: boolean;
}

/** Draws the base image and the layers over the model's region `roi` (original pixels). */
export function compose(target: HTMLCanvasElement, base: BaseLayer, roi: { x: number; y: number; w: number; h: number }, layers: Layer[]): void {
  if (target.width !== base.canvas.width || target.height !== base.canvas.height) {
    target.width = base.canvas.width;
    target.height = base.canvas.height;
  }
  const ctx = target.getContext('2d')!;
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(base.canvas, 0, 0);
  const r = displayRoi(base, roi);
  for (const l of layers) {
    ctx.imageSmoothingEnabled = l.smooth;
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(l.canvas, r.x, r.y, r.w, r.h);
  }
}

/** The model's region in display pixels. */
export function displayRoi(base: BaseLayer, roi: { x: number; y: number; w: number; h: number }): { x: number; y: number; w: number; h: number } {
  return { x: roi.x * base.scale, y: roi.y * base.scale, w: roi.w * base.scale, h: roi.h * base.scale };
}
