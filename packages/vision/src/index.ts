/**
 * @g2d-ts/vision: image backbones (ResNet-18/34/50/101, ViT-B/16), the smp-style U-Net decoder,
 * G2D's AttentionPool2d and projection heads, built on @g2d-ts/nn's `Module`. All tensors are
 * NHWC ([batch, height, width, channels]); weights are saved and loaded in PyTorch's layout and
 * names. Importing this package registers its models with @g2d-ts/nn's `saveModel` /
 * `autoFromPretrained` (and readers for smp/timm configs and bare torchvision/timm/smp/G2D
 * checkpoints); each model class also has a static `fromPretrained`.
 */
export type { Backbone, BackboneOptions } from './backbones/types';
export { backbones, backboneFromConfig } from './backbones/registry';
export { ResNet, RESNET_CONFIGS, type ResNetConfig } from './backbones/resnet';
export { VisionTransformer, VIT_CONFIGS, type ViTConfig } from './backbones/vit';
export { Unet, UnetDecoder, DecoderBlock, SegmentationHead, DEFAULT_DECODER_CHANNELS, type UnetOptions, type UnetOutput, type UnetDecoderOptions } from './unet';
export { AttentionPool2d, type AttentionPool2dOptions, type AttentionPoolOutput } from './attention-pool';
export { ProjectionHead2d, type ProjectionHeadOptions } from './projection';
export { G2DVisionModel, splitG2DStateDict, type G2DVisionOptions, type G2DVisionOutput } from './g2d';
export { inferModelFromStateDict, type VisionModel } from './pretrained';
