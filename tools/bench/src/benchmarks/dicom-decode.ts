/**
 * dicom-decode: DICOM file -> preprocessed tensor, images per second, @g2d-ts/data vs pydicom +
 * numpy/skimage (tools/bench/reference/dicom-decode.py) doing the same work in the same run:
 * read + decode (JPEG baseline, JPEG lossless, native), Modality LUT, VOI, MONOCHROME1, quantise,
 * the reference G2D preprocessing to 256x256 uint8, then a float32 [1, 256, 256, 1] tensor.
 * Both sides single-threaded (ours on the main thread, no worker pool; torch 1 thread).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { DataLoader, decodeDicomGray, initCodecs, referencePreprocess, type ItemRef } from '@g2d-ts/data';
import { defineBenchmark, median, timeIt } from '../types';

const FILES = [
  'chest/siim_1.2.276.0.7230010.3.1.4.8323329.6904.1517875201.850819.dcm', // CR 1024², JPEG baseline
  'chest/siim_Fake_MONOCHROME1.dcm', // same, MONOCHROME1
  'chest/nih_dx_1.3.6.1.4.1.11129.5.5.110503645592756492463169821050252582267888.dcm', // DX 1024², implicit LE
  'chest/CR-MONO1-10-chest.dcm', // CR 440², 10-bit, no meta, MONOCHROME1, window
  'codecs/fodicom_CR-ModalitySequenceLUT.dcm', // CR 1576x1976, JPEG lossless, Modality LUT Sequence
];

function sharedData(root: string): string {
  const cands = [process.env.G2D_SHARED_DIR && path.join(process.env.G2D_SHARED_DIR, 'data'), path.join(root, '..', 'shared', 'data')].filter(Boolean) as string[];
  const d = cands.find((c) => fs.existsSync(path.join(c, 'dicom_samples')));
  if (!d) throw new Error('dicom-decode needs ../shared/data/dicom_samples (or G2D_SHARED_DIR)');
  return d;
}

export default defineBenchmark({
  name: 'dicom-decode',
  description: 'DICOM -> modality/VOI/MONOCHROME1 -> reference crop/min-max/resize 256 -> float32 tensor; images/s vs pydicom+numpy+skimage',
  async run(ctx) {
    const size = 256;
    const files = FILES.map((f) => path.join(sharedData(ctx.root), 'dicom_samples', f));
    const bytes = files.map((f) => fs.readFileSync(f)); // page cache warm for both sides
    void bytes;
    await initCodecs();
    const one = async (f: string) => {
      const { image } = await decodeDicomGray(fs.readFileSync(f), f);
      const u8 = referencePreprocess(image, { size, source: f });
      const t = tf.tidy(() => tf.tensor4d(u8, [1, size, size, 1], 'int32').toFloat().div(255));
      await t.data();
      t.dispose();
    };
    const iters = ctx.quick ? 2 : 7;
    ctx.log(`ours: ${files.length} files x ${iters} passes`);
    const passes = await timeIt(async () => {
      for (const f of files) await one(f);
    }, iters, 1);
    const ours = median(passes) / files.length;
    // the same work through the DataLoader's worker threads (2 workers, this machine's cores)
    const refs: ItemRef[] = files.map((f, i) => ({ id: String(i), patientId: String(i), image: f }));
    const many = Array.from({ length: 8 }, () => refs).flat();
    const loader = new DataLoader(many, { batchSize: 8, size, workers: 2, prefetch: 4, shuffle: false });
    for await (const b of loader.epoch(0)) void b; // warm-up: worker start, codec init
    const tl = await timeIt(async () => {
      for await (const b of loader.epoch(1)) {
        const t = tf.tidy(() => tf.stack(b.samples.map((s) => tf.tensor3d(s.image.data, [size, size, 1]))));
        await t.data();
        t.dispose();
      }
    }, ctx.quick ? 1 : 3, 0);
    await loader.close();
    const loaderMs = median(tl) / many.length;
    ctx.log('reference: pydicom + pylibjpeg + numpy + skimage');
    const ref = await ctx.runPython('tools/bench/reference/dicom-decode.py', ['--size', String(size), '--iters', String(iters), ...files], { timeoutMs: 600_000 });
    const refMs = Number(ref.msPerImage);
    return {
      ours: { msPerImage: ours, imagesPerSec: 1000 / ours, files: files.length, passes: iters, backend: ctx.backend, loader2WorkersImagesPerSec: 1000 / loaderMs },
      reference: { msPerImage: refMs, imagesPerSec: 1000 / refMs, pydicom: String(ref.pydicom), numpy: String(ref.numpy) },
      ratio: ours / refMs,
      unit: `ms per image (DICOM file -> ${size}x${size} float32 tensor), mean over ${files.length} chest CR/DX files, single thread`,
      notes: 'target: ratio <= 0.5 (>= 2x the Python pipeline). The DataLoader adds worker-thread parallelism on top of this.',
    };
  },
});
