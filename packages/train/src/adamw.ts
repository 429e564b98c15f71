/**
 * AdamW with exactly torch.optim.AdamW's semantics (torch 1.13 `_single_tensor_adamw`,
 * amsgrad=False, maximize=False), on named tf.Variables:
 *
 *   step += 1
 *   p  ← p · (1 − lr·wd)                          (decoupled weight decay, before the moments)
 *   m  ← β1·m + (1 − β1)·g
 *   v  ← β2·v + (1 − β2)·g²
 *   p  ← p − (lr / (1 − β1^step)) · m / (√v / √(1 − β2^step) + ε)
 *
 * The step counter is per variable (as torch keeps `state[p]['step']`). A variable without a
 * gradient in a step is skipped entirely, weight decay included (torch: `p.grad is None`).
 * Frozen variables (`trainable === false`) are never touched. Every gradient tensor handed to
 * `step()` is disposed as soon as it has been applied.
 */
import * as tf from '@tensorflow/tfjs';
import { G2DError, type RawTensor } from '@g2d-ts/core';
import { type NamedVariables, type VariableSource, rawToTensor, resolveVariables, tensorToRaw, trainableOnly } from './variables';
import { computeGradients } from './gradients';

export interface AdamWOptions {
  /** learning rate (torch default 1e-3); a scheduler overwrites it per step */
  lr?: number;
  /** (β1, β2), torch default (0.9, 0.999) */
  betas?: [number, number];
  /** added to √v̂, torch default 1e-8 */
  eps?: number;
  /** decoupled weight decay, torch default 1e-2 */
  weightDecay?: number;
}

export interface AdamWHyper {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
}

/** Optimizer state for checkpoints: JSON-safe `meta` plus the moment tensors. */
export interface OptimizerState {
  meta: {
    kind: 'adamw';
    hyper: AdamWHyper;
    /** per variable name: optimizer steps applied to it so far */
    steps: Record<string, number>;
  };
  /** `exp_avg/<name>` and `exp_avg_sq/<name>` (float32) */
  tensors: Map<string, RawTensor>;
}

interface Slot {
  step: number;
  expAvg: tf.Variable;
  expAvgSq: tf.Variable;
}

function checkHyper(h: AdamWHyper, source = 'AdamW'): void {
  const [b1, b2] = h.betas;
  const bad = (what: string) => {
    throw new G2DError(what, { source });
  };
  if (!(Number.isFinite(h.lr) && h.lr >= 0)) bad(`lr must be a finite number >= 0, got ${h.lr}`);
  if (!(Number.isFinite(h.eps) && h.eps >= 0)) bad(`eps must be a finite number >= 0, got ${h.eps}`);
  if (!(b1 >= 0 && b1 < 1)) bad(`betas[0] must be in [0, 1), got ${b1}`);
  if (!(b2 >= 0 && b2 < 1)) bad(`betas[1] must be in [0, 1), got ${b2}`);
  if (!(Number.isFinite(h.weightDecay) && h.weightDecay >= 0)) bad(`weightDecay must be a finite number >= 0, got ${h.weightDecay}`);
}

export class AdamW {
  /** the learning rate the next step uses (schedulers write it) */
  lr: number;
  readonly betas: [number, number];
  readonly eps: number;
  readonly weightDecay: number;
  /** every variable the optimizer knows by name, frozen ones included */
  readonly variables: NamedVariables;
  private slots = new Map<string, Slot>();
  private byTfName = new Map<string, string>();

  constructor(variables: VariableSource, opts: AdamWOptions = {}) {
    const hyper: AdamWHyper = {
      lr: opts.lr ?? 1e-3,
      betas: opts.betas ? [opts.betas[0], opts.betas[1]] : [0.9, 0.999],
      eps: opts.eps ?? 1e-8,
      weightDecay: opts.weightDecay ?? 1e-2,
    };
    checkHyper(hyper);
    this.lr = hyper.lr;
    this.betas = hyper.betas;
    this.eps = hyper.eps;
    this.weightDecay = hyper.weightDecay;
    this.variables = resolveVariables(variables, 'AdamW variables');
    for (const [name, v] of this.variables) this.byTfName.set(v.name, name);
  }

  get hyper(): AdamWHyper {
    return { lr: this.lr, betas: [this.betas[0], this.betas[1]], eps: this.eps, weightDecay: this.weightDecay };
  }

  /** The variables a step may update now (trainable ones). */
  trainable(): NamedVariables {
    return trainableOnly(this.variables);
  }

  /** Optimizer steps applied to `name` so far (0 before its first gradient). */
  stepsOf(name: string): number {
    return this.slots.get(name)?.step ?? 0;
  }

  /**
   * Applies one AdamW step. `grads` maps variable names (or tf.Variable names) to gradients;
   * each gradient is disposed right after its variable is updated (also on error). Variables
   * without a gradient are left alone; gradients for frozen variables are dropped.
   */
  step(grads: Map<string, tf.Tensor> | Record<string, tf.Tensor>): void {
    const list = grads instanceof Map ? [...grads] : Object.entries(grads);
    try {
      // validate all before touching any variable
      const resolved: [string, tf.Variable, tf.Tensor][] = [];
      for (const [key, g] of list) {
        const name = this.variables.has(key) ? key : this.byTfName.get(key);
        if (name === undefined) throw new G2DError(`AdamW.step: gradient for unknown variable "${key}"`);
        const v = this.variables.get(name)!;
        if (!(g instanceof tf.Tensor) || g.isDisposed) throw new G2DError(`AdamW.step: gradient for "${name}" is not a live tensor`);
        if (!v.trainable) continue;
        if (v.dtype !== 'float32') throw new G2DError(`AdamW.step: "${name}" is ${v.dtype}; only float32 variables can be optimised`);
        if (g.shape.length !== v.shape.length || g.shape.some((d, i) => d !== v.shape[i])) {
          throw new G2DError(`AdamW.step: gradient for "${name}" has shape [${g.shape.join(', ')}], variable has [${v.shape.join(', ')}]`);
        }
        resolved.push([name, v, g]);
      }
      checkHyper(this.hyper);
      for (const [name, v, g] of resolved) {
        this.update(name, v, g);
        g.dispose();
      }
    } finally {
      for (const [, g] of list) if (g instanceof tf.Tensor && !g.isDisposed) g.dispose();
    }
  }

  private update(name: string, p: tf.Variable, g: tf.Tensor): void {
    let slot = this.slots.get(name);
    if (!slot) {
      // variables outlive tidy; the zerosLike temporaries do not
      slot = tf.tidy(() => ({ step: 0, expAvg: tf.variable(tf.zerosLike(p), false), expAvgSq: tf.variable(tf.zerosLike(p), false) }));
      this.slots.set(name, slot);
    }
    const s = slot;
    s.step += 1;
    const { lr, eps, weightDecay } = this;
    const [beta1, beta2] = this.betas;
    const biasCorrection1 = 1 - beta1 ** s.step;
    const biasCorrection2 = 1 - beta2 ** s.step;
    const stepSize = lr / biasCorrection1;
    const biasCorrection2Sqrt = Math.sqrt(biasCorrection2);
    tf.tidy(() => {
      const decayed = weightDecay !== 0 ? tf.mul(p, tf.scalar(1 - lr * weightDecay)) : p;
      const m = tf.add(tf.mul(s.expAvg, tf.scalar(beta1)), tf.mul(g, tf.scalar(1 - beta1)));
      const v = tf.add(tf.mul(s.expAvgSq, tf.scalar(beta2)), tf.mul(tf.mul(g, g), tf.scalar(1 - beta2)));
      const denom = tf.add(tf.div(tf.sqrt(v), tf.scalar(biasCorrection2Sqrt)), tf.scalar(eps));
      const next = tf.add(decayed, tf.div(tf.mul(m, tf.scalar(-stepSize)), denom));
      s.expAvg.assign(m);
      s.expAvgSq.assign(v);
      p.assign(next);
    });
  }

  /**
   * Computes the gradients of `loss` over the trainable variables and applies them; returns
   * the loss value. (The fit loop does the same with accumulation and clipping in between.)
   */
  minimize(loss: () => tf.Scalar): number {
    const { value, grads } = computeGradients(this.trainable(), loss);
    try {
      this.step(grads);
      return value.dataSync()[0]!;
    } finally {
      value.dispose();
    }
  }

  /** A copy of the state (moments read back to CPU memory), for checkpoints. */
  async exportState(): Promise<OptimizerState> {
    const steps: Record<string, number> = {};
    const tensors = new Map<string, RawTensor>();
    for (const [name, s] of this.slots) {
      steps[name] = s.step;
      tensors.set(`exp_avg/${name}`, await tensorToRaw(s.expAvg, `exp_avg/${name}`));
      tensors.set(`exp_avg_sq/${name}`, await tensorToRaw(s.expAvgSq, `exp_avg_sq/${name}`));
    }
    return { meta: { kind: 'adamw', hyper: this.hyper, steps }, tensors };
  }

  /**
   * Restores a state from `exportState` (hyper-parameters included, as torch's
   * `load_state_dict` restores the param groups). Every name must be one of this optimizer's
   * variables with the same shape; the current state is replaced only if all of it is valid.
   */
  loadState(state: OptimizerState, source?: string): void {
    const meta = state?.meta;
    if (!meta || meta.kind !== 'adamw') throw new G2DError(`optimizer state is not an AdamW state (kind ${String(meta?.kind)})`, { source });
    const h = meta.hyper;
    if (!h || !Array.isArray(h.betas) || h.betas.length !== 2) throw new G2DError('optimizer state: hyper.betas missing', { source });
    checkHyper(h, source ?? 'optimizer state');
    const fresh = new Map<string, { step: number; m: RawTensor; v: RawTensor }>();
    for (const [name, step] of Object.entries(meta.steps ?? {})) {
      const p = this.variables.get(name);
      if (!p) throw new G2DError(`optimizer state has moments for "${name}", which is not one of the optimizer's variables`, { source });
      if (!Number.isInteger(step) || step < 1) throw new G2DError(`optimizer state: step of "${name}" must be an integer >= 1, got ${step}`, { source });
      const m = state.tensors.get(`exp_avg/${name}`);
      const v = state.tensors.get(`exp_avg_sq/${name}`);
      if (!m || !v) throw new G2DError(`optimizer state: exp_avg/exp_avg_sq of "${name}" missing`, { source });
      for (const [k, t] of [['exp_avg', m], ['exp_avg_sq', v]] as const) {
        if (t.dtype !== 'float32' || t.shape.length !== p.shape.length || t.shape.some((d, i) => d !== p.shape[i])) {
          throw new G2DError(
            `optimizer state: ${k}/${name} is ${t.dtype} [${t.shape.join(', ')}], variable is ${p.dtype} [${p.shape.join(', ')}]`,
            { source },
          );
        }
      }
      fresh.set(name, { step, m, v });
    }
    this.disposeSlots();
    this.lr = h.lr;
    (this as { betas: [number, number] }).betas = [h.betas[0], h.betas[1]];
    (this as { eps: number }).eps = h.eps;
    (this as { weightDecay: number }).weightDecay = h.weightDecay;
    for (const [name, { step, m, v }] of fresh) {
      this.slots.set(
        name,
        tf.tidy(() => ({
          step,
          expAvg: tf.variable(rawToTensor(m, `exp_avg/${name}`, source), false),
          expAvgSq: tf.variable(rawToTensor(v, `exp_avg_sq/${name}`, source), false),
        })),
      );
    }
  }

  private disposeSlots(): void {
    for (const s of this.slots.values()) {
      s.expAvg.dispose();
      s.expAvgSq.dispose();
    }
    this.slots.clear();
  }

  /** Frees the moment tensors (the model's variables are not the optimizer's to free). */
  dispose(): void {
    this.disposeSlots();
  }
}
