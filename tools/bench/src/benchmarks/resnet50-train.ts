/**
 * resnet50-train: one training step of ResNet-50 (our @g2d-ts/vision backbone + global pool +
 * a 1000-way linear layer, softmax cross-entropy, Adam), batch 8, 256x256, BatchNorm in
 * training mode, in each memory mode ('fast' keeps every activation, 'balanced' recomputes
 * layer1 + layer2 in the backward pass, 'lean' every block and the stem), with the library's
 * training path: gradients from @g2d-ts/nn's backward pass (frees saved tensors and gradients
 * as it goes) and @g2d-ts/train's AdamW with weight decay 0 (= torch.optim.Adam; tfjs's own
 * tf.train.adam holds every variable's update temporaries at once, ~1.4 GiB more at its
 * peak). Median ms/step after warm-up, peak RSS, tensor growth; against torchvision's
 * ResNet-50 doing the same in PyTorch (torch.optim.Adam), alternated in the same run.
 */
import * as tf from '@tensorflow/tfjs';
import { variableGrads } from '@g2d-ts/nn';
import { AdamW } from '@g2d-ts/train';
import { backbones } from '@g2d-ts/vision';
import { trainBenchmark } from '../train-benchmark';

export default trainBenchmark({
  name: 'resnet50-train',
  steps: (quick) => ({ warmup: 2, iters: quick ? 2 : 5 }),
  description: 'ResNet-50 training step, batch 8, 256x256, Adam (ms/step, peak RSS per memory mode) vs PyTorch',
  unit: 'ms per training step (ResNet-50, batch 8, 256x256, Adam); ratio = ours (fast) / PyTorch',
  sizes: { batch: 8, size: 256 },
  logExtra: (f) => `, tensor growth/step ${f.tensorGrowthPerStep}`,
  setup(mode, { batch, size }) {
    const model = backbones.create('resnet50', { seed: 0 }).setMemoryMode(mode);
    model.train();
    const w = tf.variable(tf.randomNormal([2048, 1000], 0, 0.01, 'float32', 1), true, 'fc.weight');
    const b = tf.variable(tf.zeros([1000]), true, 'fc.bias');
    const vars = [...model.trainableVariables(), w, b];
    const opt = new AdamW(new Map([...model.namedVariables(), ['fc.weight', w], ['fc.bias', b]]), { lr: 1e-4, weightDecay: 0 });
    const x = tf.randomNormal([batch, size, size, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
    const y = tf.tidy(() => tf.oneHot(tf.randomUniform([batch], 0, 1000, 'int32', 3) as tf.Tensor1D, 1000));
    const step = () => {
      const { value, grads } = variableGrads(() => tf.tidy(() => {
        const feats = model.forward(x);
        const logits = tf.add(tf.matMul(tf.mean(feats[5]!, [1, 2]), w), b);
        return tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar;
      }), vars);
      opt.step(grads); // disposes each gradient once applied
      value.dataSync(); // the step has finished
      value.dispose();
    };
    const dispose = () => {
      model.dispose();
      opt.dispose();
      tf.dispose([w, b, x, y]);
    };
    return { step, dispose };
  },
});
