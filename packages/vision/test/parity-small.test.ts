/**
 * Parity with torchvision / smp / timm on identical weights (small committed fixtures made by
 * tools/vision/gen_goldens.py --set small): every pyramid level, train-mode BatchNorm
 * (batch statistics, running-stat updates, gradients), U-Net decoder and logits, the G2D
 * reference checkpoints, ViT tokens.
 */
import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { readCheckpoint, toFloat32 } from '@g2d-ts/core';
import { describeBackends, expectArraysClose } from '@g2d-ts/core/testing';
import {
  G2DVisionModel,
  ResNet,
  Unet,
  VisionTransformer,
  backbones,
  type ResNetConfig,
} from '../src';
import { autoFromPretrained, loadWeights, toTorchLayout } from '@g2d-ts/nn';
import { PARITY, expectClose, expectPyramidMatches, expectUnetMatches, fixture, nhwc, readIO } from './helpers';

const TINY: Record<string, ResNetConfig> = {
  tiny_bottleneck: { block: 'bottleneck', layers: [2, 1, 1, 1], widths: [4, 8, 8, 16], stemWidth: 8 },
  tiny_basic: { block: 'basic', layers: [1, 2, 1, 1], widths: [4, 8, 8, 16], stemWidth: 8 },
};
const G2D_ENCODER: ResNetConfig = { block: 'bottleneck', layers: [1, 1, 1, 1], widths: [2, 2, 4, 4], stemWidth: 4 };

describeBackends('vision parity (small fixtures)', () => {
  for (const [name, cfg] of Object.entries(TINY)) {
    describe(name, () => {
      for (const ext of ['pth', 'safetensors']) {
        it(`matches every pyramid level in eval mode (weights from .${ext})`, async () => {
          const io = await readIO(fixture(`${name}_io.safetensors`));
          const net = new ResNet(name, cfg);
          const rep = await loadWeights(net, fixture(`${name}.${ext}`));
          expect(rep.prefix).toBe('');
          expectPyramidMatches(net, io, name);
          net.dispose();
        });
      }

      it('matches train-mode BatchNorm: output, running statistics and every gradient', async () => {
        const io = await readIO(fixture(`${name}_io.safetensors`));
        const net = new ResNet(name, cfg);
        await loadWeights(net, fixture(`${name}.pth`));
        net.train();
        const x = nhwc(io.get('input')!) as tf.Tensor4D;
        const w = nhwc(io.get('train.weight')!);
        const vars = net.namedVariables();
        const trainable = [...vars.entries()].filter(([, v]) => v.trainable);
        let feat5: tf.Tensor | undefined;
        const { value, grads } = tf.variableGrads(() => {
          const feats = net.forward(x);
          feat5 = tf.keep(feats[5]!.clone());
          return tf.sum(tf.mul(feats[5]!, w)) as tf.Scalar;
        }, trainable.map(([, v]) => v));
        expectClose(feat5!, io.get('train.feat5')!, 'train feat5');
        expectArraysClose(value, toFloat32(io.get('train.loss')!), { rtol: 1e-3, atol: 1e-3 });
        for (const [n, v] of trainable) {
          const entry = net.namedEntries().find(([k]) => k === n)![1];
          const layout = entry.kind === 'tensor' ? entry.layout : 'plain';
          const g = toTorchLayout(grads[v.name]!, layout);
          const want = io.get(`train.grad.${n}`)!;
          expect(g.shape).toEqual(want.shape);
          // gradients sum over many terms: absolute tolerance relative to their scale
          const scale = Math.max(...Array.from(toFloat32(want), Math.abs));
          try {
            expectArraysClose(g, toFloat32(want), { rtol: 1e-3, atol: 1e-4 * Math.max(1, scale) });
          } catch (e) {
            throw new Error(`grad ${n}: ${(e as Error).message}`);
          }
          g.dispose();
        }
        const sd = net.stateDict();
        for (const [k, t] of io) {
          if (!k.startsWith('train.state.')) continue;
          expectArraysClose(toFloat32(sd.get(k.slice('train.state.'.length))!), toFloat32(t), PARITY);
        }
        expect(Number((sd.get('bn1.num_batches_tracked')!.data as BigInt64Array)[0])).toBe(8);
        tf.dispose([x, w, value, feat5!, ...Object.values(grads)]);
        net.dispose();
      });
    });
  }

  it('tiny U-Net (smp UnetDecoder + SegmentationHead): pyramid, decoder output and logits', async () => {
    const io = await readIO(fixture('tiny_unet_io.safetensors'));
    const net = new Unet({
      encoder: 'tiny',
      encoderConfig: { block: 'bottleneck', layers: [1, 1, 1, 1], widths: [4, 4, 8, 8], stemWidth: 8 },
      decoderChannels: [16, 8, 8, 4, 4],
      classes: 2,
    });
    const rep = await loadWeights(net, fixture('tiny_unet.safetensors'));
    expect(rep.loaded).toHaveLength(net.namedEntries().length);
    expectUnetMatches(net, io);
    net.dispose();
  });

  it('G2D reference checkpoints: full training state, encoder+decoder and encoder', async () => {
    const io = await readIO(fixture('g2d_tiny_io.safetensors'));
    const model = new G2DVisionModel({
      backbone: 'tiny',
      encoderConfig: G2D_ENCODER as unknown as Record<string, unknown>,
      imageSize: 64,
      projHidden: 8,
      projOut: 8,
      heads: 4,
      decoderChannels: [8, 4, 4, 4, 4],
    });
    const rep = await loadWeights(model, fixture('g2d_tiny_2_checkpoint.pth'));
    expect(rep.prefix).toBe('');
    expect(rep.ignored.some((k) => k.startsWith('lm_model.'))).toBe(true);
    expect(rep.ignored.some((k) => k.startsWith('proj_t.'))).toBe(true);
    model.eval();
    const x = nhwc(io.get('input')!) as tf.Tensor4D;
    const out = model.forward(x);
    expectClose(out.imgEmb, io.get('feat5')!, 'feat5');
    expectClose(out.projImgEmb, io.get('proj')!, 'proj_v');
    expectClose(out.pooled, io.get('pooled')!, 'pooled');
    const att = io.get('att_map')!; // [B, heads, HW+1]
    const spatial = tf.tidy(() => tf.slice(nhwc(att), [0, 0, 1], [-1, -1, -1]).reshape(out.attnMap.shape));
    expectArraysClose(out.attnMap, spatial, PARITY);
    expectClose(out.logits!, io.get('logits')!, 'logits');
    tf.dispose([x, spatial, ...out.pyramid, out.projImgEmb, out.pooled, out.attnMap, out.logits!]);

    // encoder+decoder file → the Unet (and the same into the G2D model's img_model)
    const unet = new Unet({ encoder: 'tiny', encoderConfig: G2D_ENCODER as unknown as Record<string, unknown>, decoderChannels: [8, 4, 4, 4, 4] });
    await loadWeights(unet, fixture('g2d_tiny_2_encoder_decoder.pth'));
    const enc = new ResNet('tiny', G2D_ENCODER);
    const r2 = await loadWeights(enc, fixture('g2d_tiny_2_encoder.pth'));
    expect(r2.loaded).toHaveLength(enc.namedEntries().length);
    // loading the encoder out of the full checkpoint finds the "img_model.encoder." prefix
    const enc2 = new ResNet('tiny', G2D_ENCODER);
    const r3 = await loadWeights(enc2, fixture('g2d_tiny_2_checkpoint.pth'));
    expect(r3.prefix).toBe('img_model.encoder.');
    const a = enc.stateDict();
    const b = enc2.stateDict();
    const c = model.img_model.encoder.stateDict();
    for (const [k, t] of a) {
      expect({ k, v: Array.from(toFloat32(b.get(k)!)) }).toEqual({ k, v: Array.from(toFloat32(t)) });
      expect({ k, v: Array.from(toFloat32(c.get(k)!)) }).toEqual({ k, v: Array.from(toFloat32(t)) });
    }
    [unet, enc, enc2, model].forEach((m) => m.dispose());
  });

  it('autoFromPretrained infers the architecture of each reference checkpoint file', async () => {
    const full = await autoFromPretrained(fixture('g2d_tiny_2_checkpoint.pth'));
    expect(full).toBeInstanceOf(G2DVisionModel);
    const ed = await autoFromPretrained(fixture('g2d_tiny_2_encoder_decoder.pth'));
    expect(ed).toBeInstanceOf(Unet);
    const e = await autoFromPretrained(fixture('g2d_tiny_2_encoder.pth'));
    expect(e).toBeInstanceOf(ResNet);
    expect((e as ResNet).outChannels).toEqual([3, 4, 8, 8, 16, 16]);
    // same weights as the explicit load
    const sd = await readCheckpoint(fixture('g2d_tiny_2_encoder.pth'));
    expectArraysClose(toFloat32(e.stateDict().get('layer4.0.conv2.weight')!), toFloat32(sd.get('layer4.0.conv2.weight')!), { rtol: 0, atol: 0 });
    // the static fromPretrained of each class checks what the file holds; models come back in eval mode
    const g = await G2DVisionModel.fromPretrained(fixture('g2d_tiny_2_checkpoint.pth'));
    expect(g).toBeInstanceOf(G2DVisionModel);
    expect(g.namedModules().every(([, m]) => !m.training)).toBe(true);
    await expect(Unet.fromPretrained(fixture('g2d_tiny_2_encoder.pth'))).rejects.toThrow(/g2d_tiny_2_encoder\.pth: holds a ResNet, not a Unet/);
    [full, ed, e, g].forEach((m) => m.dispose());
  });

  for (const name of ['tiny_vit', 'tiny_vit_timm']) {
    it(`${name}: ViT tokens match ${name.endsWith('timm') ? 'timm (renamed on import)' : 'torchvision'}`, async () => {
      const io = await readIO(fixture(`${name}_io.safetensors`));
      const vit = new VisionTransformer('tiny_vit', { imageSize: 32, patchSize: 16, numLayers: 2, numHeads: 2, hiddenDim: 16, mlpDim: 32 });
      const rep = await loadWeights(vit, fixture(`${name}.safetensors`));
      expect(rep.ignored.length).toBeGreaterThan(0); // the classifier head
      const x = nhwc(io.get('input')!) as tf.Tensor4D;
      const { tokens } = vit.forwardTokens(x);
      expectClose(tokens, io.get('tokens')!, `${name} tokens`);
      tf.dispose([x, tokens]);
      vit.dispose();
    });
  }
});

describe('registered configs', () => {
  it('vit_b_16 has exactly torchvision vit_b_16 parameter names and shapes (minus the head)', () => {
    const want = JSON.parse(fs.readFileSync(fixture('vit_b_16_shapes.json'), 'utf8')) as Record<string, number[]>;
    const vit = backbones.create('vit_b_16');
    const got = Object.fromEntries([...vit.stateDict()].map(([k, t]) => [k, t.shape]));
    const expected = Object.fromEntries(Object.entries(want).filter(([k]) => !k.startsWith('heads.')));
    expect(got).toEqual(expected);
    vit.dispose();
  });
});
