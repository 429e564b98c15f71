import * as tf from '@tensorflow/tfjs';
import { G2DError } from '@g2d-ts/core';
import { isTensor, requireFinite, requireRank, requireShape, requireTensor } from '../src';

describe('tensor guards', () => {
  it('requireTensor names the argument (or option) and the function', () => {
    expect(() => requireTensor(null, 'img', 'clipLoss')).toThrow(new G2DError('clipLoss: argument "img" must be a tf.Tensor, got null'));
    expect(() => requireTensor([[1]], 'img', { source: 'clipLoss' })).toThrow('clipLoss: argument "img" must be a tf.Tensor, got an array');
    expect(() => requireTensor(3, 'image', { source: 'attentionToPseudoMask', kind: 'option' })).toThrow(
      'attentionToPseudoMask: option "image" must be a tf.Tensor, got number',
    );
    const t = tf.ones([2]);
    requireTensor(t, 't');
    t.dispose();
    expect(() => requireTensor(t, 't', 'f')).toThrow('f: argument "t" is a disposed tensor');
    // duck typing: a tensor of another tfjs copy still counts
    expect(isTensor({ shape: [1], dataSync: () => new Float32Array(1) })).toBe(true);
    expect(isTensor({ shape: [1] })).toBe(false);
  });

  it('requireFinite reports the first NaN / infinite value by flat index', () => {
    const a = tf.tensor1d([1, 2, NaN, Infinity]);
    expect(() => requireFinite(a, 'x', 'f')).toThrow('f: argument "x" contains NaN at flat index 2');
    const b = tf.tensor1d([1, -Infinity]);
    expect(() => requireFinite(b, 'image', { source: 'g', kind: 'option' })).toThrow('g: option "image" contains an infinite value at flat index 1');
    requireFinite(tf.tensor1d([0, 1]), 'ok');
    tf.dispose([a, b]);
  });

  it('requireRank and requireShape give the expected and actual shapes', () => {
    const x = tf.zeros([2, 8, 8, 3]);
    requireRank(x, [3, 4], 'images');
    expect(() => requireRank(x, 2, 'img', 'clipLoss')).toThrow('clipLoss: argument "img" must have rank 2, got shape [2, 8, 8, 3]');
    requireShape(x, [null, 8, 8, 3], 'images');
    expect(() => requireShape(x, [null, 16, 16, 3], 'images', { source: 'G2DModel.forward', dims: 'B, H, W, 3' })).toThrow(
      'G2DModel.forward: argument "images" must have shape [*, 16, 16, 3] (B, H, W, 3), got [2, 8, 8, 3]',
    );
    expect(() => requireShape('x', [1], 'images')).toThrow(/argument "images" must be a tf.Tensor, got string/);
    x.dispose();
  });
});
