/**
 * @g2d-ts/model: the G2D model as a named, configurable composition of the components —
 * image U-Net + proj_v + AttentionPool2d (@g2d-ts/vision), BERT + proj_t (@g2d-ts/text) —
 * with its objective (VLA from @g2d-ts/losses' clipLoss, PS from bceDiceLoss against
 * @g2d-ts/pseudo-mask's masks of the detached attention), presets as named config files,
 * one `recipe` switch between the reference code's behaviour and the paper's, and weight
 * loading for the reference's three checkpoint kinds and our own saved models.
 */
export {
  G2DConfigSchema,
  TextConfigSchema,
  RECIPES,
  RECIPE_SETTINGS,
  resolveConfig,
  mergeConfig,
  type G2DConfig,
  type G2DConfigInput,
  type Recipe,
} from './config';
export { listModels, getModelConfig, presetConfig } from './presets';
export { G2DModel, type G2DInputs, type G2DOutput, type G2DLossTerms, type ForwardOptions, type LossOptions, type G2DModelOptions } from './g2d-model';
export { createModel, createModelWithWeights, buildConfig, type CreateModelOptions } from './create';
export {
  loadG2DWeights,
  saveG2DModel,
  exportReferenceCheckpoints,
  readWeights,
  detectKind,
  G2D_FORMAT,
  type CheckpointKind,
  type WeightsReport,
  type ExportOptions,
} from './weights';
export { resolveVocab, loadTokenizer, builtInTokenizer, isBuiltInVocab } from './tokenizer';
export { syntheticVocabulary, SYNTHETIC_VOCAB_SIZE, SYNTHETIC_VOCAB_SPECIALS } from './synthetic-vocab';
