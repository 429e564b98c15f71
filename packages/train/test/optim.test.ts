/** AdamW bookkeeping (frozen variables, disposal, state round trip, errors), clipping and accumulation by hand. */
import * as tf from '@tensorflow/tfjs';
import { G2DError, nativeOnCpu, setNativeKernels } from '@g2d-ts/core';
import { describeBackends, expectArraysClose, expectNoLeakedTensors } from '@g2d-ts/core/testing';
import { AdamW, GradientAccumulator, clipGradNorm, computeGradients, resolveVariables } from '../src';

function vars(): Map<string, tf.Variable> {
  return new Map([
    ['w', tf.variable(tf.tensor1d([1, -2, 3]))],
    ['frozen', tf.variable(tf.tensor1d([5, 6]), false)],
  ]);
}
const loss = (v: Map<string, tf.Variable>) => () =>
  tf.tidy(() => tf.add(tf.sum(tf.square(tf.sub(v.get('w')!, tf.tensor1d([0.5, 0.5, 0.5])))), tf.sum(v.get('frozen')!)) as tf.Scalar);

describeBackends('AdamW', ({ rtol, atol }) => {
  it('one step by hand: decoupled decay, bias correction, eps', () => {
    const v = new Map([['p', tf.variable(tf.tensor1d([1, -2]))]]);
    const opt = new AdamW(v, { lr: 0.1, weightDecay: 0.5, betas: [0.9, 0.99], eps: 1e-3 });
    opt.step(new Map([['p', tf.tensor1d([0.2, -4])]]));
    // step 1: m = 0.1 g, v = 0.01 g^2, m_hat = g, sqrt(v_hat) = |g|: p(1 - 0.05) - 0.1 * g / (|g| + 1e-3)
    const want = [1 * 0.95 - (0.1 * 0.2) / (0.2 + 1e-3), -2 * 0.95 - (0.1 * -4) / (4 + 1e-3)];
    expectArraysClose(v.get('p')!, want, { rtol, atol });
    opt.dispose();
    v.get('p')!.dispose();
  });

  it('never touches frozen variables, disposes every gradient, keeps the tensor count constant over 25 steps', () => {
    const v = vars();
    const opt = new AdamW(v, { lr: 0.05 });
    expect([...opt.trainable().keys()]).toEqual(['w']);
    opt.minimize(loss(v)); // creates the moments
    const base = tf.memory().numTensors;
    for (let i = 0; i < 25; i++) {
      const { value, grads } = computeGradients(opt.trainable(), loss(v));
      const held = [...grads.values()];
      grads.set('frozen', tf.onesLike(v.get('frozen')!)); // even an explicit gradient for a frozen variable is dropped
      held.push(grads.get('frozen')!);
      opt.step(grads);
      value.dispose();
      expect(held.every((g) => g.isDisposed)).toBe(true);
      expect(tf.memory().numTensors).toBe(base);
    }
    expect(Array.from(v.get('frozen')!.dataSync())).toEqual([5, 6]);
    expect(opt.stepsOf('frozen')).toBe(0);
    expect(opt.stepsOf('w')).toBe(26);
    opt.dispose();
    v.forEach((x) => x.dispose());
  });

  it('a variable frozen later stops moving; unfrozen again it continues', () => {
    const v = vars();
    const opt = new AdamW(v, { lr: 0.05 });
    opt.minimize(loss(v));
    v.get('w')!.trainable = false;
    const before = Array.from(v.get('w')!.dataSync());
    opt.step(new Map([['w', tf.ones([3])]]));
    expect(Array.from(v.get('w')!.dataSync())).toEqual(before);
    v.get('w')!.trainable = true;
    opt.step(new Map([['w', tf.ones([3])]]));
    expect(Array.from(v.get('w')!.dataSync())).not.toEqual(before);
    opt.dispose();
    v.forEach((x) => x.dispose());
  });

  it('exportState/loadState: a restored optimizer continues bit-identically', async () => {
    const a = vars();
    const b = vars();
    const optA = new AdamW(a, { lr: 0.03, weightDecay: 0.1 });
    for (let i = 0; i < 5; i++) optA.minimize(loss(a));
    // b: copy the parameters and the optimizer state through plain data (JSON + raw tensors)
    b.get('w')!.assign(tf.tensor1d(Array.from(a.get('w')!.dataSync())));
    const st = await optA.exportState();
    expect(st.meta).toEqual({ kind: 'adamw', hyper: { lr: 0.03, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.1 }, steps: { w: 5 } });
    expect([...st.tensors.keys()].sort()).toEqual(['exp_avg/w', 'exp_avg_sq/w']);
    const optB = new AdamW(b, { lr: 1, weightDecay: 0 }); // hyper-parameters come from the state
    optB.loadState({ meta: JSON.parse(JSON.stringify(st.meta)), tensors: st.tensors });
    expect(optB.hyper).toEqual(optA.hyper);
    for (let i = 0; i < 5; i++) {
      optA.minimize(loss(a));
      optB.minimize(loss(b));
    }
    expect(Array.from(b.get('w')!.dataSync())).toEqual(Array.from(a.get('w')!.dataSync()));
    // loading twice does not leak the previous moments
    await expectNoLeakedTensors(() => optB.loadState(st));
    optA.dispose();
    optB.dispose();
    a.forEach((x) => x.dispose());
    b.forEach((x) => x.dispose());
  });

  it('rejects bad gradients and states with errors that name the variable', async () => {
    const v = vars();
    const opt = new AdamW(v);
    const g = tf.ones([2]);
    expect(() => opt.step(new Map([['w', g]]))).toThrow(/gradient for "w" has shape \[2\], variable has \[3\]/);
    expect(g.isDisposed).toBe(true); // disposed even on error
    expect(() => opt.step(new Map([['nope', tf.ones([3])]]))).toThrow(/unknown variable "nope"/);
    expect(() => new AdamW(v, { lr: -1 })).toThrow(G2DError);
    expect(() => new AdamW(v, { betas: [1, 0.9] })).toThrow(/betas\[0\] must be in \[0, 1\)/);
    expect(() => new AdamW(new Map([['x', tf.ones([1]) as tf.Variable]]))).toThrow(/"x" is not a tf.Variable/);
    opt.minimize(loss(v));
    const st = await opt.exportState();
    const other = new AdamW(new Map([['w', tf.variable(tf.zeros([4]))]]));
    expect(() => other.loadState(st, 'ckpt/x')).toThrow(/ckpt\/x: optimizer state: exp_avg\/w is float32 \[3\], variable is float32 \[4\]/);
    const third = new AdamW(new Map([['u', tf.variable(tf.zeros([3]))]]));
    expect(() => third.loadState(st)).toThrow(/moments for "w", which is not one of the optimizer's variables/);
    expect(() => opt.loadState({ meta: { ...st.meta, kind: 'sgd' as 'adamw' }, tensors: st.tensors })).toThrow(/not an AdamW state/);
    [opt, other, third].forEach((o) => o.dispose());
    other.variables.forEach((x) => x.dispose());
    third.variables.forEach((x) => x.dispose());
    v.forEach((x) => x.dispose());
  });

  it('accepts a Module-like object (namedVariables()) and plain records', () => {
    const w = tf.variable(tf.zeros([2]));
    const mod = { namedVariables: () => new Map([['layer.weight', w]]) };
    expect([...resolveVariables(mod).keys()]).toEqual(['layer.weight']);
    expect([...resolveVariables({ a: w }).keys()]).toEqual(['a']);
    expect([...resolveVariables([['b', w]] as [string, tf.Variable][]).keys()]).toEqual(['b']);
    expect(() => resolveVariables(42 as never)).toThrow(G2DError);
    w.dispose();
  });

  it('lrScale: the longest matching prefix multiplies a variable\'s lr (its decay too), exactly as an optimizer with lr x factor; other variables keep lr', () => {
    const init: [string, number[]][] = [
      ['enc.a', [1, -2]],
      ['enc.pool.b', [0.5, 3]],
      ['encx', [2, 2]], // "enc" matches at a "." boundary only: factor 1
    ];
    const grads: number[][][] = [
      [[0.2, -4], [1, -1], [3, 0.1]],
      [[-0.5, 1], [0.3, 0.3], [-2, 1]],
      [[0.1, 0.1], [-1, 2], [0.5, -0.5]],
    ];
    const v = new Map(init.map(([n, x]) => [n, tf.variable(tf.tensor1d(x))]));
    const opt = new AdamW(v, { lr: 0.01, weightDecay: 0.5, lrScale: { enc: 3, 'enc.pool': 10 } });
    const factors = [3, 10, 1];
    expect(init.map(([n]) => opt.lrScaleOf(n))).toEqual(factors);
    const refs = init.map(([n, x], i) => {
      const r = new Map([[n, tf.variable(tf.tensor1d(x))]]);
      return { r, o: new AdamW(r, { lr: 0.01 * factors[i]!, weightDecay: 0.5 }) };
    });
    for (const [s, gs] of grads.entries()) {
      opt.lr = s === 2 ? 0.004 : 0.01; // a scheduler writes the base lr: every group follows
      opt.step(new Map(init.map(([n], i) => [n, tf.tensor1d(gs[i]!)])));
      refs.forEach(({ o }, i) => {
        o.lr = (s === 2 ? 0.004 : 0.01) * factors[i]!;
        o.step(new Map([[init[i]![0], tf.tensor1d(gs[i]!)]]));
      });
    }
    refs.forEach(({ r }, i) => expectArraysClose(v.get(init[i]![0])!, r.get(init[i]![0])!.dataSync(), { rtol, atol }));
    // the factors matter: the three variables moved by different amounts from the same kind of step
    const moved = (n: string, x0: number) => Math.abs(v.get(n)!.dataSync()[0]! - x0);
    expect(moved('enc.pool.b', 0.5)).toBeGreaterThan(3 * moved('encx', 2));
    opt.dispose();
    refs.forEach(({ r, o }) => {
      o.dispose();
      r.forEach((x) => x.dispose());
    });
    v.forEach((x) => x.dispose());
  });

  it('lrScale: a prefix matching no parameter or a bad factor is an error that names it', () => {
    const v = new Map([['enc.a', tf.variable(tf.zeros([2]))], ['head.w', tf.variable(tf.zeros([2]))]]);
    expect(() => new AdamW(v, { lrScale: { attnpool: 10 } })).toThrow(/lrScale prefix "attnpool" matches no parameter \(top-level names: enc, head\)/);
    expect(() => new AdamW(v, { lrScale: { en: 10 } })).toThrow(/"en" matches no parameter/);
    expect(() => new AdamW(v, { lrScale: { head: -1 } })).toThrow(/lrScale\["head"\] must be a finite number >= 0, got -1/);
    expect(() => new AdamW(v, { lrScale: { head: Number.NaN } })).toThrow(G2DError);
    expect(new AdamW(v, { lrScale: { head: 0 } }).lrScaleOf('head.w')).toBe(0);
    v.forEach((x) => x.dispose());
  });
});

describeBackends('clipGradNorm (torch clip_grad_norm_)', ({ rtol, atol }) => {
  it('L2: norm of all gradients as one vector, scaled by maxNorm / (norm + 1e-6); untouched below maxNorm', () => {
    const grads = new Map<string, tf.Tensor>([
      ['a', tf.tensor1d([3, 0])],
      ['b', tf.tensor2d([[0, 4]])],
    ]);
    const inputs = [...grads.values()];
    const r = clipGradNorm(grads, { maxNorm: 1 });
    expect(r.totalNorm).toBeCloseTo(5, 5);
    expectArraysClose(r.grads.get('a')!, [3 / (5 + 1e-6), 0], { rtol, atol });
    expectArraysClose(r.grads.get('b')!, [0, 4 / (5 + 1e-6)], { rtol, atol });
    expect(inputs.every((t) => t.isDisposed)).toBe(true);
    const r2 = clipGradNorm(r.grads, { maxNorm: 10 });
    expectArraysClose(r2.grads.get('a')!, [3 / (5 + 1e-6), 0], { rtol, atol });
    tf.dispose([...r2.grads.values()]);
  });

  it('inf norm and p = 1', () => {
    const mk = () => new Map([['a', tf.tensor1d([-3, 1])], ['b', tf.tensor1d([2])]]);
    const inf = clipGradNorm(mk(), { maxNorm: 1.5, normType: Infinity });
    expect(inf.totalNorm).toBe(3);
    expectArraysClose(inf.grads.get('a')!, [(-3 * 1.5) / (3 + 1e-6), (1 * 1.5) / (3 + 1e-6)], { rtol, atol });
    const l1 = clipGradNorm(mk(), { maxNorm: 3, normType: 1 });
    expect(l1.totalNorm).toBeCloseTo(6, 5);
    expectArraysClose(l1.grads.get('b')!, [(2 * 3) / (6 + 1e-6)], { rtol, atol });
    tf.dispose([...inf.grads.values(), ...l1.grads.values()]);
  });

  it('errorIfNonfinite, bad arguments, no leaks', async () => {
    expect(() => clipGradNorm(new Map([['a', tf.tensor1d([NaN])]]), { maxNorm: 1, errorIfNonfinite: true })).toThrow(/total gradient norm is NaN/);
    expect(() => clipGradNorm(new Map(), { maxNorm: -1 })).toThrow(/maxNorm/);
    await expectNoLeakedTensors(() => {
      const r = clipGradNorm(new Map([['a', tf.tensor1d([1, 2])]]), { maxNorm: 1 });
      tf.dispose([...r.grads.values()]);
    });
  });
});

describeBackends('GradientAccumulator', ({ rtol, atol }) => {
  it('mean over micro-batches, consumes its inputs, resets', async () => {
    await expectNoLeakedTensors(() => {
      const acc = new GradientAccumulator();
      const g1 = tf.tensor1d([1, 2]);
      const g2 = tf.tensor1d([3, 6]);
      acc.add(new Map([['a', g1]]));
      acc.add(new Map([['a', g2], ['b', tf.tensor1d([4])]]));
      expect(acc.count).toBe(2);
      const out = acc.take();
      expectArraysClose(out.get('a')!, [2, 4], { rtol, atol });
      expectArraysClose(out.get('b')!, [2], { rtol, atol }); // a variable used in one micro-batch: its sum / count
      expect(g1.isDisposed && g2.isDisposed).toBe(true);
      expect(acc.count).toBe(0);
      tf.dispose([...out.values()]);
      acc.add(new Map([['a', tf.tensor1d([1])]]));
      acc.dispose();
    });
  });

  it('computeGradients: only the variables the loss uses get a gradient; a loss without any is a G2DError', () => {
    const a = tf.variable(tf.tensor1d([1, 2]));
    const unused = tf.variable(tf.tensor1d([3]));
    const v = new Map([['a', a], ['unused', unused]]);
    const { value, grads } = computeGradients(v, () => tf.sum(tf.square(a)) as tf.Scalar);
    expect([...grads.keys()]).toEqual(['a']);
    expectArraysClose(grads.get('a')!, [2, 4], { rtol, atol });
    tf.dispose([value, ...grads.values()]);
    expect(() => computeGradients(new Map([['unused', unused]]), () => tf.scalar(1))).toThrow(/does not depend on any trainable variable/);
    a.dispose();
    unused.dispose();
  });
});

describeBackends(
  "AdamW on TensorFlow's fused ResourceApplyAdam (native CPU backend)",
  () => {
    const problem = () => {
      const w = tf.tidy(() => tf.variable(tf.tensor2d([0.3, -1.2, 2.5, 0.7, -0.1, 4], [2, 3])));
      const b = tf.tidy(() => tf.variable(tf.tensor1d([0.05, -0.4, 1])));
      return new Map<string, tf.Variable>([
        ['w', w],
        ['b', b],
      ]);
    };
    const grads = (k: number) =>
      new Map<string, tf.Tensor>([
        ['w', tf.tensor2d([0.1 * k, -0.2, 0.05, 0.3, -0.01 * k, 0.2], [2, 3])],
        ['b', tf.tensor1d([-0.3, 0.02 * k, 0.1])],
      ]);
    const run = (native: boolean, between?: (vars: Map<string, tf.Variable>, k: number) => void) => {
      setNativeKernels(native);
      try {
        const vars = problem();
        const opt = new AdamW(vars, { lr: 0.05, weightDecay: 0.1, betas: [0.8, 0.95], eps: 1e-6 });
        for (let k = 1; k <= 12; k++) {
          opt.step(grads(k));
          between?.(vars, k);
        }
        const out = [...vars.values()].map((v) => v.dataSync().slice());
        opt.dispose();
        for (const v of vars.values()) v.dispose();
        return out;
      } finally {
        setNativeKernels(true);
      }
    };

    it('gives the portable path\'s parameters, picks up parameters assigned between steps, and holds 3 tensors per parameter', async () => {
      expect(nativeOnCpu()).toBe(true);
      const close = { rtol: 1e-5, atol: 1e-6 };
      run(true).forEach((a, i) => expectArraysClose(a, run(false)[i]!, close));
      // a parameter replaced from outside (a loaded checkpoint, an EMA…) is where the next step starts
      const reset = (vars: Map<string, tf.Variable>, k: number) => {
        if (k !== 5) return;
        const t = tf.tidy(() => tf.mul(vars.get('w')!, -2));
        vars.get('w')!.assign(t);
        t.dispose();
      };
      run(true, reset).forEach((a, i) => expectArraysClose(a, run(false, reset)[i]!, close));
      const vars = problem();
      const opt = new AdamW(vars, { lr: 0.05 });
      const before = tf.memory().numTensors;
      opt.step(grads(1));
      expect(tf.memory().numTensors - before).toBe(6);
      opt.dispose();
      expect(tf.memory().numTensors - before).toBe(0);
      for (const v of vars.values()) v.dispose();
      await expectNoLeakedTensors(() => run(true, reset));
    });

    it('takes the fused path: one optimizer step runs none of the portable update\'s Sqrt kernels', async () => {
      const sqrts = async (native: boolean) => {
        setNativeKernels(native);
        try {
          const vars = problem();
          const opt = new AdamW(vars, { lr: 0.05 });
          const info = await tf.profile(() => opt.step(grads(1)));
          opt.dispose();
          for (const v of vars.values()) v.dispose();
          return info.kernels.filter((k) => k.name === 'Sqrt').length;
        } finally {
          setNativeKernels(true);
        }
      };
      expect(await sqrts(true)).toBe(0);
      expect(await sqrts(false)).toBe(2);
    });

    it('exportState reads the moments back; a restored optimizer continues as the original (fused and portable)', async () => {
      const a = problem();
      const oa = new AdamW(a, { lr: 0.05 });
      for (let k = 1; k <= 4; k++) oa.step(grads(k));
      const state = await oa.exportState();
      const b = problem();
      [...a].forEach(([n, v]) => b.get(n)!.assign(v));
      const ob = new AdamW(b, { lr: 0.05 });
      ob.loadState(state);
      setNativeKernels(false);
      const c = problem();
      [...a].forEach(([n, v]) => c.get(n)!.assign(v));
      const oc = new AdamW(c, { lr: 0.05 });
      oc.loadState(state);
      setNativeKernels(true);
      for (let k = 5; k <= 8; k++) {
        oa.step(grads(k));
        ob.step(grads(k));
        setNativeKernels(false);
        oc.step(grads(k));
        setNativeKernels(true);
      }
      for (const n of ['w', 'b']) {
        expectArraysClose(b.get(n)!, a.get(n)!, { rtol: 0, atol: 0 });
        expectArraysClose(c.get(n)!, a.get(n)!, { rtol: 1e-5, atol: 1e-6 });
      }
      for (const o of [oa, ob, oc]) o.dispose();
      for (const m of [a, b, c]) for (const v of m.values()) v.dispose();
    });
  },
  { only: ['tensorflow'] },
);
