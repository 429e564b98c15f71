/** Code mode: hand-worked cases, edge cases, options, errors, no gradient, no leaks. */
import * as tf from '@tensorflow/tfjs';
import { G2DError } from '@g2d-ts/core';
import { describeBackends, expectArraysClose, expectNoLeakedTensors } from '@g2d-ts/core/testing';
import {
  attentionToPseudoMask,
  nearestIndices,
  numpyMedianF32,
  numpyQuantileLinear,
  pseudoMaskFromArray,
} from '../src';
import { numpyMeanF32, numpyMeanF32Upsampled } from '../src/numeric';

/** a 2x2 attention map per head -> [1, heads, 2, 2] */
const map2x2 = (heads: number[][]) => tf.tensor4d(heads.flat(), [1, heads.length, 2, 2]);

describe('numpy / PyTorch numerics', () => {
  it('nearest indices follow floor(dst * in / out)', () => {
    expect(Array.from(nearestIndices(2, 4))).toEqual([0, 0, 1, 1]);
    expect(Array.from(nearestIndices(3, 5))).toEqual([0, 0, 1, 1, 2]); // floor(d * 0.6)
    expect(Array.from(nearestIndices(8, 5))).toEqual([0, 1, 3, 4, 6]); // floor(d * 1.6)
    expect(Array.from(nearestIndices(4, 4))).toEqual([0, 1, 2, 3]);
  });

  it('the mean over the virtual upsampled map equals the mean of the materialised one', () => {
    const f = Math.fround;
    for (const [h, w, outH, outW] of [[8, 8, 256, 256], [7, 7, 97, 97], [8, 8, 300, 224], [16, 16, 50, 50], [3, 5, 129, 131]] as const) {
      const m = new Float32Array(h * w).map((_, i) => f(Math.exp(Math.sin(i * 12.9898) * 9) * 1e-3));
      const ri = nearestIndices(h, outH);
      const ci = nearestIndices(w, outW);
      const full = new Float32Array(outH * outW);
      for (let r = 0; r < outH; r++) for (let c = 0; c < outW; c++) full[r * outW + c] = m[ri[r]! * w + ci[c]!]!;
      expect(numpyMeanF32Upsampled(m, 0, w, ri, ci)).toBe(numpyMeanF32(full, 0, full.length));
    }
  });

  it('quantile = numpy linear interpolation (hand-worked)', () => {
    const sorted = [1, 2, 3, 4, 10];
    const stat = (k: number) => sorted[k]!;
    // virtual index (5-1)*0.85 = 3.4: 4 + 0.4 * (10 - 4)
    expect(numpyQuantileLinear(stat, 5, 0.85)).toBeCloseTo(6.4, 12);
    expect(numpyQuantileLinear(stat, 5, 0.5)).toBe(3);
    expect(numpyQuantileLinear(stat, 5, 0)).toBe(1);
    expect(numpyQuantileLinear(stat, 5, 1)).toBe(10);
    // t >= 0.5 is computed from the upper neighbour: b - (b - a) * (1 - t)
    expect(numpyQuantileLinear(stat, 5, 0.95)).toBeCloseTo(10 - 6 * 0.2, 12);
    expect(numpyMedianF32((k: number) => [1, 2, 4, 8][k]!, 4)).toBe(3);
    expect(numpyMedianF32((k: number) => [1, 2, 4][k]!, 3)).toBe(2);
  });
});

describeBackends('attentionToPseudoMask (code mode)', () => {
  it('hand-worked: mean of heads, nearest x2, quantile / mean / median, strict >', () => {
    // heads average to [[0.1, 0.4], [0.2, 0.3]]
    const att = map2x2([[0.2, 0.8, 0.4, 0.6], [0, 0, 0, 0]]);
    // 4x4 upsample: each value 4 times; 0.85-quantile of 16 values: index 12.75 -> 0.4 (the
    // top block), not > 0.4 -> all 0
    const q = attentionToPseudoMask(att, { size: 4 });
    expect(q.shape).toEqual([1, 1, 4, 4]);
    expect(Array.from(q.dataSync())).toEqual(new Array(16).fill(0));
    // 0.7-quantile: index 10.5 -> between 0.3 and 0.3 -> 0.3: only the 0.4 block
    const q7 = attentionToPseudoMask(att, { size: 4, quantile: 0.7 });
    expectArraysClose(q7, [0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0], { rtol: 0, atol: 0 });
    // mean 0.25: 0.4 and 0.3 blocks; median (0.2 + 0.3) / 2 = 0.25: same
    const mean = attentionToPseudoMask(att, { size: 4, threshold: 'mean' });
    const med = attentionToPseudoMask(att, { size: 4, threshold: 'median' });
    const want = [0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1];
    expect(Array.from(mean.dataSync())).toEqual(want);
    expect(Array.from(med.dataSync())).toEqual(want);
    tf.dispose([att, q, q7, mean, med]);
  });

  it('one mask per head when numMaps equals the head count', () => {
    const att = map2x2([[0.1, 0.9, 0.2, 0.3], [0.9, 0.1, 0.2, 0.3]]);
    const m = attentionToPseudoMask(att, { numMaps: 2, size: 2, threshold: 'median' });
    expect(m.shape).toEqual([1, 2, 2, 2]);
    expect(Array.from(m.dataSync())).toEqual([0, 1, 0, 1, 1, 0, 0, 1]);
    tf.dispose([att, m]);
  });

  it('batch of 1 and a batch of 64 give per-image results', () => {
    const big = tf.softmax(tf.randomNormal([64, 4, 64], 0, 2, 'float32', 1)).reshape([64, 4, 8, 8]) as tf.Tensor4D;
    const all = attentionToPseudoMask(big, { size: 32 });
    const one = attentionToPseudoMask(tf.slice(big, [5, 0, 0, 0], [1, 4, 8, 8]) as tf.Tensor4D, { size: 32 });
    expect(one.shape).toEqual([1, 1, 32, 32]);
    expectArraysClose(one, tf.slice(all, [5, 0, 0, 0], [1, 1, 32, 32]), { rtol: 0, atol: 0 });
    // the 0.85 quantile of 64 distinct block values: 9 blocks above it (9 * 16 pixels)
    expect(tf.sum(one).dataSync()[0]).toBe(9 * 16);
    tf.dispose([big, all, one]);
  });

  it('all-equal maps: ties at the threshold give empty masks (strict >)', () => {
    const att = tf.fill([2, 4, 8, 8], 1 / 64) as tf.Tensor4D;
    for (const threshold of ['quantile', 'median', 'mean'] as const) {
      const m = attentionToPseudoMask(att, { threshold });
      expect(tf.sum(m).dataSync()[0]).toBe(0);
      m.dispose();
    }
    att.dispose();
  });

  it('thresholds >= 1 give an empty mask (the reference clears its freshly written ones)', () => {
    const att = tf.tensor4d([1, 2, 3, 4], [1, 1, 2, 2]);
    const m = attentionToPseudoMask(att, { size: 2, threshold: 'median' }); // median 2.5 >= 1
    expect(Array.from(m.dataSync())).toEqual([0, 0, 0, 0]);
    tf.dispose([att, m]);
  });

  it('non-square size and dtypes', () => {
    const att = tf.softmax(tf.randomNormal([2, 4, 64], 0, 2, 'float32', 2)).reshape([2, 4, 8, 8]) as tf.Tensor4D;
    const f = attentionToPseudoMask(att, { size: [24, 40] });
    expect(f.shape).toEqual([2, 1, 24, 40]);
    const i = attentionToPseudoMask(att, { size: [24, 40], dtype: 'int32' });
    const b = attentionToPseudoMask(att, { size: [24, 40], dtype: 'bool' });
    expect(i.dtype).toBe('int32');
    expect(b.dtype).toBe('bool');
    expect(Array.from(i.dataSync())).toEqual(Array.from(f.dataSync()));
    expect(Array.from(b.dataSync())).toEqual(Array.from(f.dataSync()));
    tf.dispose([att, f, i, b]);
  });

  it('is a constant: no gradient flows into the attention map', () => {
    const att = tf.softmax(tf.randomNormal([1, 4, 4], 0, 2, 'float32', 3)).reshape([1, 4, 2, 2]) as tf.Tensor4D;
    // d/da sum(a_mean_upsampled * mask) would involve the mask's derivative if it had one;
    // here d/da sum(a * mask(a)) must be exactly mask(a)
    const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(a, attentionToPseudoMask(a as tf.Tensor4D, { numMaps: 4, size: 2, threshold: 'median' }))));
    const mask = attentionToPseudoMask(att, { numMaps: 4, size: 2, threshold: 'median' });
    const grad = g(att);
    expectArraysClose(grad, mask, { rtol: 0, atol: 0 });
    tf.dispose([att, mask, grad]);
  });

  it('leaks no tensors', async () => {
    const att = tf.softmax(tf.randomNormal([3, 4, 64], 0, 2, 'float32', 4)).reshape([3, 4, 8, 8]) as tf.Tensor4D;
    await expectNoLeakedTensors(() => {
      attentionToPseudoMask(att).dispose();
      attentionToPseudoMask(att, { numMaps: 4, threshold: 'mean' }).dispose();
    });
    att.dispose();
  });

  it('rejects NaN / infinite attention naming the argument', () => {
    const nan = tf.tensor4d([0.1, NaN, 0.3, 0.4], [1, 1, 2, 2]);
    const inf = tf.tensor4d([0.1, 0.2, -Infinity, 0.4], [1, 1, 2, 2]);
    expect(() => attentionToPseudoMask(nan)).toThrow(G2DError);
    expect(() => attentionToPseudoMask(nan)).toThrow(/attentionToPseudoMask: argument "attMap" contains NaN at flat index 1/);
    expect(() => attentionToPseudoMask(inf)).toThrow(/argument "attMap" contains an infinite value at flat index 2/);
    tf.dispose([nan, inf]);
  });

  it('rejects bad shapes and options with a clear message', () => {
    const att = tf.zeros([2, 4, 8, 8]) as tf.Tensor4D;
    const r3 = tf.zeros([2, 8, 8]) as unknown as tf.Tensor4D;
    expect(() => attentionToPseudoMask(r3)).toThrow(/argument "attMap" must be a non-empty B x heads x h x w array, got shape \[2, 8, 8\]/);
    expect(() => attentionToPseudoMask(att, { numMaps: 3 })).toThrow(/option "numMaps" must be 1 .* or the number of heads \(4/);
    expect(() => attentionToPseudoMask(att, { quantile: 1.5 })).toThrow(/option "quantile" must be a number in \[0, 1\]/);
    expect(() => attentionToPseudoMask(att, { size: 0 })).toThrow(/option "size"/);
    expect(() => attentionToPseudoMask(att, { threshold: 'max' as 'mean' })).toThrow(/option "threshold"/);
    expect(() => attentionToPseudoMask(att, { mode: 'fast' as 'code' })).toThrow(/option "mode"/);
    expect(() => attentionToPseudoMask(att, { mode: 'paper' })).toThrow(/paper mode needs option "image"/);
    expect(() => attentionToPseudoMask(null as unknown as tf.Tensor4D)).toThrow(/argument "attMap" must be a tf.Tensor/);
    expect(() => pseudoMaskFromArray({ data: new Float32Array(3), shape: [1, 1, 2, 2] })).toThrow(/has 3 values/);
    tf.dispose([att, r3]);
  });
});
