/**
 * Bit-packed binary images: the paper-mode fast path keeps its masks as rows of 32-bit words
 * so that whole-row operations (AND with the body, edge detection, dilation, hole filling
 * by runs, popcounts) cost a few word operations per 32 pixels.
 *
 * Layout of an h x w image: `h` rows of `rowStride(w)` Int32 words each. Word 0 of a row is
 * a zero pad word, pixel x is bit `x & 31` of word `1 + (x >> 5)`, and the last word is a
 * zero pad word again. Bits past `w` in the last data word are always 0. The pad words let a
 * window read up to 32 bits to either side of the image without bounds checks.
 */

/** Words per packed row of width `w` (data words plus one zero pad word on each side). */
export function rowStride(w: number): number {
  return ((w + 31) >> 5) + 2;
}

/** The valid-bit mask of data word `i` of a row of width `w`. */
export function wordMask(w: number, i: number): number {
  const rest = w - (i << 5);
  return rest >= 32 ? -1 : rest <= 0 ? 0 : (1 << rest) - 1;
}

export function popcount32(v: number): number {
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

/** Index (0..31) of the lowest set bit of a non-zero word. */
export function lowBit(v: number): number {
  return 31 - Math.clz32(v & -v);
}

/** Sets pixels [a, b) of the row whose pad word is at `off`. */
export function setRange(words: Int32Array, off: number, a: number, b: number): void {
  if (a >= b) return;
  const wa = off + 1 + (a >> 5);
  const wb = off + 1 + ((b - 1) >> 5);
  const ma = -1 << (a & 31);
  const mb = -1 >>> (31 - ((b - 1) & 31));
  if (wa === wb) {
    words[wa] |= ma & mb;
    return;
  }
  words[wa] |= ma;
  for (let k = wa + 1; k < wb; k++) words[k] = -1;
  words[wb] |= mb;
}

/** Number of set pixels in [a, b) of the row whose pad word is at `off`. */
export function countRange(words: Int32Array, off: number, a: number, b: number): number {
  if (a >= b) return 0;
  const wa = off + 1 + (a >> 5);
  const wb = off + 1 + ((b - 1) >> 5);
  const ma = -1 << (a & 31);
  const mb = -1 >>> (31 - ((b - 1) & 31));
  if (wa === wb) return popcount32(words[wa]! & ma & mb);
  let n = popcount32(words[wa]! & ma) + popcount32(words[wb]! & mb);
  for (let k = wa + 1; k < wb; k++) n += popcount32(words[k]!);
  return n;
}

/** The first set pixel at or after `x` in the row (pad word at `off`, width `w`), or `w`. */
export function nextSet(words: Int32Array, off: number, x: number, w: number): number {
  if (x >= w) return w;
  let wi = x >> 5;
  const last = (w - 1) >> 5;
  let v = words[off + 1 + wi]! & (-1 << (x & 31));
  while (v === 0) {
    if (++wi > last) return w;
    v = words[off + 1 + wi]!;
  }
  const p = (wi << 5) + lowBit(v);
  return p < w ? p : w;
}

/** The first clear pixel at or after `x` in the row (pad word at `off`, width `w`), or `w`. */
export function nextClear(words: Int32Array, off: number, x: number, w: number): number {
  if (x >= w) return w;
  let wi = x >> 5;
  const last = (w - 1) >> 5;
  let v = ~words[off + 1 + wi]! & (-1 << (x & 31));
  while (v === 0) {
    if (++wi > last) return w;
    v = ~words[off + 1 + wi]!;
  }
  const p = (wi << 5) + lowBit(v);
  return p < w ? p : w;
}

/** Packs an h x w byte mask (nonzero = 1) into bit rows. */
export function packMask(mask: ArrayLike<number>, h: number, w: number): Int32Array {
  const S = rowStride(w);
  const out = new Int32Array(h * S);
  for (let y = 0; y < h; y++) {
    const src = y * w;
    const dst = y * S + 1;
    for (let x0 = 0; x0 < w; x0 += 32) {
      const n = w - x0 < 32 ? w - x0 : 32;
      let word = 0;
      for (let k = 0; k < n; k++) if (mask[src + x0 + k] !== 0) word |= 1 << k;
      out[dst + (x0 >> 5)] = word;
    }
  }
  return out;
}

/** Writes 1 into `out[offset + y * w + x]` for every set pixel of the bit rows (`out` is zero there). */
export function writeOnes(
  bits: Int32Array,
  bitsOff: number,
  h: number,
  w: number,
  out: Float32Array | Int32Array | Uint8Array,
  offset: number,
): void {
  const S = rowStride(w);
  for (let y = 0; y < h; y++) {
    const off = bitsOff + y * S;
    const o = offset + y * w;
    let x = nextSet(bits, off, 0, w);
    while (x < w) {
      const e = nextClear(bits, off, x, w);
      // short runs by hand: TypedArray.fill costs a builtin call per run
      if (e - x > 48) out.fill(1, o + x, o + e);
      else for (let p = o + x; p < o + e; p++) out[p] = 1;
      x = nextSet(bits, off, e, w);
    }
  }
}

/**
 * Fills the holes of the h x w bit image at `off` in place: every 0-run that is not
 * 4-connected (through other 0-runs of the adjacent rows) to the image border becomes 1.
 * Breadth-first search over the runs of 0s, so it costs O(runs), not O(pixels).
 */
export class HoleFiller {
  private runS: Int32Array;
  private runE: Int32Array;
  private runY: Int32Array;
  private rowStart: Int32Array;
  private queue: Int32Array;
  private seen: Uint8Array;

  constructor(readonly h: number, readonly w: number) {
    const cap = h * ((w + 1) >> 1) + 1;
    this.runS = new Int32Array(cap);
    this.runE = new Int32Array(cap);
    this.runY = new Int32Array(cap);
    this.queue = new Int32Array(cap);
    this.seen = new Uint8Array(cap);
    this.rowStart = new Int32Array(h + 1);
  }

  fill(bits: Int32Array, off: number): void {
    const { h, w, runS, runE, runY, rowStart, queue, seen } = this;
    const S = rowStride(w);
    let n = 0;
    for (let y = 0; y < h; y++) {
      rowStart[y] = n;
      const ro = off + y * S;
      let x = nextClear(bits, ro, 0, w);
      while (x < w) {
        const e = nextSet(bits, ro, x, w);
        runS[n] = x;
        runE[n] = e;
        runY[n] = y;
        n++;
        x = nextClear(bits, ro, e, w);
      }
    }
    rowStart[h] = n;
    seen.fill(0, 0, n);
    let tail = 0;
    for (let i = 0; i < n; i++) {
      const y = runY[i]!;
      if (y === 0 || y === h - 1 || runS[i] === 0 || runE[i] === w) {
        seen[i] = 1;
        queue[tail++] = i;
      }
    }
    for (let head = 0; head < tail; head++) {
      const i = queue[head]!;
      const y = runY[i]!;
      const s = runS[i]!;
      const e = runE[i]!;
      for (let yn = y - 1; yn <= y + 1; yn += 2) {
        if (yn < 0 || yn >= h) continue;
        // first run of row yn that ends after s (runs of a row are sorted and disjoint)
        let lo = rowStart[yn]!;
        let hi = rowStart[yn + 1]!;
        const end = hi;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (runE[mid]! > s) hi = mid;
          else lo = mid + 1;
        }
        for (let j = lo; j < end && runS[j]! < e; j++) {
          if (!seen[j]) {
            seen[j] = 1;
            queue[tail++] = j;
          }
        }
      }
    }
    if (tail === n) return;
    for (let i = 0; i < n; i++) if (!seen[i]) setRange(bits, off + runY[i]! * S, runS[i]!, runE[i]!);
  }
}
