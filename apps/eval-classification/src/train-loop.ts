/**
 * The classification training loop shared by both protocols: epochs of shuffled mini-batches
 * (seeded), AdamW per parameter group (separate learning rates: one optimizer per group over
 * one gradient computation), multi-label BCE-with-logits, a validation pass after every epoch,
 * early stopping on the validation mean AUC (validation loss when no class has a defined AUC;
 * no early stopping without a validation set) with the best epoch's weights restored, an
 * optional wall-clock limit, and a progress bar.
 */
import * as tf from '@tensorflow/tfjs';
import { G2DError, Rng } from '@g2d-ts/core';
import { AdamW, computeGradients, Progress } from '@g2d-ts/train';

export interface ParamGroup {
  name: string;
  variables: Map<string, tf.Variable>;
  lr: number;
}

export interface EpochRecord {
  epoch: number;
  trainLoss: number;
  valLoss: number | null;
  valAuc: number | null;
  seconds: number;
}

export interface LoopOptions {
  groups: ParamGroup[];
  weightDecay: number;
  betas: [number, number];
  epochs: number;
  batchSize: number;
  nTrain: number;
  seed: number;
  patience: number;
  minDelta: number;
  maxMinutes?: number;
  /** every variable whose value makes up the model (parameters and BatchNorm statistics): the best epoch is restored from a snapshot of these */
  state: Map<string, tf.Variable>;
  /** the loss of a training batch (called inside the gradient tape, model in training mode) */
  batchLoss: (indices: number[]) => tf.Scalar;
  /** validation after an epoch (model in eval mode); null when there is no validation set */
  validate: () => Promise<{ loss: number; auc: number | null } | null>;
  /** called around training / validation to switch the model's mode */
  setTraining: (training: boolean) => void;
  label?: string;
  log?: (line: string) => void;
}

export interface LoopResult {
  history: EpochRecord[];
  bestEpoch: number | null;
  epochsRun: number;
  stoppedBy: 'epochs' | 'patience' | 'time';
  /** what early stopping watched */
  monitor: 'val AUC' | 'val loss' | 'none';
  steps: number;
}

/** Multi-label binary cross-entropy with logits, mean over batch and classes (stable form). */
export function bceWithLogits(logits: tf.Tensor, labels: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const x = logits;
    const z = labels;
    return tf.mean(tf.add(tf.sub(tf.relu(x), tf.mul(x, z)), tf.log1p(tf.exp(tf.neg(tf.abs(x)))))) as tf.Scalar;
  });
}

export async function trainLoop(o: LoopOptions): Promise<LoopResult> {
  if (o.nTrain < 1) throw new G2DError('no training images');
  const log = o.log ?? (() => undefined);
  const opts = o.groups
    .filter((g) => g.variables.size > 0)
    .map((g) => ({ g, opt: new AdamW(g.variables, { lr: g.lr, weightDecay: o.weightDecay, betas: o.betas }) }));
  if (opts.length === 0) throw new G2DError('nothing to train: every parameter is frozen');
  const all = new Map<string, tf.Variable>();
  for (const { g } of opts) for (const [k, v] of g.variables) all.set(k, v);
  const owner = new Map<string, number>();
  opts.forEach(({ g }, i) => g.variables.forEach((_, k) => owner.set(k, i)));
  const stepsPerEpoch = Math.ceil(o.nTrain / o.batchSize);
  const bar = new Progress({ total: stepsPerEpoch * o.epochs, label: o.label ?? 'train' });
  const history: EpochRecord[] = [];
  let best: { epoch: number; score: number } | null = null;
  let snapshot: Map<string, tf.Tensor> | null = null;
  let monitor: LoopResult['monitor'] = 'none';
  let stoppedBy: LoopResult['stoppedBy'] = 'epochs';
  let step = 0;
  const t0 = performance.now();
  const takeSnapshot = () => {
    snapshot?.forEach((t) => t.dispose());
    snapshot = new Map([...o.state].map(([k, v]) => [k, tf.clone(v)]));
  };
  try {
    for (let epoch = 0; epoch < o.epochs; epoch++) {
      const te = performance.now();
      const order = new Rng(`${o.seed}/epoch/${epoch}`).shuffle(Array.from({ length: o.nTrain }, (_, i) => i));
      let lossSum = 0;
      o.setTraining(true);
      for (let s = 0; s < o.nTrain; s += o.batchSize) {
        const idx = order.slice(s, s + o.batchSize);
        const { value, grads } = computeGradients(all, () => o.batchLoss(idx));
        const parts = opts.map(() => new Map<string, tf.Tensor>());
        for (const [k, g] of grads) parts[owner.get(k)!]!.set(k, g);
        opts.forEach(({ opt }, i) => opt.step(parts[i]!));
        const lv = (await value.data())[0]!;
        value.dispose();
        if (!Number.isFinite(lv)) throw new G2DError(`the training loss is ${lv} at epoch ${epoch}, step ${step} (lower the learning rate?)`);
        lossSum += lv * idx.length;
        step++;
        bar.update({ step, epoch, loss: lv, lr: opts[0]!.opt.lr, imagesPerSec: (step * o.batchSize * 1000) / (performance.now() - t0) });
      }
      o.setTraining(false);
      const v = await o.validate();
      const rec: EpochRecord = { epoch, trainLoss: lossSum / o.nTrain, valLoss: v?.loss ?? null, valAuc: v?.auc ?? null, seconds: (performance.now() - te) / 1000 };
      history.push(rec);
      // early stopping: AUC when defined, else loss; none without validation data
      let score: number | null = null;
      if (v) {
        if (v.auc !== null) {
          if (monitor === 'val loss') {
            // the monitor never changes within a run; AUC became defined later: keep using the loss
            score = -v.loss;
          } else {
            monitor = 'val AUC';
            score = v.auc;
          }
        } else {
          if (monitor === 'none') monitor = 'val loss';
          score = monitor === 'val loss' ? -v.loss : null;
        }
      }
      const improved = score !== null && (best === null || score > best.score + o.minDelta);
      if (improved) {
        best = { epoch, score: score! };
        takeSnapshot();
      }
      bar.log(
        `[${o.label ?? 'train'}] epoch ${epoch}: train loss ${rec.trainLoss.toFixed(4)}` +
          (v ? `, val loss ${v.loss.toFixed(4)}, val AUC ${v.auc === null ? '—' : v.auc.toFixed(4)}${improved ? ' (best)' : ''}` : ''),
      );
      if (o.maxMinutes !== undefined && (performance.now() - t0) / 60000 > o.maxMinutes && epoch < o.epochs - 1) {
        stoppedBy = 'time';
        log(`[${o.label ?? 'train'}] stopping after epoch ${epoch}: train.maxMinutes ${o.maxMinutes} reached`);
        break;
      }
      if (o.patience > 0 && best !== null && epoch - best.epoch >= o.patience && epoch < o.epochs - 1) {
        stoppedBy = 'patience';
        log(`[${o.label ?? 'train'}] early stop after epoch ${epoch}: no better ${monitor} for ${o.patience} epochs (best: epoch ${best.epoch})`);
        break;
      }
    }
    if (snapshot) {
      for (const [k, t] of snapshot as Map<string, tf.Tensor>) o.state.get(k)!.assign(t);
    }
  } finally {
    (snapshot as Map<string, tf.Tensor> | null)?.forEach((t) => t.dispose());
    o.setTraining(false);
    for (const { opt } of opts) opt.dispose();
  }
  return { history, bestEpoch: best?.epoch ?? null, epochsRun: history.length, stoppedBy, monitor, steps: step };
}

