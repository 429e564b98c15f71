/**
 * The paper-mode pieces: a body mask from histogram (Otsu) thresholding of the radiograph,
 * hole filling, and bilateral-filter smoothing of a binary mask. Plain typed-array code on
 * bit-packed rows (see bits.ts), no tensors.
 */
import { HoleFiller, lowBit, packMask, rowStride, wordMask } from './bits';

export interface BilateralOptions {
  /** spatial Gaussian sigma in output pixels (default 3) */
  sigmaSpace?: number;
  /** range Gaussian sigma in mask units (the 0/1 values; default 1) */
  sigmaColor?: number;
  /** window radius in pixels (default ceil(2 * sigmaSpace)); the window is (2r+1)^2 */
  radius?: number;
}

export const DEFAULT_BILATERAL = { sigmaSpace: 3, sigmaColor: 1 } as const;

// ---------------------------------------------------------------------------------------
// Otsu body mask
// ---------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------
// Bilateral smoothing of a binary mask
// ---------------------------------------------------------------------------------------

/** Largest window (2r+1 pixels) whose horizontal sums come from a lookup table. */
const LUT_MAX_BITS = 16;
let lutCache: { key: string; lut: Float64Array } | null = null;

/**
 * The exact horizontal window sums of a binary row: entry `pat` is the sum of `g[k]` over
 * the set bits k of `pat`, added in increasing k starting from 0, i.e. exactly the
 * left-to-right sum of the window's ones.
 */
function horizontalLut(g: Float64Array, key: string): Float64Array {
  if (lutCache?.key === key) return lutCache.lut;
  const L = g.length;
  const lut = new Float64Array(1 << L);
  for (let k = 0; k < L; k++) {
    const top = 1 << k;
    for (let p = 0; p < top; p++) lut[top | p] = lut[p]! + g[k]!;
  }
  lutCache = { key, lut };
  return lut;
}

/**
 * Bilateral smoothing of bit-packed h x w binary masks (see `bilateralSmoothBinary` for the
 * exact definition). Construct once per image size and options, then call `smooth` on as
 * many masks as needed; all scratch space is reused.
 *
 * How it is fast while computing exactly the same sums as the plain definition:
 * - only pixels that can change are evaluated. A pixel whose clamped (2s+1)^2 box holds one
 *   value has at least the box's spatial weight on its own side; `s` (`safeRadius`) is the
 *   smallest radius for which that weight provably outweighs `wr` times all the rest of the
 *   window, at every pixel (with a 1e-9 relative margin, far above the rounding error of the
 *   sums), so such a pixel never flips. For the defaults (sigmaSpace 3, sigmaColor 1,
 *   radius 6) s = 2. Candidates (pixels whose box contains an edge) are found with word
 *   operations on the bit rows: edges = row XOR (row shifted by one) | row XOR next row,
 *   OR-ed over 2s+1 rows, dilated horizontally by s.
 * - the horizontal window sum of a pixel is a table lookup on its (2r+1)-bit window
 *   pattern (the table holds the left-to-right sums of the set bits), computed once per
 *   mask for the pixels the candidates read (rows y-r..y+r of each candidate's column:
 *   a vertical dilation of the candidate bits, van Herk / Gil-Werman);
 * - each candidate's vertical sum is the definition's loop over the window rows, top to
 *   bottom, so every candidate gets exactly the definition's floating-point result.
 * Windows wider than 16 pixels (radius > 7) sum the row bits directly instead of the table.
 */
export class BinarySmoother {
  /** false when the filter is the identity (radius 0 or sigmaColor <= 0) */
  readonly active: boolean;
  readonly radius: number;
  /** the box radius below which a pixel cannot flip (see the class comment) */
  readonly safeRadius: number;
  private readonly wr: number;
  private readonly g: Float64Array;
  private readonly tx: Float64Array;
  private readonly ty: Float64Array;
  private readonly lut: Float64Array | null;
  private readonly S: number;
  /** edge bits and candidate bits, h rows each */
  private readonly edges: Int32Array;
  private readonly cand: Int32Array;
  /** the data words that may hold candidates */
  private readonly words: Int32Array;
  private readonly flips: Int32Array;
  private readonly rowEdges: Int32Array;
  private readonly bufA: Int32Array;
  private readonly bufB: Int32Array;
  private readonly pairMask: Int32Array;
  private readonly validMask: Int32Array;
  private readonly hor: Float64Array;
  /** rows of the pixels whose horizontal sums are needed */
  private readonly need: Int32Array;
  /** word columns with candidates (non-zero) */
  private readonly activeCols: Int32Array;
  private readonly pre: Int32Array;
  private readonly suf: Int32Array;

  constructor(readonly h: number, readonly w: number, opts: BilateralOptions = {}) {
    const sigmaSpace = opts.sigmaSpace ?? DEFAULT_BILATERAL.sigmaSpace;
    const sigmaColor = opts.sigmaColor ?? DEFAULT_BILATERAL.sigmaColor;
    const r = opts.radius ?? Math.ceil(2 * sigmaSpace);
    this.radius = r;
    this.active = r > 0 && sigmaColor > 0;
    this.wr = Number.isFinite(sigmaColor) ? Math.exp(-1 / (2 * sigmaColor * sigmaColor)) : 1;
    const S = rowStride(w);
    this.S = S;
    const L = this.active ? 2 * r + 1 : 1;
    const g = new Float64Array(L);
    for (let d = -r; d <= r && this.active; d++) g[d + r] = Math.exp(-(d * d) / (2 * sigmaSpace * sigmaSpace));
    this.g = g;
    // 1-D window sums of the kernel (the window is truncated at the border), left to right
    const partial = (len: number, s: number) => {
      const t = new Float64Array(len);
      for (let i = 0; i < len; i++) {
        let acc = 0;
        for (let d = Math.max(-s, -i); d <= Math.min(s, len - 1 - i); d++) acc += g[d + r]!;
        t[i] = acc;
      }
      return t;
    };
    const empty = new Int32Array(0);
    if (!this.active) {
      this.safeRadius = 0;
      this.tx = this.ty = this.hor = new Float64Array(0);
      this.lut = null;
      this.need = this.activeCols = this.pre = this.suf = empty;
      this.edges = this.cand = this.words = this.flips = this.rowEdges = this.bufA = this.bufB = this.pairMask = this.validMask = empty;
      return;
    }
    this.tx = partial(w, r);
    this.ty = partial(h, r);
    // the smallest box radius s whose uniformity rules out a flip everywhere:
    // box weight * (1 + wr) > wr * window weight, for every pixel (clamped windows included)
    const need = (this.wr / (1 + this.wr)) * (1 + 1e-9);
    let safe = r;
    for (let s = 0; s < r; s++) {
      const ix = partial(w, s);
      const iy = partial(h, s);
      let mx = Infinity;
      let my = Infinity;
      for (let x = 0; x < w; x++) mx = Math.min(mx, ix[x]! / this.tx[x]!);
      for (let y = 0; y < h; y++) my = Math.min(my, iy[y]! / this.ty[y]!);
      if (mx * my > need) {
        safe = s;
        break;
      }
    }
    this.safeRadius = safe;
    this.lut = L <= LUT_MAX_BITS ? horizontalLut(g, `${sigmaSpace},${r}`) : null;
    this.edges = new Int32Array(h * S);
    this.cand = new Int32Array(h * S);
    this.words = new Int32Array(S);
    this.flips = new Int32Array(h * S);
    this.rowEdges = new Int32Array(h + 1);
    this.bufA = new Int32Array(S);
    this.bufB = new Int32Array(S);
    this.pairMask = new Int32Array(S);
    this.validMask = new Int32Array(S);
    for (let i = 1; i < S - 1; i++) {
      this.pairMask[i] = wordMask(w - 1, i - 1);
      this.validMask[i] = wordMask(w, i - 1);
    }
    this.hor = new Float64Array(h * w);
    this.need = new Int32Array(h * S);
    this.activeCols = new Int32Array(S);
    this.pre = new Int32Array(h + 2 * r);
    this.suf = new Int32Array(h + 2 * r);
  }

  /**
   * Smooths the bit-packed mask at `bits[off..]` in place. With `body` (bit rows at
   * `bodyOff`), pixels outside the body are not evaluated (their result is left as it was:
   * the caller intersects with the body, and the mask is expected to lie inside it).
   */
  smooth(bits: Int32Array, off: number, body: Int32Array | null = null, bodyOff = 0): void {
    if (!this.active || this.safeRadius === 0) return;
    if (!this.findCandidates(bits, off, body, bodyOff)) return;
    this.horizontalSums(bits, off);
    const { h, w, S, g, hor, tx, wr, cand, flips, activeCols } = this;
    const r = this.radius;
    const W32 = S - 2;
    let nFlips = 0;
    for (let y = 0; y < h; y++) {
      const co = y * S;
      const y0 = y - r < 0 ? 0 : y - r;
      const y1 = y + r > h - 1 ? h - 1 : y + r;
      const k0 = y0 - y + r;
      const ty = this.ty[y]!;
      const row = off + co;
      for (let i = 1; i <= W32; i++) {
        if (!activeCols[i]) continue;
        let v = cand[co + i]!;
        if (v === 0) continue;
        const word = bits[row + i]!;
        let f = 0;
        while (v !== 0) {
          const bit = 31 - Math.clz32(v & -v);
          v &= v - 1;
          const x = ((i - 1) << 5) + bit;
          // the ones' weight: the definition's sum, top to bottom
          let o = 0;
          for (let k = k0, q = y0 * w + x; q <= y1 * w + x; k++, q += w) o += g[k]! * hor[q]!;
          const z = tx[x]! * ty - o;
          // out > 0.5  <=>  same-class weight > other-class weight (ties keep the value)
          if ((word >>> bit) & 1 ? wr * z > o : wr * o > z) f |= 1 << bit;
        }
        if (f !== 0) {
          flips[co + i] = f;
          nFlips++;
        }
      }
    }
    if (nFlips === 0) return;
    for (let y = 0; y < h; y++) {
      for (let i = 1; i <= W32; i++) {
        const f = flips[y * S + i]!;
        if (f !== 0) {
          bits[off + y * S + i] ^= f;
          flips[y * S + i] = 0;
        }
      }
    }
  }

  /**
   * Candidate bits into `cand` (pixels whose clamped (2s+1)^2 box may hold both values,
   * inside the body when given) and the word columns that hold any (`activeCols`).
   * Returns false when there is none.
   */
  private findCandidates(bits: Int32Array, off: number, body: Int32Array | null, bodyOff: number): boolean {
    const { h, S, edges, cand, rowEdges, pairMask, validMask, activeCols, words } = this;
    const s = this.safeRadius;
    const W32 = S - 2;
    // edge pairs: bit x of row y set when pixel (y, x) differs from (y, x+1) or (y+1, x)
    rowEdges[0] = 0;
    let total = 0;
    activeCols.fill(0);
    for (let y = 0; y < h; y++) {
      const base = off + y * S;
      const eb = y * S;
      let nz = 0;
      for (let i = 1; i <= W32; i++) {
        const cur = bits[base + i]!;
        let e = (cur ^ ((cur >>> 1) | (bits[base + i + 1]! << 31))) & pairMask[i]!;
        if (y < h - 1) e |= cur ^ bits[base + S + i]!;
        edges[eb + i] = e;
        activeCols[i] |= e;
        nz |= e;
      }
      if (nz !== 0) total++;
      rowEdges[y + 1] = total;
    }
    if (total === 0) return false;
    // the words that can hold candidates: those with edges and their neighbours (s < 32)
    let nw = 0;
    for (let i = 1; i <= W32; i++) {
      if (s >= 32 || activeCols[i - 1] || activeCols[i] || activeCols[i + 1]) words[nw++] = i;
    }
    activeCols.fill(0);
    const a = this.bufA;
    const b = this.bufB;
    a.fill(0); // words off the list stay 0 (they hold no edges)
    b.fill(0);
    let any = 0;
    for (let y = 0; y < h; y++) {
      const co = y * S;
      const y0 = y - s < 0 ? 0 : y - s;
      const y1 = y + s > h - 1 ? h - 1 : y + s;
      if (rowEdges[y1 + 1] === rowEdges[y0]) {
        for (let j = 0; j < nw; j++) cand[co + words[j]!] = 0;
        continue;
      }
      // OR of the edge rows y-s..y+s, then dilated horizontally by s (<= 31 bits a step)
      for (let j = 0; j < nw; j++) {
        const i = words[j]!;
        let v = 0;
        for (let q = y0 * S + i; q <= y1 * S + i; q += S) v |= edges[q]!;
        a[i] = v;
      }
      let src = a;
      let dst = b;
      for (let left = s; left > 0; ) {
        const d = left > 31 ? 31 : left;
        left -= d;
        for (let j = 0; j < nw; j++) {
          const i = words[j]!;
          const c = src[i]!;
          const lo = src[i - 1]!;
          const hi = src[i + 1]!;
          let v = c;
          for (let k = 1; k <= d; k++) v |= (c << k) | (lo >>> (32 - k)) | (c >>> k) | (hi << (32 - k));
          dst[i] = v & validMask[i]!;
        }
        const t = src;
        src = dst;
        dst = t;
      }
      const bo = bodyOff + co;
      for (let j = 0; j < nw; j++) {
        const i = words[j]!;
        const v = body ? src[i]! & body[bo + i]! : src[i]!;
        cand[co + i] = v;
        activeCols[i] |= v;
        any |= v;
      }
    }
    return any !== 0;
  }

  /**
   * `hor[y * w + x]` = the ones' weight of row y in the window around x (left to right), for
   * every pixel the candidates read: rows y-r..y+r of every candidate column.
   */
  private horizontalSums(bits: Int32Array, off: number): void {
    const { h, w, S, hor, lut, g, cand, activeCols } = this;
    const r = this.radius;
    const W32 = S - 2;
    const need = this.need;
    const L = g.length;
    const lmask = (1 << L) - 1;
    for (let i = 1; i <= W32; i++) {
      if (activeCols[i]) this.dilateColumn(cand, need, i, r);
    }
    for (let yy = 0; yy < h; yy++) {
      const no = yy * S;
      const ro = off + no;
      const hb = yy * w;
      for (let i = 1; i <= W32; i++) {
        if (!activeCols[i]) continue;
        let v = need[no + i]!;
        while (v !== 0) {
          const x = ((i - 1) << 5) + 31 - Math.clz32(v & -v);
          v &= v - 1;
          if (lut) {
            const pos = x - r + 32;
            const wi = ro + (pos >> 5);
            const sh = pos & 31;
            hor[hb + x] = lut[((bits[wi]! >>> sh) | ((bits[wi + 1]! << 1) << (31 - sh))) & lmask]!;
          } else {
            let hv = 0;
            for (let k = 0; k < L; k++) {
              const xx = x - r + k;
              if (xx >= 0 && xx < w && (bits[ro + 1 + (xx >> 5)]! >>> (xx & 31)) & 1) hv += g[k]!;
            }
            hor[hb + x] = hv;
          }
        }
      }
    }
  }

  /**
   * Word column i of `out` = OR of the rows y-R..y+R of `src` (rows outside the image count
   * as 0), for every row y: van Herk / Gil-Werman, prefix and suffix ORs over blocks of
   * 2R+1 rows, about three operations per word.
   */
  private dilateColumn(src: Int32Array, out: Int32Array, i: number, R: number): void {
    const { h, S, pre, suf } = this;
    const K = 2 * R + 1;
    const V = h + 2 * R; // virtual rows v = y + R
    for (let v = 0; v < V; v++) {
      const y = v - R;
      const x = y >= 0 && y < h ? src[y * S + i]! : 0;
      pre[v] = v % K === 0 ? x : pre[v - 1]! | x;
    }
    for (let v = V - 1; v >= 0; v--) {
      const y = v - R;
      const x = y >= 0 && y < h ? src[y * S + i]! : 0;
      suf[v] = v % K === K - 1 || v === V - 1 ? x : suf[v + 1]! | x;
    }
    // the window of row y in virtual rows is [y, y + 2R]
    for (let y = 0; y < h; y++) out[y * S + i] = suf[y]! | pre[y + 2 * R]!;
  }
}

/**
 * Bilateral filter of a binary mask, re-binarised at 0.5: for pixel p with value v,
 * `out = sum_q ws(p,q) wr(|v - m_q|) m_q / sum_q ws(p,q) wr(|v - m_q|)` over the square
 * (2r+1)^2 window clipped to the image, `ws(p,q) = g(dx) g(dy)` with `g(d) = exp(-d^2 /
 * (2 sigmaSpace^2))`, `wr(0) = 1`, `wr(1) = exp(-1 / (2 sigmaColor^2))`. On a 0/1 image this
 * is two Gaussian blurs: with `O = sum_q ws m_q` (the ones' weight, computed as
 * `sum_dy g(dy) * (sum_dx g(dx) m_q)`, each sum in increasing coordinate order) and
 * `Z = Tx * Ty - O` (`Tx`, `Ty` the clipped 1-D kernel sums), pixel p becomes 1 if out > 0.5,
 * 0 if out < 0.5, and keeps its value on an exact tie: a 1 turns 0 iff `wr * Z > O`, a 0
 * turns 1 iff `wr * O > Z`. It is an edge-aware weighted majority vote: it rounds staircase
 * corners and removes specks smaller than about sigmaSpace, and a pixel whose whole window
 * has one value never changes (only pixels within `radius` of an edge can change).
 * Returns a new mask (nonzero input = 1; unchanged pixels keep their input value).
 */
export function bilateralSmoothBinary(mask: Uint8Array, h: number, w: number, opts: BilateralOptions = {}): Uint8Array {
  const out = mask.slice();
  const sm = new BinarySmoother(h, w, opts);
  if (!sm.active) return out;
  const bits = packMask(mask, h, w);
  const before = bits.slice();
  sm.smooth(bits, 0);
  const S = rowStride(w);
  for (let y = 0; y < h; y++) {
    for (let i = 1; i < S - 1; i++) {
      let d = bits[y * S + i]! ^ before[y * S + i]!;
      while (d !== 0) {
        const x = ((i - 1) << 5) + lowBit(d);
        d &= d - 1;
        out[y * w + x] = mask[y * w + x] ? 0 : 1;
      }
    }
  }
  return out;
}
