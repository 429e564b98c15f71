/**
 * bert-base-train: BERT-base (12 layers, 768, 12 heads, vocab 28996) forward + backward on
 * 8 x 128 tokens (a padded tail in the mask), gradients for every parameter, in each memory
 * mode ('balanced' recomputes every second layer in the backward pass, 'lean' every layer),
 * gradients from @g2d-ts/nn's backward pass; median ms per step and peak RSS against the
 * same model in PyTorch, alternated in the same run.
 */
import * as tf from '@tensorflow/tfjs';
import { variableGrads } from '@g2d-ts/nn';
import { BertModel, BERT_BASE_CONFIG } from '@g2d-ts/text';
import { trainBenchmark } from '../train-benchmark';

export default trainBenchmark({
  name: 'bert-base-train',
  steps: (quick) => ({ warmup: quick ? 1 : 2, iters: quick ? 2 : 5 }),
  description: 'BERT-base forward+backward on 8x128 tokens (ms/step, peak RSS per memory mode) vs PyTorch',
  unit: 'ms per forward+backward step (BERT-base, 8x128 tokens); ratio = ours (fast) / PyTorch',
  sizes: { batch: 8, seq: 128 },
  setup(mode, { batch, seq }) {
    const model = new BertModel({ ...BERT_BASE_CONFIG, vocabSize: 28996 }, { seed: 0 }).setMemoryMode(mode);
    const ids = tf.tidy(() => tf.randomUniform([batch, seq], 0, 28996, 'int32', 1) as tf.Tensor2D);
    const mask = tf.tidy(() => tf.concat([tf.ones([batch, (seq * 3) / 4], 'int32'), tf.zeros([batch, seq / 4], 'int32')], 1) as tf.Tensor2D);
    const vars = model.trainableVariables();
    const step = () => {
      const { value, grads } = variableGrads(() => {
        // no dropout: the PyTorch baseline has none either
        const out = model.forward({ inputIds: ids, attentionMask: mask }, { training: false, validate: false });
        return tf.add(tf.mean(tf.square(out.lastHiddenState)), tf.sum(out.pooledOutput!)) as tf.Scalar;
      }, vars);
      // materialise the gradients (the backward pass) before timing stops
      const all = Object.values(grads);
      tf.tidy(() => tf.stack(all.map((g) => tf.sum(g))).dataSync());
      value.dispose();
      tf.dispose(all);
    };
    const dispose = () => {
      model.dispose();
      tf.dispose([ids, mask]);
    };
    return { step, dispose };
  },
});
