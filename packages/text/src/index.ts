// BERT WordPiece tokenizer and BERT encoder with Hugging Face weight import.
export {
  BertTokenizer,
  BERT_SPECIAL_TOKENS,
  bertTokenizerJson,
  parseVocab,
  readVocabFile,
  type BatchEncodeOptions,
  type BatchEncoding,
  type EncodeOptions,
  type SpecialTokens,
  type TensorEncoding,
  type TokenizerJson,
  type VocabOptions,
} from './tokenizer/tokenizer';
export { normalizeBert, preTokenizeBert, type BertNormalizerOptions } from './tokenizer/bert-normalizer';
export { BERT_BASE_CONFIG, bertConfig, parseBertConfig, readBertConfig, toHfConfig, type BertConfig, type HiddenAct } from './bert/config';
export {
  BertModel,
  MASK_MIN,
  WEIGHT_FILES,
  activation,
  bertParameterShapes,
  mapHfKeys,
  type BertInputs,
  type BertModelOptions,
  type BertOutput,
  type FromPretrainedOptions,
  type IdsInput,
  type LoadReport,
} from './bert/model';
export { TextProjection, type TextProjectionOptions } from './projection';
// the Hugging Face hub resolver lives in @g2d-ts/core; re-exported here so existing imports keep working
export { cachedSnapshot, hfCacheDir, isOffline, repoFolderName, resolvePretrained, type FileSpec, type PretrainedOptions, type ResolvedFiles } from '@g2d-ts/core';
