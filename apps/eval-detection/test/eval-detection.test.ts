/**
 * g2d-eval-detection on tiny data: a micro G2D checkpoint saved by the test, 30 on-the-fly
 * synthetic studies at 64², a few steps. Checks the mAP function by hand, the output files,
 * that the mAP in results.json is exactly what predictions.csv gives against the ground truth
 * (read independently), the feature cache, and the CLI's errors.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadSyntheticItem } from '@g2d-ts/data';
import { loadDataset } from '@g2d-ts/eval';
import { cliRunner, microModelFixture } from '@g2d-ts/eval/testing';
import type { BoxXYXY, Detection } from '@g2d-ts/heads';
import { spec } from '../src/main';
import { detectionAp } from '../src/run';

const run = cliRunner(spec);

describe('detectionAp', () => {
  const gt = [[{ box: [0, 0, 10, 10] as BoxXYXY, cls: 0 }], [{ box: [5, 5, 25, 25] as BoxXYXY, cls: 1 }], []];
  it('is 1 for perfect detections, 0 for none, null for a class without ground truth', () => {
    const perfect: Detection[][] = [[{ box: [0, 0, 10, 10], score: 0.9, classIndex: 0 }], [{ box: [5, 5, 25, 25], score: 0.8, classIndex: 1 }], []];
    const r = detectionAp(perfect, gt, ['a', 'b', 'c'], [0.4, 0.75]);
    expect(r.perClass).toEqual({ a: 1, b: 1, c: null });
    expect(r.map).toBe(1);
    const none = detectionAp([[], [], []], gt, ['a', 'b', 'c'], [0.5]);
    expect(none.perClass.a).toBe(0);
    expect(none.map).toBe(0);
  });
  it('averages AP over the IoU thresholds: a box with IoU 0.6 counts at thresholds 0.4–0.6 only', () => {
    // [0,0,10,6] vs [0,0,10,10]: IoU 0.6
    const r = detectionAp([[{ box: [0, 0, 10, 6], score: 0.9, classIndex: 0 }], [], []], gt, ['a', 'b'], [0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75]);
    expect(r.perClass.a).toBeCloseTo(5 / 8, 12); // hits at 0.4..0.6 (IoU >= threshold), misses at 0.65..0.75
    expect(r.perClass.b).toBe(0);
    expect(r.byIou['0.75']).toBe(0);
  });
});

describe('g2d-eval-detection', () => {
  const fx = microModelFixture('g2d-eval-det-', { native: true });
  const SYNTH = ['--dataset', 'synthetic', '--set', 'data.synthetic.count=30', '--set', 'data.synthetic.size=64', '--set', 'data.synthetic.seed=2'];

  it('usage and config errors name the option or key', async () => {
    const unknown = await run(['--encdoer', 'x'], fx.dir);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/unknown option --encdoer \(did you mean --encoder\?\)/);
    const bad = await run([...SYNTH, '--encoder', fx.encoder, '--set', 'det.anchors=magic', '--out', path.join(fx.dir, 'bad')], fx.dir);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/det\.anchors/);
    const missing = await run(['--dataset', `nih-cxr14:${path.join(fx.dir, 'nope')}`, '--encoder', fx.encoder, '--out', path.join(fx.dir, 'bad')], fx.dir);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/nope/);
  });

  it('trains the head, writes predictions.csv in stored pixels whose mAP is the reported one, and caches the features', async () => {
    const out = path.join(fx.dir, 'run');
    const args = [...SYNTH, '--encoder', fx.encoder, '--set', 'train.epochs=2', '--set', 'train.batchSize=8', '--set', 'output.overlays=2', '--cache-dir', path.join(fx.dir, 'cache')];
    const r = await run([...args, '--out', out], fx.dir);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^mAP \(IoU 0\.4–0\.75\) \d+\.\d\d on \d+ test images/);
    expect(r.err).toMatch(/computing \d+ \(C3–C5/);
    for (const f of ['results.json', 'results.md', 'predictions.csv', 'overlays.png', 'overlays.html', 'training.svg', 'metrics.jsonl']) expect(fs.existsSync(path.join(out, f))).toBe(true);
    const res = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8'));
    const classes: string[] = res.data.classes;
    const lines = fs.readFileSync(path.join(out, 'predictions.csv'), 'utf8').trim().split('\n');
    expect(lines[0]).toBe('image,class,score,x1,y1,x2,y2');
    // the test images and their ground truth, read independently of the app
    const data = loadDataset('synthetic', { synthetic: { count: 30, size: 64, seed: 2 }, requireLabels: false });
    const test = data.index.items.filter((it) => it.meta?.split === 'test');
    expect(test.length).toBe(res.data.sizes.test.images);
    const dets: Detection[][] = test.map(() => []);
    const index = new Map(test.map((it, i) => [it.id, i]));
    for (const l of lines.slice(1)) {
      const [image, cls, score, ...box] = l.split(',');
      const b = box.map(Number) as BoxXYXY;
      expect(b.every((v: number) => v >= 0 && v <= 64)).toBe(true);
      expect(b[2]).toBeGreaterThan(b[0]);
      dets[index.get(image!)!]!.push({ box: b, score: Number(score), classIndex: classes.indexOf(cls!) });
    }
    const gts = test.map((it) => loadSyntheticItem(it).boxes!.map((x) => ({ box: [x.x, x.y, x.x + x.w, x.y + x.h] as BoxXYXY, cls: classes.indexOf(x.label!) })));
    const ap = detectionAp(dets, gts, classes, res.metrics.iouThresholds);
    expect(ap.map).toBeCloseTo(res.metrics.map, 12);
    expect(ap.perClass).toEqual(res.metrics.perClass);
    // a second seed reads every feature row from the cache
    const again = await run([...args, '--seed', '1', '--set', 'train.epochs=1', '--out', path.join(fx.dir, 'run2')], fx.dir);
    expect(again.code).toBe(0);
    expect(again.err).not.toMatch(/computing/);
    expect(again.err).toMatch(/feature rows from the cache/);
  });
});
