/**
 * The paper-mode body mask: Otsu's threshold over a histogram of the radiograph, the bright
 * (or dark) class as bit rows, holes filled. Plain typed-array code on bit-packed rows
 * (see bits.ts), no tensors; the threshold test is exactly the histogram's bin test.
 */
import { HoleFiller, rowStride, wordMask } from './bits';

/** Scratch space of `otsuBodyBits` (one per batch, reused for every image). */
export class OtsuScratch {
  readonly hist: Int32Array;
  readonly filler: HoleFiller;
  /** [min, max, 1 if a NaN was seen] of the last `minMax` */
  readonly mm = new Float64Array(3);
  constructor(readonly h: number, readonly w: number, readonly bins: number) {
    this.hist = new Int32Array(4 * bins);
    this.filler = new HoleFiller(h, w);
  }
}

/**
 * min / max of a[off .. off+n) into `mm[0]`, `mm[1]`, with `mm[2]` = 1 when a NaN was seen.
 * NaNs are ignored by the min / max (as `<` / `>` ignore them).
 */
function minMax(a: Float32Array, off: number, n: number, mm: Float64Array): void {
  const end = off + n;
  let min = a[off]!;
  let max = min;
  // Math.min / Math.max propagate NaN (a cheap NaN test); -0 vs 0 does not matter below
  for (let i = off + 1; i < end; i++) {
    const v = a[i]!;
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  let nan = 0;
  if (min !== min) {
    // NaN seen: the min / max of the other values (as `<` / `>` ignore NaN)
    nan = 1;
    min = Infinity;
    max = -Infinity;
    for (let i = off; i < end; i++) {
      const v = a[i]!;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  mm[0] = min;
  mm[1] = max;
  mm[2] = nan;
}

/**
 * Histogram of a[off .. end) into h[0 .. bins): bin of v is `floor((v - min) * scale)`
 * clamped to the last bin (NaN counts in bin 0). Counted in four interleaved histograms
 * (h = 4 x bins; consecutive pixels often share a bin, separate counters keep the
 * increments independent), summed into the first.
 */
function histogram(a: Float32Array, off: number, end: number, min: number, scale: number, bins: number, h: Int32Array): void {
  const last = bins - 1;
  const o1 = bins;
  const o2 = 2 * bins;
  const o3 = 3 * bins;
  h.fill(0);
  let i = off;
  for (; i + 3 < end; i += 4) {
    // >= 0: truncation is floor
    let b = ((a[i]! - min) * scale) | 0;
    h[b < bins ? b : last]++;
    b = ((a[i + 1]! - min) * scale) | 0;
    h[o1 + (b < bins ? b : last)]++;
    b = ((a[i + 2]! - min) * scale) | 0;
    h[o2 + (b < bins ? b : last)]++;
    b = ((a[i + 3]! - min) * scale) | 0;
    h[o3 + (b < bins ? b : last)]++;
  }
  for (; i < end; i++) {
    const b = ((a[i]! - min) * scale) | 0;
    h[b < bins ? b : last]++;
  }
  for (let b = 0; b < bins; b++) h[b] += h[o1 + b]! + h[o2 + b]! + h[o3 + b]!;
}

/**
 * Otsu's threshold of a[off .. off+n) over a `bins`-bin histogram spanning [min, max]:
 * the bin index `t` maximising the between-class variance (the bright class is the bins
 * `> t`; the first maximum wins), or -1 when all values are equal. `min`/`max` are
 * `mm[0]`/`mm[1]` (from `minMax`).
 */
function otsuBinOf(
  a: Float32Array,
  off: number,
  n: number,
  bins: number,
  hist: Int32Array,
  min: number,
  max: number,
): number {
  if (!(max > min)) return -1;
  const scale = bins / (max - min);
  histogram(a, off, off + n, min, scale, bins, hist);
  let sumAll = 0;
  for (let b = 0; b < bins; b++) sumAll += b * hist[b]!;
  let w0 = 0;
  let sum0 = 0;
  let best = -1;
  let bestVar = -1;
  for (let t = 0; t < bins - 1; t++) {
    w0 += hist[t]!;
    sum0 += t * hist[t]!;
    const w1 = n - w0;
    if (w0 === 0 || w1 === 0) continue;
    const m0 = sum0 / w0;
    const m1 = (sumAll - sum0) / w1;
    const between = w0 * w1 * (m0 - m1) * (m0 - m1);
    if (between > bestVar) {
      bestVar = between;
      best = t;
    }
  }
  return best;
}

const f32 = new Float32Array(1);
const i32 = new Int32Array(f32.buffer);

/** An integer key with the order of the float32 values (-0 and 0 both map to 0). */
function floatKey(v: number): number {
  f32[0] = v;
  const b = i32[0]!;
  return b >= 0 ? b : -2147483648 - b;
}

function keyFloat(k: number): number {
  i32[0] = k >= 0 ? k : -2147483648 - k;
  return f32[0]!;
}

/**
 * The smallest float32 v in [min, max] with `(v - min) * scale >= t1` (finite min < max,
 * 1 <= t1 <= (max - min) * scale): the test is monotone in v (rounding is monotone), so for
 * float32 values it is exactly `v >= result`. Binary search over the float32 order.
 */
function thresholdValue(min: number, max: number, scale: number, t1: number): number {
  let lo = floatKey(min); // test false (0 < t1)
  let hi = floatKey(max); // test true
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if ((keyFloat(mid) - min) * scale >= t1) hi = mid;
    else lo = mid;
  }
  return keyFloat(hi);
}

/**
 * Bit rows of `a[p] >= vs` (or its complement when not `bright`) for the h x w float32
 * image at a[off..] (NaN is never >= vs).
 */
function classify(a: Float32Array, off: number, h: number, w: number, vs: number, bright: boolean, bits: Int32Array, bitsOff: number): void {
  const S = rowStride(w);
  const flip = bright ? 0 : -1;
  for (let y = 0; y < h; y++) {
    const dst = bitsOff + y * S + 1;
    const src = off + y * w;
    for (let x0 = 0; x0 < w; x0 += 32) {
      const m = w - x0 < 32 ? w - x0 : 32;
      const p = src + x0;
      let word = 0;
      if (m === 32) {
        for (let k = 0; k < 32; k += 4) {
          const q = p + k;
          word |= ((a[q]! >= vs ? 1 : 0) | (a[q + 1]! >= vs ? 2 : 0) | (a[q + 2]! >= vs ? 4 : 0) | (a[q + 3]! >= vs ? 8 : 0)) << k;
        }
      } else {
        for (let k = 0; k < m; k++) word |= (a[p + k]! >= vs ? 1 : 0) << k;
      }
      bits[dst + (x0 >> 5)] = (word ^ flip) & wordMaskOf(m);
    }
  }
}

/** `classify` with the test `(a[p] - min) * scale >= t1` itself (non-finite ranges). */
function classifyDirect(
  a: Float32Array,
  off: number,
  h: number,
  w: number,
  min: number,
  scale: number,
  t1: number,
  bright: boolean,
  bits: Int32Array,
  bitsOff: number,
): void {
  const S = rowStride(w);
  const flip = bright ? 0 : -1;
  let p = off;
  for (let y = 0; y < h; y++) {
    const dst = bitsOff + y * S + 1;
    for (let x0 = 0; x0 < w; x0 += 32) {
      const m = w - x0 < 32 ? w - x0 : 32;
      let word = 0;
      for (let k = 0; k < m; k++, p++) if ((a[p]! - min) * scale >= t1) word |= 1 << k;
      bits[dst + (x0 >> 5)] = (word ^ flip) & wordMaskOf(m);
    }
  }
}

/** The mask of the low m bits (1 <= m <= 32). */
function wordMaskOf(m: number): number {
  return m >= 32 ? -1 : (1 << m) - 1;
}

/**
 * The body mask of one grey image a[off .. off + h*w) into bit rows at `bits[bitsOff..]`:
 * Otsu threshold, the bright (or dark) class, holes filled (optional). A constant image is
 * all body. Returns false (and writes nothing) when the image holds NaN / infinite values
 * and `strict` is set, so that the caller can report the first bad index.
 */
export function otsuBodyBits(
  a: Float32Array,
  off: number,
  scratch: OtsuScratch,
  bright: boolean,
  fill: boolean,
  bits: Int32Array,
  bitsOff: number,
  strict: boolean,
): boolean {
  const { h, w, bins, hist, mm } = scratch;
  const n = h * w;
  const S = rowStride(w);
  minMax(a, off, n, mm);
  const min = mm[0]!;
  const max = mm[1]!;
  if (strict && (mm[2] || min === -Infinity || max === Infinity)) return false;
  const t = otsuBinOf(a, off, n, bins, hist, min, max);
  if (t < 0) {
    for (let y = 0; y < h; y++) for (let i = 1; i < S - 1; i++) bits[bitsOff + y * S + i] = wordMask(w, i - 1);
    return true;
  }
  // pixel p is in the bright class iff its bin floor((a[p] - min) * scale) (clamped to the
  // last bin) is above t, i.e. iff (a[p] - min) * scale >= t + 1 (same float operations),
  // i.e. iff a[p] >= the smallest float32 passing that test
  const scale = bins / (max - min);
  if (Number.isFinite(min) && Number.isFinite(max) && Number.isFinite(scale)) {
    classify(a, off, h, w, thresholdValue(min, max, scale, t + 1), bright, bits, bitsOff);
  } else {
    classifyDirect(a, off, h, w, min, scale, t + 1, bright, bits, bitsOff);
  }
  if (fill) scratch.filler.fill(bits, bitsOff);
  return true;
}
