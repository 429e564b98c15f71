/**
 * Bilateral smoothing of binary masks, exact and fast (see `BinarySmoother`), and the
 * one-mask convenience `bilateralSmoothBinary`.
 */
import { lowBit, packMask, rowStride } from '../bits';
import { CandidateFinder } from './candidates';
import { bilateralKernel, type BilateralKernel, type BilateralOptions } from './kernel';
import { RowSums } from './row-sums';

/**
 * Bilateral smoothing of bit-packed h x w binary masks (see `bilateralSmoothBinary` for the
 * exact definition). Construct once per image size and options, then call `smooth` on as
 * many masks as needed; all scratch space is reused.
 *
 * How it is fast while computing exactly the same sums as the plain definition:
 * - only pixels that can change are evaluated: a pixel whose clamped (2s+1)^2 box holds one
 *   value never flips (s = the kernel's `safeRadius`; 2 for the defaults sigmaSpace 3,
 *   sigmaColor 1, radius 6). `CandidateFinder` finds the others with word operations.
 * - the horizontal window sum of a pixel is a table lookup on its (2r+1)-bit window
 *   pattern, computed once per mask for the pixels the candidates read (`RowSums`);
 * - each candidate's vertical sum is the definition's loop over the window rows, top to
 *   bottom, so every candidate gets exactly the definition's floating-point result.
 */
export class BinarySmoother {
  /** false when the filter is the identity (radius 0 or sigmaColor <= 0) */
  readonly active: boolean;
  readonly radius: number;
  /** the box radius below which a pixel cannot flip */
  readonly safeRadius: number;
  private readonly k: BilateralKernel;
  private readonly S: number;
  private readonly finder: CandidateFinder | null;
  private readonly sums: RowSums | null;
  /** the flips of one pass (applied after every candidate was evaluated) */
  private readonly flips: Int32Array;

  constructor(readonly h: number, readonly w: number, opts: BilateralOptions = {}) {
    const k = bilateralKernel(h, w, opts);
    this.k = k;
    this.active = k.active;
    this.radius = k.radius;
    this.safeRadius = k.safeRadius;
    const S = rowStride(w);
    this.S = S;
    const used = k.active && k.safeRadius > 0;
    this.finder = used ? new CandidateFinder(h, w, S, k.safeRadius) : null;
    this.sums = used ? new RowSums(h, w, S, k) : null;
    this.flips = new Int32Array(used ? h * S : 0);
  }

  /**
   * Smooths the bit-packed mask at `bits[off..]` in place. With `body` (bit rows at
   * `bodyOff`), pixels outside the body are not evaluated (their result is left as it was:
   * the caller intersects with the body, and the mask is expected to lie inside it).
   */
  smooth(bits: Int32Array, off: number, body: Int32Array | null = null, bodyOff = 0): void {
    const { finder, sums } = this;
    if (!finder || !sums) return;
    if (!finder.find(bits, off, body, bodyOff)) return;
    sums.compute(bits, off, finder.cand, finder.activeCols);
    if (this.decide(bits, off, finder.cand, finder.activeCols, sums.hor)) this.applyFlips(bits, off);
  }

  /** Evaluates every candidate into `flips`; true when any pixel flips. */
  private decide(bits: Int32Array, off: number, cand: Int32Array, activeCols: Int32Array, hor: Float64Array): boolean {
    const { h, w, S, flips } = this;
    const { g, tx, wr } = this.k;
    const r = this.radius;
    const W32 = S - 2;
    let nFlips = 0;
    for (let y = 0; y < h; y++) {
      const co = y * S;
      const y0 = y - r < 0 ? 0 : y - r;
      const y1 = y + r > h - 1 ? h - 1 : y + r;
      const k0 = y0 - y + r;
      const ty = this.k.ty[y]!;
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
    return nFlips !== 0;
  }

  private applyFlips(bits: Int32Array, off: number): void {
    const { h, S, flips } = this;
    const W32 = S - 2;
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
