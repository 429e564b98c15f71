/**
 * The explorer's model side under Node: a checkpoint from bytes (what the page gets from a
 * file or a fetch), its errors, and the analysis functions against the model's own methods.
 * A micro config keeps it fast (the tiny preset's structure at 64², a 1-layer BERT on a
 * 40-token vocabulary).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { G2DError, initBackend, writeSafetensors } from '@g2d-ts/core';
import { referencePreprocess } from '@g2d-ts/data/browser';
import { buildConfig, builtInTokenizer, createModel, loadTokenizer, saveG2DModel, SYNTHETIC_VOCAB_SIZE, type G2DModel } from '@g2d-ts/model';
import { attentionMaps, decoderMap, encodeTexts, grounding, imageEmbedding, prepareImage, pseudoMask, retrievalScore, zeroShotClassifier, zeroShotScores } from '../src/analysis';
import { loadCheckpoint, parseCheckpointConfig, tokenizerFromVocab, type NamedBytes, type NamedText } from '../src/checkpoint';

const WORDS = ['pleural', 'effusion', 'no', 'pneumothorax', 'heart', 'size', 'normal', 'lung', 'clear', 'opacity', 'small', 'left', 'right', 'is', 'the', '.', ','];
const VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...WORDS, ...'abcdefghijklmnopqrstuvwxyz'.split('').map((c) => `##${c}`)].join('\n');
const MICRO = { imageSize: 64, text: { vocabSize: 64, hiddenSize: 16, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 32, freezeLayers: 0, maxLength: 16, maxPositionEmbeddings: 32 } };

let dir: string;
let model: G2DModel;
let weights: NamedBytes;
let config: NamedText;

/** A grey test image with a black border (the preprocessing crops it) and some structure. */
function testImage(w = 90, h = 70) {
  const data = new Uint16Array(w * h);
  for (let y = 5; y < h - 3; y++) for (let x = 8; x < w - 6; x++) data[y * w + x] = 200 + ((x * 37 + y * 11) % 900) + (x > w / 2 ? 1500 : 0);
  return { width: w, height: h, data, maxValue: 4095 };
}

beforeAll(async () => {
  await initBackend();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'g2d-explorer-unit-'));
  model = createModel('g2d-resnet18-tiny', { seed: 3, overrides: MICRO }).eval();
  await saveG2DModel(model, dir);
  weights = { name: 'model.safetensors', bytes: new Uint8Array(fs.readFileSync(path.join(dir, 'model.safetensors'))) };
  config = { name: 'config.json', text: fs.readFileSync(path.join(dir, 'config.json'), 'utf8') };
});

afterAll(() => {
  model?.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('loadCheckpoint from bytes', () => {
  it('rebuilds the saved model: same config, same weights, same attention', async () => {
    const loaded = loadCheckpoint({ weights, config });
    try {
      expect(loaded.config).toEqual(model.config);
      expect(loaded.configSource).toBe('config.json');
      expect(loaded.parameters).toBe(model.numParams());
      const a = model.stateDict();
      const b = loaded.model.stateDict();
      expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
      for (const k of ['img_model.encoder.conv1.weight', 'attnpool.positional_embedding', 'proj_t.0.weight']) expect(Array.from(b.get(k)!.data as Float32Array)).toEqual(Array.from(a.get(k)!.data as Float32Array));
      const p = prepareImage(testImage(), model);
      const x = await attentionMaps(model, p);
      const y = await attentionMaps(loaded.model, p);
      expect(Array.from(y.mean)).toEqual(Array.from(x.mean));
      p.input.dispose();
    } finally {
      loaded.model.dispose();
    }
  });

  it('names the file and the problem for malformed inputs', () => {
    const cases: [string, () => unknown, RegExp][] = [
      ['config not JSON', () => loadCheckpoint({ weights, config: { name: 'config.json', text: '{"format": ' } }), /^config\.json: not valid JSON/],
      ['config of something else', () => loadCheckpoint({ weights, config: { name: 'config.json', text: '{"format": "other", "model": {}}' } }), /config\.json: key "format" is "other"/],
      ['config without model', () => parseCheckpointConfig({ name: 'config.json', text: '{"format": "g2d-ts/G2DModel"}' }), /key "model"/],
      ['bad model config', () => parseCheckpointConfig({ name: 'config.json', text: '{"format": "g2d-ts/G2DModel", "model": {"imageSize": 100}}' }), /config\.json: model/],
      ['truncated weights', () => loadCheckpoint({ weights: { name: 'model.safetensors', bytes: weights.bytes.subarray(0, 100000) }, config }), /^model\.safetensors: tensor ".*" ends at byte \d+ past the data section/],
      ['not safetensors', () => loadCheckpoint({ weights: { name: 'model.safetensors', bytes: new TextEncoder().encode('hello world, not weights') }, config }), /^model\.safetensors: not a safetensors file/],
      ['a PyTorch file', () => loadCheckpoint({ weights: { name: 'g2d_checkpoint.pth', bytes: new Uint8Array(10) } }), /^g2d_checkpoint\.pth: PyTorch checkpoints are read by the Node tools only/],
      ['the wrong preset for a bare model.safetensors', () => loadCheckpoint({ weights, preset: 'g2d-resnet50' }), /^model\.safetensors: no config\.json was given, so the preset g2d-resnet50 architecture was assumed \(add the checkpoint's config\.json\): cannot load weights/],
    ];
    for (const [what, fn, re] of cases) {
      let err: unknown;
      try {
        fn();
      } catch (e) {
        err = e;
      }
      expect({ what, isG2DError: err instanceof G2DError, message: (err as Error)?.message?.slice(0, 400) }).toEqual({ what, isG2DError: true, message: expect.stringMatching(re) });
    }
  });

  it('refuses safetensors that are not a saved G2D model', async () => {
    const f = path.join(dir, 'other.safetensors');
    await writeSafetensors(f, new Map([['x', { dtype: 'float32', shape: [1], data: new Float32Array([1]) }]]), { format: 'pt' });
    expect(() => loadCheckpoint({ weights: { name: 'other.safetensors', bytes: new Uint8Array(fs.readFileSync(f)) }, config })).toThrow(/other\.safetensors: not a saved G2D model \(safetensors metadata "format" is "pt"/);
  });
});

describe('analysis on the loaded model', () => {
  it('prepares the image as the evaluation apps do and reports the crop', () => {
    const img = testImage();
    const p = prepareImage(img, model, 'test');
    expect(p.roi).toEqual({ x: 8, y: 5, w: 90 - 6 - 8, h: 70 - 3 - 5 });
    expect(Array.from(p.gray)).toEqual(Array.from(referencePreprocess(img, { size: 64, variant: model.config.preprocessing.variant })));
    expect(p.input.shape).toEqual([1, 64, 64, 3]);
    const v = p.input.dataSync();
    const [m] = model.config.preprocessing.mean;
    const [s] = model.config.preprocessing.std;
    expect(v[0]).toBeCloseTo((p.gray[0]! / 255 - m!) / s!, 5);
    p.input.dispose();
    expect(() => prepareImage({ width: 4, height: 4, data: new Uint8Array(16), maxValue: 255 }, model, 'zeros.png')).toThrow(/zeros\.png: image is entirely zero/);
  });

  it('pseudo mask, decoder, grounding, zero-shot and retrieval match the model and its packages', async () => {
    const p = prepareImage(testImage(), model);
    const before = tf.memory().numTensors;
    const mask = await pseudoMask(model, p, { mode: 'code', quantile: model.config.pseudoMask.quantile });
    const att = model.attentionMap(p.input);
    const ref = model.pseudoMask(att);
    expect(Array.from(mask)).toEqual(Array.from(ref.dataSync()));
    att.dispose();
    ref.dispose();
    const paper = await pseudoMask(model, p, { mode: 'paper', quantile: 0.5 });
    expect(paper.length).toBe(64 * 64);
    await expect(pseudoMask(model, p, { mode: 'code', quantile: 1 })).rejects.toThrow(/quantile must be in \(0, 1\)/);

    const dec = await decoderMap(model, p);
    expect(dec.length).toBe(64 * 64);
    expect(Math.min(...dec)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...dec)).toBeLessThanOrEqual(1);

    const tok = tokenizerFromVocab({ name: 'vocab.txt', text: VOCAB }, model.config);
    const g = await grounding(model, tok, p, 'pleural effusion');
    expect([g.h, g.w]).toEqual([2, 2]);
    const patches = model.patchEmbeddings(p.input);
    const t = encodeTexts(model, tok, ['pleural effusion']);
    const expected = tf.tidy(() => tf.sum(tf.mul(patches, tf.reshape(t, [1, 1, 1, -1])), -1).dataSync());
    for (let i = 0; i < 4; i++) expect(g.map[i]).toBeCloseTo(expected[i]!, 5);
    patches.dispose();
    t.dispose();

    const emb = imageEmbedding(model, p);
    const clf = zeroShotClassifier(model, tok, { effusion: { positive: ['pleural effusion'], negative: ['no pleural effusion'] }, pneumothorax: { positive: ['pneumothorax'], negative: ['no pneumothorax'] } });
    const scores = await zeroShotScores(clf, emb);
    expect(scores.map((s) => s.label).sort()).toEqual(['effusion', 'pneumothorax']);
    expect(scores[0]!.p).toBeGreaterThanOrEqual(scores[1]!.p);
    const r = await retrievalScore(model, tok, emb, 'small left pleural effusion.');
    const te = encodeTexts(model, tok, ['small left pleural effusion.']);
    expect(r).toBeCloseTo(tf.tidy(() => tf.sum(tf.mul(emb, te)).dataSync()[0]!), 5);
    te.dispose();
    clf.dispose();
    emb.dispose();
    expect(tf.memory().numTensors).toBe(before);
    p.input.dispose();
  });

  it('refuses a vocabulary larger than the model\'s', () => {
    const big = Array.from({ length: 70 }, (_, i) => (i < 5 ? ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'][i] : `w${i}`)).join('\n');
    expect(() => tokenizerFromVocab({ name: 'vocab.txt', text: big }, model.config)).toThrow(/vocab\.txt: the vocabulary has 70 tokens but the model's text\.vocabSize is 64/);
  });

  it("a model on the built-in synthetic vocabulary (the demo's) gets its tokenizer without a vocab.txt; others need one", () => {
    expect(builtInTokenizer(model.config.text)).toBeUndefined();
    const cfg = buildConfig('g2d-resnet18-tiny', { text: { vocab: 'synthetic', vocabSize: SYNTHETIC_VOCAB_SIZE } });
    const tok = builtInTokenizer(cfg.text)!;
    expect(tok.vocabSize).toBe(SYNTHETIC_VOCAB_SIZE);
    // the same ids as the app-side tokenizer of @g2d-ts/model (what the demo trained with)
    expect(tok.encode('Small left pleural effusion.')).toEqual(loadTokenizer(cfg.text).encode('Small left pleural effusion.'));
    expect(tok.tokenize('Small left pleural effusion.')).toEqual(['small', 'left', 'pleural', 'effusion', '.']);
  });
});
