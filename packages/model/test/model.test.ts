/**
 * G2DModel behaviour on a micro config (fast on every backend): the public API shapes, the
 * gradient flow of each loss term as in the reference (frozen BERT layers get none, the
 * embeddings do, PS reaches only encoder/decoder/segmentation head, VLA never the decoder),
 * the VLA-only warm-up, per-call training mode, presets/recipes, and no leaked tensors.
 */
import * as tf from '@tensorflow/tfjs';
import { describeBackends, expectArraysClose, expectNoLeakedTensors } from '@g2d-ts/core/testing';
import { createModel, getModelConfig, listModels, resolveConfig, RECIPE_SETTINGS, type G2DModel } from '../src';

const MICRO = {
  base: 'g2d-resnet18-tiny',
  imageSize: 64,
  decoderChannels: [16, 8, 8, 4, 4],
  projection: { hidden: 16, out: 16 },
  attentionHeads: 4,
  text: { vocabSize: 120, hiddenSize: 16, numHiddenLayers: 3, numAttentionHeads: 2, intermediateSize: 32, freezeLayers: 2, maxLength: 12, maxPositionEmbeddings: 32, vocab: 'unused' },
  loss: { vlaOnlySteps: 5 },
};

function batch(B = 3, S = 64, L = 10) {
  return tf.tidy(() => {
    const images = tf.randomNormal([B, S, S, 3], 0, 1, 'float32', 11) as tf.Tensor4D;
    const ids = [...Array(B)].map((_, b) => [...Array(L)].map((__, i) => (i === 0 ? 101 % 120 : i < L - b ? 1 + ((b * 7 + i * 13) % 118) : 0)));
    const mask = ids.map((row, b) => row.map((_, i) => (i < L - b ? 1 : 0)));
    return { images, inputIds: tf.tensor2d(ids, [B, L], 'int32'), attentionMask: tf.tensor2d(mask, [B, L], 'int32') };
  });
}

/** Names of the trainable parameters whose gradient of `lossFn` is non-zero. */
function reached(model: G2DModel, lossFn: () => tf.Scalar): Set<string> {
  const named = model.namedParameters().filter(([, v]) => v.trainable);
  const byVar = new Map(named.map(([n, v]) => [v.name, n]));
  const { value, grads } = tf.variableGrads(lossFn, named.map(([, v]) => v));
  const hit = new Set<string>();
  for (const [vname, g] of Object.entries(grads)) {
    if (g && tf.any(tf.notEqual(g, 0)).dataSync()[0]) hit.add(byVar.get(vname)!);
  }
  tf.dispose([value, ...Object.values(grads)]);
  return hit;
}

describe('presets and config', () => {
  it('lists the presets and resolves them', () => {
    expect(listModels()).toEqual(expect.arrayContaining(['g2d-resnet50', 'g2d-resnet18-tiny']));
    const tiny = getModelConfig('g2d-resnet18-tiny');
    expect(tiny.imageSize).toBe(128);
    expect(getModelConfig('g2d-resnet50')).toMatchObject({ backbone: 'resnet50', imageSize: 256, attentionHeads: 4, projection: { hidden: 128, out: 128 }, text: { hiddenSize: 768, numHiddenLayers: 12, freezeLayers: 9, vocabSize: 28996, maxLength: 256 } });
  });
  it('an unknown preset lists the valid names', () => {
    expect(() => getModelConfig('g2d-resnet51')).toThrow(/unknown model "g2d-resnet51"; valid names: g2d-resnet18-tiny, g2d-resnet50/);
  });
  it('the recipe sets the four component switches; explicit settings win', () => {
    const code = resolveConfig({});
    expect([code.pseudoMask.mode, code.loss.variant, code.loss.symmetric, code.preprocessing.variant, code.loss.vlaOnlySteps]).toEqual(['code', 'code', true, 'code', 200]);
    const paper = resolveConfig({ recipe: 'paper' });
    expect([paper.pseudoMask.mode, paper.loss.variant, paper.loss.symmetric, paper.preprocessing.variant, paper.loss.vlaOnlySteps]).toEqual(['paper', 'paper', false, 'clean', 0]);
    expect(resolveConfig({ recipe: 'paper', loss: { symmetric: true } }).loss.symmetric).toBe(true);
    expect(Object.keys(RECIPE_SETTINGS).sort()).toEqual(['paper', 'reference-code']);
  });
  it('unknown or invalid keys are errors naming them', () => {
    expect(() => resolveConfig({ imageSzie: 128 })).toThrow(/imageSzie/);
    expect(() => resolveConfig({ imageSize: 100 })).toThrow(/multiple of 32/);
    expect(() => resolveConfig({ text: { freezeLayers: 13 } })).toThrow(/freezeLayers/);
    expect(() => resolveConfig({ recipe: 'papers' })).toThrow(/recipe/);
  });
  it('swapping the backbone by config works for every CNN backbone', () => {
    for (const backbone of ['resnet18', 'resnet34', 'resnet50']) {
      const m = createModel({ ...MICRO, backbone });
      const ch = m.img_model.encoder.outChannels;
      expect(m.proj_v.numParams()).toBe(ch[ch.length - 1]! * 16 + 16 * 16);
      m.dispose();
    }
  });
});

describeBackends('G2DModel', () => {
  let model: G2DModel;
  beforeAll(() => {
    model = createModel(MICRO, { seed: 1 });
  });
  afterAll(() => model.dispose());

  it('forward returns the documented shapes; per-call training wins and leaves the mode as it was', () => {
    const x = batch();
    model.eval();
    const out = model.forward(x, { training: true });
    expect(model.training).toBe(false);
    expect(out.imageEmbedding.shape).toEqual([3, 16]);
    expect(out.textEmbedding.shape).toEqual([3, 16]);
    expect(out.attention.shape).toEqual([3, 4, 2, 2]);
    expect(out.segLogits!.shape).toEqual([3, 64, 64, 1]);
    // text embeddings are unit vectors; attention is a distribution over 1 + h*w keys
    const norms = tf.norm(out.textEmbedding, 'euclidean', 1).dataSync();
    norms.forEach((n) => expect(n).toBeCloseTo(1, 5));
    const attSum = tf.sum(out.attention, [2, 3]).dataSync();
    attSum.forEach((s) => expect(s).toBeLessThan(1));
    out.dispose();
    tf.dispose(Object.values(x));
  });

  it('loss: VLA only for the first vlaOnlySteps, then VLA + PS; terms by name', () => {
    const x = batch();
    const out = model.forward(x, { training: true });
    const early = model.loss(out, { step: 4 });
    const late = model.loss(out, { step: 5 });
    expect(early.psActive).toBe(false);
    expect(late.psActive).toBe(true);
    expect(early.ps).not.toBeNull();
    expect(early.loss.dataSync()[0]).toBeCloseTo(early.vla, 4);
    expect(late.loss.dataSync()[0]).toBeCloseTo(late.vla + late.ps!, 4);
    expect(late.acc1).toBeGreaterThanOrEqual(0);
    expect(() => model.loss(out, { step: -1 })).toThrow(/step/);
    tf.dispose([early.loss, late.loss]);
    out.dispose();
    tf.dispose(Object.values(x));
  });

  it('gradients flow as in the reference', () => {
    const x = batch();
    model.train();
    const vla = reached(model, () => {
      const out = model.forward(x);
      return model.loss(out, { step: 0 }).loss;
    });
    // PS alone: the same objective with the VLA weight at 0
    const lossCfg = model.config.loss as { vlaWeight: number };
    lossCfg.vlaWeight = 0;
    let ps: Set<string>;
    try {
      ps = reached(model, () => {
        const out = model.forward(x);
        return model.loss(out, { step: 10 }).loss;
      });
    } finally {
      lossCfg.vlaWeight = 1;
    }
    const names = model.namedParameters().map(([n]) => n);
    // frozen BERT layers are not even trainable; embeddings and the last layer are reached by VLA
    expect(names.filter((n) => /^lm_model\.encoder\.layer\.[01]\./.test(n)).every((n) => !vla.has(n) && !ps.has(n))).toBe(true);
    expect(model.frozen().filter((n) => n.startsWith('lm_model.encoder.layer.')).length).toBeGreaterThan(0);
    expect(vla.has('lm_model.embeddings.word_embeddings.weight')).toBe(true);
    expect([...vla].some((n) => n.startsWith('lm_model.encoder.layer.2.'))).toBe(true);
    // VLA reaches encoder, proj_v, attnpool, lm_model, proj_t; never the decoder or the head
    for (const p of ['img_model.encoder.', 'proj_v.', 'attnpool.', 'proj_t.']) expect([...vla].some((n) => n.startsWith(p))).toBe(true);
    expect([...vla].some((n) => n.startsWith('img_model.decoder.') || n.startsWith('img_model.segmentation_head.'))).toBe(false);
    // PS reaches only encoder, decoder and segmentation head (the mask is a constant)
    expect([...ps].every((n) => /^img_model\.(encoder|decoder|segmentation_head)\./.test(n))).toBe(true);
    for (const p of ['img_model.encoder.', 'img_model.decoder.', 'img_model.segmentation_head.']) expect([...ps].some((n) => n.startsWith(p))).toBe(true);
    tf.dispose(Object.values(x));
  });

  it('inference helpers: encodeImage/encodeText/denseFeatures/attentionMap/patchEmbeddings, no leaks', async () => {
    const x = batch(2);
    await expectNoLeakedTensors(() => {
      const ie = model.encodeImage(x.images);
      const te = model.encodeText({ inputIds: x.inputIds, attentionMask: x.attentionMask });
      const d = model.denseFeatures(x.images);
      const a = model.attentionMap(x.images);
      const p = model.patchEmbeddings(x.images);
      expect(ie.shape).toEqual([2, 16]);
      expect(te.shape).toEqual([2, 16]);
      expect(d.shape).toEqual([2, 64, 64, 4]);
      expect(a.shape).toEqual([2, 4, 2, 2]);
      expect(p.shape).toEqual([2, 2, 2, 16]);
      // both from one forward pass: the same values as the two helpers
      const both = model.encodeImageWithAttention(x.images);
      expectArraysClose(both.embedding, ie.dataSync(), { rtol: 1e-6, atol: 1e-7 });
      expectArraysClose(both.attention, a.dataSync(), { rtol: 1e-6, atol: 1e-7 });
      tf.dispose([ie, te, d, a, p, both.embedding, both.attention]);
    });
    expect(() => model.encodeImage(tf.zeros([1, 32, 32, 3]) as tf.Tensor4D)).toThrow(/64x64/);
    expect(() => model.encodeImageWithAttention(tf.zeros([1, 32, 32, 3]) as tf.Tensor4D)).toThrow(/G2DModel.encodeImageWithAttention: .*64x64/);
    tf.dispose(Object.values(x));
  });

  it('bad inputs get errors naming the argument', () => {
    const x = batch(2);
    expect(() => model.forward({ ...x, images: tf.zeros([2, 32, 32, 3]) as tf.Tensor4D })).toThrow(/"images" must be a \[B, 64, 64, 3\]/);
    expect(() => model.forward({ ...x, inputIds: tf.zeros([3, 10], 'int32') as tf.Tensor2D })).toThrow(/"inputIds"/);
    tf.dispose(Object.values(x));
  });
});

describe('save and load', () => {
  it('saveG2DModel -> G2DModel.fromPretrained round-trips (config from config.json), bytes identical for identical weights', async () => {
    const fs = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const { saveG2DModel, G2DModel: Cls } = await import('../src');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'g2d-model-'));
    const a = createModel(MICRO, { seed: 5 });
    await saveG2DModel(a, path.join(dir, 'a'));
    await saveG2DModel(a, path.join(dir, 'b'));
    expect(fs.readFileSync(path.join(dir, 'a', 'model.safetensors')).equals(fs.readFileSync(path.join(dir, 'b', 'model.safetensors')))).toBe(true);
    const b = await Cls.fromPretrained(path.join(dir, 'a'));
    expect(b.training).toBe(false);
    expect(b.config).toEqual(a.config);
    const sa = a.stateDict();
    const sb = b.stateDict();
    expect([...sb.keys()].sort()).toEqual([...sa.keys()].sort());
    const bytes = (t: { data: ArrayBufferView }) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    const differing = [...sa].filter(([k, v]) => !bytes(sb.get(k)!).equals(bytes(v))).map(([k]) => k);
    expect(differing).toEqual([]);
    a.dispose();
    b.dispose();
  });
});
