/**
 * @g2d-ts/vision: image backbones (ResNet-18/34/50/101, ViT-B/16), the smp-style U-Net decoder,
 * G2D's AttentionPool2d and projection heads, and PyTorch/safetensors weight import.
 * All tensors are NHWC ([batch, height, width, channels]); weights are saved and loaded
 * in PyTorch's layout and names.
 */
export { Module, withoutRandomInit, torchShape, type ParamEntry, type ParamLayout, type LoadStateDictOptions, type LoadStateDictResult, type ModuleOptions } from './nn/module';
export { Conv2d, BatchNorm, Linear, LayerNorm, MultiheadAttention, maxPool2d, resizeNearest, gelu, conv2dValid, relu } from './nn/layers';
export type { Backbone, BackboneOptions } from './backbones/types';
export { backbones, backboneFromConfig } from './backbones/registry';
export { ResNet, RESNET_CONFIGS, type ResNetConfig } from './backbones/resnet';
export { VisionTransformer, VIT_CONFIGS, type ViTConfig } from './backbones/vit';
export { Unet, UnetDecoder, DecoderBlock, SegmentationHead, DEFAULT_DECODER_CHANNELS, type UnetOptions, type UnetOutput, type UnetDecoderOptions } from './unet';
export { AttentionPool2d, type AttentionPool2dOptions, type AttentionPoolOutput } from './attention-pool';
export { ProjectionHead2d, type ProjectionHeadOptions } from './projection';
export { G2DVisionModel, splitG2DStateDict, type G2DVisionOptions, type G2DVisionOutput } from './g2d';
export { loadWeights, loadStateDictInto, type LoadWeightsOptions, type LoadWeightsReport } from './weights';
export {
  saveModel,
  fromPretrained,
  resolvePretrained,
  findCachedSnapshot,
  hfCacheDir,
  modelFromConfig,
  inferModelFromStateDict,
  type VisionModel,
  type SavedConfig,
  type FromPretrainedOptions,
} from './pretrained';
export { nchwToNhwc, nhwcToNchw } from './layout';
