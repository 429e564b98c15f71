/**
 * synth: synthetic chest radiographs per second at 256x256 (generateSynthetic: anatomy,
 * findings with masks and boxes, report), single thread. There is no outside reference for a
 * procedural generator, so the figure it is compared with is the step it feeds: one ResNet-18
 * training step (batch 8, 256x256, Adam, BatchNorm in training mode) on the active backend,
 * measured in the same run. ratio = ms to generate a batch of 8 / ms of that training step
 * (below 1: generating on the main thread already keeps up; the loader's workers add headroom).
 */
import * as tf from '@tensorflow/tfjs';
import { generateSynthetic, syntheticLayout } from '@g2d-ts/data';
import { backbones } from '@g2d-ts/vision';
import { defineBenchmark, median, timeIt } from '../types';

const SIZE = 256;
const BATCH = 8;

export default defineBenchmark({
  name: 'synth',
  description: 'synthetic 256x256 chest radiographs with findings, masks, boxes and reports (images/s, 1 thread) vs one ResNet-18 training step',
  async run(ctx) {
    const n = ctx.quick ? 8 : 48;
    let k = 0;
    // every study has findings (normalShare 0) and the default mix (30 % normal)
    const cpu0 = process.cpuUsage();
    const withFindings = await timeIt(() => generateSynthetic(1000 + k++, { seed: 'bench', size: SIZE, normalShare: 0 }), n, 2);
    const cpu = process.cpuUsage(cpu0);
    // CPU time of this process per image (warm-up included): less sensitive than wall time to other jobs on the machine
    const cpuMsPerImage = (cpu.user + cpu.system) / 1000 / (n + 2);
    const mixed = await timeIt(() => generateSynthetic(5000 + k++, { seed: 'bench', size: SIZE }), n, 2);
    const layout = await timeIt(() => syntheticLayout(9000 + k++, { seed: 'bench', size: SIZE }), n, 2);
    const msPerImage = median(withFindings);
    ctx.log(`ours: ${msPerImage.toFixed(1)} ms/image with findings (${(1000 / msPerImage).toFixed(1)} images/s; CPU ${cpuMsPerImage.toFixed(1)} ms/image), ${median(mixed).toFixed(1)} ms default mix, ${median(layout).toFixed(1)} ms layout only (index)`);

    // what one batch feeds: a ResNet-18 training step, batch 8, 256x256
    const model = backbones.create('resnet18', { seed: 0 });
    model.train();
    const feat = 512;
    const w = tf.variable(tf.randomNormal([feat, 8], 0, 0.01, 'float32', 1), true, 'fc.weight');
    const b = tf.variable(tf.zeros([8]), true, 'fc.bias');
    const opt = tf.train.adam(1e-4);
    const x = tf.randomNormal([BATCH, SIZE, SIZE, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
    const y = tf.tidy(() => tf.cast(tf.greater(tf.randomUniform([BATCH, 8], 0, 1, 'float32', 3), 0.7), 'float32'));
    const vars = [...model.trainableVariables(), w, b];
    const step = () => {
      const loss = opt.minimize(() => tf.tidy(() => {
        const feats = model.forward(x);
        const logits = tf.add(tf.matMul(tf.mean(feats[feats.length - 1]!, [1, 2]), w), b);
        return tf.losses.sigmoidCrossEntropy(y, logits) as tf.Scalar;
      }), true, vars)!;
      loss.dataSync();
      loss.dispose();
    };
    const stepMs = median(await timeIt(step, ctx.quick ? 2 : 5, 1));
    model.dispose();
    opt.dispose();
    tf.dispose([w, b, x, y]);
    ctx.log(`ResNet-18 training step (batch ${BATCH}, ${SIZE}x${SIZE}) on ${ctx.backend}: ${stepMs.toFixed(0)} ms`);
    return {
      ours: {
        msPerImageWithFindings: msPerImage,
        imagesPerSecond: 1000 / msPerImage,
        minMsPerImage: Math.min(...withFindings),
        cpuMsPerImage,
        msPerImageDefaultMix: median(mixed),
        msPerImageLayoutOnly: median(layout),
        images: n,
        batchMs: BATCH * msPerImage,
      },
      reference: { resnet18TrainStepMs: stepMs, backend: ctx.backend, note: 'no outside reference for a procedural generator; the comparison is the training step a batch feeds' },
      ratio: (BATCH * msPerImage) / stepMs,
      unit: `ms to generate a batch of ${BATCH} synthetic ${SIZE}x${SIZE} images with findings (1 thread) / ms of one ResNet-18 training step (batch ${BATCH})`,
      notes: 'generateSynthetic with normalShare 0 (every study has findings); msPerImageDefaultMix: 30 % normal; msPerImageLayoutOnly: syntheticLayout (findings, masks, boxes and report without drawing the radiograph, as the on-the-fly dataset index does).',
    };
  },
});
