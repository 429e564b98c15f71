/**
 * @g2d-ts/pseudo-mask: the parameter-free processor of G2D that turns the image encoder's
 * attention-pooling maps into pseudo segmentation masks.
 *
 * The processor is not differentiable and never part of the gradient: it reads the attention
 * values and returns a brand-new constant tensor (the reference's `att_map.detach()`).
 */
import * as tf from '@tensorflow/tfjs';
import { requireFinite, requireTensor } from '@g2d-ts/nn';
import { bodyMasksFromImage, pseudoMaskFromArray, type ArrayWithShape, type ImageLayout, type PseudoMaskFromArrayOptions } from './processor';

export {
  pseudoMaskFromArray,
  bodyMasksFromImage,
  type ArrayWithShape,
  type PseudoMaskFromArrayOptions,
  type PseudoMaskMode,
  type ThresholdKind,
  type MaskDType,
  type ImageLayout,
} from './processor';
export { bilateralSmoothBinary, DEFAULT_BILATERAL, type BilateralOptions } from './bilateral';
export { nearestIndices, numpyQuantileLinear, numpyMedianF32, numpyMeanF32 } from './numeric';

/** Options of `attentionToPseudoMask`; `image` / `bodyMask` are tensors here. */
export interface AttentionToPseudoMaskOptions extends Omit<PseudoMaskFromArrayOptions, 'image' | 'bodyMask'> {
  image?: tf.Tensor;
  bodyMask?: tf.Tensor;
}

const SRC = 'attentionToPseudoMask';

/** What a tensor input of attentionToPseudoMask is: the attention argument or a paper-mode option. */
type Input = 'attMap' | 'image' | 'bodyMask';
function checkTensor(t: unknown, name: Input): asserts t is tf.Tensor {
  requireTensor(t, name, { source: SRC, kind: name === 'attMap' ? 'argument' : 'option' });
}

function plainOptions(
  opts: AttentionToPseudoMaskOptions,
  read: (t: tf.Tensor, name: Input) => ArrayWithShape,
): PseudoMaskFromArrayOptions {
  const out: PseudoMaskFromArrayOptions = { ...opts, image: undefined, bodyMask: undefined };
  if ((opts.mode ?? 'code') === 'paper') {
    if (opts.bodyMask !== undefined) out.bodyMask = read(opts.bodyMask, 'bodyMask');
    else if (opts.image !== undefined) out.image = read(opts.image, 'image');
  }
  return out;
}

function toTensor(r: ReturnType<typeof pseudoMaskFromArray>): tf.Tensor4D {
  const dtype = r.data instanceof Float32Array ? 'float32' : r.data instanceof Int32Array ? 'int32' : 'bool';
  return tf.tensor4d(r.data, r.shape, dtype);
}

/**
 * Turns attention maps (B x heads x h x w, as the reference's AttentionPool2d returns them)
 * into pseudo masks: a B x numMaps x size x size tensor of 0/1 (float32 by default).
 *
 * - `mode: 'code'` (default) is the reference `Trainer.transform_att2label`: mean of the
 *   heads (or one mask per head when `numMaps` equals the head count), nearest resize to
 *   `size` (PyTorch `F.interpolate` nearest), per-map threshold = numpy quantile (linear) /
 *   mean / median, mask = value `>` threshold. Bit-exact with the reference, float32
 *   rounding and ties included.
 * - `mode: 'paper'` adds a body mask (Otsu on `image`, or `bodyMask`), thresholds the
 *   attention inside the body with `>=` at the statistic of the in-body values, smooths the
 *   mask edges with a bilateral filter and keeps the result inside the body.
 *
 * The result is a new constant tensor: no gradient flows back into `attMap`. Reads the
 * inputs synchronously (`dataSync`); on GPU backends prefer `attentionToPseudoMaskAsync`.
 */
export function attentionToPseudoMask(attMap: tf.Tensor4D, opts: AttentionToPseudoMaskOptions = {}): tf.Tensor4D {
  checkTensor(attMap, 'attMap');
  const read = (t: tf.Tensor, name: Input): ArrayWithShape => {
    checkTensor(t, name);
    return { data: t.dataSync(), shape: t.shape };
  };
  return toTensor(pseudoMaskFromArray({ data: attMap.dataSync(), shape: attMap.shape }, plainOptions(opts, read)));
}

/** `attentionToPseudoMask` reading the inputs with `await tensor.data()` (no GPU stall). */
export async function attentionToPseudoMaskAsync(attMap: tf.Tensor4D, opts: AttentionToPseudoMaskOptions = {}): Promise<tf.Tensor4D> {
  checkTensor(attMap, 'attMap');
  const arrays = new Map<tf.Tensor, ArrayWithShape>();
  const tensors = [attMap, opts.image, opts.bodyMask].filter((t): t is tf.Tensor => t !== undefined);
  for (const [i, t] of tensors.entries()) {
    checkTensor(t, i === 0 ? 'attMap' : t === opts.image ? 'image' : 'bodyMask');
  }
  await Promise.all(tensors.map(async (t) => arrays.set(t, { data: await t.data(), shape: t.shape })));
  const read = (t: tf.Tensor) => arrays.get(t)!;
  return toTensor(pseudoMaskFromArray(arrays.get(attMap)!, plainOptions(opts, read)));
}

/**
 * The paper-mode body mask on its own: B x 1 x H x W of 0/1 (float32) from radiographs
 * (B x C x H x W, B x H x W x C or B x H x W): Otsu threshold per image, the bright class
 * (or `bodyPolarity: 'dark'`), holes filled unless `fillBodyHoles: false`.
 */
export function bodyMask(
  image: tf.Tensor,
  opts: { imageLayout?: ImageLayout; bodyPolarity?: 'bright' | 'dark'; fillBodyHoles?: boolean; otsuBins?: number } = {},
): tf.Tensor4D {
  requireTensor(image, 'image', 'bodyMask');
  requireFinite(image, 'image', 'bodyMask');
  const data = image.dataSync();
  const m = bodyMasksFromImage({ data, shape: image.shape }, opts);
  return tf.tensor4d(Float32Array.from(m.data), [m.shape[0], 1, m.shape[1], m.shape[2]]);
}
