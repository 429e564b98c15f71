import * as tf from '@tensorflow/tfjs';
import { describeBackends, expectArraysClose, expectNoLeakedTensors, testBackends } from '../src/testing';

describe('expectArraysClose', () => {
  it('accepts within tolerance, rejects outside, matches NaN to NaN', () => {
    expectArraysClose([1, 2, NaN], [1.0001, 2, NaN], { rtol: 1e-3, atol: 0 });
    expect(() => expectArraysClose([1, 2], [1, 2.1], { rtol: 1e-3, atol: 1e-4 })).toThrow(/1\/2 elements differ/);
    expect(() => expectArraysClose([1], [1, 2])).toThrow(/length/);
  });
});

describe('expectNoLeakedTensors', () => {
  it('catches a leak', async () => {
    await expect(expectNoLeakedTensors(() => { tf.ones([2]); })).rejects.toThrow(/leaked 1 tensor/);
    await expectNoLeakedTensors(() => tf.tidy(() => { tf.ones([2]).add(1); }));
  });
});

describe('testBackends', () => {
  it('always includes cpu', () => {
    expect(testBackends()).toContain('cpu');
  });
});

describeBackends('a small op on', ({ backend, rtol, atol }) => {
  it('matches hand-computed values', () => {
    expect(tf.getBackend()).toBe(backend);
    const y = tf.tidy(() => tf.conv2d(tf.ones([1, 3, 3, 1]) as tf.Tensor4D, tf.ones([2, 2, 1, 1]) as tf.Tensor4D, 1, 'valid'));
    expectArraysClose(y, [4, 4, 4, 4], { rtol, atol });
    y.dispose();
  });
});
