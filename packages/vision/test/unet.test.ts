/**
 * U-Net decoder sizing (exact smp.Unet parameter names/shapes), odd input sizes, a ViT
 * encoder, BatchNorm train/eval mode, freezing, no leaks.
 */
import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { describeBackends, expectArraysClose, expectNoLeakedTensors } from '@g2d-ts/core/testing';
import { ResNet, Unet, UnetDecoder, VisionTransformer, backbones } from '../src';
import { fixture } from './helpers';

const TINY = { block: 'bottleneck', layers: [1, 1, 1, 1], widths: [4, 4, 8, 8], stemWidth: 8 };

describe('Unet structure', () => {
  it.each(['resnet18', 'resnet50'])('Unet(%s) has exactly smp.Unet\'s parameter names and shapes', (enc) => {
    const want = JSON.parse(fs.readFileSync(fixture(`smp_unet_${enc}_shapes.json`), 'utf8')) as Record<string, number[]>;
    const net = new Unet({ encoder: enc });
    const got = Object.fromEntries([...net.stateDict()].map(([k, t]) => [k, t.shape]));
    // smp's encoders drop torchvision's fc
    expect(got).toEqual(want);
    expect(net.decoder.decoderChannels).toEqual([256, 128, 64, 32, 16]);
    net.dispose();
  });

  it('sizes the decoder from any encoder and validates decoder channels', () => {
    const d = new UnetDecoder([3, 8, 16, 32, 64, 128], [1, 2, 4, 8, 16, 32], { decoderChannels: [20, 10, 8, 6, 4] });
    expect(d.blocks.map((b) => [b.inChannels, b.skipChannels, b.outChannels])).toEqual([
      [128, 64, 20],
      [20, 32, 10],
      [10, 16, 8],
      [8, 8, 6],
      [6, 0, 4],
    ]);
    d.dispose();
    expect(() => new UnetDecoder([3, 8, 16], [1, 2, 4], { decoderChannels: [8, 4, 2] })).toThrow(/3 decoder channels given, but the encoder \(reduction 4\) needs 2/);
    expect(() => backbones.create('resnet5')).toThrow(/unknown backbone "resnet5". Valid names: resnet101, resnet18, resnet34, resnet50, vit_b_16/);
  });
});

describeBackends('Unet', () => {
  it('odd input sizes give logits of the input size (nearest upsampling to each skip)', async () => {
    const net = new Unet({ encoder: 'tiny', encoderConfig: TINY, decoderChannels: [8, 8, 4, 4, 4], classes: 3 });
    net.eval();
    const x = tf.randomNormal([2, 45, 37, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const y = await expectNoLeakedTensors(() => net.forward(x), 1);
    expect(y.shape).toEqual([2, 45, 37, 3]);
    tf.dispose([x, y]);
    net.dispose();
  });

  it('works with a ViT encoder (4 blocks for reduction 16, no skips)', () => {
    const enc = new VisionTransformer('vit', { imageSize: 32, patchSize: 16, numLayers: 2, numHeads: 2, hiddenDim: 32, mlpDim: 64 });
    const net = new Unet({ encoder: enc });
    expect(net.decoder.decoderChannels).toEqual([128, 64, 32, 16]);
    net.eval();
    const x = tf.randomNormal([1, 32, 32, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
    const y = net.forward(x);
    expect(y.shape).toEqual([1, 32, 32, 1]);
    tf.dispose([x, y]);
    net.dispose();
  });

  it('BatchNorm: train mode uses batch statistics and updates running averages, eval mode uses them', () => {
    const net = new ResNet('tiny', TINY as never);
    const x = tf.randomNormal([2, 32, 32, 3], 1, 2, 'float32', 3) as tf.Tensor4D;
    net.eval();
    const e1 = net.forward(x);
    const before = net.stateDict().get('bn1.running_mean')!;
    net.train();
    const t1 = net.forward(x);
    const after = net.stateDict();
    // running_mean <- 0.9 * 0 + 0.1 * batch mean of the stem conv output
    const conv = net.conv1.forward(x);
    const batchMean = tf.mean(conv, [0, 1, 2]);
    expectArraysClose(after.get('bn1.running_mean')!.data, tf.mul(batchMean, 0.1), { rtol: 1e-4, atol: 1e-5 });
    expect(Array.from(before.data as Float32Array)).toEqual(new Array(8).fill(0));
    expect(Number((after.get('bn1.num_batches_tracked')!.data as BigInt64Array)[0])).toBe(1);
    // train-mode output uses the batch statistics, so it differs from the eval-mode output
    expect(Array.from(t1[1]!.dataSync())).not.toEqual(Array.from(e1[1]!.dataSync()));
    net.eval();
    const e2 = net.forward(x);
    expect(after.get('bn1.running_var')!.data).not.toEqual(before.data);
    tf.dispose([x, conv, batchMean, ...e1, ...t1, ...e2]);
    net.dispose();
  });

  it('freezing: frozen parameters are excluded from trainableVariables, variableGrads and optimizers', () => {
    const net = new Unet({ encoder: 'tiny', encoderConfig: TINY, decoderChannels: [8, 8, 4, 4, 4] });
    const all = net.trainableVariables().length;
    net.freeze(['encoder']);
    expect(net.frozen().every((n) => n.startsWith('encoder.'))).toBe(true);
    expect(net.encoder.trainableVariables()).toEqual([]);
    expect(net.frozen().length).toBe(net.encoder.namedEntries().filter(([, e]) => e.kind === 'tensor' && !e.buffer).length);
    const trainable = net.trainableVariables();
    expect(trainable.length).toBeLessThan(all);
    const enc = net.encoder.stateDict();
    const dec = net.decoder.stateDict();
    const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 4) as tf.Tensor4D;
    net.train();
    const opt = tf.train.sgd(0.1);
    // no varList: tfjs uses every trainable variable, which excludes the frozen ones
    opt.minimize(() => tf.mean(net.forward(x)) as tf.Scalar);
    const enc2 = net.encoder.stateDict();
    const dec2 = net.decoder.stateDict();
    expect(enc2.get('conv1.weight')!.data).toEqual(enc.get('conv1.weight')!.data);
    expect(dec2.get('blocks.0.conv1.0.weight')!.data).not.toEqual(dec.get('blocks.0.conv1.0.weight')!.data);
    net.unfreeze();
    expect(net.trainableVariables().length).toBe(all);
    expect(() => net.freeze(['nope'])).toThrow('no parameters match "nope"');
    x.dispose();
    opt.dispose();
    net.dispose();
  });
});
