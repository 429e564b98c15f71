/**
 * @g2d-ts/nn: the one module system of g2d-ts. `Module` (parameters under their PyTorch names
 * and layouts, children, train/eval mode, freezing by name or prefix, state-dict save/load
 * with one `LoadReport`), torch.nn-style layers on channels-last tensors, the functional ops
 * every model shares (`linear`, `layerNorm`, GELU…), tensor argument guards, and the
 * registry behind `saveModel` / `autoFromPretrained`.
 */
export {
  Module,
  ModuleList,
  ModuleDict,
  LoadError,
  withoutRandomInit,
  randomInitSkipped,
  torchShape,
  permute,
  fromTorchLayoutData,
  toTorchLayoutData,
  toTorchLayout,
  type ParamLayout,
  type ParamEntry,
  type TensorEntry,
  type CounterEntry,
  type ModuleOptions,
  type LoadStateDictOptions,
  type LoadReport,
  type KeyHooks,
} from './module';
export {
  Conv2d,
  BatchNorm,
  Linear,
  LayerNorm,
  Embedding,
  Dropout,
  MultiheadAttention,
  conv2dValid,
  type ConvInit,
  type Conv2dOptions,
  type BatchNormOptions,
  type LinearOptions,
  type EmbeddingOptions,
} from './layers';
export {
  linear,
  layerNorm,
  gelu,
  geluTanh,
  relu,
  activation,
  ACTIVATIONS,
  embeddingLookup,
  dropout,
  withDropoutSeed,
  maxPool2d,
  resizeNearest,
  padSpatial,
  nchwToNhwc,
  nhwcToNchw,
  backendHasFilterGrad,
  type ActivationName,
} from './functional';
export { setNativeKernels, nativeOps } from './native';
export {
  valueAndGradients,
  variableGrads,
  checkpoint,
  noGrad,
  isRecording,
  isRecomputing,
  dropoutSeedFor,
  MEMORY_MODES,
  parseMemoryMode,
  type MemoryMode,
  type CheckpointOptions,
} from './autograd';
export { isTensor, requireTensor, requireFinite, requireRank, requireShape, type GuardOptions } from './guards';
export {
  registerModelClass,
  registerConfigReader,
  registerCheckpointReader,
  registeredModelClasses,
  modelClassName,
  saveModel,
  modelFromConfigJson,
  modelFromStateDict,
  autoFromPretrained,
  fromPretrainedAs,
  loadWeights,
  SAVED_FORMAT_VERSION,
  type SavedConfig,
  type ModelClassSpec,
  type ConfigReader,
  type CheckpointReader,
  type FromPretrainedOptions,
  type LoadWeightsOptions,
} from './pretrained';
