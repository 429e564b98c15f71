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

/** One conv → BN of a residual block: output channels, kernel size, whether it takes the block's stride. */
interface ConvSpec {
  out: number;
  k: 1 | 3;
  strided?: boolean;
}

/** torchvision's two block kinds: BasicBlock (3x3, 3x3) and Bottleneck v1.5 (1x1, 3x3 with the stride, 1x1 ×4). */
const BLOCKS: Record<ResNetConfig['block'], { expansion: number; convs(planes: number): ConvSpec[] }> = {
  basic: { expansion: 1, convs: (planes) => [{ out: planes, k: 3, strided: true }, { out: planes, k: 3 }] },
  bottleneck: { expansion: 4, convs: (planes) => [{ out: planes, k: 1 }, { out: planes, k: 3, strided: true }, { out: planes * 4, k: 1 }] },
};

/**
 * A residual block with torchvision's names: conv<i> → bn<i> (ReLU between them), the input
 * (or `downsample` of it) added before the last ReLU.
 */
class ResidualBlock extends Module {
  private readonly layers: [Conv2d, BatchNorm][] = [];
  readonly downsample?: Downsample;
  constructor(inplanes: number, stride: number, convs: ConvSpec[], opts: ModuleOptions) {
    super(opts);
    const o = { rng: this.rng };
    let cin = inplanes;
    convs.forEach((c, i) => {
      const conv = new Conv2d(cin, c.out, c.k, { ...o, stride: c.strided ? stride : 1, padding: (c.k - 1) / 2, bias: false, init: 'kaiming_normal_fan_out' });
      this.layers.push([this.addChild(`conv${i + 1}`, conv), this.addChild(`bn${i + 1}`, new BatchNorm(c.out, o))]);
      cin = c.out;
    });
    if (stride !== 1 || inplanes !== cin) this.downsample = this.addChild('downsample', new Downsample(inplanes, cin, stride, o));
  }
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const last = this.layers.length - 1;
      const y = this.layers.reduce((h, [conv, bn], i) => (i < last ? relu(bn.forward(conv.forward(h))) : bn.forward(conv.forward(h))), x);
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
  readonly blocks: ResidualBlock[] = [];
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
    const { expansion, convs } = BLOCKS[kind];
    for (let i = 0; i < n; i++) {
      this.blocks.push(this.addChild(String(i), new ResidualBlock(i === 0 ? inplanes : planes * expansion, i === 0 ? stride : 1, convs(planes), { rng: this.rng })));
    }
  }
  forward(x: tf.Tensor4D): tf.Tensor4D {
    // memory modes: 'balanced' and 'lean' recompute the blocks of layer1 and layer2 in the
    // backward pass (the most activation memory per unit of compute); 'lean' also the stem
    // (see ResNet.forward). layer3 and layer4 keep their activations in every mode: the
    // backward pass runs layer4 → layer1, so what they keep is freed before it reaches layer2,
    // layer1 and the stem, where a step's memory peaks (the recomputed high-resolution blocks
    // with their gradients). Measured on ResNet-50 at 256² (CPU, peak RSS of the process):
    // recomputing layer3 as well left the peak where it was (batch 8: 1818 vs 1801 MiB; batch
    // 16: 2223 vs 2202 MiB) and cost ~0.6 s of a ~4.6 s step; layer4's activations are ~4 % of
    // the network's for ~20 % of its block compute.
    const recompute = this.memoryMode !== 'fast' && this.level < 2;
    return tf.tidy(() => this.blocks.reduce((h, b) => this.runBlock(recompute, b, (t) => b.forward(t as tf.Tensor4D), [h]), x));
  }
}

/** conv1 → bn1 → ReLU as one block for `runBlock` (a view of the ResNet's own layers, not registered). */
class StemBlock {
  constructor(private readonly net: ResNet) {}
  trainableVariables(): tf.Variable[] {
    return [...this.net.conv1.trainableVariables(), ...this.net.bn1.trainableVariables()];
  }
  namedModules(): [string, Module][] {
    return [...this.net.conv1.namedModules('conv1.'), ...this.net.bn1.namedModules('bn1.')];
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
    // the stem is recomputed in 'lean' mode (its output is kept: it is a pyramid level); that
    // lowered a ResNet-50's peak at 256² from 2422 to 2202 MiB at batch 16 (1853 → 1801 at 8)
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
