/** Normalisation tied to the backbone's pretrained config (NormalizationConfig), ImageNet as the named default. */
import { IMAGENET_NORMALIZATION, Rng, type NormalizationConfig } from '@g2d-ts/core';
import { IMAGENET_MEAN, IMAGENET_STD, floatImage, normalize, referenceEvalTransforms, referenceTrainTransforms, type Sample } from '../src';

/** a w x h grey ramp: pixel (x, y) = ((x + y) % 256) / 255 */
function ramp(w: number, h: number): Sample {
  const d = Array.from({ length: w * h }, (_, i) => ((i % w) + Math.floor(i / w)) % 256);
  return { image: floatImage(w, h, d) };
}

const half: NormalizationConfig = { mean: [0.5, 0.5, 0.5], std: [0.25, 0.5, 1], inputSize: [3, 224, 224], interpolation: 'bicubic' };

describe('reference transforms follow the normalization config', () => {
  it('defaults: 256 crop, ImageNet mean/std (the G2D reference)', () => {
    const s = referenceEvalTransforms()(ramp(300, 280), new Rng(0));
    expect([s.image.width, s.image.height, s.image.channels]).toEqual([256, 256, 3]);
    // crop offsets: x0 = round((300 - 256) / 2) = 22, y0 = round((280 - 256) / 2) = 12 -> pixel 0 = 34/255
    const v = 34 / 255;
    expect(s.image.data[0]).toBeCloseTo((v - 0.485) / 0.229, 5);
    expect(s.image.data[1]).toBeCloseTo((v - 0.456) / 0.224, 5);
    expect(s.image.data[2]).toBeCloseTo((v - 0.406) / 0.225, 5);
    expect(referenceEvalTransforms(256)(ramp(300, 280), new Rng(0)).image.data).toEqual(s.image.data);
  });
  it('a backbone config sets mean/std and, unless given, the crop size', () => {
    const s = referenceEvalTransforms({ normalization: half })(ramp(300, 280), new Rng(0));
    expect([s.image.width, s.image.height]).toEqual([224, 224]);
    // x0 = 38, y0 = 28 -> pixel 0 = 66/255
    const v = Math.fround(66 / 255); // the float32 input pixel
    expect(Array.from(s.image.data.slice(0, 3))).toEqual([(v - 0.5) / 0.25, (v - 0.5) / 0.5, (v - 0.5) / 1].map(Math.fround));
    const t = referenceTrainTransforms({ size: 200, normalization: half })(ramp(300, 280), new Rng(1));
    expect([t.image.width, t.image.height, t.image.channels]).toEqual([200, 200, 3]);
  });
  it('rejects a config that does not fit the 3-channel pipeline, or a bad size', () => {
    expect(() => referenceEvalTransforms({ normalization: { ...half, inputSize: [1, 224, 224] } })).toThrow(/1-channel input/);
    expect(() => referenceEvalTransforms({ size: 0 })).toThrow(/positive integer/);
    expect(() => normalize([0.5], [0.5])(referenceEvalTransforms()(ramp(256, 256), new Rng(0)), new Rng(0))).toThrow(/1 means \/ 1 stds for a 3-channel image/);
  });
  it('IMAGENET_MEAN / IMAGENET_STD are the core ImageNet config', () => {
    expect(IMAGENET_MEAN).toEqual(IMAGENET_NORMALIZATION.mean);
    expect(IMAGENET_STD).toEqual(IMAGENET_NORMALIZATION.std);
    expect(IMAGENET_NORMALIZATION.inputSize).toEqual([3, 224, 224]);
  });
});
