/**
 * bert-base-train: BERT-base (12 layers, 768, 12 heads, vocab 28996) forward + backward on
 * 8 x 128 tokens (a padded tail in the mask), gradients for every parameter; median ms per
 * step after warm-up, against the same model in PyTorch measured in the same run.
 */
import * as tf from '@tensorflow/tfjs';
import { BertModel, BERT_BASE_CONFIG } from '@g2d-ts/text';
import { benchThreads, defineBenchmark, median, peakRssMiB, timeIt } from '../types';

export default defineBenchmark({
  name: 'bert-base-train',
  description: 'BERT-base forward+backward on 8x128 tokens (ms/step) vs PyTorch',
  async run(ctx) {
    const batch = 8, seq = 128;
    const iters = ctx.quick ? 2 : 10, warmup = ctx.quick ? 1 : 2;
    const model = new BertModel({ ...BERT_BASE_CONFIG, vocabSize: 28996 }, { seed: 0 });
    const ids = tf.tidy(() => tf.randomUniform([batch, seq], 0, 28996, 'int32', 1) as tf.Tensor2D);
    const mask = tf.tidy(() => tf.concat([tf.ones([batch, (seq * 3) / 4], 'int32'), tf.zeros([batch, seq / 4], 'int32')], 1) as tf.Tensor2D);
    const vars = model.trainableVariables();
    const step = () => {
      const { value, grads } = tf.variableGrads(() => {
        const out = model.forward({ inputIds: ids, attentionMask: mask }, { training: false, validate: false });
        return tf.add(tf.mean(tf.square(out.lastHiddenState)), tf.sum(out.pooledOutput!)) as tf.Scalar;
      }, vars);
      // materialise the gradients (the backward pass) before timing stops
      const all = Object.values(grads);
      tf.tidy(() => tf.stack(all.map((g) => tf.sum(g))).dataSync());
      value.dispose();
      tf.dispose(all);
    };
    step();
    const tensorsAfterWarmup = tf.memory().numTensors;
    const times = await timeIt(step, iters, warmup - 1);
    const tensorGrowth = tf.memory().numTensors - tensorsAfterWarmup;
    const ours = { medianMs: median(times), minMs: Math.min(...times), iters, tensorGrowth, peakRssMiB: peakRssMiB() };
    model.dispose();
    tf.dispose([ids, mask]);
    ctx.log(`ours: ${ours.medianMs.toFixed(0)} ms/step on ${ctx.backend}`);
    const ref = await ctx.runPython('tools/bench/reference/bert_base_train.py', [
      '--batch', String(batch), '--seq', String(seq), '--iters', String(iters), '--warmup', String(warmup), '--threads', String(benchThreads()),
    ]);
    ctx.log(`reference: ${(ref.medianMs as number).toFixed(0)} ms/step (torch ${ref.torch}, ${ref.threads} threads)`);
    return {
      ours,
      reference: ref as Record<string, number | string>,
      ratio: ours.medianMs / (ref.medianMs as number),
      unit: 'ms per forward+backward step (BERT-base, 8x128 tokens)',
    };
  },
});
