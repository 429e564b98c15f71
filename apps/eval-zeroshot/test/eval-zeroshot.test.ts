/**
 * g2d-eval-zeroshot end to end on tiny data with a micro G2D checkpoint saved by the test (never
 * runs/pretrain-demo): output files, AUCs consistent with predictions.csv, MedKLIP-style F1/ACC,
 * prompt errors, and the refusal of checkpoints without a text encoder.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bestF1, rocAuc } from '@g2d-ts/metrics';
import { createModel, exportReferenceCheckpoints } from '@g2d-ts/model';
import { cliRunner, microModelFixture } from '@g2d-ts/eval/testing';
import { spec } from '../src/main';

const run = cliRunner(spec);

describe('g2d-eval-zeroshot', () => {
  const fx = microModelFixture('g2d-eval-zs-');
  const common = () => ['--encoder', fx.encoder, '--dataset', 'synthetic', '--set', 'data.synthetic.count=24', '--set', 'data.synthetic.size=64', '--cache-dir', path.join(fx.dir, 'cache')];

  it('scores every image against the synthetic prompt pairs and writes the results files', async () => {
    const out = path.join(fx.dir, 'zs');
    const r = await run([...common(), '--set', 'split=all', '--out', out], fx.dir);
    expect(r.err).not.toMatch(/internal error/);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/zero-shot per class \(24 images\): AUC \/ F1 \/ ACC/);
    for (const f of ['results.json', 'results.md', 'predictions.csv', 'auc-per-class.svg', 'roc.svg']) expect(fs.existsSync(path.join(out, f))).toBe(true);
    const res = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8'));
    expect(res.task).toBe('zero-shot-classification');
    expect(res.prompts.set).toBe('synthetic');
    expect(Object.keys(res.prompts.pairs)).toEqual(res.data.classes);
    const lines = fs.readFileSync(path.join(out, 'predictions.csv'), 'utf8').trim().split('\n');
    const rows = lines.slice(1).map((l) => l.split(','));
    expect(rows.length).toBe(24);
    res.data.classes.forEach((c: string, j: number) => {
      const s = rows.map((x) => Number(x[1 + 2 * j]));
      const l = rows.map((x) => Number(x[2 + 2 * j]));
      expect(s.every((v) => v > 0 && v < 1)).toBe(true);
      const auc = rocAuc(s, l);
      expect(res.metrics.auc.perClass[c]).toBe(Number.isNaN(auc) ? null : auc);
      if (l.some((v) => v === 1)) {
        const f = bestF1(s, l);
        expect(res.metrics.bestF1.perClass[c]).toEqual(f);
      }
    });
    expect(res.metrics.summary).toEqual({ auc: res.metrics.auc.mean, f1: res.metrics.bestF1.meanF1, accuracy: res.metrics.bestF1.meanAccuracy });
    const md = fs.readFileSync(path.join(out, 'results.md'), 'utf8');
    expect(md).toMatch(/\| Method +\| synthetic AUC \| synthetic F1 \| synthetic ACC \|/);
    expect(fs.readFileSync(path.join(out, 'auc-per-class.svg'), 'utf8')).toMatch(/^<svg/);
  });

  it('a second run reads the image embeddings from the cache; the default split is the test split', async () => {
    const r = await run([...common(), '--out', path.join(fx.dir, 'zs2')], fx.dir);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/embeddings: \d+ cached, 0 computed/);
    const res = JSON.parse(fs.readFileSync(path.join(fx.dir, 'zs2', 'results.json'), 'utf8'));
    expect(res.data.evaluatedSplit).toBe('test');
    expect(res.data.sizes.evaluated.images).toBe(res.data.sizes.test.images);
  });

  it('prompt problems are errors naming the prompt set, class or file', async () => {
    const a = await run([...common(), '--prompt-set', 'nih-cxr14'], fx.dir);
    expect(a.code).toBe(1);
    expect(a.err).toMatch(/prompt set "nih-cxr14" has no prompts for opacity, effusion/);
    const f = path.join(fx.dir, 'p.json');
    fs.writeFileSync(f, '{"format": "g2d-zero-shot-prompts-v1", "sets": {"synthetic": {"opacity": {"positive": ["x"]}}}}');
    const b = await run([...common(), '--prompts', f], fx.dir);
    expect(b.code).toBe(1);
    expect(b.err).toMatch(/p\.json: invalid config:\n {2}- sets\.synthetic\.opacity\.negative: Required/);
  });

  it('refuses a checkpoint without the text encoder (zero-shot needs both towers)', async () => {
    const m = createModel('g2d-resnet18-tiny', { seed: 0 });
    const files = await exportReferenceCheckpoints(m, path.join(fx.dir, 'ref'), { name: 'tiny', safetensors: false });
    m.dispose();
    const enc = files.find((x) => x.endsWith('tiny_encoder.pth'))!;
    const r = await run(['--encoder', enc, '--set', 'encoderPreset=g2d-resnet18-tiny', '--dataset', 'synthetic'], fx.dir);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/tiny_encoder\.pth: zero-shot needs the text encoder, but .* holds only img_model\.encoder/);
  });
});
