/**
 * Parity with torch 1.13 (golden: tools/train/gen_optim_goldens.py): torch.optim.AdamW, the
 * schedulers and clip_grad_norm_ on a toy problem, parameters compared after every step.
 *  1. optimizer only: torch's own gradients fed to our AdamW (isolates the update rule);
 *  2. end to end: gradients computed here, through `fit` (accumulation, clipping, scheduler).
 */
import * as tf from '@tensorflow/tfjs';
import { nativeOnCpu } from '@g2d-ts/core';
import { describeBackends, expectArraysClose } from '@g2d-ts/core/testing';
import { AdamW, clipGradNorm, fit } from '../src';
import { type GoldenCase, loadGolden, microTensors, schedulerFor, toyLoss, toyVariables } from './toy';

const golden = loadGolden();
// On TensorFlow's CPU backend AdamW runs TensorFlow's fused ResourceApplyAdam, which updates the
// moments as m + (g − m)(1 − β1) instead of torch's β1·m + (1 − β1)·g: equal to float32 rounding,
// which over 20 steps reaches ~1.2e-5 relative on single elements; the portable path is held to
// rtol 1e-5 / atol 1e-7, the fused one to 1e-4 / 1e-6 (both far inside the project's 1e-3 / 1e-4).
const fused = () => nativeOnCpu();
let RTOL = 1e-5;
let ATOL = 1e-7;
/** tensors AdamW holds per parameter: m and v, plus the parameter's resource copy on the fused path */
const perParam = () => (fused() ? 3 : 2);

function optimizerFor(c: GoldenCase, vars: Map<string, tf.Variable>): AdamW {
  return new AdamW(vars, { lr: c.lr, betas: c.betas, eps: c.eps, weightDecay: c.weight_decay });
}
const normType = (c: GoldenCase) => (c.clip!.norm_type === 'inf' ? Infinity : c.clip!.norm_type);

describeBackends('AdamW + schedulers + clipping vs torch', () => {
  beforeAll(() => {
    RTOL = fused() ? 1e-4 : 1e-5;
    ATOL = fused() ? 1e-6 : 1e-7;
  });
  it('golden covers every feature', () => {
    const names = golden.cases.map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining(['constant', 'warm-restarts-tmult2', 'reference-like', 'warmup-cosine', 'warmup-constant', 'accumulate-clip-l2', 'clip-inf']));
    for (const c of golden.cases) expect(c.steps).toHaveLength(20);
    // clipping actually bites in the clip cases (otherwise the test would not test it)
    for (const c of golden.cases.filter((x) => x.clip)) {
      expect(c.steps.filter((s) => s.total_norm! > c.clip!.max_norm).length).toBeGreaterThan(10);
    }
  });

  for (const c of golden.cases) {
    it(`${c.name}: torch's gradients -> same parameters after every step`, () => {
      const toy = toyVariables(c);
      const opt = optimizerFor(c, toy.vars);
      const sched = schedulerFor(c.lr, c.scheduler);
      const before = tf.memory().numTensors;
      c.steps.forEach((s, i) => {
        const lr = sched ? sched.lr : opt.lr;
        expect(lr).toBeCloseTo(s.lr, 15);
        expect(Math.abs(lr - s.lr)).toBeLessThanOrEqual(1e-12 * Math.abs(s.lr));
        let grads = new Map<string, tf.Tensor>([
          ['W', tf.tensor(s.grads.W, c.shapes.W)],
          ['b', tf.tensor(s.grads.b, c.shapes.b)],
        ]);
        if (c.clip) {
          const r = clipGradNorm(grads, { maxNorm: c.clip.max_norm, normType: normType(c) });
          grads = r.grads;
          expectArraysClose([r.totalNorm], [s.total_norm!], { rtol: RTOL, atol: 0 });
        }
        const held = [...grads.values()];
        opt.lr = lr;
        opt.step(grads);
        expect(held.every((g) => g.isDisposed)).toBe(true);
        sched?.step();
        try {
          expectArraysClose(toy.vars.get('W')!, s.params.W, { rtol: RTOL, atol: ATOL });
          expectArraysClose(toy.vars.get('b')!, s.params.b, { rtol: RTOL, atol: ATOL });
        } catch (e) {
          throw new Error(`step ${i}: ${(e as Error).message}`);
        }
      });
      expect(tf.memory().numTensors - before).toBe(2 * perParam()); // the moments of W and b (and their resource copies), created at the first step
      // frozen F and unused U: bit-for-bit untouched
      expect(Array.from(toy.vars.get('F')!.dataSync())).toEqual(Array.from(Float32Array.from(c.init.F)));
      expect(Array.from(toy.vars.get('U')!.dataSync())).toEqual(Array.from(Float32Array.from(c.init.U)));
      expect(opt.stepsOf('W')).toBe(20);
      expect(opt.stepsOf('U')).toBe(0);
      opt.dispose();
      toy.dispose();
    });

    it(`${c.name}: end to end through fit() (our gradients${c.accumulate ? `, ${c.accumulate} micro-batches` : ''}${c.clip ? ', clipping' : ''})`, async () => {
      const toy = toyVariables(c);
      const opt = optimizerFor(c, toy.vars);
      const sched = schedulerFor(c.lr, c.scheduler);
      const batches = c.steps.flatMap((s) => s.micro);
      const seen: number[] = [];
      const result = await fit({
        variables: toy.vars,
        optimizer: opt,
        scheduler: sched,
        data: batches,
        epochs: 1,
        accumulate: c.accumulate ?? 1,
        clipGradNorm: c.clip ? { maxNorm: c.clip.max_norm, normType: normType(c) } : undefined,
        progress: false,
        step: (m) => {
          const { x, y } = microTensors(c, m);
          return { loss: toyLoss(toy.vars, x, y) };
        },
        onStep: (info) => {
          const s = c.steps[info.step]!;
          seen.push(info.step);
          expect(Math.abs(info.lr - s.lr)).toBeLessThanOrEqual(1e-12 * Math.abs(s.lr));
          if (c.clip) expectArraysClose([info.gradNorm!], [s.total_norm!], { rtol: RTOL, atol: 0 });
          try {
            expectArraysClose(toy.vars.get('W')!, s.params.W, { rtol: RTOL, atol: ATOL });
            expectArraysClose(toy.vars.get('b')!, s.params.b, { rtol: RTOL, atol: ATOL });
          } catch (e) {
            throw new Error(`step ${info.step}: ${(e as Error).message}`);
          }
        },
      });
      expect(result).toMatchObject({ steps: 20, reason: 'done' });
      expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => i));
      expect(Array.from(toy.vars.get('F')!.dataSync())).toEqual(Array.from(Float32Array.from(c.init.F)));
      expect(Array.from(toy.vars.get('U')!.dataSync())).toEqual(Array.from(Float32Array.from(c.init.U)));
      opt.dispose();
      toy.dispose();
    });
  }
});
