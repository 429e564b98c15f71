/**
 * resnet50-train: one training step of ResNet-50 (our @g2d-ts/vision backbone + global pool +
 * a 1000-way linear layer, softmax cross-entropy, Adam), batch 8, 256x256, BatchNorm in
 * training mode; median ms/step after warm-up, peak RSS, tensor and RSS growth over the
 * timed steps, against torchvision's ResNet-50 doing the same in PyTorch in the same run.
 */
import * as tf from '@tensorflow/tfjs';
import { backbones } from '@g2d-ts/vision';
import { benchThreads, defineBenchmark, median, peakRssMiB } from '../types';

export default defineBenchmark({
  name: 'resnet50-train',
  description: 'ResNet-50 training step, batch 8, 256x256, Adam (ms/step) vs PyTorch',
  async run(ctx) {
    const batch = 8, size = 256;
    const iters = ctx.quick ? 3 : 50, warmup = 2;
    const model = backbones.create('resnet50', { seed: 0 });
    model.train();
    const w = tf.variable(tf.randomNormal([2048, 1000], 0, 0.01, 'float32', 1), true, 'fc.weight');
    const b = tf.variable(tf.zeros([1000]), true, 'fc.bias');
    const vars = [...model.trainableVariables(), w, b];
    const opt = tf.train.adam(1e-4);
    const x = tf.randomNormal([batch, size, size, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
    const y = tf.tidy(() => tf.oneHot(tf.randomUniform([batch], 0, 1000, 'int32', 3) as tf.Tensor1D, 1000));
    const step = () => {
      const loss = opt.minimize(() => tf.tidy(() => {
        const feats = model.forward(x);
        const logits = tf.add(tf.matMul(tf.mean(feats[5]!, [1, 2]), w), b);
        return tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar;
      }), true, vars)!;
      loss.dataSync(); // wait for the step to finish
      loss.dispose();
    };
    for (let i = 0; i < warmup; i++) step();
    const tensors0 = tf.memory().numTensors;
    const rss0 = process.memoryUsage().rss;
    const times: number[] = [];
    const rssMiB: number[] = []; // RSS after each timed step
    for (let i = 0; i < iters; i++) {
      const t0 = performance.now();
      step();
      times.push(performance.now() - t0);
      rssMiB.push(process.memoryUsage().rss / 2 ** 20);
    }
    const tenth = Math.min(9, iters - 1);
    const ours = {
      medianMs: median(times),
      minMs: Math.min(...times),
      iters,
      tensorGrowthPerStep: (tf.memory().numTensors - tensors0) / iters,
      rssGrowthMiB: (process.memoryUsage().rss - rss0) / 2 ** 20,
      // allocator pools settle in the first steps; flat RSS means no growth after that
      rssGrowthAfterStep10MiB: rssMiB[iters - 1]! - rssMiB[tenth]!,
      rssSamplesMiB: [0, tenth, Math.floor(iters / 2), iters - 1].map((i) => Math.round(rssMiB[i]!)).join('/'),
      peakRssMiB: peakRssMiB(),
    };
    model.dispose();
    opt.dispose();
    tf.dispose([w, b, x, y]);
    ctx.log(`ours: ${ours.medianMs.toFixed(0)} ms/step on ${ctx.backend}, tensor growth/step ${ours.tensorGrowthPerStep}, RSS growth ${ours.rssGrowthMiB.toFixed(0)} MiB over ${iters} steps`);
    const ref = await ctx.runPython('tools/bench/reference/resnet50_train.py', [
      '--batch', String(batch), '--size', String(size), '--iters', String(ctx.quick ? 3 : 10), '--warmup', String(warmup), '--threads', String(benchThreads()),
    ]);
    ctx.log(`reference: ${(ref.medianMs as number).toFixed(0)} ms/step (torch ${ref.torch}, ${ref.threads} threads)`);
    return {
      ours,
      reference: ref as Record<string, number | string>,
      ratio: ours.medianMs / (ref.medianMs as number),
      unit: 'ms per training step (ResNet-50, batch 8, 256x256, Adam)',
    };
  },
});
