/**
 * @g2d-ts/text: BERT WordPiece tokenizer, BERT encoder with Hugging Face weight import and the
 * G2D text projection, as @g2d-ts/nn Modules. Hub resolution is @g2d-ts/core's; the module
 * system @g2d-ts/nn's. Side effect: registers BertModel and TextProjection with @g2d-ts/nn's
 * saveModel / autoFromPretrained.
 */
import './bert/register';

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
  BertLayer,
  MASK_MIN,
  WEIGHT_FILES,
  type BertForwardOptions,
  type BertFromPretrainedOptions,
  type BertInputs,
  type BertModelOptions,
  type BertOutput,
  type IdsInput,
} from './bert/model';
export { TextProjection, type TextProjectionOptions } from './projection';
