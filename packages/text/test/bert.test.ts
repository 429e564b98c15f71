import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { readCheckpoint, readSafetensors, toFloat32, type RawTensor } from '@g2d-ts/core';
import { describeBackends, expectArraysClose, expectNoLeakedTensors } from '@g2d-ts/core/testing';
import { BertModel, TextProjection, activation, bertConfig, parseBertConfig, readBertConfig } from '../src';
import { FIXTURES, type Tensor } from './helpers';

const DIR = path.join(FIXTURES, 'tiny-bert');
interface Expected {
  inputs: { input_ids: number[][]; attention_mask: number[][]; token_type_ids: number[][] };
  last_hidden_state: Tensor;
  pooler_output: Tensor;
  proj_train: Tensor;
  proj_eval: Tensor;
  proj_running_mean: Tensor;
  proj_running_var: Tensor;
}
const expected = JSON.parse(fs.readFileSync(path.join(DIR, 'expected.json'), 'utf8')) as Expected;
const TOL = { rtol: 1e-3, atol: 1e-4 };

/** Rows [b, 0:n) of a [B, L, H] golden. */
function rows(t: Tensor, b: number, n: number): number[] {
  const [, L, H] = t.shape as [number, number, number];
  return t.data.slice(b * L * H, b * L * H + n * H);
}

describeBackends('BertModel parity with transformers BertModel (tiny, seed 1234)', () => {
  for (const file of ['model.safetensors', 'pytorch_model.bin']) {
    it(`loads ${file} and matches last_hidden_state and pooler_output with padding in play`, async () => {
      const model = await BertModel.fromPretrained(DIR);
      const m = file === 'model.safetensors' ? model : new BertModel(model.config);
      if (m !== model) {
        model.dispose();
        m.loadStateDict(await readCheckpoint(path.join(DIR, file)), { source: file });
      }
      expect(m.lastLoad!.loaded).toHaveLength(m.params.size);
      expect(m.lastLoad!.initialized).toEqual([]);
      const { input_ids, attention_mask, token_type_ids } = expected.inputs;
      const out = m.apply({ inputIds: input_ids, attentionMask: attention_mask, tokenTypeIds: token_type_ids });
      expect(out.lastHiddenState.shape).toEqual(expected.last_hidden_state.shape);
      expectArraysClose(out.lastHiddenState, expected.last_hidden_state.data, TOL);
      expectArraysClose(out.pooledOutput!, expected.pooler_output.data, TOL);
      tf.dispose([out.lastHiddenState, out.pooledOutput!]);
      m.dispose();
    });
  }

  it('gives a padded row the same valid-token states as the unpadded sequence', async () => {
    const m = await BertModel.fromPretrained(DIR);
    const { input_ids, token_type_ids } = expected.inputs;
    const n = expected.inputs.attention_mask[1]!.reduce((a, b) => a + b, 0);
    const out = m.apply({ inputIds: [input_ids[1]!.slice(0, n)], tokenTypeIds: [token_type_ids[1]!.slice(0, n)] });
    expectArraysClose(out.lastHiddenState, rows(expected.last_hidden_state, 1, n), TOL);
    expectArraysClose(out.pooledOutput!, expected.pooler_output.data.slice(32, 64), TOL);
    tf.dispose([out.lastHiddenState, out.pooledOutput!]);
    m.dispose();
  });

  it('leaks no tensors when loading and disposing a model', async () => {
    await expectNoLeakedTensors(async () => (await BertModel.fromPretrained(DIR)).dispose());
    await expectNoLeakedTensors(() => new BertModel({ vocabSize: 20, hiddenSize: 8, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 8 }).dispose());
  });

  it('leaks no tensors in apply (tensors in, tensors out)', async () => {
    const m = await BertModel.fromPretrained(DIR);
    const ids = tf.tensor2d(expected.inputs.input_ids, undefined, 'int32');
    const mask = tf.tensor2d(expected.inputs.attention_mask, undefined, 'int32');
    await expectNoLeakedTensors(() => {
      const o = m.apply({ inputIds: ids, attentionMask: mask }, { training: true, seed: 3 });
      tf.dispose([o.lastHiddenState, o.pooledOutput!]);
    });
    tf.dispose([ids, mask]);
    m.dispose();
  });

  it('freezes the first N layers: only embeddings, later layers and pooler train', async () => {
    const m = new BertModel({ vocabSize: 30, hiddenSize: 8, numHiddenLayers: 3, numAttentionHeads: 2, intermediateSize: 12, maxPositionEmbeddings: 16 }, { seed: 5 });
    m.freezeLayers(2);
    const perLayer = 16;
    expect(m.trainableVariables()).toHaveLength(m.params.size - 2 * perLayer);
    const before = new Map([...m.params].map(([k, v]) => [k, v.dataSync().slice()]));
    const opt = tf.train.sgd(0.5);
    const inputIds = [
      [2, 5, 7, 9],
      [2, 4, 0, 0],
    ];
    const attentionMask = [
      [1, 1, 1, 1],
      [1, 1, 0, 0],
    ];
    const varList = m.trainableVariables();
    await expectNoLeakedTensors(() => {
      const cost = opt.minimize(
        () => {
          const o = m.apply({ inputIds, attentionMask }, { training: true, seed: 1 });
          return tf.add(tf.mean(tf.square(o.lastHiddenState)), tf.mean(o.pooledOutput!));
        },
        true,
        varList,
      );
      cost?.dispose();
    });
    const changed = (k: string) => {
      const a = before.get(k)!;
      const b = m.params.get(k)!.dataSync();
      return a.some((x: number, i: number) => x !== b[i]);
    };
    expect(changed('encoder.layer.0.attention.self.query.weight')).toBe(false);
    expect(changed('encoder.layer.1.output.dense.weight')).toBe(false);
    expect(changed('encoder.layer.2.attention.self.query.weight')).toBe(true);
    expect(changed('embeddings.word_embeddings.weight')).toBe(true);
    expect(changed('pooler.dense.weight')).toBe(true);
    expect(() => m.freezeLayers(4)).toThrow(/freezeLayers\(4\): must be an integer in \[0, 3\]/);
    opt.dispose();
    m.dispose();
  });
});

describeBackends('activations', ({ rtol, atol }) => {
  it("'gelu' is the exact erf GELU (x * Phi(x)), 'gelu_new' the tanh approximation", () => {
    const x = tf.tensor1d([-3, -1, -0.5, 0, 0.5, 1, 3]);
    // x * Phi(x), Phi the standard normal CDF
    const exact = [-0.0040496941, -0.1586552539, -0.1542687694, 0, 0.3457312306, 0.8413447461, 2.9959503059];
    const g = activation('gelu', x);
    expectArraysClose(g, exact, { rtol, atol: Math.max(atol, 1e-6) });
    const t = activation('gelu_new', x);
    expect(Math.abs(t.dataSync()[0]! - exact[0]!)).toBeGreaterThan(3e-4); // tanh form: -0.0036374
    tf.dispose([x, g, t]);
  });
});

describeBackends('TextProjection (proj_t) parity with PyTorch', () => {
  it('train mode (batch statistics, running stats update) and eval mode', async () => {
    const proj = new TextProjection({ inDim: 32, hiddenDim: 16, outDim: 16 });
    proj.loadStateDict(await readCheckpoint(path.join(DIR, 'proj_t.safetensors')), { source: 'proj_t.safetensors' });
    const h = tf.tensor3d(expected.last_hidden_state.data, expected.last_hidden_state.shape as [number, number, number]);
    const train = proj.apply(h, { training: true });
    expectArraysClose(train, expected.proj_train.data, TOL);
    expectArraysClose(proj.runningMean, expected.proj_running_mean.data, TOL);
    expectArraysClose(proj.runningVar, expected.proj_running_var.data, TOL);
    const ev = proj.apply(h);
    expectArraysClose(ev, expected.proj_eval.data, TOL);
    expect(proj.numBatchesTracked).toBe(1);
    await expectNoLeakedTensors(() => proj.apply(h).dispose());
    const sd = proj.stateDict();
    expect([...sd.keys()]).toEqual(['proj_t.0.weight', 'proj_t.1.running_mean', 'proj_t.1.running_var', 'proj_t.1.num_batches_tracked', 'proj_t.3.weight']);
    tf.dispose([h, train, ev]);
    proj.dispose();
  });
});

describeBackends('TextProjection against the reference G2D checkpoint', () => {
  // the tiny full G2D checkpoint and its recorded proj_t input/output (tools/vision/gen_checkpoint_fixtures.py)
  const VFIX = path.join(__dirname, '../../vision/test/fixtures');
  it('loads proj_t.* from a full *_checkpoint.pth and matches its eval-mode output', async () => {
    const proj = new TextProjection({ inDim: 6, hiddenDim: 8, outDim: 8 });
    proj.loadStateDict(await readCheckpoint(path.join(VFIX, 'g2d_tiny_2_checkpoint.pth')), { prefix: 'proj_t.' });
    const io = (await readSafetensors(path.join(VFIX, 'g2d_tiny_io.safetensors'))).tensors;
    const t3 = (name: string) => {
      const r = io.get(name)!;
      // PyTorch's Conv1d works on [B, C, L]; ours on [B, L, C]
      return tf.tidy(() => tf.transpose(tf.tensor3d(toFloat32(r), r.shape as [number, number, number]), [0, 2, 1])) as tf.Tensor3D;
    };
    const x = t3('proj_t_in');
    const want = t3('proj_t_out');
    const y = proj.apply(x);
    expectArraysClose(y, want, { rtol: 1e-3, atol: 1e-4 });
    expect(proj.stateDict('').get('0.weight')!.shape).toEqual([8, 6, 1]);
    tf.dispose([x, want, y]);
    proj.dispose();
  });
});

describe('checkpoints that do not fit the config', () => {
  let sd: Map<string, RawTensor>;
  beforeAll(async () => {
    sd = await readCheckpoint(path.join(DIR, 'model.safetensors'));
  });
  const cfg = () => readBertConfig(path.join(DIR, 'config.json'));

  it('lists every missing, unexpected and wrong-shaped key, and names the file', () => {
    const three = new BertModel({ ...cfg(), numHiddenLayers: 3 });
    let msg = '';
    try {
      three.loadStateDict(sd, { source: 'x/model.safetensors' });
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toMatch(/^x\/model\.safetensors: checkpoint does not fit the BERT config/);
    expect(msg).toMatch(/missing 16 key\(s\)/);
    for (const k of ['encoder.layer.2.attention.self.query.weight', 'encoder.layer.2.output.LayerNorm.bias', 'encoder.layer.2.intermediate.dense.bias']) expect(msg).toContain(k);
    three.dispose();

    const wide = new BertModel({ ...cfg(), intermediateSize: 40, numHiddenLayers: 1 });
    let msg2 = '';
    try {
      wide.loadStateDict(sd, { source: 'm.bin' });
    } catch (e) {
      msg2 = (e as Error).message;
    }
    expect(msg2).toMatch(/unexpected 16 key\(s\): encoder\.layer\.1\./);
    expect(msg2).toContain(
      '3 key(s) with the wrong shape: encoder.layer.0.intermediate.dense.weight [37, 32] (expected [40, 32]); ' +
        'encoder.layer.0.intermediate.dense.bias [37] (expected [40]); encoder.layer.0.output.dense.weight [32, 37] (expected [32, 40])',
    );
    wide.dispose();
  });

  it('finds a bert. prefix, ignores pre-training heads and buffers, renames gamma/beta, initialises a missing pooler', () => {
    const renamed = new Map<string, RawTensor>();
    for (const [k, v] of sd) {
      if (k.startsWith('pooler.')) continue;
      renamed.set('bert.' + k.replace(/LayerNorm\.weight$/, 'LayerNorm.gamma').replace(/LayerNorm\.bias$/, 'LayerNorm.beta'), v);
    }
    renamed.set('cls.predictions.bias', { dtype: 'float32', shape: [99], data: new Float32Array(99) });
    renamed.set('bert.embeddings.position_ids', { dtype: 'int64', shape: [1, 64], data: new BigInt64Array(64) });
    const m = new BertModel(cfg());
    const rep = m.loadStateDict(renamed);
    expect(rep.ignored.sort()).toEqual(['bert.embeddings.position_ids', 'cls.predictions.bias']);
    expect(rep.initialized).toEqual(['pooler.dense.weight', 'pooler.dense.bias']);
    expectArraysClose(m.params.get('embeddings.LayerNorm.weight')!, Array.from(sd.get('embeddings.LayerNorm.weight')!.data as Float32Array), { rtol: 0, atol: 0 });
    m.dispose();
  });
});

describe('BertConfig', () => {
  it('reads config.json and checks values, naming the file and key', () => {
    const c = readBertConfig(path.join(DIR, 'config.json'));
    expect(c).toMatchObject({ vocabSize: 99, hiddenSize: 32, numHiddenLayers: 2, numAttentionHeads: 4, intermediateSize: 37, hiddenAct: 'gelu', layerNormEps: 1e-12 });
    expect(() => parseBertConfig({ model_type: 'bert', hidden_size: 30, num_attention_heads: 4 }, 'c.json')).toThrow('c.json: hidden_size must be a multiple of num_attention_heads (4) (got 30)');
    expect(() => parseBertConfig({ model_type: 'roberta' }, 'c.json')).toThrow('c.json: model_type "roberta" is not supported');
    expect(() => parseBertConfig({ hidden_act: 'mish' }, 'c.json')).toThrow(/c\.json: hidden_act must be one of/);
    expect(() => readBertConfig('/nope/config.json')).toThrow('/nope/config.json: config.json not found');
    expect(bertConfig().hiddenSize).toBe(768);
  });

  it('rejects out-of-range ids and over-long inputs before any tensor op', () => {
    const m = new BertModel({ vocabSize: 10, hiddenSize: 4, numHiddenLayers: 1, numAttentionHeads: 1, intermediateSize: 4, maxPositionEmbeddings: 4 });
    expect(() => m.apply({ inputIds: [[1, 12]] })).toThrow('inputIds has 12 at [0, 1], outside [0, 9] (vocab_size = 10)');
    expect(() => m.apply({ inputIds: [[1, 2, 3, 4, 5]] })).toThrow(/sequence length 5 exceeds max_position_embeddings 4/);
    expect(() => m.apply({ inputIds: [[1, 2]], tokenTypeIds: [[0, 2]] })).toThrow(/tokenTypeIds has 2 at \[0, 1\]/);
    expect(() => m.apply({ inputIds: [[1, 2], [3]] })).toThrow(/inputIds row 1 has length 1, expected 2/);
    m.dispose();
  });
});
