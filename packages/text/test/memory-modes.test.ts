/**
 * BERT memory modes: 'balanced' and 'lean' recompute encoder layers in the backward pass
 * (dropout masks replayed); gradients must equal 'fast' on every backend. Frozen embeddings
 * and frozen leading layers see only token ids and are not recorded for a gradient at all.
 */
import * as tf from '@tensorflow/tfjs';
import { describeBackends, expectNamedArraysClose, expectNoLeakedTensors } from '@g2d-ts/core/testing';
import { variableGrads, withDropoutSeed, type MemoryMode } from '@g2d-ts/nn';
import { BertModel } from '../src';

const cfg = { vocabSize: 40, hiddenSize: 8, numHiddenLayers: 4, numAttentionHeads: 2, intermediateSize: 12, maxPositionEmbeddings: 16, hiddenDropoutProb: 0.3, attentionProbsDropoutProb: 0.3 };
const ids = [
  [2, 5, 9, 11, 3, 0],
  [2, 7, 8, 3, 0, 0],
];
const mask = ids.map((r) => r.map((v) => (v ? 1 : 0)));

function grads(m: BertModel, how: 'nn' | 'tf', seed: number): Map<string, Float32Array> {
  const names = new Map(m.namedParameters().map(([n, v]) => [v.name, n]));
  const f = () =>
    withDropoutSeed(seed, () =>
      tf.tidy(() => {
        const o = m.forward({ inputIds: ids, attentionMask: mask }, { training: true });
        return tf.add(tf.mean(tf.square(o.lastHiddenState)), tf.sum(o.pooledOutput!)) as tf.Scalar;
      }),
    );
  const { value, grads: g } = how === 'nn' ? variableGrads(f, m.trainableVariables()) : tf.variableGrads(f, m.trainableVariables());
  const out = new Map<string, Float32Array>([['loss', value.dataSync() as Float32Array]]);
  for (const [k, t] of Object.entries(g)) out.set(names.get(k)!, t!.dataSync() as Float32Array);
  value.dispose();
  tf.dispose(Object.values(g));
  return out;
}

function expectSame(a: Map<string, Float32Array>, b: Map<string, Float32Array>, what: string): void {
  // the layer boundaries have one consumer outside each layer: the same sums in the same order
  expectNamedArraysClose(a, b, what, { rtol: 0, atol: 0 });
}

describeBackends('BertModel memory modes', () => {
  it('lean and balanced give the plain path\'s gradients with dropout on, frozen layers included (both backward passes)', async () => {
    for (const frozen of [0, 2]) {
      const res = await Promise.all(
        (['fast', 'balanced', 'lean'] as MemoryMode[]).map((mode) =>
          expectNoLeakedTensors(() => {
            const m = new BertModel(cfg, { seed: 9 }).freezeEncoderLayers(frozen).setMemoryMode(mode);
            const r = [grads(m, 'nn', 1), grads(m, 'tf', 2)];
            m.dispose();
            return r;
          }),
        ),
      );
      for (let i = 1; i < 3; i++) {
        expectSame(res[i]![0]!, res[0]![0]!, `frozen ${frozen}, mode ${i} (nn backward)`);
        expectSame(res[i]![1]!, res[0]![1]!, `frozen ${frozen}, mode ${i} (tfjs backward)`);
      }
    }
  });

  it('frozen embeddings + frozen leading layers (run without recording): the same gradients as the plain path, for layer 3 and the pooler only', async () => {
    const plain = new BertModel(cfg, { seed: 9 });
    const frozenRun = new BertModel(cfg, { seed: 9 });
    for (const m of [plain, frozenRun]) m.freeze(['embeddings']).freezeEncoderLayers(3);
    frozenRun.setMemoryMode('lean');
    const a = grads(plain, 'tf', 4);
    const b = await expectNoLeakedTensors(() => grads(frozenRun, 'nn', 4));
    expect([...b.keys()].filter((k) => k !== 'loss').every((k) => k.startsWith('encoder.layer.3.') || k.startsWith('pooler.'))).toBe(true);
    expectSame(b, a, 'frozen prefix');
    plain.dispose();
    frozenRun.dispose();
  });
});
