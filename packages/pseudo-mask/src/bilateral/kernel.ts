/**
 * The bilateral filter's constants for one image size and option set: the spatial Gaussian,
 * its clipped 1-D window sums, the range weight of the other class, the "safe" box radius
 * below which no pixel can flip, and the horizontal-sum lookup table.
 */

export interface BilateralOptions {
  /** spatial Gaussian sigma in output pixels (default 3) */
  sigmaSpace?: number;
  /** range Gaussian sigma in mask units (the 0/1 values; default 1) */
  sigmaColor?: number;
  /** window radius in pixels (default ceil(2 * sigmaSpace)); the window is (2r+1)^2 */
  radius?: number;
}

export const DEFAULT_BILATERAL = { sigmaSpace: 3, sigmaColor: 1 } as const;

/** Largest window (2r+1 pixels) whose horizontal sums come from a lookup table. */
const LUT_MAX_BITS = 16;

export interface BilateralKernel {
  /** false when the filter is the identity (radius 0 or sigmaColor <= 0) */
  active: boolean;
  radius: number;
  /** range weight of the other class: exp(-1 / (2 sigmaColor^2)) */
  wr: number;
  /** spatial Gaussian g[d + r], d = -r..r */
  g: Float64Array;
  /** clipped 1-D kernel sums along x (length w) and y (length h) */
  tx: Float64Array;
  ty: Float64Array;
  /** the box radius below which a pixel cannot flip (see `safeBoxRadius`) */
  safeRadius: number;
  /** horizontal window sums by bit pattern, or null for windows wider than LUT_MAX_BITS */
  lut: Float64Array | null;
}

/** 1-D window sums of g (radius r) over windows of radius s clipped to [0, len), left to right. */
function clippedSums(g: Float64Array, r: number, len: number, s: number): Float64Array {
  const t = new Float64Array(len);
  for (let i = 0; i < len; i++) {
    let acc = 0;
    for (let d = Math.max(-s, -i); d <= Math.min(s, len - 1 - i); d++) acc += g[d + r]!;
    t[i] = acc;
  }
  return t;
}

/**
 * The smallest box radius s whose uniformity rules out a flip everywhere: a pixel whose
 * clamped (2s+1)^2 box holds one value has at least the box's spatial weight on its own
 * side, and s is the smallest radius for which box weight * (1 + wr) > wr * window weight at
 * every pixel, clamped windows included (with a 1e-9 relative margin, far above the rounding
 * error of the sums). `r` when no smaller radius qualifies.
 */
function safeBoxRadius(g: Float64Array, r: number, h: number, w: number, tx: Float64Array, ty: Float64Array, wr: number): number {
  const need = (wr / (1 + wr)) * (1 + 1e-9);
  for (let s = 0; s < r; s++) {
    const ix = clippedSums(g, r, w, s);
    const iy = clippedSums(g, r, h, s);
    let mx = Infinity;
    let my = Infinity;
    for (let x = 0; x < w; x++) mx = Math.min(mx, ix[x]! / tx[x]!);
    for (let y = 0; y < h; y++) my = Math.min(my, iy[y]! / ty[y]!);
    if (mx * my > need) return s;
  }
  return r;
}

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

export function bilateralKernel(h: number, w: number, opts: BilateralOptions = {}): BilateralKernel {
  const sigmaSpace = opts.sigmaSpace ?? DEFAULT_BILATERAL.sigmaSpace;
  const sigmaColor = opts.sigmaColor ?? DEFAULT_BILATERAL.sigmaColor;
  const r = opts.radius ?? Math.ceil(2 * sigmaSpace);
  const active = r > 0 && sigmaColor > 0;
  const wr = Number.isFinite(sigmaColor) ? Math.exp(-1 / (2 * sigmaColor * sigmaColor)) : 1;
  if (!active) {
    const none = new Float64Array(0);
    return { active, radius: r, wr, g: new Float64Array(1), tx: none, ty: none, safeRadius: 0, lut: null };
  }
  const L = 2 * r + 1;
  const g = new Float64Array(L);
  for (let d = -r; d <= r; d++) g[d + r] = Math.exp(-(d * d) / (2 * sigmaSpace * sigmaSpace));
  const tx = clippedSums(g, r, w, r);
  const ty = clippedSums(g, r, h, r);
  return {
    active,
    radius: r,
    wr,
    g,
    tx,
    ty,
    safeRadius: safeBoxRadius(g, r, h, w, tx, ty, wr),
    lut: L <= LUT_MAX_BITS ? horizontalLut(g, `${sigmaSpace},${r}`) : null,
  };
}
