/**
 * Layers and functional ops against hand-computed values (the full PyTorch parity of these
 * layers is checked through the models built on them: packages/vision and packages/text).
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '@g2d-ts/core';
import { describeBackends, expectArraysClose, expectNoLeakedTensors } from '@g2d-ts/core/testing';
import {
  BatchNorm,
  Conv2d,
  Dropout,
  Embedding,
  LayerNorm,
  Linear,
  MultiheadAttention,
  activation,
  conv2dValid,
  dropout,
  embeddingLookup,
  gelu,
  geluTanh,
  layerNorm,
  linear,
  maxPool2d,
  nchwToNhwc,
  nhwcToNchw,
  nativeOps,
  relu,
  resizeNearest,
  setNativeKernels,
  withDropoutSeed,
} from '../src';

describeBackends('functional ops', ({ rtol, atol }) => {
  const tol = { rtol, atol: Math.max(atol, 1e-6) };

  it('linear: x · W + b on the last axis of any rank; a width mismatch names both shapes', () => {
    const x = tf.tensor3d([1, 2, 3, 4, 5, 6], [1, 2, 3]);
    const w = tf.tensor2d([1, 0, 0, 1, 1, 1], [3, 2]);
    const b = tf.tensor1d([10, 20]);
    const y = linear(x, w, b);
    expect(y.shape).toEqual([1, 2, 2]);
    expectArraysClose(y, [1 + 3 + 10, 2 + 3 + 20, 4 + 6 + 10, 5 + 6 + 20], tol);
    expect(() => linear(tf.ones([2, 4]), w)).toThrow('linear: input\'s last dimension is 4, the weight expects 3 ([2, 4] · [3, 2])');
    tf.dispose([x, w, b, y]);
  });

  it('layerNorm: biased variance, eps inside the square root', () => {
    const x = tf.tensor2d([1, 2, 3, 4, 0, 0, 0, 8], [2, 4]);
    const y = layerNorm(x, tf.tensor1d([1, 1, 1, 2]), tf.tensor1d([0, 0, 0, 1]), 1e-5);
    const row = (v: number[]) => {
      const m = v.reduce((a, c) => a + c, 0) / v.length;
      const s = Math.sqrt(v.reduce((a, c) => a + (c - m) ** 2, 0) / v.length + 1e-5);
      return v.map((c, i) => ((c - m) / s) * (i === 3 ? 2 : 1) + (i === 3 ? 1 : 0));
    };
    expectArraysClose(y, [...row([1, 2, 3, 4]), ...row([0, 0, 0, 8])], tol);
    tf.dispose([x, y]);
  });

  it("'gelu' is the exact erf GELU (x * Phi(x)), 'gelu_new' the tanh approximation; relu's gradient is 0 at 0", () => {
    const x = tf.tensor1d([-3, -1, -0.5, 0, 0.5, 1, 3]);
    // x * Phi(x), Phi the standard normal CDF
    const exact = [-0.0040496941, -0.1586552539, -0.1542687694, 0, 0.3457312306, 0.8413447461, 2.9959503059];
    const g = activation('gelu', x);
    expectArraysClose(g, exact, tol);
    expectArraysClose(gelu(x), exact, tol);
    const t = activation('gelu_new', x);
    expectArraysClose(t, geluTanh(x), { rtol: 0, atol: 0 });
    expect(Math.abs(t.dataSync()[0]! - exact[0]!)).toBeGreaterThan(3e-4); // tanh form: -0.0036374
    expectArraysClose(activation('silu', x), [-3, -1, -0.5, 0, 0.5, 1, 3].map((v) => v / (1 + Math.exp(-v))), tol);
    const dr = tf.grad((v: tf.Tensor) => tf.sum(relu(v)))(x);
    expectArraysClose(dr, [0, 0, 0, 0, 1, 1, 1], { rtol: 0, atol: 0 });
    expect(() => activation('mish' as never, x)).toThrow(/unknown activation "mish"; known: gelu, gelu_new/);
    tf.dispose([x, g, t, dr]);
  });

  it('embeddingLookup gathers rows and scatter-adds the gradient (repeated ids accumulate)', () => {
    const table = tf.tensor2d([0, 1, 10, 11, 20, 21], [3, 2]);
    const ids = tf.tensor2d([2, 0, 2], [1, 3], 'int32');
    const e = embeddingLookup(table, ids);
    expect(e.shape).toEqual([1, 3, 2]);
    expectArraysClose(e, [20, 21, 0, 1, 20, 21], { rtol: 0, atol: 0 });
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(embeddingLookup(t as tf.Tensor2D, ids), tf.tensor1d([1, 2]))))(table);
    expectArraysClose(g, [1, 2, 0, 0, 2, 4], { rtol: 0, atol: 0 });
    tf.dispose([table, ids, e, g]);
  });

  it('dropout keeps the expectation, is repeatable with a seed, and rejects bad rates', () => {
    const x = tf.ones([4000]);
    const a = dropout(x, 0.25, 11);
    const b = dropout(x, 0.25, 11);
    expectArraysClose(a, b, { rtol: 0, atol: 0 });
    const v = Array.from(a.dataSync());
    const kept = v.filter((u) => u !== 0);
    expect(kept.every((u) => Math.abs(u - 1 / 0.75) < 1e-6)).toBe(true);
    expect(Math.abs(kept.length / v.length - 0.75)).toBeLessThan(0.03);
    expect(() => dropout(x, 1)).toThrow('dropout: rate must be in [0, 1), got 1');
    tf.dispose([x, a, b]);
  });

  it('maxPool2d pads with -inf (PyTorch), resizeNearest and the layout transposes', () => {
    const x = tf.tensor4d([-1, -2, -3, -4], [1, 2, 2, 1]);
    const p = maxPool2d(x, 3, 2, 1);
    expectArraysClose(p, [-1], { rtol: 0, atol: 0 }); // zero padding would give 0
    const r = resizeNearest(tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]), [4, 4]);
    expectArraysClose(r, [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4], { rtol: 0, atol: 0 });
    const nchw = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8], [1, 2, 2, 2]);
    const nhwc = nchwToNhwc(nchw);
    expectArraysClose(nhwc, [1, 5, 2, 6, 3, 7, 4, 8], { rtol: 0, atol: 0 });
    expectArraysClose(nhwcToNchw(nhwc), nchw, { rtol: 0, atol: 0 });
    tf.dispose([x, p, r, nchw, nhwc]);
  });

  it("conv2dValid's input and filter gradients match a direct loop on every backend (strided, multi-tap)", () => {
    const [N, H, W, Ci, K, Co, S] = [2, 7, 7, 3, 3, 4, 2];
    const x = tf.randomNormal([N, H, W, Ci], 0, 1, 'float32', 1) as tf.Tensor4D;
    const w = tf.randomNormal([K, K, Ci, Co], 0, 1, 'float32', 2) as tf.Tensor4D;
    const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(conv2dValid(a as tf.Tensor4D, b as tf.Tensor4D, S))))([x, w]);
    // loss = sum(y^2): dy = 2y; dW and dX by plain loops over the valid windows
    const xs = x.dataSync();
    const ws = w.dataSync();
    const OH = Math.floor((H - K) / S) + 1;
    const OW = Math.floor((W - K) / S) + 1;
    const X = (n: number, h: number, v: number, c: number) => ((n * H + h) * W + v) * Ci + c;
    const Wi = (a: number, b: number, c: number, o: number) => ((a * K + b) * Ci + c) * Co + o;
    const gx = new Float64Array(xs.length);
    const gw = new Float64Array(ws.length);
    for (let n = 0; n < N; n++)
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++)
          for (let o = 0; o < Co; o++) {
            let y = 0;
            for (let a = 0; a < K; a++) for (let b = 0; b < K; b++) for (let c = 0; c < Ci; c++) y += xs[X(n, oh * S + a, ow * S + b, c)]! * ws[Wi(a, b, c, o)]!;
            const dy = 2 * y;
            for (let a = 0; a < K; a++)
              for (let b = 0; b < K; b++)
                for (let c = 0; c < Ci; c++) {
                  gw[Wi(a, b, c, o)] += xs[X(n, oh * S + a, ow * S + b, c)]! * dy;
                  gx[X(n, oh * S + a, ow * S + b, c)] += ws[Wi(a, b, c, o)]! * dy;
                }
          }
    const t = { rtol: Math.max(rtol, 1e-4), atol: Math.max(atol, 1e-3) };
    expectArraysClose(dw!, Array.from(gw), t);
    expectArraysClose(dx!, Array.from(gx), t);
    tf.dispose([x, w, dx!, dw!]);
  });
});

describeBackends('layers', ({ rtol, atol }) => {
  const tol = { rtol, atol: Math.max(atol, 1e-6) };

  it('Linear/LayerNorm modules are the functional ops on their parameters', () => {
    const l = new Linear(3, 2, { rng: new Rng(1) });
    const x = tf.randomNormal([4, 3], 0, 1, 'float32', 5);
    expectArraysClose(l.forward(x), linear(x, l.weight, l.bias), { rtol: 0, atol: 0 });
    const n = new Linear(3, 2, { init: 'normal', std: 0.02, rng: new Rng(2) });
    expect(Math.max(...Array.from(n.weight.dataSync()).map(Math.abs))).toBeLessThan(0.1);
    expect(Array.from(n.bias!.dataSync())).toEqual([0, 0]);
    expect(() => new Linear(0, 2)).toThrow('Linear: inFeatures must be a positive integer, got 0');
    const ln = new LayerNorm(3, 1e-12);
    expectArraysClose(ln.forward(x), layerNorm(x, ln.weight, ln.bias, 1e-12), { rtol: 0, atol: 0 });
    [l, n, ln].forEach((m) => m.dispose());
    x.dispose();
  });

  it('BatchNorm: batch statistics and running updates (unbiased) in training, running statistics in eval', () => {
    const bn = new BatchNorm(2, { affine: false });
    const x = tf.tensor2d([1, 10, 3, 20, 5, 60], [3, 2]);
    const y = bn.forward(x);
    // channel 0: mean 3, biased var 8/3; channel 1: mean 30, biased var 1400/3
    const s0 = Math.sqrt(8 / 3 + 1e-5);
    const s1 = Math.sqrt(1400 / 3 + 1e-5);
    expectArraysClose(y, [-2 / s0, -20 / s1, 0, -10 / s1, 2 / s0, 30 / s1], tol);
    expectArraysClose(bn.runningMean, [0.3, 3], tol);
    expectArraysClose(bn.runningVar, [0.9 + 0.1 * 4, 0.9 + 0.1 * 700], tol); // unbiased: 8/2, 1400/2
    expect(bn.numBatchesTracked).toBe(1);
    bn.eval();
    const e = bn.forward(x);
    expectArraysClose(e, [(1 - 0.3) / Math.sqrt(1.3 + 1e-5), (10 - 3) / Math.sqrt(70.9 + 1e-5)].concat([(3 - 0.3) / Math.sqrt(1.3 + 1e-5), (20 - 3) / Math.sqrt(70.9 + 1e-5)], [(5 - 0.3) / Math.sqrt(1.3 + 1e-5), (60 - 3) / Math.sqrt(70.9 + 1e-5)]), tol);
    expect(bn.numBatchesTracked).toBe(1);
    bn.train();
    expect(() => bn.forward(tf.ones([1, 2]))).toThrow(/BatchNorm: expected more than 1 value per channel when training, got input shape \[1, 2\]/);
    tf.dispose([x, y, e]);
    bn.dispose();
  });

  it('Embedding: N(0, std) rows, a zero padding row, lookup of any id shape', () => {
    const emb = new Embedding(50, 4, { std: 0.02, paddingIdx: 3, rng: new Rng(4) });
    const w = emb.weight.arraySync();
    expect(w[3]!.every((v) => v === 0)).toBe(true);
    expect(w[4]!.some((v) => v !== 0)).toBe(true);
    const ids = tf.tensor1d([3, 4], 'int32');
    const out = emb.forward(ids);
    expectArraysClose(out, [...w[3]!, ...w[4]!], { rtol: 0, atol: 0 });
    expect(() => new Embedding(5, 2, { paddingIdx: 5 })).toThrow('Embedding: paddingIdx 5 is outside [0, 4]');
    tf.dispose([ids, out]);
    emb.dispose();
  });

  it('Dropout: identity in eval, seeded masks in training (same seed, same masks; fresh mask per call)', async () => {
    const x = tf.ones([1000]);
    const a = new Dropout(0.5, { rng: new Rng(7) });
    const b = new Dropout(0.5, { rng: new Rng(7) });
    const a1 = a.forward(x);
    const a2 = a.forward(x);
    const b1 = b.forward(x);
    expectArraysClose(a1, b1, { rtol: 0, atol: 0 });
    expect(Array.from(a1.dataSync())).not.toEqual(Array.from(a2.dataSync()));
    a.eval();
    const e = a.forward(x);
    expectArraysClose(e, x, { rtol: 0, atol: 0 });
    await expectNoLeakedTensors(() => a.forward(x).dispose());
    expect(() => new Dropout(-0.1)).toThrow('Dropout: rate must be in [0, 1), got -0.1');
    tf.dispose([x, a1, a2, b1, e]);
  });

  it('withDropoutSeed: masks come from the scope seed in call order (a resumed step replays them), not the layers\' generators', () => {
    const x = tf.ones([500]);
    const run = (rngSeed: number, scope: number | undefined) => {
      const a = new Dropout(0.5, { rng: new Rng(rngSeed) });
      const b = new Dropout(0.5, { rng: new Rng(rngSeed + 1) });
      const out = withDropoutSeed(scope, () => [a.forward(x), b.forward(x)]);
      const v = out.map((t) => Array.from(t.dataSync()));
      tf.dispose(out);
      return v;
    };
    const s1 = run(1, 42);
    expect(run(2, 42)).toEqual(s1); // layers' own generators do not matter inside a scope
    expect(s1[0]).not.toEqual(s1[1]); // successive draws differ
    expect(run(1, 43)).not.toEqual(s1);
    expect(run(1, undefined)).not.toEqual(s1); // no scope: the layers' generators
    expect(run(1, undefined)).toEqual(run(1, undefined));
    x.dispose();
  });

  it('MultiheadAttention: per-head softmax weights over the keys, output of the embed width', () => {
    const mha = new MultiheadAttention(8, 2, { rng: new Rng(3) });
    const q = tf.randomNormal([2, 1, 8], 0, 1, 'float32', 1) as tf.Tensor3D;
    const kv = tf.randomNormal([2, 5, 8], 0, 1, 'float32', 2) as tf.Tensor3D;
    const { output, weights } = mha.forward(q, kv, kv);
    expect(output.shape).toEqual([2, 1, 8]);
    expect(weights.shape).toEqual([2, 2, 1, 5]);
    expectArraysClose(tf.sum(weights, -1), [1, 1, 1, 1], tol);
    expect(() => new MultiheadAttention(6, 4)).toThrow('MultiheadAttention: embedDim 6 is not divisible by numHeads 4');
    tf.dispose([q, kv, output, weights]);
    mha.dispose();
  });
});

describeBackends(
  "BatchNorm on TensorFlow's fused training kernels (native backend)",
  () => {
    // FusedBatchNormV3 / FusedBatchNormGradV3 / ReluGrad against the portable tfjs formulation
    // of the same maths (setNativeKernels(false)), for every input rank BatchNorm accepts
    const run = (native: boolean, shape: number[], affine: boolean) => {
      setNativeKernels(native);
      try {
        const bn = new BatchNorm(shape[shape.length - 1]!, { affine, rng: new Rng(3) });
        tf.tidy(() => {
          bn.weight?.assign(tf.randomNormal([bn.numFeatures], 1, 0.2, 'float32', 5));
          bn.bias?.assign(tf.randomNormal([bn.numFeatures], 0, 0.2, 'float32', 6));
        });
        const x0 = tf.randomNormal(shape, 0.5, 3, 'float32', 7);
        const x = tf.variable(x0);
        x0.dispose();
        const dy = tf.randomNormal(shape, 0, 1, 'float32', 8);
        const params = affine ? [x, bn.weight!, bn.bias!] : [x];
        const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(relu(bn.forward(x)), dy)) as tf.Scalar, params);
        const yt = tf.tidy(() => bn.forward(x));
        const out = {
          y: yt.dataSync().slice(),
          loss: value.dataSync()[0]!,
          grads: params.map((p) => grads[p.name]!.dataSync().slice()),
          running: [bn.runningMean.dataSync().slice(), bn.runningVar.dataSync().slice()],
          tracked: bn.numBatchesTracked,
        };
        tf.dispose([yt, value, ...Object.values(grads), x, dy]);
        bn.dispose();
        return out;
      } finally {
        setNativeKernels(true);
      }
    };

    it('uses the native kernels and matches the portable path (ranks 2-4, affine or not), leaking nothing', async () => {
      expect(nativeOps()).not.toBeNull();
      setNativeKernels(false);
      expect(nativeOps()).toBeNull();
      setNativeKernels(true);
      const close = { rtol: 1e-4, atol: 1e-4 };
      for (const [shape, affine] of [
        [[4, 5, 6, 8], true],
        [[4, 5, 6, 8], false],
        [[6, 7, 8], true],
        [[9, 8], false],
      ] as const) {
        const a = run(true, [...shape], affine);
        const b = run(false, [...shape], affine);
        expectArraysClose(a.y, b.y, close);
        expect(a.loss).toBeCloseTo(b.loss, 3);
        a.grads.forEach((g, i) => expectArraysClose(g, b.grads[i]!, close));
        expectArraysClose(a.running[0]!, b.running[0]!, close);
        expectArraysClose(a.running[1]!, b.running[1]!, close);
        expect(a.tracked).toBe(2); // the training-mode forward inside the gradient and the one outside it
        expect(a.tracked).toBe(b.tracked);
      }
      await expectNoLeakedTensors(() => run(true, [4, 5, 6, 8], true));
      await expectNoLeakedTensors(() => run(true, [9, 8], false));
    });

    it('Conv2d: the CPU input gradient as a forward convolution, the 1x1 and channel-reducing filter gradients match the portable path (same/valid, 1x1 strided, odd sizes)', async () => {
      const grad = (native: boolean, cfg: { k: number; stride: number; padding: number }, shape: number[]) => {
        setNativeKernels(native);
        try {
          const conv = new Conv2d(shape[3]!, 5, cfg.k, { stride: cfg.stride, padding: cfg.padding, bias: true, rng: new Rng(11) });
          const x0 = tf.randomNormal(shape, 0, 1, 'float32', 12);
          const x = tf.variable(x0);
          x0.dispose();
          const params = [x, conv.weight, conv.bias!];
          const { value, grads } = tf.variableGrads(() => {
            const y = conv.forward(x as tf.Tensor as tf.Tensor4D);
            return tf.sum(tf.mul(y, tf.randomNormal(y.shape, 0, 1, 'float32', 13))) as tf.Scalar;
          }, params);
          const out = [value.dataSync().slice(), ...params.map((p) => grads[p.name]!.dataSync().slice())];
          tf.dispose([value, ...Object.values(grads), x]);
          conv.dispose();
          return out;
        } finally {
          setNativeKernels(true);
        }
      };
      const close = { rtol: 1e-4, atol: 1e-4 };
      for (const [cfg, shape] of [
        [{ k: 3, stride: 1, padding: 1 }, [2, 7, 6, 4]],
        [{ k: 3, stride: 1, padding: 0 }, [2, 7, 6, 4]],
        [{ k: 5, stride: 1, padding: 1 }, [2, 8, 9, 3]],
        [{ k: 1, stride: 1, padding: 0 }, [2, 5, 5, 6]],
        [{ k: 1, stride: 2, padding: 0 }, [2, 8, 6, 6]],
        [{ k: 1, stride: 2, padding: 0 }, [2, 7, 9, 6]],
        [{ k: 3, stride: 2, padding: 1 }, [2, 7, 8, 4]],
        // more input than output channels: the filter gradient as a forward convolution
        [{ k: 3, stride: 1, padding: 1 }, [2, 7, 6, 8]],
        [{ k: 3, stride: 1, padding: 0 }, [2, 7, 6, 8]],
        [{ k: 5, stride: 1, padding: 2 }, [2, 9, 8, 7]],
      ] as const) {
        const a = grad(true, cfg, [...shape]);
        const b = grad(false, cfg, [...shape]);
        a.forEach((t, i) => expectArraysClose(t, b[i]!, close));
      }
      await expectNoLeakedTensors(() => grad(true, { k: 1, stride: 2, padding: 0 }, [2, 7, 9, 6]));
    });

    it('takes the native path: no Conv2DBackpropInput for stride-1 or 1x1 strided convolutions, no Conv2DBackpropFilter for stride-1 1x1 or channel-reducing ones, no moments for BatchNorm', async () => {
      const kernels = async (native: boolean) => {
        setNativeKernels(native);
        try {
          const net = [new Conv2d(4, 6, 3, { padding: 1, rng: new Rng(1) }), new Conv2d(6, 6, 3, { rng: new Rng(2) }), new Conv2d(6, 5, 1, { stride: 2, rng: new Rng(3) }), new Conv2d(5, 5, 1, { rng: new Rng(5) }), new Conv2d(5, 3, 3, { padding: 1, rng: new Rng(6) })];
          const bn = new BatchNorm(3);
          const x = tf.randomNormal([2, 9, 9, 4], 0, 1, 'float32', 4) as tf.Tensor4D;
          const info = await tf.profile(() => {
            const { value, grads } = tf.variableGrads(
              () => tf.sum(relu(bn.forward(net.reduce((h, c) => c.forward(h), x)))) as tf.Scalar,
              [...net.flatMap((c) => c.trainableVariables()), ...bn.trainableVariables()],
            );
            tf.dispose([value, ...Object.values(grads)]);
          });
          x.dispose();
          for (const m of [...net, bn]) m.dispose();
          const n = (name: string) => info.kernels.filter((k) => k.name === name).length;
          return { backpropInput: n('Conv2DBackpropInput'), backpropFilter: n('Conv2DBackpropFilter'), mean: n('Mean'), sign: n('Sign') };
        } finally {
          setNativeKernels(true);
        }
      };
      expect(await kernels(true)).toEqual({ backpropInput: 0, backpropFilter: 3, mean: 0, sign: 0 });
      const portable = await kernels(false);
      expect(portable.backpropInput).toBeGreaterThan(0);
      expect(portable.backpropFilter).toBe(5);
      expect(portable.mean).toBeGreaterThan(0);
      expect(portable.sign).toBeGreaterThan(0);
    });
  },
  { only: ['tensorflow'] },
);
