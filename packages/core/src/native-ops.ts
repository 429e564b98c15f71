/**
 * The native (tfjs-node / tfjs-node-gpu) backend's eager-op entry point, for the few places
 * that call TensorFlow's own kernels where tfjs has none (`@g2d-ts/nn`: fused BatchNorm,
 * ReluGrad, convolution gradients; `@g2d-ts/train`: AdamW by ResourceApplyAdam). Duck-typed:
 * nothing here imports or picks a backend; on any other backend `nativeOps()` is null and the
 * callers keep their portable tfjs formulation.
 */
import * as tf from '@tensorflow/tfjs';

/** An op attribute as tfjs-node's binding takes it. */
export interface TFEOpAttr {
  name: string;
  type: number;
  value: unknown;
}

/** The slice of tfjs-node's NodeJSKernelBackend the callers use. */
export interface NativeBackend {
  binding: { TF_ATTR_TYPE: number; TF_ATTR_FLOAT: number; TF_ATTR_BOOL: number; TF_ATTR_STRING: number; TF_ATTR_SHAPE: number };
  executeMultipleOutputs(name: string, attrs: TFEOpAttr[], inputs: tf.TensorInfo[], numOutputs: number): tf.Tensor[];
  executeSingleOutput(name: string, attrs: TFEOpAttr[], inputs: tf.TensorInfo[]): tf.Tensor;
  isUsingGpuDevice?: boolean;
}

/** TF_DataType of float32 (tensorflow/c/tf_datatype.h). */
export const TF_FLOAT = 1;

let disabled = false;

/**
 * Turns the native kernels off (false) or back on (true, the default): the portable tfjs
 * formulation is then used on every backend (for comparisons and debugging).
 */
export function setNativeKernels(enabled: boolean): void {
  disabled = !enabled;
}

/** The active backend's eager-op entry point when it is TensorFlow's (tfjs-node / -gpu), else null. */
export function nativeOps(): NativeBackend | null {
  if (disabled || tf.getBackend() !== 'tensorflow') return null;
  const b = tf.backend() as unknown as Partial<NativeBackend>;
  return typeof b.executeMultipleOutputs === 'function' && typeof b.executeSingleOutput === 'function' && b.binding ? (b as NativeBackend) : null;
}

/** Whether the native backend is active and runs on the CPU (tfjs-node, or tfjs-node-gpu without a visible GPU). */
export function nativeOnCpu(): boolean {
  const nb = nativeOps();
  return !!nb && nb.isUsingGpuDevice !== true;
}
