/**
 * @g2d-ts/heads: downstream heads, each an `@g2d-ts/nn` Module, in the `heads` registry:
 * `LinearClassifier` (linear probe on pooled frozen features), `FineTuneClassifier` (encoder +
 * pooling + linear, separate learning rates), `ZeroShotClassifier` (positive/negative prompt
 * pairs from editable prompt files). One export line per head file: add yours below.
 */
export { LinearClassifier, type LinearClassifierOptions } from './linear';
export { FineTuneClassifier, type FineTuneClassifierOptions, type ParameterGroup } from './finetune';
export { ZeroShotClassifier, type TextEncoder, type ZeroShotOptions } from './zero-shot';
export { defaultPrompts, loadPrompts, promptsFor, PromptFileSchema, type PromptFile, type PromptPair, type PromptSet } from './prompts';
export { heads, type HeadOptions } from './registry';
export { defaultAnchors, kmeansAnchors, whIou, YOLOV3_ANCHORS, type Anchor, type KmeansAnchorOptions, type KmeansAnchorResult } from './detection-anchors';
export { giouXYXY, iouXYXY, nonMaxSuppression, type BoxXYXY } from './detection-boxes';
export { bceWithLogits, DEFAULT_DETECTION_LOSS, giouTensor, YoloDetectionHead, type DecodeOptions, type Detection, type DetectionHeadConfig, type DetectionLossOptions, type DetectionLossTerms, type DetectionTarget, type LevelTargets, type ResolvedDetectionHeadConfig } from './detection';
