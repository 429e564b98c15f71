/**
 * A WordPiece vocabulary for the embedded synthetic dataset (`text.vocab: 'synthetic'`).
 *
 * Why: the presets use the Bio_ClinicalBERT vocabulary (28,996 tokens), which is not in this
 * repository and cannot be downloaded here; a run on the synthetic dataset with random weights
 * gains nothing from it (its BERT is random anyway) and would stop on a machine without the
 * shared data folder. This vocabulary ships with the package, so the demo runs anywhere.
 *
 * What: the five BERT special tokens ([PAD] 0, [UNK] 1, [CLS] 2, [SEP] 3, [MASK] 4); every
 * printable ASCII character alone and as a `##` continuation (so any English text tokenizes
 * without [UNK], dropped spaces included: "leftpleural" -> left ##p ##l ...); then every word
 * the synthetic report writer uses, as the BERT pre-tokenizer splits it, both cased and
 * lowercased (so the reference-code recipe's lowercasing and the paper's cased text both map
 * whole words to one token), most frequent first. `tools/synth/vocab.ts` derives the list from
 * the report writer and writes `synthetic-vocab.generated.ts` (regenerate it when the report
 * templates change; apps/pretrain's tests check that reports of an unseen seed tokenize without
 * [UNK], word for word).
 */
import { SYNTHETIC_VOCAB_TOKENS } from './synthetic-vocab.generated';

export const SYNTHETIC_VOCAB_SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;

/** The synthetic vocabulary, in id order (see the module comment). */
export function syntheticVocabulary(): string[] {
  return [...SYNTHETIC_VOCAB_SPECIALS, ...SYNTHETIC_VOCAB_TOKENS];
}

/** Size of the synthetic vocabulary (set `text.vocabSize` to it). */
export const SYNTHETIC_VOCAB_SIZE = SYNTHETIC_VOCAB_SPECIALS.length + SYNTHETIC_VOCAB_TOKENS.length;
