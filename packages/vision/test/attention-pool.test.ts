/**
 * AttentionPool2d against the reference implementation's own module and weights
 * (../shared/goldens/reference-g2d/seed1234.json, case attention_pool2d), plus the
 * projection heads against the reference's proj_v/proj_t (tiny G2D fixture).
 */
import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import type { RawTensor } from '@g2d-ts/core';
import { describeBackends, describeShared, expectArraysClose, expectNoLeakedTensors } from '@g2d-ts/core/testing';
import { loadWeights } from '@g2d-ts/nn';
import { AttentionPool2d, ProjectionHead2d } from '../src';
import { expectClose, fixture, nhwc, readIO } from './helpers';

interface JsonTensor {
  shape: number[];
  data: number[];
}
const raw = (t: JsonTensor): RawTensor => ({ dtype: 'float32', shape: t.shape, data: Float32Array.from(t.data) });

describeShared('AttentionPool2d vs the G2D reference', 'goldens/reference-g2d/seed1234.json', (file) => {
  const c = (JSON.parse(fs.readFileSync(file, 'utf8')) as { cases: Record<string, Record<string, unknown>> }).cases
    .attention_pool2d as {
    spacial_dim: number;
    embed_dim: number;
    num_heads: number;
    output_dim: number;
    state_dict: Record<string, JsonTensor>;
    x: JsonTensor;
    pooled: JsonTensor;
    att_map: JsonTensor;
  };

  describeBackends('reference golden', () => {
    it('pooled output and per-head attention weights (index 0 = mean query token) match', async () => {
      const pool = new AttentionPool2d({ spatialDim: c.spacial_dim, embedDim: c.embed_dim, numHeads: c.num_heads, outputDim: c.output_dim });
      const sd = new Map(Object.entries(c.state_dict).map(([k, v]) => [k, raw(v)]));
      const rep = await loadWeights(pool, sd);
      expect(rep.loaded).toHaveLength(7);
      pool.eval();
      const x = nhwc(raw(c.x)) as tf.Tensor4D; // NCHW -> NHWC
      const out = await expectNoLeakedTensors(() => pool.forward(x), 3);
      expectClose(out.pooled, raw(c.pooled), 'pooled');
      expectClose(out.weights, raw(c.att_map), 'att_map');
      // the spatial maps are the same weights without the query token
      const spatial = tf.tidy(() => tf.reshape(tf.slice(out.weights, [0, 0, 1], [-1, -1, -1]), out.attnMap.shape));
      expectArraysClose(out.attnMap, spatial, { rtol: 0, atol: 0 });
      // the weights over each head's tokens sum to 1
      expectArraysClose(tf.sum(out.weights, 2), tf.ones([2, c.num_heads]), { rtol: 1e-5, atol: 1e-5 });
      tf.dispose([x, spatial, out.pooled, out.weights, out.attnMap]);
      pool.dispose();
    });
  });
});

describeBackends('AttentionPool2d and projection heads', () => {
  it('rejects a map of the wrong size or width, naming the expected NHWC shape', () => {
    const pool = new AttentionPool2d({ spatialDim: 2, embedDim: 8, numHeads: 4 });
    const x = tf.zeros([1, 3, 3, 8]) as tf.Tensor4D;
    expect(() => pool.forward(x)).toThrow('AttentionPool2d: expected [B, 2, 2, 8] (NHWC), got [1, 3, 3, 8]');
    x.dispose();
    pool.dispose();
  });

  it('gradients reach every parameter (positional embedding, in/out projections, c_proj)', () => {
    const pool = new AttentionPool2d({ spatialDim: 2, embedDim: 8, numHeads: 4, seed: 3 });
    const x = tf.randomNormal([2, 2, 2, 8], 0, 1, 'float32', 1) as tf.Tensor4D;
    const { grads, value } = tf.variableGrads(() => {
      const o = pool.forward(x);
      return tf.add(tf.sum(tf.square(o.pooled)), tf.sum(tf.mul(o.weights, tf.range(0, 5).reshape([1, 1, 5])))) as tf.Scalar;
    }, pool.trainableVariables());
    for (const v of pool.trainableVariables()) expect(Math.max(...Array.from(grads[v.name]!.dataSync(), Math.abs))).toBeGreaterThan(0);
    tf.dispose([x, value, ...Object.values(grads)]);
    pool.dispose();
  });

  // proj_t against the same G2D fixture is checked in packages/text (TextProjection)
  it('proj_v (ProjectionHead2d) matches the reference head', async () => {
    const io = await readIO(fixture('g2d_tiny_io.safetensors'));
    const pv = new ProjectionHead2d({ inChannels: 16, hidden: 8, out: 8 });
    expect((await loadWeights(pv, fixture('g2d_tiny_2_checkpoint.pth'))).prefix).toBe('proj_v.');
    pv.eval();
    const f5 = nhwc(io.get('feat5')!) as tf.Tensor4D;
    const y = pv.forward(f5);
    expectClose(y, io.get('proj')!, 'proj_v');
    // BatchNorm(affine=false): only running statistics, no weight/bias
    expect([...pv.stateDict().keys()]).toEqual(['0.weight', '1.running_mean', '1.running_var', '1.num_batches_tracked', '3.weight']);
    expect(pv.stateDict().get('0.weight')!.shape).toEqual([8, 16, 1, 1]);
    tf.dispose([f5, y]);
    pv.dispose();
  });
});
