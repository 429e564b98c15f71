/**
 * Full-size parity with the reference libraries on identical (random, seeded) weights:
 * torchvision ResNet-18/34/50/101 and timm's resnet50 (every pyramid level), a full smp.Unet('resnet50') state
 * dict (pyramid, decoder output, logits) and torchvision's ViT-B/16 (at 32x32 input).
 * The weights (~1.3 GB) are generated into tmp/goldens/vision by
 * `tools/vision/gen_goldens.py --set large` (run here automatically when .venv-ref exists;
 * otherwise this suite is skipped with a visible message).
 */
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { type RawTensor, readCheckpoint } from '@g2d-ts/core';
import { describeBackends } from '@g2d-ts/core/testing';
import { type Backbone, Unet, VisionTransformer, backbones } from '../src';
import { expectClose, expectPyramidMatches, expectUnetMatches, largeGoldens, nhwc, readIO } from './helpers';

const dir = largeGoldens();
const RESNETS = ['resnet18', 'resnet34', 'resnet50', 'resnet101'];

if (!dir) {
  describe.skip('full-size parity (SKIPPED: no goldens and no .venv-ref to generate them)', () => {
    it('needs tools/vision/gen_goldens.py --set large', () => undefined);
  });
} else {
  // read each checkpoint once for all backends
  const cache = new Map<string, Promise<Map<string, RawTensor>>>();
  const weights = (f: string) => {
    if (!cache.has(f)) cache.set(f, readCheckpoint(path.join(dir, f)));
    return cache.get(f)!;
  };

  describeBackends('full-size parity', () => {
    for (const name of RESNETS) {
      // both formats for two nets, .pth for the others
      const files = name === 'resnet18' || name === 'resnet50' ? [`${name}.pth`, `${name}.safetensors`] : [`${name}.pth`];
      for (const f of files) {
        it(`torchvision ${name} (${f}): every pyramid level at 64x64`, async () => {
          const io = await readIO(path.join(dir, `${name}_io.safetensors`));
          const net = backbones.create(name) as Backbone;
          const rep = net.loadStateDict(await weights(f), { source: f, findPrefix: true });
          expect(rep.ignored.sort()).toEqual(['fc.bias', 'fc.weight']);
          expectPyramidMatches(net, io, name);
          net.dispose();
        });
      }
    }

    it('timm resnet50 (timm.create_model, same names as torchvision): every pyramid level', async () => {
      const io = await readIO(path.join(dir, 'timm_resnet50_io.safetensors'));
      const net = backbones.create('resnet50') as Backbone;
      const rep = net.loadStateDict(await weights('timm_resnet50.safetensors'), { source: 'timm_resnet50.safetensors', findPrefix: true });
      expect(rep.ignored.sort()).toEqual(['fc.bias', 'fc.weight']);
      expectPyramidMatches(net, io, 'timm resnet50');
      net.dispose();
    });

    it('smp.Unet("resnet50") full state dict: pyramid, decoder output and logits at 64x64', async () => {
      const io = await readIO(path.join(dir, 'smp_unet_resnet50_io.safetensors'));
      const net = new Unet({ encoder: 'resnet50', classes: 1 });
      const rep = net.loadStateDict(await weights('smp_unet_resnet50.pth'), { source: 'smp_unet_resnet50.pth', findPrefix: true });
      expect(rep.loaded).toHaveLength(net.namedEntries().length);
      expectUnetMatches(net, io);
      net.dispose();
    });

    it('torchvision ViT-B/16 (32x32 input): final tokens', async () => {
      const io = await readIO(path.join(dir, 'vit_b_16_32px_io.safetensors'));
      const vit = backbones.create('vit_b_16', { imageSize: 32 }) as VisionTransformer;
      vit.loadStateDict(await weights('vit_b_16_32px.safetensors'), { source: 'vit_b_16_32px.safetensors', findPrefix: true });
      const x = nhwc(io.get('input')!) as tf.Tensor4D;
      const { tokens } = vit.forwardTokens(x);
      expectClose(tokens, io.get('tokens')!, 'vit tokens');
      tf.dispose([x, tokens]);
      vit.dispose();
    });
  });
}
