/**
 * The paper-mode pieces: a body mask from histogram (Otsu) thresholding of the radiograph
 * and bilateral-filter smoothing of a binary mask. Plain typed-array code, no tensors.
 */

/**
 * Otsu's threshold over a `bins`-bin histogram spanning [min, max] of `values[0..n)`.
 * Returns the histogram bin index `t` that maximises the between-class variance (the bright
 * class is the bins `> t`), or -1 when all values are equal (no threshold exists).
 */
export function otsuBin(values: ArrayLike<number>, n: number, bins: number): { bin: number; min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (!(max > min)) return { bin: -1, min, max };
  const hist = new Float64Array(bins);
  const scale = bins / (max - min);
  for (let i = 0; i < n; i++) {
    const b = ((values[i]! - min) * scale) | 0; // >= 0: truncation is floor
    hist[b < bins ? b : bins - 1]!++;
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
  return { bin: best, min, max };
}

/**
 * Fills the holes of a binary mask in place: every 0-pixel that is not 4-connected to the
 * image border becomes 1 (e.g. the dark lungs enclosed by the brighter body).
 */
export function fillHoles(mask: Uint8Array, h: number, w: number): void {
  // padded grid: a ring of free background around the image (so every border background
  // pixel is connected to it) inside a ring of walls (so neighbours never leave the array)
  const W2 = w + 4;
  const n2 = (h + 4) * W2;
  const FREE = 1;
  const SEEN = 2;
  const g = new Uint8Array(n2); // 0 = wall / body
  for (let y = 1; y < h + 3; y++) {
    for (let x = 1; x < w + 3; x++) {
      const inside = y >= 2 && y < h + 2 && x >= 2 && x < w + 2;
      g[y * W2 + x] = !inside || mask[(y - 2) * w + (x - 2)] === 0 ? FREE : 0;
    }
  }
  const queue = new Int32Array(n2);
  let tail = 0;
  const start = W2 + 1;
  g[start] = SEEN;
  queue[tail++] = start;
  for (let head = 0; head < tail; head++) {
    const p = queue[head]!;
    let q = p - 1;
    if (g[q] === FREE) { g[q] = SEEN; queue[tail++] = q; }
    q = p + 1;
    if (g[q] === FREE) { g[q] = SEEN; queue[tail++] = q; }
    q = p - W2;
    if (g[q] === FREE) { g[q] = SEEN; queue[tail++] = q; }
    q = p + W2;
    if (g[q] === FREE) { g[q] = SEEN; queue[tail++] = q; }
  }
  for (let y = 0; y < h; y++) {
    const row = (y + 2) * W2 + 2;
    for (let x = 0; x < w; x++) if (g[row + x] !== SEEN) mask[y * w + x] = 1;
  }
}

export interface BilateralOptions {
  /** spatial Gaussian sigma in output pixels (default 3) */
  sigmaSpace?: number;
  /** range Gaussian sigma in mask units (the 0/1 values; default 1) */
  sigmaColor?: number;
  /** window radius in pixels (default ceil(2 * sigmaSpace)); the window is (2r+1)^2 */
  radius?: number;
}

export const DEFAULT_BILATERAL = { sigmaSpace: 3, sigmaColor: 1 } as const;

/**
 * Bilateral filter of a binary mask, re-binarised at 0.5: for pixel p with value v,
 * `out = sum_q ws(p,q) wr(|v - m_q|) m_q / sum_q ws(p,q) wr(|v - m_q|)` over the in-image
 * window, `ws` a Gaussian of the distance (sigmaSpace), `wr(0) = 1`,
 * `wr(1) = exp(-1 / (2 sigmaColor^2))`. The pixel becomes 1 if out > 0.5, 0 if out < 0.5 and
 * keeps its value on an exact tie. On a 0/1 image this is an edge-aware weighted majority
 * vote: it rounds staircase corners and removes specks smaller than about sigmaSpace, and a
 * pixel whose whole window has one value never changes (so only pixels within `radius` of
 * an edge can change). Returns a new mask.
 */
export function bilateralSmoothBinary(mask: Uint8Array, h: number, w: number, opts: BilateralOptions = {}): Uint8Array {
  const sigmaSpace = opts.sigmaSpace ?? DEFAULT_BILATERAL.sigmaSpace;
  const sigmaColor = opts.sigmaColor ?? DEFAULT_BILATERAL.sigmaColor;
  const r = opts.radius ?? Math.ceil(2 * sigmaSpace);
  const out = mask.slice();
  if (r <= 0 || sigmaColor <= 0) return out;
  const wr = Number.isFinite(sigmaColor) ? Math.exp(-1 / (2 * sigmaColor * sigmaColor)) : 1;
  const g = new Float64Array(2 * r + 1);
  for (let d = -r; d <= r; d++) g[d + r] = Math.exp(-(d * d) / (2 * sigmaSpace * sigmaSpace));
  // 1-D window sums of the kernel (the window is truncated at the border)
  const partial = (len: number) => {
    const t = new Float64Array(len);
    for (let i = 0; i < len; i++) {
      let s = 0;
      for (let d = Math.max(-r, -i); d <= Math.min(r, len - 1 - i); d++) s += g[d + r]!;
      t[i] = s;
    }
    return t;
  };
  const tx = partial(w);
  const ty = partial(h);
  // summed-area table: a pixel whose (2r+1)^2 window is uniform cannot change
  const W1 = w + 1;
  const sat = new Int32Array((h + 1) * W1);
  for (let y = 0; y < h; y++) {
    let row = 0;
    for (let x = 0; x < w; x++) {
      row += mask[y * w + x]!;
      sat[(y + 1) * W1 + x + 1] = sat[y * W1 + x + 1]! + row;
    }
  }
  // horizontal pass (ones weighted by the kernel), with fast paths for uniform rows/segments
  const hor = new Float64Array(h * w);
  for (let y = 0; y < h; y++) {
    const top = y * W1;
    const bot = (y + 1) * W1;
    const rowOnes = sat[bot + w]! - sat[top + w]!;
    if (rowOnes === 0) continue;
    if (rowOnes === w) {
      hor.set(tx, y * w);
      continue;
    }
    for (let x = 0; x < w; x++) {
      const x0 = x > r ? x - r : 0;
      const x1 = x + r < w - 1 ? x + r : w - 1;
      const ones = sat[bot + x1 + 1]! - sat[top + x1 + 1]! - sat[bot + x0]! + sat[top + x0]!;
      if (ones === 0) continue;
      if (ones === x1 - x0 + 1) {
        hor[y * w + x] = tx[x]!;
        continue;
      }
      let acc = 0;
      for (let xx = x0; xx <= x1; xx++) if (mask[y * w + xx]) acc += g[xx - x + r]!;
      hor[y * w + x] = acc;
    }
  }
  for (let y = 0; y < h; y++) {
    const y0 = Math.max(0, y - r);
    const y1 = Math.min(h - 1, y + r);
    for (let x = 0; x < w; x++) {
      const x0 = Math.max(0, x - r);
      const x1 = Math.min(w - 1, x + r);
      const ones = sat[(y1 + 1) * W1 + x1 + 1]! - sat[y0 * W1 + x1 + 1]! - sat[(y1 + 1) * W1 + x0]! + sat[y0 * W1 + x0]!;
      if (ones === 0 || ones === (y1 - y0 + 1) * (x1 - x0 + 1)) continue;
      let o = 0;
      for (let yy = y0; yy <= y1; yy++) o += g[yy - y + r]! * hor[yy * w + x]!;
      const z = tx[x]! * ty[y]! - o;
      const p = y * w + x;
      // out > 0.5  <=>  same-class weight > other-class weight (ties keep the value)
      const same = mask[p] ? o : z;
      const other = wr * (mask[p] ? z : o);
      if (other > same) out[p] = mask[p] ? 0 : 1;
    }
  }
  return out;
}
