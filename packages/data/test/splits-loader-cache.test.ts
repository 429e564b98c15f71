/** Splits, the worker-thread loader (determinism, resume, skip policy) and `prepare` caches (the CLI: cli.test.ts). */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Rng, G2DError } from '@g2d-ts/core';
import { describeShared, expectNoLeakedTensors } from '@g2d-ts/core/testing';
import {
  DataLoader, centerCrop, compose, grayTo3Channels, imagesToTensor, loadImage, makeSplitFile, nihChestXray14, normalize, openCache,
  patientFraction, patientSplit, prepareDataset, randomAffine, randomHorizontalFlip, colorJitter, readSplitFile, referencePreprocess, selectPart,
  writeSplitFile, type ItemRef, type Sample,
} from '../src';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'g2d-slc-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const quiet = () => undefined;

describe('patient-level splits and fractions', () => {
  const items = Array.from({ length: 500 }, (_, i) => ({ id: `img${i}`, patientId: `p${Math.floor(i / 3) % 137}` }));
  it('deterministic, disjoint by patient, close to the ratios', () => {
    const a = patientSplit(items, 7);
    const b = patientSplit(items, 7);
    expect(a).toEqual(b);
    expect(patientSplit(items, 8).train).not.toEqual(a.train);
    const pids = (xs: { patientId: string }[]) => new Set(xs.map((x) => x.patientId));
    const [tr, va, te] = [pids(a.train), pids(a.val), pids(a.test)];
    for (const p of va) expect(tr.has(p)).toBe(false);
    for (const p of te) expect(tr.has(p) || va.has(p)).toBe(false);
    expect(a.train.length + a.val.length + a.test.length).toBe(500);
    expect(tr.size).toBe(Math.round(137 * 0.7));
    expect(() => patientSplit(items, 1, { train: 0.5, val: 0.5, test: 0.5 })).toThrow(G2DError);
  });
  it('1% ⊂ 10% ⊂ 100%, whole patients, at least the fraction', () => {
    const f1 = patientFraction(items, 0.01, 3);
    const f10 = patientFraction(items, 0.1, 3);
    expect(f1.length).toBeGreaterThanOrEqual(5);
    expect(f10.length).toBeGreaterThanOrEqual(50);
    const s10 = new Set(f10.map((x) => x.id));
    for (const x of f1) expect(s10.has(x.id)).toBe(true);
    const p1 = new Set(f1.map((x) => x.patientId));
    expect(items.filter((x) => p1.has(x.patientId)).length).toBe(f1.length);
  });
  it('split files are written next to results and read back', () => {
    const sf = makeSplitFile('toy', items, 42);
    const file = writeSplitFile(path.join(tmp, 'results'), sf);
    expect(path.basename(file)).toBe('splits-toy-seed42.json');
    const back = readSplitFile(file);
    expect(selectPart(back, 'train@0.1', items).map((x) => x.id)).toEqual(patientFraction(patientSplit(items, 42).train, 0.1, 42).map((x) => x.id));
    expect(back.counts.train!.items + back.counts.val!.items + back.counts.test!.items).toBe(500);
    expect(() => selectPart(back, 'nope', items)).toThrow(/no part "nope"/);
  });
});

describe('dictionary transforms', () => {
  const base = (): Sample => {
    const w = 6;
    const h = 4;
    const data = Float32Array.from({ length: w * h }, (_, i) => i / 24);
    const mask = Uint8Array.from({ length: w * h }, (_, i) => (i % w < 2 ? 1 : 0));
    return { image: { width: w, height: h, channels: 1, data }, mask: { width: w, height: h, data: mask }, boxes: [{ x: 0, y: 0, w: 2, h: 4 }] };
  };
  it('flip moves image, mask and boxes together', () => {
    const s = randomHorizontalFlip(1)(base(), new Rng(1));
    expect(s.image.data[0]).toBeCloseTo(5 / 24);
    expect(Array.from(s.mask!.data.subarray(0, 6))).toEqual([0, 0, 0, 0, 1, 1]);
    expect(s.boxes).toEqual([{ x: 4, y: 0, w: 2, h: 4 }]);
  });
  it('center crop follows torchvision (top/left = round((H-h)/2))', () => {
    const s = centerCrop([2, 3])(base(), new Rng(1));
    // H=4,W=6 -> top 1, left round(1.5)=2
    expect(Array.from(s.image.data)).toEqual([8, 9, 10, 14, 15, 16].map((v) => Math.fround(v / 24)));
    expect(s.boxes).toEqual([]); // box at x 0..2 is cropped away
  });
  it('same seed -> same augmentation; image and mask move together under the affine', () => {
    const t = compose(randomAffine({ degrees: 15, shear: 15 }), colorJitter({ brightness: 0.2, contrast: 0.2 }));
    const a = t(base(), new Rng('x'));
    const b = t(base(), new Rng('x'));
    expect(Array.from(a.image.data)).toEqual(Array.from(b.image.data));
    const id = randomAffine({ degrees: 0, shear: 0 })(base(), new Rng(2));
    expect(Array.from(id.image.data)).toEqual(Array.from(base().image.data));
    expect(Array.from(id.mask!.data)).toEqual(Array.from(base().mask!.data));
  });
  it('grey -> 3 channels, ImageNet normalisation, NHWC tensors without leaks', async () => {
    const s = compose(grayTo3Channels(), normalize())(base(), new Rng(0));
    expect(s.image.channels).toBe(3);
    expect(s.image.data[0]).toBeCloseTo((0 - 0.485) / 0.229);
    expect(s.image.data[5]).toBeCloseTo((1 / 24 - 0.406) / 0.225);
    await expectNoLeakedTensors(() => {
      const t = imagesToTensor([s, s]);
      expect(t.shape).toEqual([2, 4, 6, 3]);
      t.dispose();
    });
    expect(tf.memory().numTensors).toBeGreaterThanOrEqual(0);
  });
});

describeShared('loader and prepare on real images', 'data/nih_cxr14_bbox', (root) => {
  let items: ItemRef[];
  beforeAll(() => {
    items = nihChestXray14({ root }).items.slice(0, 24);
    const bad = path.join(tmp, 'corrupt.jpg');
    fs.writeFileSync(bad, Buffer.from([0xff, 0xd8, 0xff, 0xdb, 0, 3, 1, 0xff, 0xd9]));
    items.splice(5, 0, { id: 'corrupt', patientId: 'x', image: bad });
  });

  it('worker threads and the main thread give identical, deterministic batches; resume and skip policy', async () => {
    const opts = { batchSize: 4, seed: 3, size: 64, transform: compose(randomAffine(), randomHorizontalFlip()), log: quiet };
    const collect = async (dl: DataLoader, start = 0) => {
      const out: { ids: string[]; px: number[] }[] = [];
      for await (const b of dl.epoch(1, start)) out.push({ ids: b.ids, px: b.samples.map((s) => s.image.data[100]!) });
      return out;
    };
    const w = new DataLoader(items, { ...opts, workers: 2 });
    const m = new DataLoader(items, { ...opts, workers: 0 });
    const [bw, bm] = [await collect(w), await collect(m)];
    expect(bw).toEqual(bm);
    expect(w.length).toBe(7);
    expect(bw.flatMap((b) => b.ids)).toHaveLength(24);
    expect(w.report().skipped).toBe(1);
    expect(w.report().items[0]!.reason).toMatch(/corrupt/);
    const resumed = await collect(w, 3);
    expect(resumed).toEqual(bw.slice(3));
    await w.close();
    await m.close();
    const strict = new DataLoader(items, { ...opts, workers: 0, onError: 'fail', shuffle: false });
    await expect(collect(strict)).rejects.toThrow(/corrupt\.jpg: corrupt JPEG/);
  });

  it('prepare: shards + manifest, skip report, interrupted run resumes to the same bytes', async () => {
    const list = path.join(tmp, 'list.txt');
    fs.writeFileSync(list, items.slice(0, 9).map((i) => i.image).join('\n'));
    const full = await prepareDataset({ list, outDir: path.join(tmp, 'cacheA'), size: 32, shardSize: 4, log: quiet });
    expect(full.manifest.complete).toBe(true);
    expect(full.manifest.items).toHaveLength(8);
    expect(full.skipped).toHaveLength(1);
    const part = await prepareDataset({ list, outDir: path.join(tmp, 'cacheB'), size: 32, shardSize: 4, maxShards: 1, log: quiet });
    expect(part.manifest.complete).toBe(false);
    const rest = await prepareDataset({ list, outDir: path.join(tmp, 'cacheB'), size: 32, shardSize: 4, log: quiet });
    expect(rest.resumedFrom).toBe(4);
    for (const s of full.manifest.shards) expect(fs.readFileSync(path.join(tmp, 'cacheB', s.file)).equals(fs.readFileSync(path.join(tmp, 'cacheA', s.file)))).toBe(true);
    const c = openCache(path.join(tmp, 'cacheA'));
    const k = 6;
    const ref = referencePreprocess((await loadImage(c.source(k))).image, { size: 32 });
    expect(Array.from(c.get(k))).toEqual(Array.from(ref));
    c.close();
    await expect(prepareDataset({ list, outDir: path.join(tmp, 'cacheA'), size: 64, log: quiet })).rejects.toThrow(/refusing to resume this cache: it was made with size 32 \(this run: 64\)/);
  });
});
