/**
 * `LinearClassifier`: the linear-probe head, one `Linear` layer (`fc`, PyTorch nn.Linear
 * names and layout) from pooled frozen features [B, D] to one logit per class [B, C]
 * (multi-label: a sigmoid per class; train with BCE-with-logits). Optional dropout before it.
 */
import * as tf from '@tensorflow/tfjs';
import { G2DError, Rng } from '@g2d-ts/core';
import { Dropout, Linear, Module, registerModelClass } from '@g2d-ts/nn';

export interface LinearClassifierOptions {
  /** feature width D */
  inFeatures: number;
  /** number of classes C */
  numClasses: number;
  /** dropout on the features in training mode (default 0) */
  dropout?: number;
  /** seed of the initial weights (default 0) */
  seed?: number | string;
}

export class LinearClassifier extends Module {
  readonly config: Required<Omit<LinearClassifierOptions, 'seed'>>;
  readonly fc: Linear;
  readonly drop?: Dropout;

  constructor(opts: LinearClassifierOptions) {
    const seed = opts?.seed ?? 0;
    super({ rng: new Rng(`${seed}/linear-classifier`) });
    if (!opts || !Number.isInteger(opts.inFeatures) || opts.inFeatures < 1) throw new G2DError(`LinearClassifier: "inFeatures" must be a positive integer, got ${JSON.stringify(opts?.inFeatures)}`);
    if (!Number.isInteger(opts.numClasses) || opts.numClasses < 1) throw new G2DError(`LinearClassifier: "numClasses" must be a positive integer, got ${JSON.stringify(opts.numClasses)}`);
    const dropout = opts.dropout ?? 0;
    if (!(dropout >= 0 && dropout < 1)) throw new G2DError(`LinearClassifier: "dropout" must be in [0, 1), got ${dropout}`);
    this.config = { inFeatures: opts.inFeatures, numClasses: opts.numClasses, dropout };
    if (dropout > 0) this.drop = this.addChild('drop', new Dropout(dropout, { rng: this.rng }));
    this.fc = this.addChild('fc', new Linear(opts.inFeatures, opts.numClasses, { rng: this.rng }));
  }

  /** features [B, D] -> logits [B, C] (dropout only in training mode). */
  forward(features: tf.Tensor2D): tf.Tensor2D {
    if (!(features instanceof tf.Tensor) || features.rank !== 2 || features.shape[1] !== this.config.inFeatures) {
      throw new G2DError(`LinearClassifier.forward: "features" must be a [B, ${this.config.inFeatures}] tensor, got ${features instanceof tf.Tensor ? `[${features.shape.join(', ')}]` : typeof features}`);
    }
    return tf.tidy(() => this.fc.forward(this.drop ? this.drop.forward(features) : features));
  }

  /** Per-class probabilities (sigmoid of the logits), eval mode. */
  predict(features: tf.Tensor2D): tf.Tensor2D {
    return this.withTraining(false, () => tf.tidy(() => tf.sigmoid(this.forward(features))));
  }
}

registerModelClass('LinearClassifier', {
  cls: LinearClassifier,
  fromConfig: (c) => new LinearClassifier(c as unknown as LinearClassifierOptions),
});
