/**
 * Paper mode on synthetic radiographs whose body region is known: a bright elliptic body
 * (with two darker "lungs" inside) on a dark background, with noise.
 */
import * as tf from '@tensorflow/tfjs';
import { G2DError, Rng } from '@g2d-ts/core';
import { describeBackends, expectNoLeakedTensors } from '@g2d-ts/core/testing';
import { attentionToPseudoMask, bilateralSmoothBinary, bodyMask, DEFAULT_BILATERAL } from '../src';

const H = 64;
const W = 64;

/** B images (B x 1 x H x W) and their known body masks (B x H x W). */
function phantoms(B: number, seed: number) {
  const rng = new Rng(seed);
  const img = new Float32Array(B * H * W);
  const body = new Uint8Array(B * H * W);
  for (let b = 0; b < B; b++) {
    const cy = 30 + rng.int(5);
    const cx = 30 + rng.int(5);
    const ry = 22 + rng.int(5);
    const rx = 18 + rng.int(6);
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const p = b * H * W + y * W + x;
        const inBody = ((y - cy) / ry) ** 2 + ((x - cx) / rx) ** 2 <= 1;
        const lung = ((y - cy) / (ry * 0.6)) ** 2 + ((Math.abs(x - cx) - rx * 0.45) / (rx * 0.3)) ** 2 <= 1;
        body[p] = inBody ? 1 : 0;
        img[p] = (inBody ? (lung ? 0.3 : 0.7) : 0.05) + rng.uniform(-0.03, 0.03);
      }
    }
  }
  return { img, body };
}

/** B x 4 x 8 x 8 attention: softmax maps, image 0 with its largest values in the corners (outside the body). */
function attention(B: number, seed: number): tf.Tensor4D {
  return tf.tidy(() => {
    const a = tf.softmax(tf.randomNormal([B, 4, 64], 0, 2, 'float32', seed)).reshape([B, 4, 8, 8]);
    const corner = tf.buffer([B, 4, 8, 8]);
    for (let h = 0; h < 4; h++) for (const [y, x] of [[0, 0], [0, 7], [7, 0], [7, 7]]) corner.set(1, 0, h, y!, x!);
    return tf.add(a, corner.toTensor()) as tf.Tensor4D;
  });
}

function chebyshevHasOpposite(raw: Uint8Array, h: number, w: number, p: number, r: number): boolean {
  const y = Math.floor(p / w);
  const x = p % w;
  for (let yy = Math.max(0, y - r); yy <= Math.min(h - 1, y + r); yy++) {
    for (let xx = Math.max(0, x - r); xx <= Math.min(w - 1, x + r); xx++) if (raw[yy * w + xx] !== raw[p]) return true;
  }
  return false;
}

describe('bilateralSmoothBinary', () => {
  const n = 20;
  it('leaves uniform masks and straight edges unchanged', () => {
    expect(Array.from(bilateralSmoothBinary(new Uint8Array(n * n), n, n))).toEqual(new Array(n * n).fill(0));
    expect(Array.from(bilateralSmoothBinary(new Uint8Array(n * n).fill(1), n, n))).toEqual(new Array(n * n).fill(1));
    const half = new Uint8Array(n * n).map((_, p) => ((p % n) < 10 ? 1 : 0));
    expect(Array.from(bilateralSmoothBinary(half, n, n))).toEqual(Array.from(half));
  });
  it('removes an isolated speck and fills a one-pixel hole', () => {
    const speck = new Uint8Array(n * n);
    speck[10 * n + 10] = 1;
    expect(bilateralSmoothBinary(speck, n, n)[10 * n + 10]).toBe(0);
    const hole = new Uint8Array(n * n).fill(1);
    hole[10 * n + 10] = 0;
    expect(bilateralSmoothBinary(hole, n, n)[10 * n + 10]).toBe(1);
  });
  it('rounds the corner of a square (convex corner pixel turns 0, concave one turns 1)', () => {
    const sq = new Uint8Array(n * n).map((_, p) => (Math.floor(p / n) >= 5 && Math.floor(p / n) < 15 && p % n >= 5 && p % n < 15 ? 1 : 0));
    const out = bilateralSmoothBinary(sq, n, n);
    expect(out[5 * n + 5]).toBe(0); // convex corner
    expect(out[10 * n + 10]).toBe(1); // deep inside
    expect(out[10 * n + 5]).toBe(1); // middle of an edge
    // sigmaColor -> 0: the range weight of the other value vanishes, nothing changes
    expect(Array.from(bilateralSmoothBinary(sq, n, n, { sigmaColor: 1e-3 }))).toEqual(Array.from(sq));
    const inv = sq.map((v) => 1 - v);
    expect(bilateralSmoothBinary(inv, n, n)[5 * n + 5]).toBe(1); // concave corner of the complement
  });
});

describeBackends('attentionToPseudoMask (paper mode)', () => {
  const B = 6;
  const { img, body } = phantoms(B, 7);
  const image = () => tf.tensor4d(img, [B, 1, H, W]);

  it('body mask from Otsu + hole filling is exactly the known body', () => {
    const im = image();
    const m = bodyMask(im);
    expect(m.shape).toEqual([B, 1, H, W]);
    const got = m.dataSync();
    let diff = 0;
    for (let i = 0; i < got.length; i++) if (got[i] !== body[i]) diff++;
    expect(diff).toBe(0);
    tf.dispose([im, m]);
  });

  it('nothing outside the body is ever 1 (thresholds, smoothing settings, head maps, sizes)', () => {
    const im = image();
    const att = attention(B, 11);
    const variants = [
      {},
      { threshold: 'mean' as const },
      { threshold: 'median' as const },
      { quantile: 0.5 },
      { smoothing: false },
      { smoothing: { sigmaSpace: 6, sigmaColor: 10 } },
      { numMaps: 4 },
      { size: 100 },
    ];
    for (const v of variants) {
      const size = v.size ?? H;
      const m = attentionToPseudoMask(att, { mode: 'paper', image: im, size: H, ...v });
      const d = m.dataSync();
      const M = m.shape[1];
      const ri = (r: number) => Math.floor((r * H) / size);
      let outside = 0;
      let ones = 0;
      for (let b = 0; b < B; b++) {
        for (let k = 0; k < M; k++) {
          for (let r = 0; r < size; r++) {
            for (let c = 0; c < size; c++) {
              const val = d[((b * M + k) * size + r) * size + c]!;
              ones += val;
              if (val && !body[b * H * W + ri(r) * W + ri(c)]) outside++;
            }
          }
        }
      }
      expect({ v, outside }).toEqual({ v, outside: 0 });
      expect(ones).toBeGreaterThan(0);
      m.dispose();
    }
    tf.dispose([im, att]);
  });

  it('thresholds >= the in-body percentile; smoothing changes only pixels near the mask edges', () => {
    const im = image();
    const att = attention(B, 12);
    const raw = attentionToPseudoMask(att, { mode: 'paper', image: im, size: H, smoothing: false });
    const sm = attentionToPseudoMask(att, { mode: 'paper', image: im, size: H });
    const r = raw.dataSync();
    const s = sm.dataSync();
    const radius = Math.ceil(2 * DEFAULT_BILATERAL.sigmaSpace);
    let changed = 0;
    for (let b = 0; b < B; b++) {
      const rawB = Uint8Array.from(r.subarray(b * H * W, (b + 1) * H * W));
      let nBody = 0;
      let nOnes = 0;
      for (let p = 0; p < H * W; p++) {
        nBody += body[b * H * W + p]!;
        nOnes += rawB[p]!;
        if (s[b * H * W + p] !== rawB[p]) {
          changed++;
          expect(chebyshevHasOpposite(rawB, H, W, p, radius)).toBe(true);
        }
      }
      // `>=` the 0.85 quantile of the in-body values: at least 15% of the body
      expect(nOnes).toBeGreaterThanOrEqual(Math.floor(0.15 * nBody));
    }
    expect(changed).toBeGreaterThan(0); // the smoothing does something
    tf.dispose([im, att, raw, sm]);
  });

  it('uses >= : all-equal attention marks the whole body', () => {
    const im = image();
    const att = tf.fill([B, 4, 8, 8], 1 / 64) as tf.Tensor4D;
    const m = attentionToPseudoMask(att, { mode: 'paper', image: im, size: H, smoothing: false });
    expect(Array.from(m.dataSync())).toEqual(Array.from(body));
    tf.dispose([im, att, m]);
  });

  it('a precomputed bodyMask and every image layout give the same masks', () => {
    const im = image();
    const att = attention(B, 13);
    const ref = attentionToPseudoMask(att, { mode: 'paper', image: im, size: 32 });
    const bm = bodyMask(im);
    const rgb = tf.concat([im, im, im], 1);
    const nhwc = tf.transpose(rgb, [0, 2, 3, 1]);
    const flat = tf.reshape(im, [B, H, W]);
    for (const opts of [{ bodyMask: bm }, { image: rgb }, { image: nhwc }, { image: nhwc, imageLayout: 'NHWC' as const }, { image: flat }]) {
      const m = attentionToPseudoMask(att, { mode: 'paper', size: 32, ...opts });
      expect(Array.from(m.dataSync())).toEqual(Array.from(ref.dataSync()));
      m.dispose();
    }
    tf.dispose([im, att, ref, bm, rgb, nhwc, flat]);
  });

  it('a constant image is all body; leaks no tensors', async () => {
    const att = attention(2, 14);
    const flat = tf.fill([2, 1, 16, 16], 0.5);
    await expectNoLeakedTensors(() => {
      const m = attentionToPseudoMask(att, { mode: 'paper', image: flat, size: 16, smoothing: false });
      expect(Array.from(m.dataSync()).some((v) => v === 1)).toBe(true);
      m.dispose();
      bodyMask(flat).dispose();
    });
    tf.dispose([att, flat]);
  });

  it('rejects a NaN image, a batch mismatch and bad smoothing options', () => {
    const att = attention(2, 15);
    const nan = tf.tensor4d(new Float32Array(2 * 16 * 16).fill(0.2).map((v, i) => (i === 7 ? NaN : v)), [2, 1, 16, 16]);
    const three = tf.zeros([3, 1, 16, 16]);
    expect(() => attentionToPseudoMask(att, { mode: 'paper', image: nan })).toThrow(G2DError);
    expect(() => attentionToPseudoMask(att, { mode: 'paper', image: nan })).toThrow(/option "image" contains NaN at flat index 7/);
    expect(() => bodyMask(nan)).toThrow(/bodyMask: argument "image" contains NaN/);
    expect(() => attentionToPseudoMask(att, { mode: 'paper', image: three })).toThrow(/option "image" has batch size 3 but the attention map has 2/);
    expect(() => attentionToPseudoMask(att, { mode: 'paper', image: three.slice(0, 2), smoothing: { sigmaSpace: -1 } })).toThrow(
      /option "smoothing.sigmaSpace" must be a positive number/,
    );
    tf.dispose([att, nan, three]);
  });
});
