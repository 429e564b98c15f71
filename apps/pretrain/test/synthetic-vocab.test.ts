/**
 * The demo's built-in vocabulary (`text.vocab: 'synthetic'`, @g2d-ts/model): the demo needs no
 * shared data folder, and the vocabulary covers what the synthetic report writer writes —
 * checked on reports of a seed the vocabulary was not built from.
 */
import * as path from 'node:path';
import { syntheticLayout } from '@g2d-ts/data';
import { loadTokenizer, resolveVocab, SYNTHETIC_VOCAB_SIZE, syntheticVocabulary } from '@g2d-ts/model';
import { normalizeBert, preTokenizeBert } from '@g2d-ts/text';
import { loadPretrainConfig } from '../src/config';
import { runModelConfig } from '../src/run';

const demo = runModelConfig(loadPretrainConfig(path.join(__dirname, '..', 'configs', 'demo.yaml')).config);

describe("the synthetic vocabulary (text.vocab: 'synthetic')", () => {
  it('is what the demo uses, sized to it, with the special tokens first and no duplicates', () => {
    expect(demo.text.vocab).toBe('synthetic');
    expect(demo.text.vocabSize).toBe(SYNTHETIC_VOCAB_SIZE);
    const v = syntheticVocabulary();
    expect(v.slice(0, 5)).toEqual(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']);
    expect(new Set(v).size).toBe(v.length);
    expect(v).toHaveLength(SYNTHETIC_VOCAB_SIZE);
    // a word-level vocabulary of the report writer's words, not only characters
    for (const w of ['pneumothorax', 'effusion', 'cardiomegaly', 'left', 'right', 'No']) expect(v).toContain(w);
  });

  it.each([
    ['lowercased (reference-code recipe)', true],
    ['cased (paper recipe)', false],
  ])('%s: reports of an unseen seed tokenize without [UNK], each clean word one token', (_, lowercase) => {
    const tok = loadTokenizer({ ...demo.text, lowercase });
    expect(tok.vocabSize).toBe(SYNTHETIC_VOCAB_SIZE);
    let words = 0;
    let pieces = 0;
    for (let i = 0; i < 150; i++) {
      // clean reports: every pre-tokenized word is a whole token
      const clean = syntheticLayout(i, { seed: 7, size: 64, reportNoise: 0 }).report;
      const w = preTokenizeBert(normalizeBert(clean, { cleanText: true, handleChineseChars: true, stripAccents: null, lowercase }));
      const t = tok.tokenize(clean);
      words += w.length;
      pieces += t.length;
      expect(t).not.toContain('[UNK]');
      // noisy reports (comparison sentences, placeholders, dropped spaces, capitals): no [UNK] either
      const noisy = syntheticLayout(i, { seed: 7, size: 64, reportNoise: 1 }).report;
      const ids = tok.encode(noisy);
      expect(ids).not.toContain(tok.unkTokenId);
      expect(Math.max(...ids)).toBeLessThan(SYNTHETIC_VOCAB_SIZE);
    }
    expect(words).toBeGreaterThan(5000);
    expect(pieces).toBe(words);
  });

  it('a text.vocabSize below its size is an error naming the key; it has no file to resolve', () => {
    expect(() => loadTokenizer({ ...demo.text, vocabSize: 100 })).toThrow(/800 tokens but text\.vocabSize is 100/);
    expect(() => resolveVocab('synthetic')).toThrow(/text\.vocab "synthetic" is built in/);
  });

  it('text outside the printable ASCII range is [UNK], not an error', () => {
    const tok = loadTokenizer({ ...demo.text, lowercase: true });
    expect(tok.tokenize('effusion ≈ 2 cm')).toEqual(['effusion', '[UNK]', '2', 'cm']);
  });
});
