/**
 * The `heads` registry (createRegistry from @g2d-ts/core): every downstream head by name, each
 * factory taking one options object and returning an `@g2d-ts/nn` Module. To add a head, write
 * it in its own file and add one `heads.register(...)` line below (the detection head goes in
 * src/detection*).
 */
import { createRegistry, G2DError, type Registry } from '@g2d-ts/core';
import type { Module } from '@g2d-ts/nn';
import type { Backbone } from '@g2d-ts/vision';
import { LinearClassifier, type LinearClassifierOptions } from './linear';
import { FineTuneClassifier, type FineTuneClassifierOptions } from './finetune';
import { ZeroShotClassifier, type TextEncoder, type ZeroShotOptions } from './zero-shot';
import { promptsFor, defaultPrompts, type PromptFile, type PromptSet } from './prompts';
import { YoloDetectionHead, type DetectionHeadConfig } from './detection';

export type HeadOptions = Record<string, unknown>;

export const heads: Registry<HeadOptions, Module> = createRegistry<HeadOptions, Module>('head');

heads.register('linear', (o) => new LinearClassifier(o as unknown as LinearClassifierOptions), {
  description: 'linear probe on pooled frozen features: { inFeatures, numClasses, dropout?, seed? }',
});

heads.register(
  'finetune',
  (o) => {
    const { encoder, ...rest } = o as unknown as { encoder: Backbone } & FineTuneClassifierOptions;
    if (!encoder) throw new G2DError('head "finetune" needs { encoder: Backbone, numClasses }');
    return new FineTuneClassifier(encoder, rest);
  },
  { description: 'encoder + average pooling + linear, trained end to end with separate learning rates: { encoder, numClasses, dropout?, seed? }' },
);

heads.register(
  'zero-shot',
  (o) => {
    const { textEncoder, prompts, dataset, classes, promptFile, ...rest } = o as unknown as {
      textEncoder: TextEncoder;
      prompts?: PromptSet;
      dataset?: string;
      classes?: string[];
      promptFile?: PromptFile;
    } & ZeroShotOptions;
    if (!textEncoder) throw new G2DError('head "zero-shot" needs { textEncoder, prompts | dataset (+ classes) }');
    let set = prompts;
    if (!set) {
      if (!dataset) throw new G2DError('head "zero-shot" needs "prompts" or a "dataset" prompt set name');
      const file = promptFile ?? defaultPrompts();
      set = promptsFor(dataset, classes ?? Object.keys(file.sets[dataset] ?? {}), file);
    }
    return ZeroShotClassifier.fromPrompts(textEncoder, set, classes ?? Object.keys(set), rest);
  },
  { description: 'positive/negative prompt pairs: { textEncoder, prompts | dataset, classes?, promptFile?, temperature? }' },
);

heads.register(
  'yolo-detection',
  (o) => {
    const { seed, ...config } = o as unknown as DetectionHeadConfig & { seed?: number | string };
    return new YoloDetectionHead(config, { seed });
  },
  { description: 'YOLOv3-style head on frozen C3–C5 features: { inChannels, strides, anchors, numClasses, classNames?, hidden?, topDown?, loss?, seed? }' },
);
