/**
 * Gradients by variable name: computing them, accumulating them over micro-batches and
 * clipping their global norm (torch.nn.utils.clip_grad_norm_ semantics).
 */
import * as tf from '@tensorflow/tfjs';
import { G2DError } from '@g2d-ts/core';
import type { NamedVariables } from './variables';

export type NamedGradients = Map<string, tf.Tensor>;

/**
 * Value and gradients of `f` with respect to `vars` (keyed by our names). Intermediate
 * tensors are freed; the caller owns `value` and every gradient. Variables that `f` does not
 * use get no entry (torch: `.grad is None`).
 */
export function computeGradients(vars: NamedVariables, f: () => tf.Scalar): { value: tf.Scalar; grads: NamedGradients } {
  const list = [...vars.values()];
  if (list.length === 0) throw new G2DError('computeGradients: no trainable variables');
  const names = new Map<string, string>();
  for (const [name, v] of vars) names.set(v.name, name);
  let out: { value: tf.Scalar; grads: tf.NamedTensorMap };
  try {
    out = tf.variableGrads(f, list);
  } catch (e) {
    const msg = (e as Error).message ?? String(e);
    if (/connection between any variable/i.test(msg)) {
      throw new G2DError('the loss does not depend on any trainable variable (no gradient to apply)', { cause: e });
    }
    throw e;
  }
  const grads: NamedGradients = new Map();
  for (const [tfName, g] of Object.entries(out.grads)) grads.set(names.get(tfName) ?? tfName, g);
  return { value: out.value, grads };
}

export interface ClipOptions {
  maxNorm: number;
  /** 2 (default), any p >= 1, or Infinity */
  normType?: number;
  /** throw when the total norm is NaN or infinite (torch's error_if_nonfinite) */
  errorIfNonfinite?: boolean;
}

/**
 * torch.nn.utils.clip_grad_norm_: the norm of all gradients as one vector (the p-norm of the
 * per-tensor p-norms; max |g| for Infinity), then every gradient × min(1, maxNorm / (norm + 1e-6)).
 * Returns the clipped gradients (the inputs are disposed) and the total norm before clipping.
 */
export function clipGradNorm(grads: NamedGradients, opts: ClipOptions): { grads: NamedGradients; totalNorm: number } {
  const { maxNorm } = opts;
  const p = opts.normType ?? 2;
  if (!(Number.isFinite(maxNorm) && maxNorm >= 0)) throw new G2DError(`clipGradNorm: maxNorm must be a finite number >= 0, got ${maxNorm}`);
  if (!(p === Infinity || (Number.isFinite(p) && p > 0))) throw new G2DError(`clipGradNorm: normType must be > 0 or Infinity, got ${p}`);
  if (grads.size === 0) return { grads, totalNorm: 0 };
  const entries = [...grads];
  const { total, scaled } = tf.tidy(() => {
    const norms = entries.map(([, g]) => {
      const a = tf.abs(g);
      if (p === Infinity) return tf.max(a);
      if (p === 2) return tf.sqrt(tf.sum(tf.square(g)));
      if (p === 1) return tf.sum(a);
      return tf.pow(tf.sum(tf.pow(a, p)), 1 / p);
    });
    const stacked = tf.stack(norms);
    const total =
      p === Infinity
        ? tf.max(stacked)
        : p === 2
          ? tf.sqrt(tf.sum(tf.square(stacked)))
          : p === 1
            ? tf.sum(stacked)
            : tf.pow(tf.sum(tf.pow(stacked, p)), 1 / p);
    // torch: max_norm / (total + 1e-6) is evaluated as reciprocal(total + 1e-6) * max_norm
    const coef = tf.minimum(tf.mul(tf.reciprocal(tf.add(total, tf.scalar(1e-6))), tf.scalar(maxNorm)), tf.scalar(1));
    return { total, scaled: entries.map(([, g]) => tf.mul(g, coef)) };
  });
  const totalNorm = total.dataSync()[0]!;
  total.dispose();
  if (opts.errorIfNonfinite && !Number.isFinite(totalNorm)) {
    scaled.forEach((t) => t.dispose());
    throw new G2DError(`clipGradNorm: the total gradient norm is ${totalNorm}; cannot clip`);
  }
  const out: NamedGradients = new Map();
  entries.forEach(([name, g], i) => {
    g.dispose();
    out.set(name, scaled[i]!);
  });
  return { grads: out, totalNorm };
}

/**
 * Sums gradients over micro-batches. `take()` returns the mean (sum / count), which equals
 * the gradient of the mean loss over the micro-batches (torch: `(loss / N).backward()` N times).
 * Gradients passed to `add` are consumed (disposed).
 */
export class GradientAccumulator {
  private sum: NamedGradients = new Map();
  private n = 0;

  get count(): number {
    return this.n;
  }

  add(grads: NamedGradients): void {
    for (const [name, g] of grads) {
      const prev = this.sum.get(name);
      if (!prev) this.sum.set(name, g);
      else {
        this.sum.set(name, tf.add(prev, g));
        prev.dispose();
        g.dispose();
      }
    }
    this.n++;
  }

  /** The accumulated gradients (mean over the micro-batches by default); resets the accumulator. */
  take(opts: { average?: boolean } = {}): NamedGradients {
    const average = opts.average ?? true;
    const out: NamedGradients = new Map();
    const n = this.n;
    for (const [name, g] of this.sum) {
      if (average && n > 1) {
        out.set(name, tf.tidy(() => tf.div(g, tf.scalar(n))));
        g.dispose();
      } else out.set(name, g);
    }
    this.sum = new Map();
    this.n = 0;
    return out;
  }

  dispose(): void {
    for (const g of this.sum.values()) g.dispose();
    this.sum = new Map();
    this.n = 0;
  }
}
