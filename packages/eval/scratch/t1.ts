import * as tf from '@tensorflow/tfjs';
import { initBackend } from '@g2d-ts/core';
import { generateSynthetic, syntheticDataset } from '@g2d-ts/data';
import { createModel } from '@g2d-ts/model';
async function main() {
  await initBackend();
  let t = performance.now();
  for (let i = 0; i < 10; i++) generateSynthetic(i, { size: 128 });
  console.log('synth128 ms/img', (performance.now() - t) / 10);
  t = performance.now();
  for (let i = 0; i < 5; i++) generateSynthetic(i, { size: 256 });
  console.log('synth256 ms/img', (performance.now() - t) / 5);
  t = performance.now();
  const idx = syntheticDataset({ count: 1000 });
  console.log('index ms', performance.now() - t, idx.items.length);
  t = performance.now();
  const m = createModel('g2d-resnet18-tiny', { seed: 0 });
  console.log('create ms', performance.now() - t);
  m.eval();
  const x = tf.randomNormal([32, 128, 128, 3]) as tf.Tensor4D;
  for (let k = 0; k < 3; k++) {
    t = performance.now();
    const p = m.img_model.encoder.forward(x);
    const last = p[p.length - 1]!;
    const f = last.mean([1, 2]);
    await f.data();
    console.log('enc fwd 32 ms', performance.now() - t, last.shape);
    p.forEach((q) => q !== x && q.dispose()); f.dispose();
  }
}
main();
