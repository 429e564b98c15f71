/**
 * ResNet-18/34/50/101 with torchvision's module layout and parameter names (conv1, bn1,
 * layer1..layer4, BasicBlock/Bottleneck v1.5 with the stride on the 3x3 conv), returning
 * the pyramid [x, stem, layer1, layer2, layer3, layer4] like smp's ResNet encoders.
 * The classification head (`fc`) is not part of the backbone; its checkpoint keys are ignored.
 */
import * as tf from '@tensorflow/tfjs';
import { G2DError, Rng } from '@g2d-ts/core';
import { BatchNorm, Conv2d, Module, fromPretrainedAs, maxPool2d, relu, type FromPretrainedOptions, type ModuleOptions } from '@g2d-ts/nn';
import type { Backbone, BackboneOptions } from './types';

export interface ResNetConfig {
  block: 'basic' | 'bottleneck';
  /** Blocks per stage, e.g. [3, 4, 6, 3] for ResNet-50. */
  layers: [number, number, number, number];
  /** Stage widths (default torchvision's 64, 128, 256, 512; smaller values make tiny test nets). */
  widths?: [number, number, number, number];
  /** Stem width (default 64). */
  stemWidth?: number;
  inChannels?: number;
}

class BasicBlock extends Module {
  static readonly expansion = 1;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm;
  readonly downsample?: Downsample;
  constructor(inplanes: number, planes: number, stride: number, opts: ModuleOptions) {
    super(opts);
    const o = { rng: this.rng };
    const init = 'kaiming_normal_fan_out' as const;
    this.conv1 = this.addChild('conv1', new Conv2d(inplanes, planes, 3, { ...o, stride, padding: 1, bias: false, init }));
    this.bn1 = this.addChild('bn1', new BatchNorm(planes, o));
    this.conv2 = this.addChild('conv2', new Conv2d(planes, planes, 3, { ...o, padding: 1, bias: false, init }));
    this.bn2 = this.addChild('bn2', new BatchNorm(planes, o));
    if (stride !== 1 || inplanes !== planes) this.downsample = this.addChild('downsample', new Downsample(inplanes, planes, stride, o));
  }
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      let y = relu(this.bn1.forward(this.conv1.forward(x)));
      y = this.bn2.forward(this.conv2.forward(y));
      const id = this.downsample ? this.downsample.forward(x) : x;
      return relu(tf.add(y, id)) as tf.Tensor4D;
    });
  }
}

class Bottleneck extends Module {
  static readonly expansion = 4;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm;
  readonly conv3: Conv2d;
  readonly bn3: BatchNorm;
  readonly downsample?: Downsample;
  constructor(inplanes: number, planes: number, stride: number, opts: ModuleOptions) {
    super(opts);
    const o = { rng: this.rng };
    const init = 'kaiming_normal_fan_out' as const;
    const out = planes * 4;
    this.conv1 = this.addChild('conv1', new Conv2d(inplanes, planes, 1, { ...o, bias: false, init }));
    this.bn1 = this.addChild('bn1', new BatchNorm(planes, o));
    this.conv2 = this.addChild('conv2', new Conv2d(planes, planes, 3, { ...o, stride, padding: 1, bias: false, init }));
    this.bn2 = this.addChild('bn2', new BatchNorm(planes, o));
    this.conv3 = this.addChild('conv3', new Conv2d(planes, out, 1, { ...o, bias: false, init }));
    this.bn3 = this.addChild('bn3', new BatchNorm(out, o));
    if (stride !== 1 || inplanes !== out) this.downsample = this.addChild('downsample', new Downsample(inplanes, out, stride, o));
  }
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      let y = relu(this.bn1.forward(this.conv1.forward(x)));
      y = relu(this.bn2.forward(this.conv2.forward(y)));
      y = this.bn3.forward(this.conv3.forward(y));
      const id = this.downsample ? this.downsample.forward(x) : x;
      return relu(tf.add(y, id)) as tf.Tensor4D;
    });
  }
}

/** torchvision's `downsample = Sequential(conv1x1(stride), BatchNorm2d)` → names "0.*", "1.*". */
class Downsample extends Module {
  readonly conv: Conv2d;
  readonly bn: BatchNorm;
  constructor(inC: number, outC: number, stride: number, opts: ModuleOptions) {
    super(opts);
    this.conv = this.addChild('0', new Conv2d(inC, outC, 1, { rng: this.rng, stride, bias: false, init: 'kaiming_normal_fan_out' }));
    this.bn = this.addChild('1', new BatchNorm(outC, { rng: this.rng }));
  }
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => this.bn.forward(this.conv.forward(x)));
  }
}

class Stage extends Module {
  readonly blocks: (BasicBlock | Bottleneck)[] = [];
  constructor(
    kind: 'basic' | 'bottleneck',
    inplanes: number,
    planes: number,
    n: number,
    stride: number,
    opts: ModuleOptions,
    /** 0 for layer1 … 3 for layer4 */
    private readonly level = 0,
  ) {
    super(opts);
    const B = kind === 'basic' ? BasicBlock : Bottleneck;
    for (let i = 0; i < n; i++) {
      this.blocks.push(this.addChild(String(i), new B(i === 0 ? inplanes : planes * B.expansion, planes, i === 0 ? stride : 1, { rng: this.rng })));
    }
  }
  forward(x: tf.Tensor4D): tf.Tensor4D {
    // memory modes: 'lean' recomputes every block in the backward pass, 'balanced' those of
    // layer1 and layer2 (the most activation memory per unit of compute)
    const recompute = this.memoryMode === 'lean' || (this.memoryMode === 'balanced' && this.level < 2);
    return tf.tidy(() => this.blocks.reduce((h, b) => this.runBlock(recompute, b, (t) => b.forward(t as tf.Tensor4D), [h]), x));
  }
}

/** conv1 → bn1 → ReLU as one block for `runBlock` (a view of the ResNet's own layers, not registered). */
class StemBlock {
  constructor(private readonly net: ResNet) {}
  trainableVariables(): tf.Variable[] {
    return [...this.net.conv1.trainableVariables(), ...this.net.bn1.trainableVariables()];
  }
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => relu(this.net.bn1.forward(this.net.conv1.forward(x))));
  }
}

export class ResNet extends Module implements Backbone {
  readonly outChannels: number[];
  readonly reductions = [1, 2, 4, 8, 16, 32];
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm;
  readonly stages: Stage[] = [];

  constructor(
    readonly name: string,
    readonly resnetConfig: ResNetConfig,
    opts: BackboneOptions = {},
  ) {
    super({ rng: new Rng(opts.seed ?? 0) });
    const inC = opts.inChannels ?? resnetConfig.inChannels ?? 3;
    const widths = resnetConfig.widths ?? [64, 128, 256, 512];
    const stem = resnetConfig.stemWidth ?? 64;
    const exp = resnetConfig.block === 'basic' ? 1 : 4;
    const o = { rng: this.rng };
    this.conv1 = this.addChild('conv1', new Conv2d(inC, stem, 7, { ...o, stride: 2, padding: 3, bias: false, init: 'kaiming_normal_fan_out' }));
    this.bn1 = this.addChild('bn1', new BatchNorm(stem, o));
    let inplanes = stem;
    for (let i = 0; i < 4; i++) {
      this.stages.push(this.addChild(`layer${i + 1}`, new Stage(resnetConfig.block, inplanes, widths[i]!, resnetConfig.layers[i]!, i === 0 ? 1 : 2, o, i)));
      inplanes = widths[i]! * exp;
    }
    this.outChannels = [inC, stem, ...widths.map((w) => w * exp)];
    this.config = { ...resnetConfig, widths, stemWidth: stem, inChannels: inC };
  }

  readonly config: Record<string, unknown>;

  forward(x: tf.Tensor4D): tf.Tensor4D[] {
    if (x.rank !== 4 || x.shape[3] !== this.outChannels[0]) {
      throw new G2DError(
        `${this.name}: expected an NHWC batch [B, H, W, ${this.outChannels[0]}], got [${x.shape.join(', ')}]`,
      );
    }
    const feats: tf.Tensor4D[] = [x.clone()];
    // the stem is recomputed in 'lean' mode (its output is kept: it is a pyramid level)
    const stem = new StemBlock(this);
    let h = tf.tidy(() => this.runBlock(this.memoryMode === 'lean', stem, (t) => stem.forward(t as tf.Tensor4D), [x]));
    feats.push(h);
    h = maxPool2d(h, 3, 2, 1);
    for (const s of this.stages) {
      const next = s.forward(h);
      if (feats[feats.length - 1] !== h) h.dispose();
      feats.push(next);
      h = next;
    }
    return feats;
  }

  /** The classification head (`fc.*`) of torchvision/timm checkpoints is not part of the backbone. */
  override isIgnorableKey(key: string): boolean {
    return key.startsWith('fc.');
  }

  /** A saved ResNet (directory with config.json, hub id, or a bare torchvision/timm checkpoint). */
  static fromPretrained(pathOrHubId: string, opts?: FromPretrainedOptions): Promise<ResNet> {
    return fromPretrainedAs(ResNet, pathOrHubId, opts);
  }
}

export const RESNET_CONFIGS: Record<string, ResNetConfig> = {
  resnet18: { block: 'basic', layers: [2, 2, 2, 2] },
  resnet34: { block: 'basic', layers: [3, 4, 6, 3] },
  resnet50: { block: 'bottleneck', layers: [3, 4, 6, 3] },
  resnet101: { block: 'bottleneck', layers: [3, 4, 23, 3] },
};
