import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { sharedPath } from '@g2d-ts/core/testing';
import { BertTokenizer, bertTokenizerJson, normalizeBert, preTokenizeBert } from '../src';
import { tokenizerGoldens } from './helpers';

const TOY = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'un', '##want', '##ed', 'runn', '##ing', ',', '.', '!', 'the', 'lung', '##s', 'are', 'clear', 'cafe', 'x'];

describe('BertTokenizer on a hand-made vocab', () => {
  const tok = BertTokenizer.fromVocab(TOY, { lowercase: true });

  it('splits words into greedy longest-match WordPieces', () => {
    expect(tok.tokenize('UNwanted, running!')).toEqual(['un', '##want', '##ed', ',', 'runn', '##ing', '!']);
    expect(tok.encode('The lungs are clear.')).toEqual([2, 13, 14, 15, 16, 17, 11, 3]);
  });

  it('maps words without a full WordPiece cover, and words over 100 chars, to [UNK]', () => {
    expect(tok.tokenize('unwantedly lungs')).toEqual(['[UNK]', 'lung', '##s']);
    expect(tok.tokenize('x'.repeat(100))).toEqual(['[UNK]']); // no "##x" in the vocab
    const withXX = BertTokenizer.fromVocab([...TOY, '##x'], { lowercase: true });
    expect(withXX.tokenize('x'.repeat(100))).toHaveLength(100);
    expect(withXX.tokenize('x'.repeat(101))).toEqual(['[UNK]']);
  });

  it('lowercases and strips accents only when asked', () => {
    expect(tok.tokenize('Café')).toEqual(['cafe']);
    const cased = BertTokenizer.fromVocab(TOY, { lowercase: false });
    expect(cased.tokenize('Café cafe')).toEqual(['[UNK]', 'cafe']);
    expect(BertTokenizer.fromVocab(TOY, { lowercase: true, stripAccents: false }).tokenize('Café')).toEqual(['[UNK]']);
  });

  it('keeps special tokens written in the text', () => {
    expect(tok.encode('the [SEP] lungs')).toEqual([2, 13, 3, 14, 15, 3]);
  });

  it('truncates with room for [CLS]/[SEP] and pads right with [PAD]', () => {
    expect(tok.encode('the lungs are clear', { maxLength: 4 })).toEqual([2, 13, 14, 3]);
    expect(tok.encode('the lungs', { addSpecialTokens: false })).toEqual([13, 14, 15]);
    const b = tok.encodeBatch(['the lungs are clear', 'x'], { maxLength: 5, padding: 'max_length' });
    expect(b.inputIds).toEqual([
      [2, 13, 14, 15, 3],
      [2, 19, 3, 0, 0],
    ]);
    expect(b.attentionMask).toEqual([
      [1, 1, 1, 1, 1],
      [1, 1, 1, 0, 0],
    ]);
    expect(b.tokenTypeIds).toEqual([
      [0, 0, 0, 0, 0],
      [0, 0, 0, 0, 0],
    ]);
    const longest = tok.encodeBatch(['the lungs', 'x'], { padding: 'longest' });
    expect(longest.inputIds).toEqual([
      [2, 13, 14, 15, 3],
      [2, 19, 3, 0, 0],
    ]);
    expect(() => tok.encode('x', { maxLength: 1 })).toThrow(/no room for the 2 special tokens/);
    expect(() => tok.encodeBatch(['x'], { padding: 'max_length' })).toThrow(/needs maxLength/);
  });

  it('gives int32 tensors for the encoder', () => {
    const t = tok.encodeBatchTensors(['the lungs', 'x'], { padding: 'longest' });
    expect(t.inputIds.dtype).toBe('int32');
    expect(t.inputIds.shape).toEqual([2, 5]);
    expect(Array.from(t.attentionMask.dataSync())).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 0, 0]);
    tf.dispose([t.inputIds, t.attentionMask, t.tokenTypeIds]);
  });

  it('decodes WordPieces back to text', () => {
    expect(tok.decode(tok.encode('unwanted running!'), { skipSpecialTokens: true })).toBe('unwanted running!');
    expect(tok.decode([2, 13, 3])).toBe('[CLS] the [SEP]');
  });
});

describe('reference-exact normalizer and pre-tokenizer', () => {
  it('clean text, CJK padding, accent stripping and char-wise lowercasing', () => {
    const o = { cleanText: true, handleChineseChars: true, stripAccents: null, lowercase: true };
    expect(normalizeBert('A\u0000b\u200bc\td\u00a0e', o)).toBe('abc d e');
    expect(normalizeBert('肺𠀀', o)).toBe(' 肺  𠀀 ');
    expect(normalizeBert('ΟΔΟΣ', o)).toBe('οδοσ'); // no final-sigma rule, as Rust's char-wise lowercase
    expect(normalizeBert('Ångström', { ...o, lowercase: false })).toBe('Ångström');
    expect(normalizeBert('Ångström', { ...o, lowercase: false, stripAccents: true })).toBe('Angstrom');
  });
  it('isolates every punctuation character', () => {
    expect(preTokenizeBert('a,b  (c)…d¿e\u3000f$')).toEqual(['a', ',', 'b', '(', 'c', ')', '…', 'd', '¿', 'e', 'f', '$']);
  });
});

describe('tokenizer.json', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'g2d-text-'));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('builds the same tokenizer.json as transformers (BertTokenizerFast from vocab.txt)', () => {
    const g = tokenizerGoldens();
    for (const [key, lowercase] of [
      ['cased', false],
      ['uncased', true],
    ] as const) {
      const vocab = ['[PAD]', ...Array.from({ length: 99 }, (_, i) => `[unused${i + 1}]`), '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
      const ours = bertTokenizerJson(vocab, { lowercase }) as unknown as Record<string, Record<string, unknown>>;
      delete ours.model!.vocab;
      expect(ours).toEqual(g.hf_tokenizer_json[key]);
    }
  });

  it('round-trips through a file', () => {
    const file = path.join(tmp, 'tokenizer.json');
    fs.writeFileSync(file, JSON.stringify(bertTokenizerJson(TOY, { lowercase: true })));
    const tok = BertTokenizer.fromFile(file);
    expect(tok.encode('Unwanted lungs')).toEqual([2, 5, 6, 7, 14, 15, 3]);
  });

  it('rejects unsupported model types, naming the file and the key', () => {
    const file = path.join(tmp, 'bpe.json');
    fs.writeFileSync(file, JSON.stringify({ ...bertTokenizerJson(TOY), model: { type: 'BPE', vocab: {}, merges: [] } }));
    expect(() => BertTokenizer.fromFile(file)).toThrow(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: model.type "BPE" is not supported`));
    const bad = path.join(tmp, 'bad.json');
    fs.writeFileSync(bad, '{"model": ');
    expect(() => BertTokenizer.fromFile(bad)).toThrow(/bad\.json: not valid JSON/);
  });

  it('refuses a lowercase flag that contradicts the tokenizer.json', () => {
    const file = path.join(tmp, 'cased.json');
    fs.writeFileSync(file, JSON.stringify(bertTokenizerJson(TOY, { lowercase: false })));
    expect(() => BertTokenizer.fromFile(file, { lowercase: true })).toThrow(/normalizer.lowercase is false/);
  });
});

describe('bad vocab input', () => {
  it('names a missing vocab file', () => {
    expect(() => BertTokenizer.fromVocab('/nonexistent/dir/vocab.txt')).toThrow('/nonexistent/dir/vocab.txt: vocab file not found');
    expect(() => BertTokenizer.fromFile('/nonexistent/tokenizer.json')).toThrow('/nonexistent/tokenizer.json: tokenizer.json not found');
  });
  it('names the special tokens a vocab lacks', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'g2d-text-'));
    const file = path.join(tmp, 'vocab.txt');
    fs.writeFileSync(file, 'hello\nworld\n[UNK]\n');
    expect(() => BertTokenizer.fromVocab(file)).toThrow(`${file}: vocab lacks the special token(s) [PAD], [CLS], [SEP], [MASK]`);
    fs.writeFileSync(file, '');
    expect(() => BertTokenizer.fromVocab(file)).toThrow(`${file}: vocab is empty`);
    fs.rmSync(tmp, { recursive: true, force: true });
  });
});

describe('parity with transformers on hard Unicode and batching (goldens)', () => {
  const cased = sharedPath('data/tokenizers/bert-base-cased/vocab.txt');
  const uncased = sharedPath('data/tokenizers/bert-base-uncased/vocab.txt');
  const run = cased && uncased ? it : it.skip;
  run('edge-case strings: cased, cased + do_lower_case, uncased', () => {
    const g = tokenizerGoldens();
    const toks = {
      cased: BertTokenizer.fromVocab(cased!, { lowercase: false }),
      cased_lower: BertTokenizer.fromVocab(cased!, { lowercase: true }),
      uncased: BertTokenizer.fromVocab(uncased!, { lowercase: true }),
    };
    const bad: string[] = [];
    for (const e of g.edge) {
      for (const k of ['cased', 'cased_lower', 'uncased'] as const) {
        const ids = toks[k].encode(e.text);
        if (JSON.stringify(ids) !== JSON.stringify(e[k])) bad.push(`${k} ${JSON.stringify(e.text)}: ${JSON.stringify(ids)} != ${JSON.stringify(e[k])}`);
      }
    }
    expect(bad).toEqual([]);
  });
  run('batch truncation and padding', () => {
    const g = tokenizerGoldens();
    const tok = BertTokenizer.fromVocab(cased!, { lowercase: false });
    const cases = [
      ['max_length_16', { maxLength: 16, padding: 'max_length' }],
      ['longest', { padding: 'longest' }],
      ['longest_truncated_40', { maxLength: 40, padding: 'longest' }],
    ] as const;
    for (const [k, opts] of cases) {
      const b = tok.encodeBatch(g.batch.texts, opts);
      expect({ k, ids: b.inputIds, mask: b.attentionMask, tt: b.tokenTypeIds }).toEqual({
        k,
        ids: g.batch[k]!.input_ids,
        mask: g.batch[k]!.attention_mask,
        tt: g.batch[k]!.token_type_ids,
      });
    }
  });
});
