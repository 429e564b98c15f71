/**
 * Training-memory machinery: the early-freeing backward pass (`valueAndGradients`,
 * `variableGrads`) against tfjs's own, activation recomputation (`checkpoint`, `runBlock`,
 * memory modes) against the plain path, with BatchNorm in training mode and dropout, on every
 * backend: the same ops on the same values, so the gradients must be bit-identical.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '@g2d-ts/core';
import { describeBackends, expectArraysClose, expectNoLeakedTensors } from '@g2d-ts/core/testing';
import {
  BatchNorm,
  Conv2d,
  Dropout,
  Linear,
  Module,
  ModuleList,
  checkpoint,
  isRecomputing,
  noGrad,
  parseMemoryMode,
  relu,
  setNativeKernels,
  valueAndGradients,
  variableGrads,
  withDropoutSeed,
  type MemoryMode,
} from '../src';

/** conv → BN → ReLU → dropout → conv, plus a residual: one block of a tiny CNN. */
class Block extends Module {
  readonly conv1: Conv2d;
  readonly bn: BatchNorm;
  readonly drop: Dropout;
  readonly conv2: Conv2d;
  constructor(c: number, rng: Rng) {
    super({ rng });
    this.conv1 = this.addChild('conv1', new Conv2d(c, c, 3, { rng, padding: 1, bias: false }));
    this.bn = this.addChild('bn', new BatchNorm(c, { rng }));
    this.drop = this.addChild('drop', new Dropout(0.3, { rng }));
    this.conv2 = this.addChild('conv2', new Conv2d(c, c, 3, { rng, padding: 1 }));
  }
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => tf.add(x, this.conv2.forward(this.drop.forward(relu(this.bn.forward(this.conv1.forward(x)))))) as tf.Tensor4D);
  }
}

class Net extends Module {
  readonly stem: Conv2d;
  readonly blocks: ModuleList<Block>;
  readonly head: Linear;
  constructor(seed = 1, c = 4, n = 3) {
    const rng = new Rng(seed);
    super({ rng });
    this.stem = this.addChild('stem', new Conv2d(3, c, 3, { rng, padding: 1 }));
    this.blocks = this.addChild('blocks', new ModuleList<Block>([], { rng }));
    for (let i = 0; i < n; i++) this.blocks.push(new Block(c, new Rng(`${seed}/${i}`)));
    this.head = this.addChild('head', new Linear(c, 2, { rng }));
  }
  forward(x: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => {
      let h = relu(this.stem.forward(x));
      let i = 0;
      for (const b of this.blocks) {
        const recompute = this.memoryMode === 'lean' || (this.memoryMode === 'balanced' && i++ % 2 === 0);
        h = this.runBlock(recompute, b, (t) => b.forward(t as tf.Tensor4D), [h]);
      }
      return this.head.forward(tf.mean(h, [1, 2])) as tf.Tensor2D;
    });
  }
  /** forward with a per-call train/eval override (restored before the backward pass runs) */
  forwardAs(x: tf.Tensor4D, training: boolean): tf.Tensor2D {
    return this.withTraining(training, () => this.forward(x));
  }
}

function input(shape: number[], seed: number): tf.Tensor {
  const r = new Rng(seed);
  const d = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < d.length; i++) d[i] = r.next() * 2 - 1;
  return tf.tensor(d, shape);
}

/** Gradients of a scalar loss of `net` by variable name, with the given gradient function. */
function stepGrads(net: Net, x: tf.Tensor4D, how: 'tf' | 'lean', seed = 5): Map<string, Float32Array> {
  const names = new Map(net.namedParameters().map(([n, v]) => [v.name, n]));
  const f = () => withDropoutSeed(seed, () => tf.tidy(() => tf.sum(tf.square(net.forward(x))) as tf.Scalar));
  const { value, grads } = how === 'tf' ? tf.variableGrads(f, net.trainableVariables()) : variableGrads(f, net.trainableVariables());
  const out = new Map<string, Float32Array>();
  out.set('loss', value.dataSync() as Float32Array);
  for (const [k, g] of Object.entries(grads)) out.set(names.get(k)!, g!.dataSync() as Float32Array);
  value.dispose();
  tf.dispose(Object.values(grads));
  return out;
}

function buffers(net: Net): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const [n, e] of net.namedEntries()) {
    if (e.kind === 'tensor' && e.buffer) out.set(n, e.variable.dataSync() as Float32Array);
    if (e.kind === 'counter') out.set(n, new Float32Array([e.get()]));
  }
  return out;
}

/** The same ops on the same values: bit-identical results are expected on every backend. */
const EXACT = { rtol: 0, atol: 0 };

function expectSameMaps(a: Map<string, Float32Array>, b: Map<string, Float32Array>, tol: { rtol: number; atol: number }): void {
  expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
  for (const [k, v] of a) {
    try {
      expectArraysClose(v, b.get(k)!, tol);
    } catch (e) {
      throw new Error(`${k}: ${(e as Error).message}`);
    }
  }
}

describeBackends('valueAndGradients (early-freeing backward pass)', ({ rtol, atol }) => {
  const tol = { rtol, atol: Math.max(atol, 1e-6) };

  it('gives the same value and gradients as tf.variableGrads, BatchNorm and dropout in training mode', async () => {
    const x = input([2, 6, 6, 3], 3) as tf.Tensor4D;
    const a = new Net(1);
    const b = new Net(1);
    const ga = stepGrads(a, x, 'tf');
    const gb = await expectNoLeakedTensors(() => stepGrads(b, x, 'lean'));
    expect(gb.size).toBe(a.trainableVariables().length + 1);
    expectSameMaps(gb, ga, EXACT);
    // the BatchNorm statistics were updated once per step on both paths
    expectSameMaps(buffers(b), buffers(a), EXACT);
    tf.dispose([x]);
    a.dispose();
    b.dispose();
  });

  it('takes dy, returns null for an x the result does not depend on, and frees what it recorded', async () => {
    const w = tf.variable(tf.tensor2d([1, 2, 3, 4], [2, 2]));
    const unused = tf.variable(tf.scalar(3));
    const x = tf.tensor2d([1, -1, 2, 0.5], [2, 2]);
    const dy = tf.tensor2d([1, 2, 3, 4], [2, 2]);
    await expectNoLeakedTensors(() => {
      const { value, grads } = valueAndGradients(() => tf.tanh(tf.matMul(x, w)), [w, unused], dy);
      const ref = tf.grads((wi: tf.Tensor) => tf.tanh(tf.matMul(x, wi as tf.Tensor2D)))([w], dy);
      expect(grads[1]).toBeNull();
      expectArraysClose(grads[0]!, ref[0]!, tol);
      expect(dy.isDisposed).toBe(false);
      tf.dispose([value, grads[0]!, ...ref]);
    });
    tf.dispose([w, unused, x, dy]);
  });

  it('holds less memory at its peak than tfjs on a deep chain, and drops ops that do not depend on the variables', async () => {
    // a frozen "layer" fed by data (no gradient can reach it) then a trainable deep chain
    const w = tf.variable(tf.fill([64, 64], 0.01));
    const frozen = tf.variable(tf.fill([64, 64], 0.02), false);
    const x = tf.ones([256, 64]);
    // each op in its own scope, as models run (only what the backward pass saved stays alive)
    const f = () => {
      let h = x as tf.Tensor2D;
      for (let i = 0; i < 30; i++) {
        const prev = h;
        h = tf.tidy(() => tf.tanh(tf.matMul(prev, i < 10 ? frozen : w)) as tf.Tensor2D);
        if (prev !== x) prev.dispose();
      }
      return tf.sum(h) as tf.Scalar;
    };
    const tfPeak = (await tf.profile(() => tf.dispose(Object.values(tf.variableGrads(f, [w]).grads)))).peakBytes;
    const leanPeak = (await tf.profile(() => {
      const r = variableGrads(f, [w]);
      tf.dispose([r.value, ...Object.values(r.grads)]);
    })).peakBytes;
    // each intermediate is 256*64*4 = 64 KiB: tfjs keeps every saved output and every
    // gradient to the end (~30 + 30); here the 10 frozen ops save nothing and the rest is freed
    // as the backward pass goes
    expect(leanPeak).toBeLessThan(0.5 * tfPeak);
    const a = tf.variableGrads(f, [w]);
    const b = variableGrads(f, [w]);
    expectArraysClose(b.grads[w.name]!, a.grads[w.name]!, EXACT);
    tf.dispose([a.value, b.value, ...Object.values(a.grads), ...Object.values(b.grads), w, frozen, x]);
  });

  it('names a scalar-loss misuse and a loss that does not use the variables', () => {
    const w = tf.variable(tf.ones([2]));
    expect(() => variableGrads(() => tf.mul(w, 2) as unknown as tf.Scalar, [w])).toThrow('must return a scalar');
    expect(() => variableGrads(() => tf.scalar(1), [w])).toThrow('does not depend on any of the variables');
    expect(() => variableGrads(() => tf.sum(w), [tf.variable(tf.ones([1]), false)])).toThrow('none of the variables is trainable');
    w.dispose();
  });

  it('noGrad: the result is a constant for the enclosing gradient', () => {
    const w = tf.variable(tf.scalar(2));
    const { value, grads } = variableGrads(() => tf.add(tf.mul(w, 3), noGrad(() => tf.mul(w, 100))) as tf.Scalar, [w]);
    expectArraysClose(grads[w.name]!, [3], tol);
    expectArraysClose(value, [206], tol);
    tf.dispose([value, w, ...Object.values(grads)]);
  });
});

describeBackends('checkpoint and memory modes (activation recomputation)', ({ rtol, atol }) => {
  const tol = { rtol, atol: Math.max(atol, 1e-6) };

  for (const how of ['lean', 'tf'] as const) {
    it(`'lean' and 'balanced' give the plain path's gradients and BatchNorm statistics (${how === 'lean' ? 'valueAndGradients' : 'tf.variableGrads'})`, async () => {
      const x = input([2, 6, 6, 3], 4) as tf.Tensor4D;
      for (const mode of ['lean', 'balanced'] as MemoryMode[]) {
        const plain = new Net(2);
        const net = new Net(2).setMemoryMode(mode);
        const g = await expectNoLeakedTensors(() => stepGrads(net, x, how));
        expectSameMaps(g, stepGrads(plain, x, how), EXACT);
        // updated once on the first run, not again when the block was recomputed
        expectSameMaps(buffers(net), buffers(plain), EXACT);
        // a second step (other dropout masks, updated statistics) still agrees
        expectSameMaps(stepGrads(net, x, how, 6), stepGrads(plain, x, how, 6), EXACT);
        expectSameMaps(buffers(net), buffers(plain), EXACT);
        plain.dispose();
        net.dispose();
      }
      x.dispose();
    });
  }

  it('a per-call eval override (forward(x, {training: false}) on a training-mode model) holds in the recomputation', () => {
    const x = input([2, 6, 6, 3], 8) as tf.Tensor4D;
    const run = (mode: MemoryMode) => {
      const net = new Net(5).setMemoryMode(mode); // training mode: dropout on, batch statistics
      const names = new Map(net.namedParameters().map(([n, v]) => [v.name, n]));
      const { value, grads } = variableGrads(() => tf.sum(tf.square(net.forwardAs(x, false))) as tf.Scalar, net.trainableVariables());
      const out = new Map<string, Float32Array>([['loss', value.dataSync() as Float32Array]]);
      for (const [k, g] of Object.entries(grads)) out.set(names.get(k)!, g!.dataSync() as Float32Array);
      tf.dispose([value, ...Object.values(grads)]);
      expect(net.training).toBe(true);
      const b = buffers(net);
      net.dispose();
      return { out, b };
    };
    const plain = run('fast');
    const lean = run('lean');
    expectSameMaps(lean.out, plain.out, EXACT);
    // eval mode: the running statistics were read, never updated
    expectSameMaps(lean.b, plain.b, EXACT);
    expect([...lean.b].filter(([k]) => k.endsWith('num_batches_tracked')).every(([, v]) => v[0] === 0)).toBe(true);
    x.dispose();
  });

  it('every mode gives the same gradients (fresh models per mode)', () => {
    const x = input([2, 6, 6, 3], 7) as tf.Tensor4D;
    const results = (['fast', 'balanced', 'lean'] as MemoryMode[]).map((m) => {
      const net = new Net(3).setMemoryMode(m);
      const g = stepGrads(net, x, 'lean', 11);
      const b = buffers(net);
      net.dispose();
      return { g, b };
    });
    for (const r of results.slice(1)) {
      expectSameMaps(r.g, results[0]!.g, EXACT);
      expectSameMaps(r.b, results[0]!.b, EXACT);
    }
    x.dispose();
  });

  it("the recomputation normalises with the first run's BatchNorm statistics (no second reduction), kept until the gradient or freed with the tape", async () => {
    const x = input([2, 6, 6, 3], 9) as tf.Tensor4D;
    // batch statistics are reduced once per BatchNorm call: the recomputed blocks add no Mean kernels
    // (counted on the portable path: TensorFlow's fused BatchNorm kernel, used on the native
    // backend, is not visible to tf.profile; there the recomputation reruns that one kernel)
    const means = async (mode: MemoryMode) => {
      const net = new Net(6).setMemoryMode(mode);
      setNativeKernels(false);
      try {
        const info = await tf.profile(() => {
          stepGrads(net, x, 'lean');
        });
        return info.kernels.filter((k) => k.name === 'Mean').length;
      } finally {
        setNativeKernels(true);
        net.dispose();
      }
    };
    const fast = await means('fast');
    expect(fast).toBeGreaterThan(0);
    expect(await means('lean')).toBe(fast);
    // a checkpointed BatchNorm block whose output the loss does not use: its stash goes with the tape
    const net = new Net(7).setMemoryMode('lean');
    const unused = () =>
      tf.tidy(() => {
        const b = net.blocks.at(0);
        checkpoint((t) => b.forward(t as tf.Tensor4D), [relu(net.stem.forward(x))], { params: b.trainableVariables() });
        return tf.sum(tf.square(net.stem.forward(x))) as tf.Scalar;
      });
    for (const how of [variableGrads, tf.variableGrads]) {
      await expectNoLeakedTensors(() => {
        const { value, grads } = how(unused, net.trainableVariables());
        tf.dispose([value, ...Object.values(grads)]);
      });
    }
    net.dispose();
    x.dispose();
  });

  it('recomputes the block inside the backward pass (isRecomputing) and runs plainly outside a gradient', () => {
    const w = tf.variable(tf.tensor1d([0.5, -2]));
    let calls = 0;
    let recomputed = 0;
    const block = (t: tf.Tensor) => {
      calls++;
      if (isRecomputing()) recomputed++;
      return tf.tidy(() => tf.mul(tf.sin(t), w));
    };
    const x = tf.tensor1d([0.3, 1.2]);
    // no gradient recorded: one plain call
    tf.dispose(checkpoint(block, [x], { params: [w] }));
    expect([calls, recomputed]).toEqual([1, 0]);
    const { value, grads } = variableGrads(() => tf.sum(tf.mul(checkpoint(block, [tf.mul(x, w)], { params: [w] }), 2)) as tf.Scalar, [w]);
    expect([calls, recomputed]).toEqual([3, 1]);
    // d/dw sum(2 sin(x w) w) = 2 (cos(x w) x w + sin(x w))
    const xs = [0.3, 1.2];
    const ws = [0.5, -2];
    expectArraysClose(grads[w.name]!, xs.map((xi, i) => 2 * (Math.cos(xi * ws[i]!) * xi * ws[i]! + Math.sin(xi * ws[i]!))), tol);
    tf.dispose([value, w, x, ...Object.values(grads)]);
  });

  it('constants reach the recomputation; frozen parameters get no gradient; a frozen block fed by data is not recorded', () => {
    const w = tf.variable(tf.tensor1d([1, 2]));
    const frozen = tf.variable(tf.tensor1d([3, 4]), false);
    const mask = tf.tensor1d([1, 0]);
    let inner = 0;
    const f = () => {
      const c = tf.tidy(() => tf.mul(tf.tensor1d([1, 1]), 1));
      const y = checkpoint((a, m) => tf.mul(tf.mul(a, frozen), m!), [tf.mul(c, w)], { params: [w, frozen], constants: [mask] });
      const z = checkpoint((a) => {
        inner++;
        return tf.mul(a, frozen);
      }, [c], { params: [frozen] });
      return tf.sum(tf.add(y, z)) as tf.Scalar;
    };
    const before = tf.memory().numTensors;
    const { value, grads } = variableGrads(f, [w]);
    // y = w * frozen * mask → dy/dw = frozen * mask
    expectArraysClose(grads[w.name]!, [3, 0], tol);
    expectArraysClose(value, [3 + 3 + 4], tol);
    expect(inner).toBe(1); // z depends on nothing trainable: it ran once, under noGrad
    tf.dispose([value, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([w, frozen, mask]);
  });

  it('setMemoryMode sets the whole tree and rejects an unknown mode by name', () => {
    const net = new Net(4, 2, 2);
    net.setMemoryMode('lean');
    expect(net.namedModules().every(([, m]) => m.memoryMode === 'lean')).toBe(true);
    expect(() => net.setMemoryMode('tiny' as MemoryMode)).toThrow('Net.setMemoryMode: mode must be one of fast, balanced, lean, got "tiny"');
    expect(parseMemoryMode('balanced')).toBe('balanced');
    net.dispose();
  });
});
