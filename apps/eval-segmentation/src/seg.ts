/**
 * The segmentation model and its fine-tuning: an smp-style U-Net whose encoder is the
 * evaluated encoder (frozen when pretrained), whose decoder and segmentation head are new
 * (seeded by --seed) or, with `seg.transferDecoder`, G2D's own pretrained ones; trained with
 * AdamW on BCE + Dice through @g2d-ts/train's `fit` (metrics.jsonl, progress bar), the epoch
 * with the best validation Dice kept.
 */
import * as tf from '@tensorflow/tfjs';
import { G2DError, Rng, type RawTensor } from '@g2d-ts/core';
import { colorJitter, compose, floatImage, randomAffine, type Sample, type Transform } from '@g2d-ts/data';
import { fitScheduler, type EncoderInfo, type EvalTransform } from '@g2d-ts/eval';
import { bceDiceLoss } from '@g2d-ts/losses';
import { dice } from '@g2d-ts/metrics';
import type { G2DModel } from '@g2d-ts/model';
import { AdamW, fit } from '@g2d-ts/train';
import { Unet } from '@g2d-ts/vision';
import type { SegConfig } from './config';

export interface SegModelInfo {
  /** encoder frozen (pretrained) or trained along (random) */
  encoderFrozen: boolean;
  /** where the decoder + segmentation head came from */
  decoder: 'pretrained (transferred)' | 'random (seeded)';
  trainableParams: number;
  frozenParams: number;
}

/** Pretrained = weights loaded into at least the image encoder. */
export function encoderIsPretrained(info: EncoderInfo): boolean {
  return (info.kind === 'checkpoint' || info.kind === 'default-checkpoint') && !!info.loadedParts?.some((p) => p === 'img_model' || p === 'img_model.encoder');
}

/** The U-Net to fine-tune, built from the evaluated G2D model (which the caller may dispose afterwards). */
export function buildSegModel(model: G2DModel, info: EncoderInfo, cfg: SegConfig): { unet: Unet; info: SegModelInfo } {
  const pretrained = encoderIsPretrained(info);
  const hasDecoder = !!info.loadedParts?.includes('img_model');
  if (cfg.seg.transferDecoder && pretrained && !hasDecoder) {
    throw new G2DError(
      `seg.transferDecoder needs a checkpoint with G2D's decoder (our saved model, *_checkpoint.pth or *_encoder_decoder.pth); ${info.path ?? info.spec} is a ${info.checkpointKind} checkpoint (parts: ${info.loadedParts?.join(', ')})`,
      { source: info.path },
    );
  }
  const c = model.config;
  const unet = new Unet({
    encoder: c.backbone,
    encoderConfig: c.encoderConfig,
    encoderOptions: { inChannels: c.inChannels, seed: cfg.seed },
    decoderChannels: c.decoderChannels,
    classes: 1,
    seed: `segmentation/${cfg.seed}`,
  });
  // the evaluated encoder's weights (pretrained or the random baseline's), then G2D's decoder when transferred
  if (cfg.seg.transferDecoder) unet.loadStateDict(model.img_model.stateDict(), { source: info.path ?? info.label });
  else unet.encoder.loadStateDict(model.img_model.encoder.stateDict(), { source: info.path ?? info.label });
  const freeze = cfg.seg.freezeEncoder === 'auto' ? pretrained : cfg.seg.freezeEncoder;
  if (freeze) unet.freeze(['encoder']);
  const frozenParams = unet.numParams() - unet.numParams({ trainable: true });
  return {
    unet,
    info: {
      encoderFrozen: freeze,
      decoder: cfg.seg.transferDecoder ? 'pretrained (transferred)' : 'random (seeded)',
      trainableParams: unet.numParams({ trainable: true }),
      frozenParams,
    },
  };
}

/** Train mode for what is trained; a frozen encoder keeps its BatchNorm statistics (eval mode). */
export function setTrainMode(unet: Unet, encoderFrozen: boolean): void {
  unet.train();
  if (encoderFrozen) unet.encoder.eval();
}

export interface SegSample {
  /** size² preprocessed grey */
  image: Uint8Array;
  /** size² 0/1 target */
  mask: Uint8Array;
}

function lightAugment(): Transform {
  return compose(randomAffine({ degrees: 10, shear: 0 }), colorJitter({ brightness: 0.1, contrast: 0.1 }));
}

/** A normalised [B, S, S, 3] batch and its [B, S, S, 1] targets; `rngs` (one per sample) switch augmentation on. */
export function makeBatch(samples: readonly SegSample[], t: EvalTransform, rngs?: Rng[]): { x: tf.Tensor4D; y: tf.Tensor4D } {
  const S = t.size;
  const n = S * S;
  const B = samples.length;
  const xb = new Float32Array(B * n * 3);
  const yb = new Float32Array(B * n);
  const aug = rngs ? lightAugment() : undefined;
  samples.forEach((s, k) => {
    let img: Float32Array;
    let mask: ArrayLike<number> = s.mask;
    if (aug && rngs) {
      const out: Sample = aug({ image: floatImage(S, S, s.image), mask: { width: S, height: S, data: s.mask } }, rngs[k]!);
      img = out.image.data;
      mask = out.mask!.data;
    } else img = floatImage(S, S, s.image).data;
    let o = k * n * 3;
    for (let i = 0; i < n; i++) {
      const v = img[i]!;
      xb[o++] = (v - t.mean[0]) / t.std[0];
      xb[o++] = (v - t.mean[1]) / t.std[1];
      xb[o++] = (v - t.mean[2]) / t.std[2];
      yb[k * n + i] = mask[i]! > 0 ? 1 : 0;
    }
  });
  return { x: tf.tensor4d(xb, [B, S, S, 3]), y: tf.tensor4d(yb, [B, S, S, 1]) };
}

/** Foreground probabilities [size²] per sample (eval mode, batched). */
export function predictProbabilities(unet: Unet, images: readonly Uint8Array[], t: EvalTransform, batchSize: number): Float32Array[] {
  const out: Float32Array[] = [];
  const was = unet.training;
  const encWas = unet.encoder.training;
  unet.eval();
  try {
    for (let s = 0; s < images.length; s += batchSize) {
      const chunk = images.slice(s, s + batchSize);
      const p = tf.tidy(() => tf.sigmoid(unet.forward(makeBatch(chunk.map((image) => ({ image, mask: image })), t).x)));
      const v = p.dataSync() as Float32Array;
      p.dispose();
      const n = t.size * t.size;
      for (let k = 0; k < chunk.length; k++) out.push(v.slice(k * n, (k + 1) * n));
    }
  } finally {
    unet.train(was);
    if (was && !encWas) unet.encoder.eval();
  }
  return out;
}

/** Mean per-image Dice at the input size (validation). */
export function meanDice(probs: readonly Float32Array[], masks: readonly Uint8Array[], threshold: number): number {
  if (!probs.length) return NaN;
  let s = 0;
  probs.forEach((p, k) => (s += dice(p, masks[k]!, { threshold })));
  return s / probs.length;
}

export interface TrainResult {
  steps: number;
  epochs: number;
  /** per evaluated epoch: validation Dice */
  valCurve: { epoch: number; step: number; dice: number }[];
  /** per epoch: mean training loss */
  lossCurve: { epoch: number; step: number; loss: number }[];
  /** the epoch whose weights were kept (0-based), and its validation Dice */
  selectedEpoch: number;
  selectedValDice: number | null;
  /** what ended the training: all epochs, train.maxSteps or train.maxMinutes */
  stoppedBy: 'epochs' | 'maxSteps' | 'time';
}

export interface TrainOptions {
  unet: Unet;
  encoderFrozen: boolean;
  train: readonly SegSample[];
  val: readonly SegSample[];
  transform: EvalTransform;
  cfg: SegConfig;
  out: string;
  log: (line: string) => void;
}

/** Fine-tunes the U-Net (see the module comment). The kept weights are loaded back into `unet`. */
export async function trainSegmentation(o: TrainOptions): Promise<TrainResult> {
  const { unet, cfg } = o;
  const T = cfg.train;
  if (o.train.length === 0) throw new G2DError('no training images with a mask');
  const bs = Math.min(T.batchSize, o.train.length);
  const perEpoch = Math.ceil(o.train.length / bs);
  const total = Math.min(T.maxSteps ?? Infinity, perEpoch * T.epochs);
  const vars = unet.namedVariables();
  const optimizer = new AdamW(vars, { lr: T.lr, weightDecay: T.weightDecay });
  const scheduler = fitScheduler(T, total);
  const seed = cfg.seed;
  const data = {
    length: perEpoch,
    *epoch(epoch: number, start: number): Iterable<number[]> {
      const order = new Rng(`segmentation/${seed}/order/${epoch}`).shuffle(o.train.map((_, i) => i));
      for (let b = start; b < perEpoch; b++) yield order.slice(b * bs, (b + 1) * bs);
    },
  };
  const valCurve: TrainResult['valCurve'] = [];
  const lossCurve: TrainResult['lossCurve'] = [];
  let best: { epoch: number; dice: number; state: Map<string, RawTensor> } | null = null;
  setTrainMode(unet, o.encoderFrozen);
  const variant = T.loss;
  const augment = T.augment === 'light';
  // train.maxMinutes: stop after the step that crosses the budget (checked after each step: the
  // loop does not yield to timers; the partial epoch is validated below)
  const budget = T.maxMinutes === undefined ? undefined : new AbortController();
  const started = performance.now();
  const validate = (epoch: number, steps: number, meanLoss: number) => {
    const probs = predictProbabilities(unet, o.val.map((s) => s.image), o.transform, cfg.inferenceBatchSize);
    const d = meanDice(probs, o.val.map((s) => s.mask), cfg.seg.threshold);
    valCurve.push({ epoch, step: steps, dice: d });
    o.log(`[segmentation] epoch ${epoch + 1}/${T.epochs}: train loss ${meanLoss.toFixed(4)}, validation Dice ${d.toFixed(4)} (${o.val.length} images)`);
    if (!best || d > best.dice) best = { epoch, dice: d, state: unet.stateDict() };
  };
  const epochLoss = { sum: 0, n: 0 };
  const res = await fit<number[]>({
    variables: vars,
    optimizer,
    scheduler,
    data,
    epochs: T.epochs,
    maxSteps: T.maxSteps,
    seed,
    out: o.out,
    checkpoint: false,
    signal: budget?.signal,
    onStep: (st) => {
      epochLoss.sum += st.loss;
      epochLoss.n += 1;
      if (budget && performance.now() - started > T.maxMinutes! * 60_000) budget.abort();
    },
    progress: { label: 'segmentation' },
    log: o.log,
    step: (idx, ctx) => {
      const samples = idx.map((i) => o.train[i]!);
      const rngs = augment ? idx.map((i) => ctx.rng.fork(`aug/${i}`)) : undefined;
      const { x, y } = makeBatch(samples, o.transform, rngs);
      const loss = bceDiceLoss(unet.forward(x), y, { variant, validate: false });
      return { loss };
    },
    onEpochEnd: (e) => {
      epochLoss.sum = 0;
      epochLoss.n = 0;
      lossCurve.push({ epoch: e.epoch, step: e.steps, loss: e.meanLoss });
      const last = e.epoch === T.epochs - 1 || e.steps >= total;
      if (!o.val.length || T.select === 'last' || ((e.epoch + 1) % T.valEvery !== 0 && !last)) return;
      validate(e.epoch, e.steps, e.meanLoss);
    },
  });
  // stopped inside an epoch (train.maxSteps, train.maxMinutes): fit ends that epoch without
  // onEpochEnd; its weights are the last ones, so they are validated like an epoch's end
  const partial = epochLoss.n > 0;
  const stoppedBy: TrainResult['stoppedBy'] = res.reason === 'aborted' ? 'time' : res.reason === 'maxSteps' ? 'maxSteps' : 'epochs';
  if (stoppedBy === 'time') o.log(`[segmentation] train.maxMinutes (${T.maxMinutes}) reached after ${res.steps} steps`);
  if (partial) {
    const meanLoss = epochLoss.sum / epochLoss.n;
    lossCurve.push({ epoch: res.epoch, step: res.steps, loss: meanLoss });
    if (o.val.length && T.select !== 'last') validate(res.epoch, res.steps, meanLoss);
  }
  const kept = best as { epoch: number; dice: number; state: Map<string, RawTensor> } | null;
  if (kept && T.select === 'best-val') unet.loadStateDict(kept.state);
  const lastEpoch = lossCurve.at(-1)?.epoch ?? 0;
  return {
    steps: res.steps,
    epochs: lossCurve.length,
    valCurve,
    lossCurve,
    selectedEpoch: kept && T.select === 'best-val' ? kept.epoch : lastEpoch,
    selectedValDice: kept && T.select === 'best-val' ? kept.dice : (valCurve.at(-1)?.dice ?? null),
    stoppedBy,
  };
}
