import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describeBackends, expectArraysClose, expectNoLeakedTensors } from '@g2d-ts/core/testing';
import { autoFromPretrained, saveModel } from '@g2d-ts/nn';
import { ResNet } from '@g2d-ts/vision';
import { AdamW, computeGradients } from '@g2d-ts/train';
import { FineTuneClassifier, heads, LinearClassifier } from '../src';

const tinyEncoder = (seed = 0) => new ResNet('tiny', { block: 'basic', layers: [1, 1, 1, 1], widths: [4, 8, 8, 8], stemWidth: 4 }, { seed });

describeBackends('classification heads', ({ rtol, atol }) => {
  it('LinearClassifier: [B, D] -> [B, C] logits = x W + b; sigmoid probabilities; seeded init', async () => {
    const h = new LinearClassifier({ inFeatures: 3, numClasses: 2, seed: 1 });
    const x = tf.tensor2d([
      [1, 2, 3],
      [-1, 0, 0.5],
    ]);
    const logits = h.forward(x);
    const w = h.fc.weight.arraySync() as number[][]; // [in, out]
    const b = h.fc.bias!.arraySync() as number[];
    const want = [
      [0, 1].map((j) => 1 * w[0]![j]! + 2 * w[1]![j]! + 3 * w[2]![j]! + b[j]!),
      [0, 1].map((j) => -1 * w[0]![j]! + 0.5 * w[2]![j]! + b[j]!),
    ];
    expectArraysClose(logits, want, { rtol, atol });
    expectArraysClose(h.predict(x), want.map((r) => r.map((v) => 1 / (1 + Math.exp(-v)))), { rtol, atol });
    const same = new LinearClassifier({ inFeatures: 3, numClasses: 2, seed: 1 });
    const other = new LinearClassifier({ inFeatures: 3, numClasses: 2, seed: 2 });
    expect(Array.from(same.fc.weight.dataSync())).toEqual(Array.from(h.fc.weight.dataSync()));
    expect(Array.from(other.fc.weight.dataSync())).not.toEqual(Array.from(h.fc.weight.dataSync()));
    expect(() => h.forward(tf.zeros([2, 4]) as tf.Tensor2D)).toThrow(/"features" must be a \[B, 3\] tensor, got \[2, 4\]/);
    expect(() => new LinearClassifier({ inFeatures: 0, numClasses: 2 })).toThrow(/"inFeatures" must be a positive integer/);
    expect([...h.stateDict().keys()]).toEqual(['fc.weight', 'fc.bias']);
    [x, logits, h, same, other].forEach((t) => t.dispose());
  });

  it('LinearClassifier saves and loads through the nn registry', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'g2d-heads-'));
    try {
      const h = new LinearClassifier({ inFeatures: 5, numClasses: 3, seed: 7, dropout: 0.2 });
      await saveModel(h, dir);
      const back = (await autoFromPretrained(dir)) as LinearClassifier;
      expect(back).toBeInstanceOf(LinearClassifier);
      expect(back.config).toEqual({ inFeatures: 5, numClasses: 3, dropout: 0.2 });
      expect(Array.from(back.fc.weight.dataSync())).toEqual(Array.from(h.fc.weight.dataSync()));
      h.dispose();
      back.dispose();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('FineTuneClassifier: pooled encoder features -> linear; parameter groups train with separate learning rates', async () => {
    const clf = new FineTuneClassifier(tinyEncoder(), { numClasses: 2, seed: 0 });
    const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
    const y = tf.tensor2d([
      [1, 0],
      [0, 1],
    ]);
    clf.eval();
    const logits = clf.forward(x);
    expect(logits.shape).toEqual([2, 2]);
    const f = clf.features(x);
    expectArraysClose(logits, clf.head.forward(f), { rtol, atol });
    expect(f.shape).toEqual([2, 8]);
    const groups = clf.parameterGroups();
    expect(groups.map((g) => g.name)).toEqual(['encoder', 'head']);
    expect([...groups[1]!.variables.keys()]).toEqual(['head.fc.weight', 'head.fc.bias']);
    expect([...groups[0]!.variables.keys()].every((k) => k.startsWith('encoder.'))).toBe(true);
    // encoder lr 0, head lr 0.1: one step moves the head only
    const encBefore = groups[0]!.variables.get('encoder.conv1.weight')!.clone();
    const headBefore = clf.head.fc.weight.clone();
    const optE = new AdamW(groups[0]!.variables, { lr: 0, weightDecay: 0 });
    const optH = new AdamW(groups[1]!.variables, { lr: 0.1, weightDecay: 0 });
    clf.train();
    const all = new Map([...groups[0]!.variables, ...groups[1]!.variables]);
    const { value, grads } = computeGradients(all, () => tf.tidy(() => tf.losses.sigmoidCrossEntropy(y, clf.forward(x)) as tf.Scalar));
    optE.step(new Map([...grads].filter(([k]) => k.startsWith('encoder.'))));
    optH.step(new Map([...grads].filter(([k]) => k.startsWith('head.'))));
    expectArraysClose(groups[0]!.variables.get('encoder.conv1.weight')!, encBefore, { rtol: 0, atol: 0 });
    expect(tf.max(tf.abs(tf.sub(clf.head.fc.weight, headBefore))).dataSync()[0]).toBeGreaterThan(0.05);
    // frozen encoder: a linear probe (no encoder parameters, BatchNorm statistics untouched)
    clf.freezeEncoder();
    expect(clf.parameterGroups()[0]!.variables.size).toBe(0);
    const rm = (clf.encoder as unknown as { bn1: { runningMean: tf.Variable } }).bn1.runningMean.clone();
    clf.train();
    await expectNoLeakedTensors(() => tf.tidy(() => clf.forward(x)).dispose());
    expectArraysClose((clf.encoder as unknown as { bn1: { runningMean: tf.Variable } }).bn1.runningMean, rm, { rtol: 0, atol: 0 });
    [x, y, logits, f, value, encBefore, headBefore, rm].forEach((t) => t.dispose());
    optE.dispose();
    optH.dispose();
    clf.dispose();
  });

  it('the heads registry builds each head and names the valid ones', () => {
    expect(heads.list()).toEqual(expect.arrayContaining(['finetune', 'linear', 'zero-shot']));
    const h = heads.create('linear', { inFeatures: 4, numClasses: 2 });
    expect(h).toBeInstanceOf(LinearClassifier);
    const f = heads.create('finetune', { encoder: tinyEncoder(), numClasses: 3 });
    expect(f).toBeInstanceOf(FineTuneClassifier);
    expect(() => heads.create('svm')).toThrow(/unknown head "svm". Valid names: .*linear/);
    expect(() => heads.create('finetune', { numClasses: 2 })).toThrow(/needs \{ encoder: Backbone, numClasses \}/);
    h.dispose();
    f.dispose();
  });
});
