/**
 * The text side's vocabulary. Every preset uses the cased Bio_ClinicalBERT WordPiece
 * vocabulary (28,996 tokens; [PAD] 0, [CLS] 101, [SEP] 102 — the same file as bert-base-cased).
 * `text.vocab: 'bio-clinicalbert'` is looked up, in order, at: $G2D_VOCAB; the shared data
 * folder (`$G2D_SHARED_DIR/data/tokenizers/bert-base-cased/vocab.txt`, or `../shared` beside
 * the checkout or any parent of the working directory); the Hugging Face cache
 * (emilyalsentzer/Bio_ClinicalBERT, bert-base-cased). `text.vocab: 'synthetic'` is the small
 * vocabulary of the embedded synthetic dataset, shipped with this package (see
 * synthetic-vocab.ts; the demo uses it, so it runs without the shared folder). Any other value
 * is a path to a vocab.txt, a tokenizer.json or a folder holding one.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { G2DError, cachedSnapshot } from '@g2d-ts/core';
import { BertTokenizer } from '@g2d-ts/text';
import type { G2DConfig } from './config';
import { syntheticVocabulary } from './synthetic-vocab';

const SHARED_VOCAB = path.join('data', 'tokenizers', 'bert-base-cased', 'vocab.txt');
const HUB_IDS = ['emilyalsentzer/Bio_ClinicalBERT', 'bert-base-cased'];

function candidates(): string[] {
  const out: string[] = [];
  if (process.env.G2D_VOCAB) out.push(process.env.G2D_VOCAB);
  if (process.env.G2D_SHARED_DIR) out.push(path.join(process.env.G2D_SHARED_DIR, SHARED_VOCAB));
  const roots = new Set<string>();
  for (const start of [process.cwd(), __dirname]) {
    let dir = path.resolve(start);
    for (let i = 0; i < 8; i++) {
      roots.add(path.join(dir, '..', 'shared'));
      roots.add(path.join(dir, 'shared'));
      const up = path.dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  }
  for (const r of roots) out.push(path.join(r, SHARED_VOCAB));
  for (const id of HUB_IDS) {
    const snap = cachedSnapshot(id, { offline: true });
    if (snap) out.push(path.join(snap, 'vocab.txt'));
  }
  return out;
}

/** Whether `text.vocab` names a vocabulary built into this package (no file): 'synthetic'. */
export function isBuiltInVocab(vocab: string): boolean {
  return vocab === 'synthetic';
}

function checkVocabSize(tok: BertTokenizer, text: Pick<G2DConfig['text'], 'vocabSize'>, source: string): BertTokenizer {
  if (tok.vocabSize !== undefined && tok.vocabSize > text.vocabSize) {
    throw new G2DError(`the vocabulary has ${tok.vocabSize} tokens but text.vocabSize is ${text.vocabSize} (set text.vocabSize to at least ${tok.vocabSize})`, { source });
  }
  return tok;
}

/**
 * The tokenizer of a built-in `text.vocab` (no file system: the browser explorer uses it too),
 * checked against `text.vocabSize`; undefined for a vocabulary that comes from a file.
 */
export function builtInTokenizer(text: Pick<G2DConfig['text'], 'vocab' | 'vocabSize' | 'lowercase'>): BertTokenizer | undefined {
  if (!isBuiltInVocab(text.vocab)) return undefined;
  const source = 'the built-in synthetic vocabulary (@g2d-ts/model)';
  return checkVocabSize(BertTokenizer.fromVocab(syntheticVocabulary(), { lowercase: text.lowercase, source }), text, source);
}

/** Absolute path of the vocabulary file for a config's `text.vocab` (a built-in one has none: an error). */
export function resolveVocab(spec: string): string {
  if (isBuiltInVocab(spec)) throw new G2DError(`text.vocab "${spec}" is built in and has no file (loadTokenizer / builtInTokenizer give its tokenizer)`);
  if (spec !== 'bio-clinicalbert') {
    const p = path.resolve(spec);
    if (!fs.existsSync(p)) throw new G2DError(`text.vocab: no such file or folder "${spec}"`, { source: p });
    return p;
  }
  const tried = candidates();
  const hit = tried.find((p) => fs.existsSync(p));
  if (hit) return path.resolve(hit);
  throw new G2DError(
    'text.vocab "bio-clinicalbert": the Bio_ClinicalBERT (bert-base-cased) vocab.txt was not found. Set G2D_VOCAB=/path/to/vocab.txt, ' +
      'or put the shared data folder beside the checkout (../shared, or G2D_SHARED_DIR), or set text.vocab to a vocab.txt path. Looked at:\n  ' +
      [...new Set(tried)].join('\n  '),
  );
}

export function loadTokenizer(text: G2DConfig['text']): BertTokenizer {
  const builtIn = builtInTokenizer(text);
  if (builtIn) return builtIn;
  const p = resolveVocab(text.vocab);
  const opts = { lowercase: text.lowercase, source: p };
  const tok = fs.statSync(p).isDirectory()
    ? BertTokenizer.fromDirectory(p, opts)
    : p.endsWith('.json')
      ? BertTokenizer.fromTokenizerJson(fs.readFileSync(p, 'utf8'), { source: p })
      : BertTokenizer.fromFile(p, opts);
  return checkVocabSize(tok, text, p);
}
