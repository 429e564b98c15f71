/**
 * How a backbone's pretrained weights expect their input (the subset of timm's
 * `pretrained_cfg` the data pipeline needs). Vision's backbone registry gives each entry one
 * (`backbones.meta(name).pretrainedCfg`); the data transforms take it as an argument, so the
 * normalisation follows the backbone instead of being hard-coded.
 */
export interface NormalizationConfig {
  /** per-channel mean of the [0, 1] input */
  mean: readonly number[];
  /** per-channel standard deviation */
  std: readonly number[];
  /** [channels, height, width] the weights were trained at */
  inputSize: readonly [number, number, number];
  /** resize filter of the pretraining pipeline */
  interpolation: 'bilinear' | 'bicubic' | 'nearest';
}

/** torchvision's ImageNet weights (IMAGENET1K_V1): ImageNet mean/std, 224², bilinear. */
export const IMAGENET_NORMALIZATION: NormalizationConfig = Object.freeze({
  mean: Object.freeze([0.485, 0.456, 0.406]),
  std: Object.freeze([0.229, 0.224, 0.225]),
  inputSize: Object.freeze([3, 224, 224]) as readonly [number, number, number],
  interpolation: 'bilinear',
});
