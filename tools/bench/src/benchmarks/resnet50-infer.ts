/**
 * resnet50-infer: ResNet-50 as a feature extractor (eval mode, the full pyramid up to the
 * 2048-channel map), batch 8, 256x256; images/s against torchvision's ResNet-50 trunk in
 * PyTorch (no_grad) in the same run. ratio = reference images/s / ours (time per image).
 */
import * as tf from '@tensorflow/tfjs';
import { backbones } from '@g2d-ts/vision';
import { benchThreads, defineBenchmark, median, peakRssMiB, timeIt } from '../types';

export default defineBenchmark({
  name: 'resnet50-infer',
  description: 'ResNet-50 feature extraction, batch 8, 256x256 (images/s) vs PyTorch',
  async run(ctx) {
    const batch = 8, size = 256;
    const iters = ctx.quick ? 3 : 20, warmup = 2;
    const model = backbones.create('resnet50', { seed: 0 });
    model.eval();
    const x = tf.randomNormal([batch, size, size, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
    const tensors0 = tf.memory().numTensors;
    const times = await timeIt(() => {
      const feats = model.forward(x);
      feats[5]!.dataSync();
      tf.dispose(feats);
    }, iters, warmup);
    const ms = median(times);
    const ours = { medianMs: ms, imagesPerSec: batch / (ms / 1000), iters, tensorGrowth: tf.memory().numTensors - tensors0, peakRssMiB: peakRssMiB() };
    model.dispose();
    x.dispose();
    ctx.log(`ours: ${ours.imagesPerSec.toFixed(1)} images/s on ${ctx.backend}`);
    const ref = await ctx.runPython('tools/bench/reference/resnet50_infer.py', [
      '--batch', String(batch), '--size', String(size), '--iters', String(iters), '--warmup', String(warmup), '--threads', String(benchThreads()),
    ]);
    ctx.log(`reference: ${(ref.imagesPerSec as number).toFixed(1)} images/s (torch ${ref.torch}, ${ref.threads} threads)`);
    return {
      ours,
      reference: ref as Record<string, number | string>,
      ratio: (ref.imagesPerSec as number) / ours.imagesPerSec,
      unit: 'time per image (ResNet-50 features, batch 8, 256x256); ratio = reference images/s / ours',
    };
  },
});
