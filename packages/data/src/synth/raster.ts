/**
 * Small raster helpers for the synthetic radiograph generator: separable box blurs, thick
 * polylines with a cross-section profile, short strokes, masks and their boxes. Plain typed
 * arrays, row-major `size * size`, no tfjs.
 */

export type Pt = [number, number];

export function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

export function smoothstep(e0: number, e1: number, x: number): number {
  const t = clamp((x - e0) / (e1 - e0), 0, 1);
  return t * t * (3 - 2 * t);
}

/** f sampled on [a, b] at n points, evaluated by linear interpolation (clamped outside). */
export function tabulate(f: (x: number) => number, a: number, b: number, n = 1024): (x: number) => number {
  const t = new Float64Array(n);
  for (let k = 0; k < n; k++) t[k] = f(a + ((b - a) * k) / (n - 1));
  const scale = (n - 1) / (b - a);
  return (x: number) => {
    const p = (x - a) * scale;
    if (p <= 0) return t[0]!;
    if (p >= n - 1) return t[n - 1]!;
    const i = Math.floor(p);
    const f2 = p - i;
    return t[i]! + (t[i + 1]! - t[i]!) * f2;
  };
}

/** One horizontal + one vertical running-sum box blur of radius r (edges clamp), in place. */
export function boxBlur(src: Float32Array, w: number, h: number, r: number, tmp = new Float32Array(src.length)): Float32Array {
  const ri = Math.max(0, Math.round(r));
  if (ri === 0) return src;
  const inv = 1 / (2 * ri + 1);
  for (let y = 0; y < h; y++) {
    const o = y * w;
    let acc = 0;
    for (let k = -ri; k <= ri; k++) acc += src[o + clamp(k, 0, w - 1)]!;
    for (let x = 0; x < w; x++) {
      tmp[o + x] = acc * inv;
      acc += src[o + Math.min(w - 1, x + ri + 1)]! - src[o + Math.max(0, x - ri)]!;
    }
  }
  for (let x = 0; x < w; x++) {
    let acc = 0;
    for (let k = -ri; k <= ri; k++) acc += tmp[clamp(k, 0, h - 1) * w + x]!;
    for (let y = 0; y < h; y++) {
      src[y * w + x] = acc * inv;
      acc += tmp[Math.min(h - 1, y + ri + 1) * w + x]! - tmp[Math.max(0, y - ri) * w + x]!;
    }
  }
  return src;
}

/** Three box blurs of radius r: close to a Gaussian with sigma ~ r. */
export function blur3(src: Float32Array, w: number, h: number, r: number): Float32Array {
  const tmp = new Float32Array(src.length);
  for (let k = 0; k < 3; k++) boxBlur(src, w, h, r, tmp);
  return src;
}

/** Bounding box [x1, y1, x2, y2] (inclusive pixel indices) of the non-zero pixels, or null. */
export function maskBox(mask: Uint8Array, w: number): [number, number, number, number] | null {
  let x1 = Infinity, y1 = Infinity, x2 = -1, y2 = -1;
  const h = mask.length / w;
  for (let y = 0; y < h; y++) {
    const o = y * w;
    for (let x = 0; x < w; x++) {
      if (mask[o + x]) {
        if (x < x1) x1 = x;
        if (x > x2) x2 = x;
        if (y < y1) y1 = y;
        y2 = y;
      }
    }
  }
  return x2 < 0 ? null : [x1, y1, x2, y2];
}

export function countMask(mask: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < mask.length; i++) n += mask[i] ? 1 : 0;
  return n;
}

/** Sample points of a quadratic/cubic Bezier (control points in pixels). */
export function bezier(ctrl: Pt[], n: number): Pt[] {
  const out: Pt[] = [];
  for (let k = 0; k <= n; k++) {
    const t = k / n;
    let pts = ctrl.map((p) => [p[0], p[1]] as Pt);
    while (pts.length > 1) {
      const nx: Pt[] = [];
      for (let i = 0; i + 1 < pts.length; i++) nx.push([pts[i]![0] + (pts[i + 1]![0] - pts[i]![0]) * t, pts[i]![1] + (pts[i + 1]![1] - pts[i]![1]) * t]);
      pts = nx;
    }
    out.push(pts[0]!);
  }
  return out;
}

/**
 * Thick polyline: for every pixel within `halfWidth(t)` of the curve (t = 0..1 along it), add
 * `amp * profile(d / halfWidth, t)` to `dst` (d = distance to the nearest point of the curve, so
 * overlapping segments do not double up) and set `mask` where the profile is > 0.
 */
export function drawBand(
  dst: Float32Array,
  w: number,
  h: number,
  pts: Pt[],
  halfWidth: number | ((t: number) => number),
  amp: number,
  profile: (r: number, t: number) => number,
  mask?: Uint8Array,
): void {
  if (pts.length < 2) return;
  const hwf = typeof halfWidth === 'number' ? () => halfWidth : halfWidth;
  // cumulative length for t
  const cum = [0];
  for (let i = 1; i < pts.length; i++) cum.push(cum[i - 1]! + Math.hypot(pts[i]![0] - pts[i - 1]![0], pts[i]![1] - pts[i - 1]![1]));
  const total = cum[cum.length - 1]! || 1;
  let maxHw = 0;
  for (let k = 0; k <= 16; k++) maxHw = Math.max(maxHw, hwf(k / 16));
  let bx0 = Infinity, by0 = Infinity, bx1 = -Infinity, by1 = -Infinity;
  for (const p of pts) {
    bx0 = Math.min(bx0, p[0]); bx1 = Math.max(bx1, p[0]);
    by0 = Math.min(by0, p[1]); by1 = Math.max(by1, p[1]);
  }
  const x0 = Math.max(0, Math.floor(bx0 - maxHw - 1)), x1 = Math.min(w - 1, Math.ceil(bx1 + maxHw + 1));
  const y0 = Math.max(0, Math.floor(by0 - maxHw - 1)), y1 = Math.min(h - 1, Math.ceil(by1 + maxHw + 1));
  // nearest point of the curve per pixel, visiting each segment's own neighbourhood only
  const bw = x1 - x0 + 1, bh = y1 - y0 + 1;
  if (bw <= 0 || bh <= 0) return;
  const best = new Float32Array(bw * bh).fill(Infinity);
  const bestT = new Float32Array(bw * bh);
  for (let s = 0; s + 1 < pts.length; s++) {
    const ax = pts[s]![0], ay = pts[s]![1];
    const dx = pts[s + 1]![0] - ax, dy = pts[s + 1]![1] - ay;
    const l2 = dx * dx + dy * dy;
    const len = Math.sqrt(l2);
    const sx0 = Math.max(x0, Math.floor(Math.min(ax, ax + dx) - maxHw - 1)), sx1 = Math.min(x1, Math.ceil(Math.max(ax, ax + dx) + maxHw + 1));
    const sy0 = Math.max(y0, Math.floor(Math.min(ay, ay + dy) - maxHw - 1)), sy1 = Math.min(y1, Math.ceil(Math.max(ay, ay + dy) + maxHw + 1));
    for (let y = sy0; y <= sy1; y++) {
      const py = y + 0.5;
      for (let x = sx0; x <= sx1; x++) {
        const px = x + 0.5;
        let u = l2 > 0 ? ((px - ax) * dx + (py - ay) * dy) / l2 : 0;
        u = u < 0 ? 0 : u > 1 ? 1 : u;
        const ex = ax + u * dx - px, ey = ay + u * dy - py;
        const d2 = ex * ex + ey * ey;
        const k = (y - y0) * bw + (x - x0);
        if (d2 < best[k]!) {
          best[k] = d2;
          bestT[k] = (cum[s]! + u * len) / total;
        }
      }
    }
  }
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const k = (y - y0) * bw + (x - x0);
      const d2 = best[k]!;
      if (d2 === Infinity) continue;
      const t = bestT[k]!;
      const hw = hwf(t);
      if (hw <= 0) continue;
      const r = Math.sqrt(d2) / hw;
      if (r >= 1) continue;
      const v = profile(r, t);
      if (v <= 0) continue;
      const i = y * w + x;
      dst[i] = dst[i]! + amp * v;
      if (mask) mask[i] = 1;
    }
  }
}

/** Cross-section of a cylinder of radius 1 (chord length), for tubes and vessels. */
export const tubeProfile = (r: number): number => Math.sqrt(1 - r * r);
/** Cross-section of a hollow bone: bright cortex, lighter medulla. */
export const boneProfile = (r: number): number => (r > 0.72 ? 1 - (r - 0.72) / 0.28 * 0.6 : 0.55 + 0.45 * (r / 0.72) ** 3);

/** Stamp a soft stroke (for thin vessels): bilinear splats along the segment. */
export function stroke(dst: Float32Array, w: number, h: number, ax: number, ay: number, bx: number, by: number, amp: number): void {
  const len = Math.hypot(bx - ax, by - ay);
  const n = Math.max(1, Math.ceil(len * 1.5));
  const a = amp / 1.5;
  for (let k = 0; k <= n; k++) {
    const t = k / n;
    const x = ax + (bx - ax) * t - 0.5, y = ay + (by - ay) * t - 0.5;
    const xi = Math.floor(x), yi = Math.floor(y);
    if (xi < 0 || yi < 0 || xi + 1 >= w || yi + 1 >= h) continue;
    const fx = x - xi, fy = y - yi;
    const i = yi * w + xi;
    dst[i] = dst[i]! + a * (1 - fx) * (1 - fy);
    dst[i + 1] = dst[i + 1]! + a * fx * (1 - fy);
    dst[i + w] = dst[i + w]! + a * (1 - fx) * fy;
    dst[i + w + 1] = dst[i + w + 1]! + a * fx * fy;
  }
}
