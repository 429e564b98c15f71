/** BERT configuration: Hugging Face `config.json` keys, read into a checked camelCase object. */
import * as fs from 'node:fs';
import { G2DError } from '@g2d-ts/core';
import { ACTIVATIONS, type ActivationName } from '@g2d-ts/nn';

/** transformers' `hidden_act` values (the activations of @g2d-ts/nn). */
export type HiddenAct = ActivationName;
const ACTS: readonly HiddenAct[] = ACTIVATIONS;

export interface BertConfig {
  vocabSize: number;
  hiddenSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  intermediateSize: number;
  /** 'gelu' is the exact erf GELU, as in transformers. */
  hiddenAct: HiddenAct;
  hiddenDropoutProb: number;
  attentionProbsDropoutProb: number;
  maxPositionEmbeddings: number;
  typeVocabSize: number;
  initializerRange: number;
  layerNormEps: number;
  padTokenId: number;
}

/** bert-base (and Bio_ClinicalBERT: vocab 28,996). */
export const BERT_BASE_CONFIG: BertConfig = {
  vocabSize: 28996,
  hiddenSize: 768,
  numHiddenLayers: 12,
  numAttentionHeads: 12,
  intermediateSize: 3072,
  hiddenAct: 'gelu',
  hiddenDropoutProb: 0.1,
  attentionProbsDropoutProb: 0.1,
  maxPositionEmbeddings: 512,
  typeVocabSize: 2,
  initializerRange: 0.02,
  layerNormEps: 1e-12,
  padTokenId: 0,
};

const KEYS: Record<keyof BertConfig, string> = {
  vocabSize: 'vocab_size',
  hiddenSize: 'hidden_size',
  numHiddenLayers: 'num_hidden_layers',
  numAttentionHeads: 'num_attention_heads',
  intermediateSize: 'intermediate_size',
  hiddenAct: 'hidden_act',
  hiddenDropoutProb: 'hidden_dropout_prob',
  attentionProbsDropoutProb: 'attention_probs_dropout_prob',
  maxPositionEmbeddings: 'max_position_embeddings',
  typeVocabSize: 'type_vocab_size',
  initializerRange: 'initializer_range',
  layerNormEps: 'layer_norm_eps',
  padTokenId: 'pad_token_id',
};

const INT_KEYS: (keyof BertConfig)[] = [
  'vocabSize',
  'hiddenSize',
  'numHiddenLayers',
  'numAttentionHeads',
  'intermediateSize',
  'maxPositionEmbeddings',
  'typeVocabSize',
];

/** Fills defaults (transformers' BertConfig defaults) and checks every value; errors name `source` and the key. */
export function bertConfig(partial: Partial<BertConfig> = {}, source = 'BertConfig'): BertConfig {
  const c: BertConfig = { ...BERT_BASE_CONFIG, vocabSize: 30522, ...stripUndefined(partial) };
  const bad = (k: keyof BertConfig, why: string): never => {
    throw new G2DError(`${KEYS[k]} ${why} (got ${JSON.stringify(c[k])})`, { source });
  };
  for (const k of INT_KEYS) if (!Number.isInteger(c[k]) || (c[k] as number) < (k === 'numHiddenLayers' ? 0 : 1)) bad(k, 'must be a positive integer');
  if (c.hiddenSize % c.numAttentionHeads !== 0) bad('hiddenSize', `must be a multiple of num_attention_heads (${c.numAttentionHeads})`);
  if (!ACTS.includes(c.hiddenAct)) bad('hiddenAct', `must be one of ${ACTS.join(', ')}`);
  for (const k of ['hiddenDropoutProb', 'attentionProbsDropoutProb'] as const) if (!(c[k] >= 0 && c[k] < 1)) bad(k, 'must be in [0, 1)');
  if (!(c.layerNormEps > 0)) bad('layerNormEps', 'must be > 0');
  if (!(c.initializerRange >= 0)) bad('initializerRange', 'must be >= 0');
  if (!Number.isInteger(c.padTokenId) || c.padTokenId < 0 || c.padTokenId >= c.vocabSize) bad('padTokenId', `must be an id below vocab_size ${c.vocabSize}`);
  return c;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Reads a Hugging Face config.json (a BERT model: model_type 'bert' or absent). */
export function readBertConfig(file: string, overrides: Partial<BertConfig> = {}): BertConfig {
  if (!fs.existsSync(file)) throw new G2DError('config.json not found', { source: file });
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new G2DError(`not valid JSON: ${e instanceof Error ? e.message : String(e)}`, { source: file, cause: e });
  }
  return parseBertConfig(raw, file, overrides);
}

/** Hugging Face config.json object -> BertConfig. */
export function parseBertConfig(raw: Record<string, unknown>, source = 'config.json', overrides: Partial<BertConfig> = {}): BertConfig {
  if (!raw || typeof raw !== 'object') throw new G2DError('config must be a JSON object', { source });
  if (raw.model_type !== undefined && raw.model_type !== 'bert') {
    throw new G2DError(`model_type "${String(raw.model_type)}" is not supported (expected "bert")`, { source });
  }
  if (raw.position_embedding_type !== undefined && raw.position_embedding_type !== 'absolute') {
    throw new G2DError(`position_embedding_type "${String(raw.position_embedding_type)}" is not supported (only "absolute")`, { source });
  }
  if (raw.is_decoder === true || raw.add_cross_attention === true) {
    throw new G2DError('is_decoder / add_cross_attention BERT models are not supported (encoder only)', { source });
  }
  const p: Partial<BertConfig> = {};
  for (const [k, hf] of Object.entries(KEYS) as [keyof BertConfig, string][]) {
    if (raw[hf] !== undefined && raw[hf] !== null) (p as Record<string, unknown>)[k] = raw[hf];
  }
  return bertConfig({ ...p, ...overrides }, source);
}

/** BertConfig -> Hugging Face config.json object. */
export function toHfConfig(c: BertConfig): Record<string, unknown> {
  const o: Record<string, unknown> = { architectures: ['BertModel'], model_type: 'bert', position_embedding_type: 'absolute' };
  for (const [k, hf] of Object.entries(KEYS) as [keyof BertConfig, string][]) o[hf] = c[k];
  return o;
}
