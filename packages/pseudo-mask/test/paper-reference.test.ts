/**
 * Paper mode's fast path (bit-packed masks, pruned bilateral evaluation, run-based hole
 * filling, float-threshold Otsu classification) against straightforward reference
 * implementations kept in this file: per-pixel loops over plain arrays, written directly
 * from the documented definitions. Results must be identical (masks are compared pixel for
 * pixel, no tolerance), on random inputs of many shapes and options.
 *
 * The references reuse only the numpy / PyTorch numerics of src/numeric.ts (nearest
 * indices, numpy quantile / median), which reference.test.ts checks against the real
 * libraries.
 */
import * as tf from '@tensorflow/tfjs';
import { G2DError, Rng } from '@g2d-ts/core';
import {
  attentionToPseudoMask,
  bilateralSmoothBinary,
  bodyMask,
  bodyMasksFromImage,
  nearestIndices,
  numpyMedianF32,
  numpyQuantileLinear,
  pseudoMaskFromArray,
  type BilateralOptions,
  type PseudoMaskFromArrayOptions,
} from '../src';
import { BinarySmoother } from '../src/bilateral';

// ---------------------------------------------------------------------------------------
// references
// ---------------------------------------------------------------------------------------

/**
 * Otsu body mask of one grey image (float32 values): bins over [min, max] (NaN ignored by
 * min / max, counted in bin 0), the first t maximising the between-class variance, the
 * bright class = bins > t, holes (0-pixels not 4-connected to the border) filled. No
 * threshold (a constant image): all body.
 */
function refBody(grey: Float32Array, H: number, W: number, bins: number, bright: boolean, fill: boolean): Uint8Array {
  const n = H * W;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    if (grey[i]! < min) min = grey[i]!;
    if (grey[i]! > max) max = grey[i]!;
  }
  const m = new Uint8Array(n);
  if (!(max > min)) return m.fill(1);
  const scale = bins / (max - min);
  const binOf = (v: number) => {
    const b = Math.floor((v - min) * scale);
    return Number.isNaN(b) ? 0 : Math.min(b, bins - 1);
  };
  const hist = new Array<number>(bins).fill(0);
  for (let i = 0; i < n; i++) hist[binOf(grey[i]!)]!++;
  let sumAll = 0;
  for (let b = 0; b < bins; b++) sumAll += b * hist[b]!;
  let best = -1;
  let bestVar = -1;
  let w0 = 0;
  let sum0 = 0;
  for (let t = 0; t < bins - 1; t++) {
    w0 += hist[t]!;
    sum0 += t * hist[t]!;
    const w1 = n - w0;
    if (w0 === 0 || w1 === 0) continue;
    const d = sum0 / w0 - (sumAll - sum0) / w1;
    const between = w0 * w1 * d * d;
    if (between > bestVar) {
      bestVar = between;
      best = t;
    }
  }
  if (best < 0) return m.fill(1); // no threshold (e.g. every value in one bin): all body
  for (let i = 0; i < n; i++) {
    const b = Math.floor((grey[i]! - min) * scale); // NaN: in neither class test
    const above = Math.min(b, bins - 1) > best;
    m[i] = above === bright ? 1 : 0;
  }
  if (!fill) return m;
  // breadth-first search from every border background pixel
  const reached = new Uint8Array(n);
  const queue: number[] = [];
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const p = y * W + x;
      if ((y === 0 || x === 0 || y === H - 1 || x === W - 1) && m[p] === 0) {
        reached[p] = 1;
        queue.push(p);
      }
    }
  }
  for (let head = 0; head < queue.length; head++) {
    const p = queue[head]!;
    const y = Math.floor(p / W);
    const x = p % W;
    for (const [yy, xx] of [[y - 1, x], [y + 1, x], [y, x - 1], [y, x + 1]] as const) {
      if (yy < 0 || yy >= H || xx < 0 || xx >= W) continue;
      const q = yy * W + xx;
      if (m[q] === 0 && !reached[q]) {
        reached[q] = 1;
        queue.push(q);
      }
    }
  }
  for (let p = 0; p < n; p++) if (m[p] === 0 && !reached[p]) m[p] = 1;
  return m;
}

/**
 * The bilateral filter of a binary mask as documented: square window clipped to the image,
 * O = sum over rows (top to bottom) of g(dy) * (sum over the row's ones, left to right, of
 * g(dx)), Z = Tx * Ty - O; a 1 turns 0 iff wr * Z > O, a 0 turns 1 iff wr * O > Z.
 */
function refBilateral(mask: Uint8Array, h: number, w: number, opts: BilateralOptions = {}): Uint8Array {
  const sigmaSpace = opts.sigmaSpace ?? 3;
  const sigmaColor = opts.sigmaColor ?? 1;
  const r = opts.radius ?? Math.ceil(2 * sigmaSpace);
  const out = mask.slice();
  if (r <= 0 || sigmaColor <= 0) return out;
  const wr = Number.isFinite(sigmaColor) ? Math.exp(-1 / (2 * sigmaColor * sigmaColor)) : 1;
  const g = new Float64Array(2 * r + 1); // g[d + r] = exp(-d^2 / (2 sigmaSpace^2))
  for (let d = -r; d <= r; d++) g[d + r] = Math.exp(-(d * d) / (2 * sigmaSpace * sigmaSpace));
  for (let y = 0; y < h; y++) {
    const y0 = Math.max(0, y - r);
    const y1 = Math.min(h - 1, y + r);
    for (let x = 0; x < w; x++) {
      const x0 = Math.max(0, x - r);
      const x1 = Math.min(w - 1, x + r);
      let o = 0;
      for (let yy = y0; yy <= y1; yy++) {
        let row = 0;
        for (let xx = x0; xx <= x1; xx++) if (mask[yy * w + xx]) row += g[xx - x + r]!;
        o += g[yy - y + r]! * row;
      }
      let tx = 0;
      for (let xx = x0; xx <= x1; xx++) tx += g[xx - x + r]!;
      let ty = 0;
      for (let yy = y0; yy <= y1; yy++) ty += g[yy - y + r]!;
      const z = tx * ty - o;
      const p = y * w + x;
      if (mask[p] ? wr * z > o : wr * o > z) out[p] = mask[p] ? 0 : 1;
    }
  }
  return out;
}

/** Grey images (B x H x W, float32) from B x C x H x W (NCHW) data: mean of the channels. */
function greyNCHW(img: Float32Array, B: number, C: number, H: number, W: number): Float32Array[] {
  const out: Float32Array[] = [];
  for (let b = 0; b < B; b++) {
    const g = new Float32Array(H * W);
    for (let p = 0; p < H * W; p++) {
      if (C === 1) {
        g[p] = img[b * H * W + p]!;
        continue;
      }
      let s = 0;
      for (let c = 0; c < C; c++) s = Math.fround(s + img[(b * C + c) * H * W + p]!);
      g[p] = s / C;
    }
    out.push(g);
  }
  return out;
}

interface RefPaperOptions {
  numMaps: number;
  threshold: 'quantile' | 'mean' | 'median';
  quantile: number;
  outH: number;
  outW: number;
  smoothing: false | BilateralOptions;
}

/**
 * Paper mode, per pixel: body masks (given at any size) resized nearest, source maps (mean
 * of the heads in float32, or each head) upsampled nearest, threshold = statistic of the
 * in-body values (the mean as the float64 sum over source cells of count * value, divided
 * by the count), raw = body AND value >= threshold, smoothed, AND body.
 */
function refPaper(att: Float32Array, shape: number[], bodies: Uint8Array[], bodyH: number, bodyW: number, o: RefPaperOptions): Uint8Array {
  const [B, heads, h, w] = shape as [number, number, number, number];
  const { outH, outW, numMaps: M } = o;
  const plane = outH * outW;
  const ri = nearestIndices(h, outH);
  const ci = nearestIndices(w, outW);
  const bri = nearestIndices(bodyH, outH);
  const bci = nearestIndices(bodyW, outW);
  const out = new Uint8Array(B * M * plane);
  for (let b = 0; b < B; b++) {
    const body = new Uint8Array(plane);
    for (let r = 0; r < outH; r++) for (let c = 0; c < outW; c++) body[r * outW + c] = bodies[b]![bri[r]! * bodyW + bci[c]!]! ? 1 : 0;
    for (let k = 0; k < M; k++) {
      const src = new Float32Array(h * w);
      for (let p = 0; p < h * w; p++) {
        if (M === heads) src[p] = att[(b * heads + k) * h * w + p]!;
        else {
          let acc = Math.fround(att[b * heads * h * w + p]!);
          for (let hd = 1; hd < heads; hd++) acc = Math.fround(acc + att[(b * heads + hd) * h * w + p]!);
          src[p] = acc / heads;
        }
      }
      const values: number[] = [];
      const cellCount = new Array<number>(h * w).fill(0);
      for (let r = 0; r < outH; r++) {
        for (let c = 0; c < outW; c++) {
          if (!body[r * outW + c]) continue;
          values.push(src[ri[r]! * w + ci[c]!]!);
          cellCount[ri[r]! * w + ci[c]!]!++;
        }
      }
      if (values.length === 0) continue;
      values.sort((x, y) => x - y);
      let thr: number;
      if (o.threshold === 'mean') {
        let s = 0;
        for (let p = 0; p < h * w; p++) s += cellCount[p]! * src[p]!;
        thr = s / values.length;
      } else if (o.threshold === 'median') thr = numpyMedianF32((i) => values[i]!, values.length);
      else thr = numpyQuantileLinear((i) => values[i]!, values.length, o.quantile);
      let mask: Uint8Array = new Uint8Array(plane);
      for (let r = 0; r < outH; r++) for (let c = 0; c < outW; c++) mask[r * outW + c] = body[r * outW + c] && src[ri[r]! * w + ci[c]!]! >= thr ? 1 : 0;
      if (o.smoothing) mask = refBilateral(mask, outH, outW, o.smoothing);
      for (let p = 0; p < plane; p++) out[(b * M + k) * plane + p] = mask[p]! & body[p]!;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// random inputs
// ---------------------------------------------------------------------------------------

/** B x C x H x W images: a few bright / dark ellipses (some nested: holes) plus noise. */
function randomImages(rng: Rng, B: number, C: number, H: number, W: number): Float32Array {
  const img = new Float32Array(B * C * H * W);
  const kind = rng.int(4);
  for (let b = 0; b < B; b++) {
    const blobs = Array.from({ length: 1 + rng.int(4) }, () => ({
      cy: rng.uniform(0, H), cx: rng.uniform(0, W), ry: rng.uniform(1.5, H / 2), rx: rng.uniform(1.5, W / 2), a: rng.uniform(-1, 1),
    }));
    const noise = rng.uniform(0, 0.6);
    for (let c = 0; c < C; c++) {
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) {
          let v = 0;
          for (const e of blobs) if (((y - e.cy) / e.ry) ** 2 + ((x - e.cx) / e.rx) ** 2 <= 1) v += e.a;
          v += rng.uniform(-noise, noise);
          // integer grey levels (exact bin edges), k / 255, or a negative offset range
          if (kind === 1) v = Math.round(Math.min(255, Math.max(0, (v + 1) * 100)));
          if (kind === 2) v = Math.round(Math.min(255, Math.max(0, (v + 1) * 100))) / 255;
          if (kind === 3) v = v * 1e-3 - 5;
          img[((b * C + c) * H + y) * W + x] = v;
        }
      }
    }
  }
  return img;
}

/** h x w masks: noise, blocks (like an upsampled attention map), or blocks with noise. */
function randomMask(rng: Rng, h: number, w: number): Uint8Array {
  const m = new Uint8Array(h * w);
  const kind = rng.int(3);
  const density = rng.next();
  if (kind === 0) {
    for (let i = 0; i < m.length; i++) m[i] = rng.next() < density ? 1 : 0;
    return m;
  }
  const bs = 1 + rng.int(12);
  const gw = Math.ceil(w / bs);
  const cells = Array.from({ length: Math.ceil(h / bs) * gw }, () => (rng.next() < density ? 1 : 0));
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) m[y * w + x] = cells[Math.floor(y / bs) * gw + Math.floor(x / bs)]!;
  if (kind === 2) for (let i = 0; i < m.length; i++) if (rng.next() < 0.03) m[i] ^= 1;
  return m;
}

function randomSmoothing(rng: Rng): BilateralOptions {
  const o: BilateralOptions = {};
  if (rng.next() < 0.7) o.sigmaSpace = rng.uniform(0.3, 5);
  if (rng.next() < 0.7) o.sigmaColor = [0.3, 0.5, 1, 2, 10, Infinity][rng.int(6)]!;
  if (rng.next() < 0.35) o.radius = rng.int(11); // radius >= 8: windows too wide for the lookup table
  return o;
}

function firstDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return -2;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

// ---------------------------------------------------------------------------------------
// tests
// ---------------------------------------------------------------------------------------

describe('bilateralSmoothBinary = the reference filter', () => {
  it('random masks, sizes across word boundaries, random options: identical', () => {
    const rng = new Rng(101);
    const widths = [1, 2, 5, 31, 32, 33, 40, 63, 64, 65, 70];
    let changed = 0;
    for (let it = 0; it < 400; it++) {
      const h = 1 + rng.int(48);
      const w = rng.next() < 0.5 ? widths[rng.int(widths.length)]! : 1 + rng.int(70);
      const mask = randomMask(rng, h, w);
      const opts = it < 20 ? {} : randomSmoothing(rng);
      const want = refBilateral(mask, h, w, opts);
      const got = bilateralSmoothBinary(mask, h, w, opts);
      expect({ it, h, w, opts, diff: firstDiff(got, want) }).toEqual({ it, h, w, opts, diff: -1 });
      changed += firstDiff(want, mask) >= 0 ? 1 : 0;
    }
    expect(changed).toBeGreaterThan(150); // the filter does change most of these masks
  });

  it('flat kernel + equal range weights is an exact majority vote: ties keep the value', () => {
    // sigmaSpace 1e9: every spatial weight is exactly 1; sigmaColor Infinity: wr = 1
    const vote = { sigmaSpace: 1e9, sigmaColor: Infinity, radius: 1 };
    // [1, 0]: each pixel sees one 1 and one 0 -> ties -> unchanged
    expect(Array.from(bilateralSmoothBinary(Uint8Array.from([1, 0]), 1, 2, vote))).toEqual([1, 0]);
    // [1, 0, 1]: the middle 0 is outvoted 2:1, the ends tie 1:1
    expect(Array.from(bilateralSmoothBinary(Uint8Array.from([1, 0, 1]), 1, 3, vote))).toEqual([1, 1, 1]);
    // a 2 x 2 checkerboard: every 3x3 window (clipped to 2x2) holds two of each -> unchanged
    expect(Array.from(bilateralSmoothBinary(Uint8Array.from([1, 0, 0, 1]), 2, 2, vote))).toEqual([1, 0, 0, 1]);
    const rng = new Rng(103);
    for (let it = 0; it < 150; it++) {
      const h = 1 + rng.int(30);
      const w = 1 + rng.int(70);
      const mask = randomMask(rng, h, w);
      const opts = { sigmaSpace: 1e9, sigmaColor: Infinity, radius: rng.int(9) };
      expect({ it, diff: firstDiff(bilateralSmoothBinary(mask, h, w, opts), refBilateral(mask, h, w, opts)) }).toEqual({ it, diff: -1 });
    }
  });

  it('a 256 x 256 upsampled attention mask with the defaults (the pruned path) is identical', () => {
    const rng = new Rng(102);
    const S = 256;
    // 8x8 cells of 32 px, AND an elliptic body: the masks paper mode smooths
    const cells = Array.from({ length: 64 }, () => (rng.next() < 0.2 ? 1 : 0));
    const mask = new Uint8Array(S * S);
    for (let y = 0; y < S; y++) {
      for (let x = 0; x < S; x++) {
        const inBody = ((y - 128) / 100) ** 2 + ((x - 128) / 90) ** 2 <= 1;
        mask[y * S + x] = inBody && cells[(y >> 5) * 8 + (x >> 5)] ? 1 : 0;
      }
    }
    const sm = new BinarySmoother(S, S, {});
    expect(sm.safeRadius).toBe(2); // only pixels with an edge within 2 px are evaluated
    expect(sm.radius).toBe(6);
    const want = refBilateral(mask, S, S);
    expect(firstDiff(want, mask)).toBeGreaterThanOrEqual(0);
    expect(firstDiff(bilateralSmoothBinary(mask, S, S), want)).toBe(-1);
  });
});

describe('body masks = the reference Otsu + hole filling', () => {
  it('random images (blobs, holes, noise; integer, k/255 and negative ranges; RGB): identical', () => {
    const rng = new Rng(201);
    for (let it = 0; it < 40; it++) {
      const B = 1 + rng.int(3);
      const C = rng.next() < 0.25 ? 3 : 1;
      const H = 2 + rng.int(70);
      const W = 2 + rng.int(70);
      const img = randomImages(rng, B, C, H, W);
      const opts = {
        bodyPolarity: rng.next() < 0.75 ? ('bright' as const) : ('dark' as const),
        fillBodyHoles: rng.next() < 0.8,
        otsuBins: [256, 256, 2, 17, 1000][rng.int(5)]!,
      };
      const got = bodyMasksFromImage({ data: img, shape: [B, C, H, W] }, opts);
      const greys = greyNCHW(img, B, C, H, W);
      for (let b = 0; b < B; b++) {
        const want = refBody(greys[b]!, H, W, opts.otsuBins, opts.bodyPolarity === 'bright', opts.fillBodyHoles);
        expect({ it, b, diff: firstDiff(got.data.subarray(b * H * W, (b + 1) * H * W), want) }).toEqual({ it, b, diff: -1 });
      }
    }
  });

  it('bodyMasksFromImage keeps the plain semantics on NaN / infinite pixels (no validation there)', () => {
    const rng = new Rng(202);
    const H = 20;
    const W = 37;
    for (const bad of [NaN, Infinity, -Infinity]) {
      const img = randomImages(rng, 1, 1, H, W);
      img[3] = bad;
      img[H * W - 1] = bad;
      const got = bodyMasksFromImage({ data: img, shape: [1, 1, H, W] });
      expect(firstDiff(got.data, refBody(img, H, W, 256, true, true))).toBe(-1);
    }
    const nanFirst = randomImages(rng, 1, 1, H, W);
    nanFirst[0] = NaN;
    expect(firstDiff(bodyMasksFromImage({ data: nanFirst, shape: [1, H, W] }).data, refBody(nanFirst, H, W, 256, true, true))).toBe(-1);
  });

  it('bodyMask() on tensors agrees (float32 and int32 images)', () => {
    const rng = new Rng(203);
    const img = randomImages(rng, 2, 1, 33, 65);
    const greys = greyNCHW(img, 2, 1, 33, 65);
    for (const t of [tf.tensor4d(img, [2, 1, 33, 65]), tf.tensor4d(Int32Array.from(img, (v) => Math.round(v * 50)), [2, 1, 33, 65], 'int32')]) {
      const m = bodyMask(t);
      const d = m.dataSync();
      for (let b = 0; b < 2; b++) {
        const g = t.dtype === 'int32' ? Float32Array.from(greys[b]!, (v) => Math.round(v * 50)) : greys[b]!;
        expect(firstDiff(d.subarray(b * 33 * 65, (b + 1) * 33 * 65), refBody(g, 33, 65, 256, true, true))).toBe(-1);
      }
      tf.dispose([t, m]);
    }
  });
});

describe('paper mode = the reference pipeline', () => {
  it('random attention, images, sizes, thresholds and smoothing: identical masks', () => {
    const rng = new Rng(301);
    let ones = 0;
    for (let it = 0; it < 80; it++) {
      const B = 1 + rng.int(3);
      const heads = 1 + rng.int(4);
      const h = 1 + rng.int(9);
      const w = 1 + rng.int(9);
      // ties in the attention values (0.25 repeated) as well as distinct ones
      const att = Float32Array.from({ length: B * heads * h * w }, () => (rng.next() < 0.3 ? 0.25 : Math.exp(rng.normal())));
      const C = rng.next() < 0.2 ? 3 : 1;
      const H = 4 + rng.int(60);
      const W = 4 + rng.int(60);
      const img = randomImages(rng, B, C, H, W);
      const outH = 4 + rng.int(70);
      const outW = rng.next() < 0.5 ? outH : 4 + rng.int(70);
      const numMaps = rng.next() < 0.5 ? 1 : heads;
      const threshold = (['quantile', 'mean', 'median'] as const)[rng.int(3)]!;
      const quantile = rng.next();
      const smoothing = rng.next() < 0.15 ? false : rng.next() < 0.4 ? {} : randomSmoothing(rng);
      const bodyOpts = { bodyPolarity: rng.next() < 0.8 ? ('bright' as const) : ('dark' as const), fillBodyHoles: rng.next() < 0.8 };
      const opts: PseudoMaskFromArrayOptions = {
        mode: 'paper', size: [outH, outW], numMaps, threshold, quantile, smoothing, ...bodyOpts,
        image: { data: img, shape: [B, C, H, W] },
      };
      const got = pseudoMaskFromArray({ data: att, shape: [B, heads, h, w] }, { ...opts, dtype: 'bool' });
      const bodies = greyNCHW(img, B, C, H, W).map((g) => refBody(g, H, W, 256, bodyOpts.bodyPolarity === 'bright', bodyOpts.fillBodyHoles));
      const want = refPaper(att, [B, heads, h, w], bodies, H, W, { numMaps, threshold, quantile, outH, outW, smoothing });
      expect({ it, diff: firstDiff(got.data, want) }).toEqual({ it, diff: -1 });
      // the same through a precomputed body mask (B x H x W, nonzero = body)
      const bm = new Float32Array(B * H * W);
      bodies.forEach((m, b) => bm.set(m, b * H * W));
      const viaMask = pseudoMaskFromArray({ data: att, shape: [B, heads, h, w] }, { ...opts, image: undefined, bodyMask: { data: bm, shape: [B, H, W] }, dtype: 'bool' });
      expect({ it, diff: firstDiff(viaMask.data, want) }).toEqual({ it, diff: -1 });
      for (const v of want) ones += v;
    }
    expect(ones).toBeGreaterThan(1000);
  });

  it('64 x 256 x 256 batch from 8x8 maps (the benchmark shape, reduced to 4 images): identical', () => {
    const rng = new Rng(302);
    const B = 4;
    const S = 256;
    const img = randomImages(rng, B, 1, S, S);
    const att = Float32Array.from({ length: B * 4 * 64 }, () => Math.exp(2 * rng.normal()));
    const got = pseudoMaskFromArray({ data: att, shape: [B, 4, 8, 8] }, { mode: 'paper', image: { data: img, shape: [B, 1, S, S] }, dtype: 'bool' });
    const bodies = greyNCHW(img, B, 1, S, S).map((g) => refBody(g, S, S, 256, true, true));
    const want = refPaper(att, [B, 4, 8, 8], bodies, S, S, { numMaps: 1, threshold: 'quantile', quantile: 0.85, outH: S, outW: S, smoothing: {} });
    expect(firstDiff(got.data, want)).toBe(-1);
  });

  it('tensor path: float32 / int32 / bool outputs are the same 0/1 masks', () => {
    const rng = new Rng(303);
    const img = tf.tensor4d(randomImages(rng, 2, 1, 48, 40), [2, 1, 48, 40]);
    const att = tf.tensor4d(Float32Array.from({ length: 2 * 4 * 36 }, () => rng.next()), [2, 4, 6, 6]);
    const masks = (['float32', 'int32', 'bool'] as const).map((dtype) => attentionToPseudoMask(att, { mode: 'paper', image: img, size: 50, dtype }));
    const ref = Array.from(masks[0]!.dataSync());
    expect(ref.some((v) => v === 1)).toBe(true);
    for (const m of masks) expect(Array.from(m.dataSync(), Number)).toEqual(ref);
    tf.dispose([img, att, ...masks]);
  });

  it('reports the first NaN / infinite value of any image, before a shape error', () => {
    const att = tf.fill([3, 4, 8, 8], 1 / 64) as tf.Tensor4D;
    const data = new Float32Array(3 * 16 * 16).fill(0.5);
    data[300] = Infinity; // image 1
    data[700] = NaN; // image 2
    const img = tf.tensor4d(data, [3, 1, 16, 16]);
    expect(() => attentionToPseudoMask(att, { mode: 'paper', image: img })).toThrow(/option "image" contains an infinite value at flat index 300/);
    const two = tf.tensor4d(data.subarray(0, 2 * 256), [2, 1, 16, 16]);
    expect(() => attentionToPseudoMask(att, { mode: 'paper', image: two })).toThrow(/option "image" contains an infinite value at flat index 300/);
    const rgb = tf.tensor4d(new Float32Array(3 * 3 * 16 * 16).fill(0.5).map((v, i) => (i === 1000 ? NaN : v)), [3, 3, 16, 16]);
    expect(() => attentionToPseudoMask(att, { mode: 'paper', image: rgb })).toThrow(/option "image" contains NaN at flat index 1000/);
    const bm = tf.tensor4d(new Float32Array(3 * 16 * 16).fill(1).map((v, i) => (i === 513 ? NaN : v)), [3, 1, 16, 16]);
    expect(() => attentionToPseudoMask(att, { mode: 'paper', bodyMask: bm })).toThrow(G2DError);
    expect(() => attentionToPseudoMask(att, { mode: 'paper', bodyMask: bm })).toThrow(/option "bodyMask" contains NaN at flat index 513/);
    expect(() => attentionToPseudoMask(att, { mode: 'paper', bodyMask: bm, size: 7 })).toThrow(/option "bodyMask" contains NaN at flat index 513/);
    tf.dispose([att, img, two, rgb, bm]);
  });
});
