/**
 * TensorFlow's own fused kernels, reached through the native (tfjs-node / tfjs-node-gpu)
 * backend's eager-op entry point when that backend is active: FusedBatchNormV3 and
 * FusedBatchNormGradV3 for BatchNorm in training mode, ReluGrad for ReLU's backward pass;
 * on the CPU also the input gradient of stride-1 convolutions as a forward convolution
 * (`conv2dValid` in ./layers).
 *
 * Why: tfjs has no fused batch-norm *training* kernel, so a training-mode BatchNorm is built
 * from moments + batchNorm forward and a dozen elementwise ops backward, each a full pass over
 * the activation; in a native ResNet-50 training step (batch 8, 256²) that was ~1.4 s of a
 * 4.9 s step on a 2-core AVX2 machine, against 0.2 s for PyTorch's fused kernels. The native
 * kernels compute the same maths (biased batch variance for the normalisation, PyTorch's
 * analytic gradient): outputs equal, gradients within float32 rounding (tests compare both
 * paths on the native backend).
 *
 * Nothing here picks a backend: on any other backend (cpu, wasm, webgl…) `nativeOps()`
 * (@g2d-ts/core) is null and the callers keep their portable tfjs formulation.
 */
import * as tf from '@tensorflow/tfjs';
import { TF_FLOAT, type NativeBackend, type TFEOpAttr } from '@g2d-ts/core';

export { nativeOnCpu, nativeOps, setNativeKernels } from '@g2d-ts/core';

function bnAttrs(nb: NativeBackend, eps: number, training: boolean): TFEOpAttr[] {
  const B = nb.binding;
  return [
    { name: 'T', type: B.TF_ATTR_TYPE, value: TF_FLOAT },
    { name: 'U', type: B.TF_ATTR_TYPE, value: TF_FLOAT },
    { name: 'epsilon', type: B.TF_ATTR_FLOAT, value: eps },
    { name: 'data_format', type: B.TF_ATTR_STRING, value: 'NHWC' },
    { name: 'is_training', type: B.TF_ATTR_BOOL, value: training },
  ];
}

/**
 * Training-mode batch normalisation of an NHWC float32 tensor by TensorFlow's FusedBatchNormV3:
 * `y` normalised with the batch mean and the biased batch variance, plus `mean`, `variance`
 * (biased) and the kernel's third reserve (device workspace; empty on CPU), which
 * `nativeBatchNormGrad` takes back.
 */
export function nativeBatchNormTrain(
  nb: NativeBackend,
  x: tf.Tensor4D,
  scale: tf.Tensor1D,
  offset: tf.Tensor1D,
  eps: number,
): { y: tf.Tensor4D; mean: tf.Tensor1D; variance: tf.Tensor1D; reserve: tf.Tensor } {
  const empty = tf.tensor1d([], 'float32');
  const attrs = [...bnAttrs(nb, eps, true), { name: 'exponential_avg_factor', type: nb.binding.TF_ATTR_FLOAT, value: 1 }];
  const [y, batchMean, unbiasedVar, mean, variance, reserve] = nb.executeMultipleOutputs('FusedBatchNormV3', attrs, [x, scale, offset, empty, empty], 6);
  tf.dispose([empty, batchMean!, unbiasedVar!]);
  return { y: y as tf.Tensor4D, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D, reserve: reserve! };
}

/** The gradient of `nativeBatchNormTrain` (FusedBatchNormGradV3, training mode): [dx, dscale, doffset]. */
export function nativeBatchNormGrad(
  nb: NativeBackend,
  dy: tf.Tensor4D,
  x: tf.Tensor4D,
  scale: tf.Tensor1D,
  mean: tf.Tensor1D,
  variance: tf.Tensor1D,
  reserve: tf.Tensor,
  eps: number,
): [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D] {
  const outs = nb.executeMultipleOutputs('FusedBatchNormGradV3', bnAttrs(nb, eps, true), [dy, x, scale, mean, variance, reserve], 5);
  tf.dispose(outs.slice(3));
  return [outs[0] as tf.Tensor4D, outs[1] as tf.Tensor1D, outs[2] as tf.Tensor1D];
}

/** `dy · (features > 0)` by TensorFlow's ReluGrad kernel (features: ReLU's input or output). */
export function nativeReluGrad(nb: NativeBackend, dy: tf.Tensor, features: tf.Tensor): tf.Tensor {
  return nb.executeSingleOutput('ReluGrad', [{ name: 'T', type: nb.binding.TF_ATTR_TYPE, value: TF_FLOAT }], [dy, features]);
}
