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
    this.hist = new Int32Array(bins);
    this.filler = new HoleFiller(h, w);
  }
}

/** min / max of a[off .. off+n) (NaN ignored, as `<` / `>` ignore it) and whether a NaN was seen. */
function minMax(a: Float32Array, off: number, n: number, mm: Float64Array): void {
  let min = Infinity;
  let max = -Infinity;
  let nan = 0;
  const end = off + n;
  for (let i = off; i < end; i++) {
    const v = a[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
    if (v !== v) nan = 1;
  }
  mm[0] = min;
  mm[1] = max;
  mm[2] = nan;
}

/**
 * Otsu's threshold of a[off .. off+n) over a `bins`-bin histogram spanning [min, max]:
 * the bin index `t` maximising the between-class variance (the bright class is the bins
 * `> t`; the first maximum wins), or -1 when all values are equal. `min`/`max` are
 * `mm[0]`/`mm[1]` (from `minMax`).
 */
function otsuBinOf(a: Float32Array, off: number, n: number, bins: number, hist: Int32Array, min: number, max: number): number {
  if (!(max > min)) return -1;
  hist.fill(0);
  const scale = bins / (max - min);
  const last = bins - 1;
  const end = off + n;
  for (let i = off; i < end; i++) {
    const b = ((a[i]! - min) * scale) | 0; // >= 0: truncation is floor (NaN -> 0)
    hist[b < bins ? b : last]++;
  }
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

/**
 * The body mask of one grey image a[off .. off + h*w) into bit rows at `bits[bitsOff..]`:
 * Otsu threshold, the bright (or dark) class, holes filled (optional). A constant image is
 * all body. Returns false (and writes nothing) when the image holds NaN / infinite values
 * and `strict` is set, so that the caller can report the first bad index.
 *
 * Pixel p is bright iff `floor((a[p] - min) * bins / (max - min))` (clamped to the last bin)
 * is above the Otsu bin t, i.e. iff `(a[p] - min) * scale >= t + 1` (same float operations).
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
  const scale = bins / (max - min);
  const t1 = t + 1;
  for (let y = 0; y < h; y++) {
    const src = off + y * w;
    const dst = bitsOff + y * S + 1;
    for (let x0 = 0; x0 < w; x0 += 32) {
      const m = w - x0 < 32 ? w - x0 : 32;
      const p = src + x0;
      let word = 0;
      for (let k = 0; k < m; k++) if ((a[p + k]! - min) * scale >= t1) word |= 1 << k;
      bits[dst + (x0 >> 5)] = bright ? word : ~word & wordMask(w, x0 >> 5);
    }
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
 *   value has at least the box's spatial weight on its own side; `s` is the smallest radius
 *   for which that weight provably outweighs `wr` times all the rest of the window (with a
 *   1e-9 relative margin, far above the rounding error of the sums), so such a pixel never
 *   flips. Candidates (boxes containing an edge) are found with word operations on the bit
 *   rows: edges = row XOR row shifted (and XOR next row), dilated by s.
 * - the horizontal window sum of a pixel is a table lookup on the (2r+1)-bit window pattern
 *   (the table holds the left-to-right sums), computed once per needed pixel and cached;
 * - the vertical sum over the window's rows is the same top-to-bottom loop as the definition.
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
  private readonly edges: Int32Array;
  private readonly flips: Int32Array;
  private readonly rowEdges: Int32Array;
  private readonly bufA: Int32Array;
  private readonly bufB: Int32Array;
  private readonly pairMask: Int32Array;
  private readonly validMask: Int32Array;
  private readonly hor: Float64Array;
  private readonly stamp: Int32Array;
  private gen = 0;

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
      this.tx = this.ty = new Float64Array(0);
      this.lut = null;
      this.edges = this.flips = this.rowEdges = this.bufA = this.bufB = this.pairMask = this.validMask = empty;
      this.hor = new Float64Array(0);
      this.stamp = empty;
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
    this.stamp = new Int32Array(h * w);
  }

  /**
   * Smooths the bit-packed mask at `bits[off..]` in place. With `body` (bit rows at
   * `bodyOff`), pixels outside the body are not evaluated (their result is left as it was:
   * the caller intersects with the body, and the mask is expected to lie inside it).
   */
  smooth(bits: Int32Array, off: number, body: Int32Array | null = null, bodyOff = 0): void {
    if (!this.active || this.safeRadius === 0) return;
    const { h, w, S, edges, flips, rowEdges, pairMask, validMask } = this;
    const s = this.safeRadius;
    // edge pairs: bit x of row y set when pixel (y, x) differs from (y, x+1) or (y+1, x)
    rowEdges[0] = 0;
    let total = 0;
    for (let y = 0; y < h; y++) {
      const base = off + y * S;
      const eb = y * S;
      let nz = 0;
      for (let i = 1; i < S - 1; i++) {
        const cur = bits[base + i]!;
        let e = (cur ^ ((cur >>> 1) | (bits[base + i + 1]! << 31))) & pairMask[i]!;
        if (y < h - 1) e |= cur ^ bits[base + S + i]!;
        edges[eb + i] = e;
        nz |= e;
      }
      if (nz !== 0) total++;
      rowEdges[y + 1] = total;
    }
    if (total === 0) return;
    flips.fill(0);
    this.gen++;
    if (this.gen > 0x3fffffff) {
      this.stamp.fill(0);
      this.gen = 1;
    }
    let nFlips = 0;
    const a = this.bufA;
    const b = this.bufB;
    for (let y = 0; y < h; y++) {
      const y0 = y - s < 0 ? 0 : y - s;
      const y1 = y + s > h - 1 ? h - 1 : y + s;
      if (rowEdges[y1 + 1] === rowEdges[y0]) continue;
      // OR of the edge rows in the box, then dilated horizontally by s
      for (let i = 1; i < S - 1; i++) {
        let v = 0;
        for (let yy = y0; yy <= y1; yy++) v |= edges[yy * S + i]!;
        a[i] = v;
      }
      let src = a;
      let dst = b;
      for (let left = s; left > 0; ) {
        const d = left > 31 ? 31 : left;
        left -= d;
        for (let i = 1; i < S - 1; i++) {
          let v = src[i]!;
          const lo = src[i - 1]!;
          const hi = src[i + 1]!;
          for (let k = 1; k <= d; k++) v |= (src[i]! << k) | (lo >>> (32 - k)) | (src[i]! >>> k) | (hi << (32 - k));
          dst[i] = v & validMask[i]!;
        }
        const t = src;
        src = dst;
        dst = t;
      }
      const bodyRow = body ? bodyOff + y * S : -1;
      for (let i = 1; i < S - 1; i++) {
        let c = src[i]!;
        if (body) c &= body[bodyRow + i]!;
        while (c !== 0) {
          const bit = lowBit(c);
          c &= c - 1;
          if (this.decide(bits, off, y, ((i - 1) << 5) + bit)) {
            flips[y * S + i] |= 1 << bit;
            nFlips++;
          }
        }
      }
    }
    if (nFlips === 0) return;
    for (let y = 0; y < h; y++) for (let i = 1; i < S - 1; i++) bits[off + y * S + i] ^= flips[y * S + i]!;
  }

  /** Whether pixel (y, x) flips: the definition's sums, in the definition's order. */
  private decide(bits: Int32Array, off: number, y: number, x: number): boolean {
    const { h, w, S, g, hor, stamp, gen, lut } = this;
    const r = this.radius;
    const y0 = y - r < 0 ? 0 : y - r;
    const y1 = y + r > h - 1 ? h - 1 : y + r;
    const pos = x - r + 32;
    const wOff = pos >> 5;
    const sh = pos & 31;
    const lmask = (1 << g.length) - 1;
    let o = 0;
    for (let yy = y0; yy <= y1; yy++) {
      const q = yy * w + x;
      let hv: number;
      if (stamp[q] === gen) hv = hor[q]!;
      else {
        if (lut) {
          const wi = off + yy * S + wOff;
          hv = lut[((bits[wi]! >>> sh) | ((bits[wi + 1]! << 1) << (31 - sh))) & lmask]!;
        } else {
          hv = 0;
          const ro = off + yy * S + 1;
          for (let k = 0; k < g.length; k++) {
            const xx = x - r + k;
            if (xx >= 0 && xx < w && (bits[ro + (xx >> 5)]! >>> (xx & 31)) & 1) hv += g[k]!;
          }
        }
        hor[q] = hv;
        stamp[q] = gen;
      }
      o += g[yy - y + r]! * hv;
    }
    const z = this.tx[x]! * this.ty[y]! - o;
    const m = (bits[off + y * S + 1 + (x >> 5)]! >>> (x & 31)) & 1;
    // out > 0.5  <=>  same-class weight > other-class weight (ties keep the value)
    return m ? this.wr * z > o : this.wr * o > z;
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
