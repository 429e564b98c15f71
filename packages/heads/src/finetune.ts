/**
 * `FineTuneClassifier`: the fine-tuning set-up: an image encoder (any @g2d-ts/vision
 * `Backbone`, e.g. a G2D model's `img_model.encoder`) + global average pooling of its last
 * stage + a `LinearClassifier`, trained end to end with separate learning rates for the
 * encoder and the head (`parameterGroups`: one optimizer per group, or one with per-group
 * LRs). `freezeEncoder()` turns it into the linear probe on the fly (BatchNorm statistics of a
 * frozen encoder are not updated: the encoder runs in eval mode then).
 */
import * as tf from '@tensorflow/tfjs';
import { G2DError } from '@g2d-ts/core';
import { Module } from '@g2d-ts/nn';
import type { Backbone } from '@g2d-ts/vision';
import { LinearClassifier } from './linear';

export interface FineTuneClassifierOptions {
  numClasses: number;
  /** dropout before the linear layer (default 0) */
  dropout?: number;
  /** seed of the head's initial weights (default 0) */
  seed?: number | string;
}

export interface ParameterGroup {
  name: 'encoder' | 'head';
  variables: Map<string, tf.Variable>;
}

export class FineTuneClassifier extends Module {
  readonly encoder: Backbone;
  readonly head: LinearClassifier;
  private encoderFrozen = false;

  constructor(encoder: Backbone, opts: FineTuneClassifierOptions) {
    super();
    if (!encoder || typeof (encoder as { forward?: unknown }).forward !== 'function' || !Array.isArray(encoder.outChannels)) {
      throw new G2DError('FineTuneClassifier: "encoder" must be a Backbone (forward(x) -> feature pyramid, outChannels)');
    }
    this.encoder = this.addChild('encoder', encoder);
    const inFeatures = encoder.outChannels[encoder.outChannels.length - 1]!;
    this.head = this.addChild('head', new LinearClassifier({ inFeatures, numClasses: opts.numClasses, dropout: opts.dropout, seed: opts.seed }));
  }

  /** Pooled last-stage features [B, C5] (the linear probe's input). */
  features(images: tf.Tensor4D): tf.Tensor2D {
    const run = () => {
      const pyramid = this.encoder.forward(images);
      try {
        return tf.mean(pyramid[pyramid.length - 1]!, [1, 2]) as tf.Tensor2D;
      } finally {
        for (const t of pyramid) if (t !== images) t.dispose();
      }
    };
    if (!this.encoderFrozen) return run();
    const was = this.encoder.training;
    this.encoder.eval();
    try {
      return run();
    } finally {
      this.encoder.train(was);
    }
  }

  /** images [B, H, W, 3] (normalised) -> logits [B, numClasses]. */
  forward(images: tf.Tensor4D): tf.Tensor2D {
    if (!(images instanceof tf.Tensor) || images.rank !== 4) {
      throw new G2DError(`FineTuneClassifier.forward: "images" must be a [B, H, W, C] tensor, got ${images instanceof tf.Tensor ? `[${images.shape.join(', ')}]` : typeof images}`);
    }
    const f = this.features(images);
    try {
      return this.head.forward(f);
    } finally {
      f.dispose();
    }
  }

  /** Per-class probabilities, eval mode. */
  predict(images: tf.Tensor4D): tf.Tensor2D {
    return this.withTraining(false, () => tf.tidy(() => tf.sigmoid(this.forward(images))));
  }

  /** Freezes the encoder (its parameters and its BatchNorm statistics): a linear probe. */
  freezeEncoder(): this {
    this.freeze(['encoder']);
    this.encoderFrozen = true;
    return this;
  }

  unfreezeEncoder(): this {
    this.unfreeze(['encoder']);
    this.encoderFrozen = false;
    return this;
  }

  /** Trainable variables split into the encoder's and the head's (for separate learning rates). */
  parameterGroups(): ParameterGroup[] {
    const enc = new Map<string, tf.Variable>();
    const head = new Map<string, tf.Variable>();
    for (const [name, v] of this.namedVariables()) {
      if (!v.trainable) continue;
      if (name.startsWith('encoder.')) enc.set(name, v);
      else head.set(name, v);
    }
    return [
      { name: 'encoder', variables: enc },
      { name: 'head', variables: head },
    ];
  }
}
