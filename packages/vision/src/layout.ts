import * as tf from '@tensorflow/tfjs';

/** [B, C, H, W] (PyTorch) → [B, H, W, C] (this package). */
export function nchwToNhwc(x: tf.Tensor4D): tf.Tensor4D {
  return tf.transpose(x, [0, 2, 3, 1]);
}

/** [B, H, W, C] → [B, C, H, W]. */
export function nhwcToNchw(x: tf.Tensor4D): tf.Tensor4D {
  return tf.transpose(x, [0, 3, 1, 2]);
}
