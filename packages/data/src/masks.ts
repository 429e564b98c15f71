/** Masks: SIIM-ACR run-length encoding (train-rle.csv) and boxes -> masks (RSNA segmentation). */
import { G2DError } from '@g2d-ts/core';

export interface Box {
  /** left, top, width, height in pixels */
  x: number;
  y: number;
  w: number;
  h: number;
  label?: string;
}

export interface Mask {
  width: number;
  height: number;
  /** row-major, 0 or 1 */
  data: Uint8Array;
}

/**
 * Decode a SIIM-ACR RLE string ("start length start length ...", each start relative to the end
 * of the previous run, pixels counted down the columns, i.e. column-major) into a row-major
 * 0/1 mask. "-1" (or empty) is an empty mask. Several RLE strings of one image are OR-ed.
 */
export function decodeSiimRle(rle: string | string[], width = 1024, height = 1024, source = '<rle>'): Mask {
  const data = new Uint8Array(width * height);
  const list = Array.isArray(rle) ? rle : [rle];
  for (const r of list) {
    const t = r.trim();
    if (t === '' || t === '-1') continue;
    const nums = t.split(/\s+/).map(Number);
    if (nums.length % 2 !== 0 || nums.some((n) => !Number.isInteger(n) || n < 0)) {
      throw new G2DError(`malformed RLE: expected pairs of non-negative integers, got ${nums.length} value(s)`, { source });
    }
    let pos = 0;
    for (let k = 0; k < nums.length; k += 2) {
      pos += nums[k]!;
      const len = nums[k + 1]!;
      if (pos + len > width * height) throw new G2DError(`RLE run ${k / 2} ends at pixel ${pos + len}, beyond the ${width}x${height} image`, { source });
      for (let p = pos; p < pos + len; p++) {
        const col = Math.floor(p / height);
        const row = p - col * height;
        data[row * width + col] = 1;
      }
      pos += len;
    }
  }
  return { width, height, data };
}

/** Encode a row-major 0/1 mask as SIIM relative column-major RLE ("-1" when empty). */
export function encodeSiimRle(mask: Mask): string {
  const { width, height, data } = mask;
  const out: number[] = [];
  let last = 0;
  let runStart = -1;
  const n = width * height;
  for (let p = 0; p <= n; p++) {
    let v = 0;
    if (p < n) {
      const col = Math.floor(p / height);
      const row = p - col * height;
      v = data[row * width + col]! ? 1 : 0;
    }
    if (v && runStart < 0) runStart = p;
    else if (!v && runStart >= 0) {
      out.push(runStart - last, p - runStart);
      last = p;
      runStart = -1;
    }
  }
  return out.length ? out.join(' ') : '-1';
}

/** Fill boxes into a 0/1 mask (pixels whose centre lies inside a box; boxes clipped to the image). */
export function boxesToMask(boxes: Box[], width: number, height: number): Mask {
  const data = new Uint8Array(width * height);
  for (const b of boxes) {
    const x0 = Math.max(0, Math.round(b.x));
    const y0 = Math.max(0, Math.round(b.y));
    const x1 = Math.min(width, Math.round(b.x + b.w));
    const y1 = Math.min(height, Math.round(b.y + b.h));
    for (let y = y0; y < y1; y++) data.fill(1, y * width + x0, y * width + Math.max(x0, x1));
  }
  return { width, height, data };
}
