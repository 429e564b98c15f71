/** fit(): metrics.jsonl, hooks, memory, in-process resume (bit-identical), data-source kinds, errors. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { G2DError, nativeOnCpu, readSafetensors } from '@g2d-ts/core';
import { describeBackends } from '@g2d-ts/core/testing';
import { AdamW, ConstantLR, type StepInfo, fit, latestCheckpoint, readMetrics } from '../src';
import { runToy } from './toy-fit';

function tmpdir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'g2d-train-fit-'));
}
const TIMING = ['imagesPerSec', 'rssMiB', 'numTensors']; // numTensors: other runs' variables are alive in this process
function stripTiming(rows: Record<string, unknown>[]): Record<string, unknown>[] {
  return rows.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !TIMING.includes(k))));
}
function weightsOf(vars: Map<string, tf.Variable>): Record<string, number[]> {
  return Object.fromEntries([...vars].map(([k, v]) => [k, Array.from(v.dataSync())]));
}

describeBackends('fit', () => {
  it('writes one metrics.jsonl line per step with every field; hooks; frozen untouched; constant tensor count over 28 steps', async () => {
    const out = tmpdir();
    const steps: StepInfo[] = [];
    const { result, vars } = await runToy({ out, epochs: 7, onStep: (i) => void steps.push(i) });
    expect(result).toMatchObject({ steps: 28, epoch: 7, reason: 'done', resumedFrom: null });
    const rows = readMetrics(path.join(out, 'metrics.jsonl'));
    expect(rows).toHaveLength(28);
    expect(rows.map((r) => r.step)).toEqual(Array.from({ length: 28 }, (_, i) => i));
    for (const r of rows) {
      expect(Object.keys(r)).toEqual(['step', 'epoch', 'lr', 'loss', 'mse', 'batch', 'gradNorm', 'imagesPerSec', 'numTensors', 'rssMiB']);
      expect(r.loss).toBe(r.mse); // the loss is the mse; metrics are averaged like the loss
    }
    // 7 batches per epoch, 2 micro-batches per step: the 4th step of each epoch has one batch
    expect(rows.slice(0, 4).map((r) => r.batch)).toEqual([0.5, 2.5, 4.5, 6]);
    expect(rows.slice(0, 5).map((r) => r.epoch)).toEqual([0, 0, 0, 0, 1]);
    // warm restarts (T0=5, TMult=2) stepped per iteration
    expect(rows[0]!.lr).toBe(0.03);
    expect(rows[5]!.lr).toBe(0.03);
    expect(rows[15]!.lr).toBe(0.03);
    // memory: the tensor count is the same after every step once the moments exist
    const counts = steps.map((s) => s.numTensors);
    expect(new Set(counts.slice(1)).size).toBe(1);
    // 26 items in batches of 4 (the last has 2), 2 batches per step: 8, 8, 8, 2 images per epoch's steps
    expect(steps.map((s) => s.images)).toEqual(Array.from({ length: 7 }, () => [8, 8, 8, 2]).flat());
    expect(steps.map((s) => s.batchesDone).slice(0, 4)).toEqual([2, 4, 6, 7]);
    // learning happened, and the frozen variable did not move
    const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    expect(mean(rows.slice(-4).map((r) => r.loss as number))).toBeLessThan(0.7 * mean(rows.slice(0, 4).map((r) => r.loss as number)));
    expect(Array.from(vars.get('frozen.scale')!.dataSync())).toEqual([1.5, 1.5, 1.5, 1.5]);
    vars.forEach((v) => v.dispose());
    fs.rmSync(out, { recursive: true, force: true });
  });

  it('stopped at step 9 (mid-epoch) and resumed in a new trainer: bit-identical weights and identical metrics', async () => {
    const a = tmpdir();
    const b = tmpdir();
    const full = await runToy({ out: a, epochs: 5 });
    const part = await runToy({ out: b, epochs: 5, maxSteps: 9 });
    expect(part.result).toMatchObject({ steps: 9, reason: 'maxSteps' });
    expect(path.basename((await latestCheckpoint(path.join(b, 'checkpoints')))!)).toBe('step-000000009');
    part.vars.forEach((v) => v.dispose());
    const logs: string[] = [];
    const rest = await runToy({ out: b, epochs: 5, log: (l) => logs.push(l) });
    expect(rest.result).toMatchObject({ steps: 20, reason: 'done' });
    expect(rest.result.resumedFrom).toMatch(/step-000000009$/);
    expect(logs.some((l) => /resumed from .*step-000000009 \(step 9, epoch 2\)/.test(l))).toBe(true);
    expect(weightsOf(rest.vars)).toEqual(weightsOf(full.vars));
    const fa = fs.readFileSync(path.join(a, 'final', 'model.safetensors'));
    expect(fa.equals(fs.readFileSync(path.join(b, 'final', 'model.safetensors')))).toBe(true);
    expect(stripTiming(readMetrics(path.join(b, 'metrics.jsonl')))).toEqual(stripTiming(readMetrics(path.join(a, 'metrics.jsonl'))));
    // and a run that is already complete does nothing more
    const again = await runToy({ out: b, epochs: 5 });
    expect(again.result).toMatchObject({ steps: 20, reason: 'done' });
    expect(weightsOf(again.vars)).toEqual(weightsOf(full.vars));
    [full, rest, again].forEach((r) => r.vars.forEach((v) => v.dispose()));
    [a, b].forEach((d) => fs.rmSync(d, { recursive: true, force: true }));
  });

  it('a different seed gives a different run (the RNG streams really depend on it)', async () => {
    const a = tmpdir();
    const r1 = await runToy({ out: a, epochs: 1, seed: 's1' });
    const w1 = (await readSafetensors(path.join(a, 'final', 'model.safetensors'))).tensors;
    const r2 = await runToy({ out: a, epochs: 1, seed: 's2', resume: false });
    const w2 = (await readSafetensors(path.join(a, 'final', 'model.safetensors'))).tensors;
    expect(Array.from(w1.get('fc1.weight')!.data as Float32Array)).not.toEqual(Array.from(w2.get('fc1.weight')!.data as Float32Array));
    [r1, r2].forEach((r) => r.vars.forEach((v) => v.dispose()));
    fs.rmSync(a, { recursive: true, force: true });
  });

  it('arrays and epoch functions as data; resume skips into a function source; onEpochEnd; abort', async () => {
    const w = tf.variable(tf.scalar(4));
    const vars = new Map([['w', w]]);
    const opt = new AdamW(vars, { lr: 0.1, weightDecay: 0 });
    const seenEpochs: { epoch: number; steps: number; meanLoss: number }[] = [];
    const batches: number[] = [];
    const step = (x: number) => {
      batches.push(x);
      return { loss: tf.mul(tf.square(tf.sub(w, x)), 1) as tf.Scalar, metrics: { x } };
    };
    const r = await fit({
      variables: vars, optimizer: opt, data: [1, 2, 3], epochs: 2, step, progress: false,
      onEpochEnd: (e) => void seenEpochs.push({ epoch: e.epoch, steps: e.steps, meanLoss: e.meanLoss }),
    });
    expect(r).toMatchObject({ steps: 6, epoch: 2, reason: 'done', lastCheckpoint: null });
    expect(batches).toEqual([1, 2, 3, 1, 2, 3]);
    expect(seenEpochs.map((e) => [e.epoch, e.steps])).toEqual([[0, 3], [1, 6]]);

    // a function of the epoch, resumed at batch 2 of epoch 1 through a saved state
    const dir = tmpdir();
    batches.length = 0;
    const controller = new AbortController();
    const fn = (epoch: number) => [10 * epoch, 10 * epoch + 1, 10 * epoch + 2, 10 * epoch + 3];
    const r1 = await fit({
      variables: vars, optimizer: opt, data: fn, epochs: 3, step, out: dir, progress: false, signal: controller.signal,
      onStep: (i) => {
        if (i.step === 5) controller.abort();
      },
    });
    expect(r1).toMatchObject({ steps: 6, reason: 'aborted' });
    expect(batches).toEqual([0, 1, 2, 3, 10, 11]);
    batches.length = 0;
    const r2 = await fit({ variables: vars, optimizer: opt, data: fn, epochs: 3, step, out: dir, progress: false });
    expect(r2).toMatchObject({ steps: 12, reason: 'done' });
    expect(r2.resumedFrom).toMatch(/step-000000006$/);
    expect(batches).toEqual([12, 13, 20, 21, 22, 23]);
    opt.dispose();
    w.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a NaN loss throws a G2DError naming the step and leaves the parameters alone; skip mode skips the step', async () => {
    const w = tf.variable(tf.tensor1d([1, 2]));
    const vars = new Map([['w', w]]);
    const opt = new AdamW(vars, { lr: 0.1 });
    const base = tf.memory().numTensors;
    const data = [0, 1, NaN, 3];
    const step = (x: number) => ({ loss: tf.mul(tf.sum(w), x) as tf.Scalar });
    await expect(fit({ variables: vars, optimizer: opt, scheduler: new ConstantLR({ baseLr: 0.1 }), data, epochs: 1, step, progress: false })).rejects.toThrow(
      /the loss is NaN at step 2, epoch 0, batch 2 \(parameters not updated\)/,
    );
    const after2 = Array.from(w.dataSync());
    expect(tf.memory().numTensors - base).toBe(nativeOnCpu() ? 3 : 2); // only the moments (and the parameter's resource copy on the fused AdamW path)
    const logs: string[] = [];
    const r = await fit({ variables: vars, optimizer: opt, data, epochs: 1, step, progress: false, onNonFiniteLoss: 'skip', log: (l) => logs.push(l) });
    expect(r.steps).toBe(3);
    expect(logs).toEqual([expect.stringMatching(/loss NaN at step 2, epoch 0, batch 2: optimizer step skipped/)]);
    expect(Array.from(w.dataSync())).not.toEqual(after2);
    expect(tf.memory().numTensors - base).toBe(nativeOnCpu() ? 3 : 2);
    opt.dispose();
    w.dispose();
  });

  it('rejects bad options with clear errors', async () => {
    const w = tf.variable(tf.scalar(1));
    const other = tf.variable(tf.scalar(1));
    const opt = new AdamW(new Map([['w', w]]));
    const base = { variables: new Map([['w', w]]), optimizer: opt, data: [1], epochs: 1, step: () => ({ loss: tf.mul(w, 1) as tf.Scalar }), progress: false as const };
    expect(() => fit({ ...base, accumulate: 0 })).toThrow(/accumulate must be an integer >= 1/);
    expect(() => fit({ ...base, epochs: -1 })).toThrow(/epochs must be an integer >= 0/);
    expect(() => fit({ ...base, variables: new Map([['other', other]]) })).toThrow(/variable "other" is not one of the optimizer's variables/);
    await expect(fit({ ...base, step: () => ({ loss: 3 as unknown as tf.Scalar }) })).rejects.toThrow(/must return \{ loss: tf.Scalar/);
    await expect(fit({ ...base, step: () => ({ loss: tf.mul(w, tf.ones([2])) as unknown as tf.Scalar }) })).rejects.toThrow(/the loss must be a scalar, got shape \[2\]/);
    await expect(fit({ ...base, step: () => ({ loss: tf.mul(w, 1) as tf.Scalar, metrics: { lr: 1 } }) })).rejects.toThrow(/metric name "lr" is reserved/);
    await expect(fit({ ...base, resume: 'latest' })).rejects.toThrow(/resume 'latest' needs `out` or `checkpoint.dir`/);
    await expect(fit({ ...base, resume: '/nonexistent/ckpt' })).rejects.toThrow(G2DError);
    opt.dispose();
    [w, other].forEach((v) => v.dispose());
  });
});
