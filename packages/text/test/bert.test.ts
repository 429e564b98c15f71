import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { readCheckpoint, readSafetensors, toFloat32, type RawTensor } from '@g2d-ts/core';
import { describeBackends, expectArraysClose, expectNoLeakedTensors } from '@g2d-ts/core/testing';
import { LoadError, autoFromPretrained, saveModel, withoutRandomInit, type LoadReport } from '@g2d-ts/nn';
import * as fs2 from 'node:fs';
import * as os from 'node:os';
import { BertModel, TextProjection, bertConfig, parseBertConfig, readBertConfig } from '../src';
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
      let report: LoadReport | undefined;
      const model = await BertModel.fromPretrained(DIR, { onReport: (r) => (report = r) });
      const m = file === 'model.safetensors' ? model : new BertModel(model.config).eval();
      if (m !== model) {
        model.dispose();
        report = m.loadStateDict(await readCheckpoint(path.join(DIR, file)), { source: file });
      }
      expect(report!.loaded).toHaveLength(m.namedVariables().size);
      expect(report!.missing).toEqual([]);
      expect(m.training).toBe(false); // fromPretrained gives eval mode, as transformers
      const { input_ids, attention_mask, token_type_ids } = expected.inputs;
      const out = m.forward({ inputIds: input_ids, attentionMask: attention_mask, tokenTypeIds: token_type_ids });
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
    const out = m.forward({ inputIds: [input_ids[1]!.slice(0, n)], tokenTypeIds: [token_type_ids[1]!.slice(0, n)] });
    expectArraysClose(out.lastHiddenState, rows(expected.last_hidden_state, 1, n), TOL);
    expectArraysClose(out.pooledOutput!, expected.pooler_output.data.slice(32, 64), TOL);
    tf.dispose([out.lastHiddenState, out.pooledOutput!]);
    m.dispose();
  });

  it('leaks no tensors when loading and disposing a model', async () => {
    await expectNoLeakedTensors(async () => (await BertModel.fromPretrained(DIR)).dispose());
    await expectNoLeakedTensors(() => new BertModel({ vocabSize: 20, hiddenSize: 8, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 8 }).dispose());
  });

  it('leaks no tensors in forward (tensors in, tensors out)', async () => {
    const m = await BertModel.fromPretrained(DIR);
    const ids = tf.tensor2d(expected.inputs.input_ids, undefined, 'int32');
    const mask = tf.tensor2d(expected.inputs.attention_mask, undefined, 'int32');
    await expectNoLeakedTensors(() => {
      const o = m.forward({ inputIds: ids, attentionMask: mask }, { training: true });
      tf.dispose([o.lastHiddenState, o.pooledOutput!]);
    });
    tf.dispose([ids, mask]);
    m.dispose();
  });

  it('freezes the first N layers: only embeddings, later layers and pooler train', async () => {
    const m = new BertModel({ vocabSize: 30, hiddenSize: 8, numHiddenLayers: 3, numAttentionHeads: 2, intermediateSize: 12, maxPositionEmbeddings: 16 }, { seed: 5 });
    const params = m.namedVariables();
    m.freezeEncoderLayers(2);
    const perLayer = 16;
    expect(m.trainableVariables()).toHaveLength(params.size - 2 * perLayer);
    expect(m.frozenEncoderLayers).toBe(2);
    expect(m.frozen()).toHaveLength(2 * perLayer);
    expect(m.frozen().every((n) => /^encoder\.layer\.[01]\./.test(n))).toBe(true);
    const before = new Map([...params].map(([k, v]) => [k, v.dataSync().slice()]));
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
          const o = m.forward({ inputIds, attentionMask }, { training: true });
          return tf.add(tf.mean(tf.square(o.lastHiddenState)), tf.mean(o.pooledOutput!));
        },
        true,
        varList,
      );
      cost?.dispose();
    });
    const changed = (k: string) => {
      const a = before.get(k)!;
      const b = params.get(k)!.dataSync();
      return a.some((x: number, i: number) => x !== b[i]);
    };
    expect(changed('encoder.layer.0.attention.self.query.weight')).toBe(false);
    expect(changed('encoder.layer.1.output.dense.weight')).toBe(false);
    expect(changed('encoder.layer.2.attention.self.query.weight')).toBe(true);
    expect(changed('embeddings.word_embeddings.weight')).toBe(true);
    expect(changed('pooler.dense.weight')).toBe(true);
    expect(() => m.freezeEncoderLayers(4)).toThrow(/freezeEncoderLayers\(4\): must be an integer in \[0, 3\]/);
    // a smaller count unfreezes the later layers again
    m.freezeEncoderLayers(1);
    expect(m.frozenEncoderLayers).toBe(1);
    expect(m.frozen()).toHaveLength(perLayer);
    opt.dispose();
    m.dispose();
  });
});

describeBackends('BertModel dropout and train/eval mode', () => {
  const cfg = { vocabSize: 30, hiddenSize: 8, numHiddenLayers: 2, numAttentionHeads: 2, intermediateSize: 12, maxPositionEmbeddings: 16 };
  const inputIds = [
    [2, 5, 7, 9],
    [2, 4, 0, 0],
  ];
  const run = (m: BertModel, training?: boolean) => {
    const o = m.forward({ inputIds }, training === undefined ? {} : { training });
    const v = Array.from(o.lastHiddenState.dataSync());
    tf.dispose([o.lastHiddenState, o.pooledOutput!]);
    return v;
  };

  it('is the identity in eval mode and a real, seeded dropout in training mode; per-call training wins', () => {
    const a = new BertModel({ ...cfg, hiddenDropoutProb: 0.5, attentionProbsDropoutProb: 0.5 }, { seed: 7 });
    expect(a.training).toBe(true); // a new module trains, as in PyTorch
    a.eval();
    const e1 = run(a);
    expect(run(a)).toEqual(e1); // eval: deterministic
    const t1 = run(a, true); // per-call training overrides eval mode...
    expect(a.training).toBe(false); // ...and the mode is restored
    const t2 = run(a, true);
    expect(t1).not.toEqual(e1); // dropout changed the states
    expect(t2).not.toEqual(t1); // a fresh mask each call
    // the same seed replays the same masks
    const b = new BertModel({ ...cfg, hiddenDropoutProb: 0.5, attentionProbsDropoutProb: 0.5 }, { seed: 7 });
    expect(run(b)).toEqual(t1); // module mode (training) by default
    expect(run(b, false)).toEqual(e1);
    // no dropout configured: training and eval agree (BERT has no BatchNorm)
    const c = new BertModel({ ...cfg, hiddenDropoutProb: 0, attentionProbsDropoutProb: 0 }, { seed: 7 });
    expect(run(c, true)).toEqual(run(c, false));
    [a, b, c].forEach((m) => m.dispose());
  });

  it('is a Module: Hugging Face names in stateDict, numParams, freeze by prefix, save/load through the registry', async () => {
    const m = new BertModel(cfg, { seed: 3 });
    const sd = m.stateDict();
    expect([...sd.keys()].slice(0, 5)).toEqual([
      'embeddings.word_embeddings.weight',
      'embeddings.position_embeddings.weight',
      'embeddings.token_type_embeddings.weight',
      'embeddings.LayerNorm.weight',
      'embeddings.LayerNorm.bias',
    ]);
    expect(sd.get('encoder.layer.0.intermediate.dense.weight')!.shape).toEqual([12, 8]); // PyTorch [out, in]
    expect(Array.from(sd.get('embeddings.word_embeddings.weight')!.data.slice(0, 8) as Float32Array).every((v) => v === 0)).toBe(true); // padding row 0
    const H = 8;
    const I = 12;
    const perLayer = 4 * (H * H + H) + 2 * 2 * H + (H * I + I) + (I * H + H);
    expect(m.numParams()).toBe((30 + 16 + 2) * H + 2 * H + 2 * perLayer + H * H + H);
    m.freeze(['embeddings']);
    expect(m.frozen()).toHaveLength(5);
    expect(m.numParams({ trainable: true })).toBe(m.numParams() - (30 + 16 + 2) * H - 2 * H);
    const dir = fs2.mkdtempSync(path.join(os.tmpdir(), 'g2d-bert-save-'));
    try {
      await saveModel(m, dir);
      const back = await autoFromPretrained(dir);
      expect(back).toBeInstanceOf(BertModel);
      const b = back as BertModel;
      expect(b.config).toEqual(m.config);
      m.eval();
      const x = m.forward({ inputIds: [[2, 5, 7]] });
      const y = b.forward({ inputIds: [[2, 5, 7]] });
      expectArraysClose(y.lastHiddenState, x.lastHiddenState, { rtol: 0, atol: 0 });
      tf.dispose([x.lastHiddenState, x.pooledOutput!, y.lastHiddenState, y.pooledOutput!]);
      b.dispose();
      // a transformers BERT directory opens through the registry's config reader too
      const hf = await autoFromPretrained(DIR);
      expect(hf).toBeInstanceOf(BertModel);
      expect((hf as BertModel).config.hiddenSize).toBe(32);
      hf.dispose();
    } finally {
      fs2.rmSync(dir, { recursive: true, force: true });
    }
    m.dispose();
  });
});

describeBackends('TextProjection (proj_t) parity with PyTorch', () => {
  it('train mode (batch statistics, running stats update) and eval mode', async () => {
    const proj = new TextProjection({ inDim: 32, hiddenDim: 16, outDim: 16 }).eval();
    const rep = proj.loadStateDict(await readCheckpoint(path.join(DIR, 'proj_t.safetensors')), { source: 'proj_t.safetensors', prefix: 'proj_t.' });
    expect(rep.loaded).toEqual(['0.weight', '1.running_mean', '1.running_var', '1.num_batches_tracked', '3.weight']);
    const h = tf.tensor3d(expected.last_hidden_state.data, expected.last_hidden_state.shape as [number, number, number]);
    const train = proj.forward(h, { training: true });
    expect(proj.training).toBe(false);
    expectArraysClose(train, expected.proj_train.data, TOL);
    expectArraysClose(proj.runningMean, expected.proj_running_mean.data, TOL);
    expectArraysClose(proj.runningVar, expected.proj_running_var.data, TOL);
    const ev = proj.forward(h);
    expectArraysClose(ev, expected.proj_eval.data, TOL);
    expect(proj.numBatchesTracked).toBe(1);
    await expectNoLeakedTensors(() => proj.forward(h).dispose());
    const sd = proj.stateDict();
    expect([...sd.keys()]).toEqual(['0.weight', '1.running_mean', '1.running_var', '1.num_batches_tracked', '3.weight']);
    expect(sd.get('0.weight')!.shape).toEqual([16, 32, 1]); // Conv1d layout
    expect(proj.numParams()).toBe(32 * 16 + 16 * 16);
    tf.dispose([h, train, ev]);
    proj.dispose();
  });
});

describeBackends('TextProjection against the reference G2D checkpoint', () => {
  // the tiny full G2D checkpoint and its recorded proj_t input/output (tools/vision/gen_checkpoint_fixtures.py)
  const VFIX = path.join(__dirname, '../../vision/test/fixtures');
  it('loads proj_t.* from a full *_checkpoint.pth and matches its eval-mode output', async () => {
    const proj = new TextProjection({ inDim: 6, hiddenDim: 8, outDim: 8 }).eval();
    const rep = proj.loadStateDict(await readCheckpoint(path.join(VFIX, 'g2d_tiny_2_checkpoint.pth')), { prefix: 'proj_t.' });
    expect(rep.ignored.some((k) => k.startsWith('lm_model.'))).toBe(true); // the rest of the checkpoint
    const io = (await readSafetensors(path.join(VFIX, 'g2d_tiny_io.safetensors'))).tensors;
    const t3 = (name: string) => {
      const r = io.get(name)!;
      // PyTorch's Conv1d works on [B, C, L]; ours on [B, L, C]
      return tf.tidy(() => tf.transpose(tf.tensor3d(toFloat32(r), r.shape as [number, number, number]), [0, 2, 1])) as tf.Tensor3D;
    };
    const x = t3('proj_t_in');
    const want = t3('proj_t_out');
    const y = proj.forward(x);
    expectArraysClose(y, want, { rtol: 1e-3, atol: 1e-4 });
    expect(proj.stateDict().get('0.weight')!.shape).toEqual([8, 6, 1]);
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
    const before = three.stateDict();
    let err: LoadError | undefined;
    try {
      three.loadStateDict(sd, { source: 'x/model.safetensors' });
    } catch (e) {
      err = e as LoadError;
    }
    expect(err).toBeInstanceOf(LoadError);
    expect(err!.message).toMatch(/^x\/model\.safetensors: cannot load weights into BertModel \(vocab_size 99, hidden_size 32, num_hidden_layers 3, /);
    expect(err!.message).toMatch(/missing in the checkpoint \(16\):/);
    expect(err!.report.missing).toHaveLength(16);
    for (const k of ['encoder.layer.2.attention.self.query.weight', 'encoder.layer.2.output.LayerNorm.bias', 'encoder.layer.2.intermediate.dense.bias']) expect(err!.message).toContain(k);
    // nothing was assigned
    const after = three.stateDict();
    for (const [k, t] of before) expect({ k, d: after.get(k)!.data }).toEqual({ k, d: t.data });
    three.dispose();

    const wide = new BertModel({ ...cfg(), intermediateSize: 40, numHiddenLayers: 1 });
    let err2: LoadError | undefined;
    try {
      wide.loadStateDict(sd, { source: 'm.bin' });
    } catch (e) {
      err2 = e as LoadError;
    }
    expect(err2!.message).toMatch(/unexpected in the checkpoint \(16\):\s+encoder\.layer\.1\./);
    expect(err2!.message).toMatch(
      /shape mismatch \(3\):\s+encoder\.layer\.0\.intermediate\.dense\.weight: expected \[40, 32\], checkpoint has \[37, 32\]\s+encoder\.layer\.0\.intermediate\.dense\.bias: expected \[40\], checkpoint has \[37\]\s+encoder\.layer\.0\.output\.dense\.weight: expected \[32, 40\], checkpoint has \[32, 37\]/,
    );
    expect(err2!.report.mismatched).toEqual(['encoder.layer.0.intermediate.dense.weight', 'encoder.layer.0.intermediate.dense.bias', 'encoder.layer.0.output.dense.weight']);
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
    const m = withoutRandomInit(() => new BertModel(cfg()));
    const rep = m.loadStateDict(renamed);
    expect(rep.prefix).toBe('bert.');
    expect(rep.ignored.sort()).toEqual(['bert.embeddings.position_ids', 'cls.predictions.bias']);
    expect(rep.missing).toEqual(['pooler.dense.weight', 'pooler.dense.bias']);
    const vars = m.namedVariables();
    expectArraysClose(vars.get('embeddings.LayerNorm.weight')!, Array.from(sd.get('embeddings.LayerNorm.weight')!.data as Float32Array), { rtol: 0, atol: 0 });
    // the missing pooler is initialised (normal(0, initializer_range)), not left at zero
    expect(tf.moments(vars.get('pooler.dense.weight')!).variance.dataSync()[0]).toBeGreaterThan(1e-5);
    // ... but other missing keys stay fatal
    const noLn = new Map(renamed);
    noLn.delete('bert.embeddings.LayerNorm.gamma');
    expect(() => m.loadStateDict(noLn)).toThrow(/missing in the checkpoint \(1\):\s+embeddings\.LayerNorm\.weight/);
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
    expect(() => m.forward({ inputIds: [[1, 12]] })).toThrow('inputIds has 12 at [0, 1], outside [0, 9] (vocab_size = 10)');
    expect(() => m.forward({ inputIds: [[1, 2, 3, 4, 5]] })).toThrow(/sequence length 5 exceeds max_position_embeddings 4/);
    expect(() => m.forward({ inputIds: [[1, 2]], tokenTypeIds: [[0, 2]] })).toThrow(/tokenTypeIds has 2 at \[0, 1\]/);
    expect(() => m.forward({ inputIds: [[1, 2], [3]] })).toThrow(/inputIds row 1 has length 1, expected 2/);
    m.dispose();
  });
});
