/**
 * A tiny RGB raster for the README figures: pixels, lines, rectangles, text (the project's 5x7
 * font) and a PNG writer of our own (node:zlib deflate and CRC-32), written atomically.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { writeFileAtomic } from '../../packages/core/src/fs-atomic';
import { rasterText } from '../../packages/data/src/synth/font';

export type RGB = [number, number, number];

export class Canvas {
  readonly data: Uint8Array;
  constructor(readonly width: number, readonly height: number, bg: RGB = [255, 255, 255]) {
    this.data = new Uint8Array(width * height * 3);
    for (let i = 0; i < width * height; i++) this.data.set(bg, i * 3);
  }
  set(x: number, y: number, c: RGB, alpha = 1): void {
    x = Math.round(x);
    y = Math.round(y);
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const o = (y * this.width + x) * 3;
    for (let k = 0; k < 3; k++) this.data[o + k] = Math.round(this.data[o + k]! * (1 - alpha) + c[k]! * alpha);
  }
  /** paste a grey image (0..255) at (x0, y0), optionally quantised to multiples of `step` */
  grey(img: Uint8Array, w: number, h: number, x0: number, y0: number, step = 1): void {
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
      const v = step > 1 ? Math.min(255, Math.round(img[y * w + x]! / step) * step) : img[y * w + x]!;
      this.set(x0 + x, y0 + y, [v, v, v]);
    }
  }
  line(x0: number, y0: number, x1: number, y1: number, c: RGB, width = 1): void {
    const n = Math.max(1, Math.ceil(Math.hypot(x1 - x0, y1 - y0) * 2));
    for (let k = 0; k <= n; k++) {
      const x = x0 + ((x1 - x0) * k) / n, y = y0 + ((y1 - y0) * k) / n;
      for (let dy = 0; dy < width; dy++) for (let dx = 0; dx < width; dx++) this.set(x + dx - (width >> 1), y + dy - (width >> 1), c);
    }
  }
  rect(x0: number, y0: number, x1: number, y1: number, c: RGB, fill = false): void {
    if (fill) {
      for (let y = Math.round(y0); y <= Math.round(y1); y++) for (let x = Math.round(x0); x <= Math.round(x1); x++) this.set(x, y, c);
      return;
    }
    this.line(x0, y0, x1, y0, c);
    this.line(x1, y0, x1, y1, c);
    this.line(x1, y1, x0, y1, c);
    this.line(x0, y1, x0, y0, c);
  }
  /** outline of a 0/1 mask (pixels of the mask with a background 4-neighbour) */
  outline(mask: Uint8Array, w: number, h: number, x0: number, y0: number, c: RGB): void {
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
      const i = y * w + x;
      if (!mask[i]) continue;
      if (x === 0 || y === 0 || x === w - 1 || y === h - 1 || !mask[i - 1] || !mask[i + 1] || !mask[i - w] || !mask[i + w]) this.set(x0 + x, y0 + y, c);
    }
  }
  text(s: string, x0: number, y0: number, c: RGB, scale = 1): number {
    return rasterText(s, x0, y0, scale, (x, y) => this.set(x, y, c));
  }
  /** text rotated 90 degrees counter-clockwise (for y-axis labels) */
  textUp(s: string, x0: number, y0: number, c: RGB): void {
    rasterText(s, 0, 0, 1, (x, y) => this.set(x0 + y, y0 - x, c));
  }
}

/** Greedy word wrap to `cols` characters; keeps explicit newlines. */
export function wrap(text: string, cols: number): string[] {
  const out: string[] = [];
  for (const para of text.split('\n')) {
    let line = '';
    for (const w of para.split(/\s+/).filter(Boolean)) {
      if (line && line.length + 1 + w.length > cols) {
        out.push(line);
        line = '';
      }
      line = line ? `${line} ${w}` : w;
      while (line.length > cols) {
        out.push(line.slice(0, cols));
        line = line.slice(cols);
      }
    }
    out.push(line);
  }
  return out;
}

function chunk(type: string, body: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(body.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(Buffer.concat([head.subarray(4), body])) >>> 0, 0);
  return Buffer.concat([head, body, crc]);
}

/**
 * 8-bit PNG of the canvas: indexed colour when it has at most 256 colours (figures mostly do:
 * grey levels plus a few outline colours), else RGB; rows unfiltered, zlib level 9.
 */
export function encodeRgbPng(c: Canvas): Buffer {
  const n = c.width * c.height;
  const index = new Map<number, number>();
  const idx = new Uint8Array(n);
  for (let i = 0; i < n && index.size <= 256; i++) {
    const key = (c.data[i * 3]! << 16) | (c.data[i * 3 + 1]! << 8) | c.data[i * 3 + 2]!;
    let k = index.get(key);
    if (k === undefined) {
      k = index.size;
      index.set(key, k);
    }
    idx[i] = k & 255;
  }
  const indexed = index.size <= 256;
  const bpp = indexed ? 1 : 3;
  const stride = c.width * bpp + 1;
  const raw = Buffer.alloc(stride * c.height);
  for (let y = 0; y < c.height; y++) {
    raw[y * stride] = 0;
    if (indexed) raw.set(idx.subarray(y * c.width, (y + 1) * c.width), y * stride + 1);
    else raw.set(c.data.subarray(y * c.width * 3, (y + 1) * c.width * 3), y * stride + 1);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(c.width, 0);
  ihdr.writeUInt32BE(c.height, 4);
  ihdr.set([8, indexed ? 3 : 2, 0, 0, 0], 8);
  const chunks = [chunk('IHDR', ihdr)];
  if (indexed) {
    const plte = Buffer.alloc(index.size * 3);
    for (const [key, k] of index) plte.set([(key >> 16) & 255, (key >> 8) & 255, key & 255], k * 3);
    chunks.push(chunk('PLTE', plte));
  }
  chunks.push(chunk('IDAT', zlib.deflateSync(raw, { level: 9 })), chunk('IEND', new Uint8Array(0)));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), ...chunks]);
}

/** Write a file atomically (temporary file, fsync, rename), creating its folder. */
export function writeAtomic(file: string, bytes: Uint8Array | string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  writeFileAtomic(file, bytes);
}
