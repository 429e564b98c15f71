/**
 * g2d-eval-segmentation on tiny data: a micro G2D checkpoint saved by the test (never
 * runs/pretrain-demo), 24 on-the-fly synthetic studies at 64², one short epoch. Checks the
 * output files against each other and against the ground truth (the predicted PNGs are read
 * back and scored independently), the encoder/decoder transfer set-up, the CLI's errors, and
 * on the shared COVID data that images without a mask of the selected set are left out.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RawTensor } from '@g2d-ts/core';
import { describeShared } from '@g2d-ts/core/testing';
import { decodePngGray, LUNG_FINDINGS, type ItemRef } from '@g2d-ts/data';
import { loadDataset, loadDenseItem, resolveEncoder } from '@g2d-ts/eval';
import { cliRunner, microModelFixture } from '@g2d-ts/eval/testing';
import { SegConfigSchema } from '../src/config';
import { spec } from '../src/main';
import { withMasks } from '../src/run';
import { buildSegModel } from '../src/seg';

const run = cliRunner(spec);

const SYNTH = ['--dataset', 'synthetic', '--set', 'data.synthetic.count=24', '--set', 'data.synthetic.size=64', '--set', 'data.synthetic.seed=3'];

describe('g2d-eval-segmentation', () => {
  const fx = microModelFixture('g2d-eval-seg-', { native: true });

  it('usage errors exit 2 naming the option; bad config keys exit 1 naming the key', async () => {
    const help = await run(['--help'], fx.dir);
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/--fraction F/);
    expect(help.out).toMatch(/data\.masks=lungvae/);
    const unknown = await run(['--fractoin', '0.1'], fx.dir);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/unknown option --fractoin \(did you mean --fraction\?\)/);
    const key = await run([...SYNTH, '--encoder', fx.encoder, '--set', 'seg.transferDecodr=true', '--out', path.join(fx.dir, 'bad')], fx.dir);
    expect(key.code).toBe(1);
    expect(key.err).toMatch(/transferDecodr/);
    const target = await run([...SYNTH, '--encoder', fx.encoder, '--set', 'data.target=tumour', '--out', path.join(fx.dir, 'bad')], fx.dir);
    expect(target.code).toBe(1);
    expect(target.err).toMatch(/data\.target/);
  });

  it('trains, writes per_image.csv, 0/255 predictions at the stored size that score as reported, overlays and results', async () => {
    const out = path.join(fx.dir, 'run');
    const r = await run([...SYNTH, '--encoder', fx.encoder, '--set', 'train.epochs=1', '--set', 'train.batchSize=4', '--set', 'output.overlays=2', '--out', out, '--cache-dir', path.join(fx.dir, 'cache')], fx.dir);
    expect(r.err).not.toMatch(/Error/);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^mean Dice \d\.\d{4} \(IoU \d\.\d{4}\) on \d+ test images/);
    for (const f of ['results.json', 'results.md', 'per_image.csv', 'training.svg', 'metrics.jsonl', 'overlays.png', 'overlays.html']) expect(fs.existsSync(path.join(out, f))).toBe(true);
    const res = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8'));
    expect(res.task).toBe('segmentation');
    expect(res.encoder.frozen).toBe(true); // a checkpoint = pretrained: frozen
    expect(res.encoder.decoder).toBe('random (seeded)');
    const lines = fs.readFileSync(path.join(out, 'per_image.csv'), 'utf8').trim().split('\n');
    expect(lines[0]).toBe('image,dice');
    const rows = lines.slice(1).map((l) => l.split(','));
    expect(rows.length).toBe(res.data.sizes.test.images);
    const mean = rows.reduce((s, x) => s + Number(x[1]), 0) / rows.length;
    expect(res.metrics.dice.mean).toBeCloseTo(mean, 12);
    // read every predicted PNG back and score it against the item's ground truth, independently of the app
    const data = loadDataset('synthetic', { synthetic: { count: 24, size: 64, seed: 3 }, requireLabels: false });
    const byName = new Map<string, ItemRef>(data.index.items.map((it) => [it.id, it]));
    for (const [name, d] of rows) {
      const png = decodePngGray(new Uint8Array(fs.readFileSync(path.join(out, 'predictions', `${name}.png`))), name).image;
      expect([png.width, png.height]).toEqual([64, 64]);
      expect(png.data.every((v) => v === 0 || v === 255)).toBe(true);
      const it = await loadDenseItem(byName.get(name!)!, { size: 64, variant: 'code', mask: false, findingMasks: true });
      const truth = new Uint8Array(64 * 64);
      for (const f of LUNG_FINDINGS) {
        const m = it.findingMasks!.get(f);
        if (m) m.forEach((v, i) => (truth[i] = truth[i]! | v));
      }
      let inter = 0;
      let sp = 0;
      let st = 0;
      for (let i = 0; i < truth.length; i++) {
        const p = png.data[i]! > 127 ? 1 : 0;
        inter += p & truth[i]!;
        sp += p;
        st += truth[i]!;
      }
      expect(sp + st === 0 ? 1 : (2 * inter) / (sp + st)).toBeCloseTo(Number(d), 10);
    }
    expect(fs.readdirSync(path.join(out, 'overlays'))).toHaveLength(2);
    expect(fs.readFileSync(path.join(out, 'results.md'), 'utf8')).toMatch(/\| Method\s+\| synthetic 100%/);
  });

  it('a run stopped inside an epoch (train.maxSteps) records and validates that partial epoch', async () => {
    const out = path.join(fx.dir, 'partial');
    // 20 training studies at batch 4: 5 steps an epoch; 7 steps end inside the second epoch
    const r = await run([...SYNTH, '--encoder', fx.encoder, '--set', 'train.epochs=3', '--set', 'train.maxSteps=7', '--set', 'train.batchSize=4', '--set', 'output.overlays=0', '--out', out, '--cache-dir', path.join(fx.dir, 'cache')], fx.dir);
    expect(r.code).toBe(0);
    const res = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8'));
    expect(res.data.sizes.train.images).toBe(20);
    expect(res.runtime).toMatchObject({ steps: 7, epochs: 2, stoppedBy: 'maxSteps' });
    expect(res.training.lossCurve.map((p: { step: number }) => p.step)).toEqual([5, 7]);
    expect(res.training.valCurve.map((p: { step: number }) => p.step)).toEqual([5, 7]);
    expect(res.training.lossCurve.every((p: { loss: number }) => Number.isFinite(p.loss))).toBe(true);
    expect(res.metrics.validation.dice).toBe(Math.max(...res.training.valCurve.map((p: { dice: number }) => p.dice)));
  });

  it('transfers the encoder always and the decoder only when asked; freezes pretrained encoders only', async () => {
    const { model, info } = await resolveEncoder(fx.encoder, { log: () => undefined });
    const random = await resolveEncoder('g2d-resnet18-tiny', { log: () => undefined });
    const same = (a: Map<string, RawTensor>, b: Map<string, RawTensor>, prefix: string) =>
      [...a.keys()].filter((k) => k.startsWith(prefix)).every((k) => {
        const x = a.get(k)!.data as ArrayLike<number>;
        const y = b.get(k)!.data as ArrayLike<number>;
        return x.length === y.length && Array.from(x).every((v, i) => v === y[i]);
      });
    try {
      const src = model.img_model.stateDict();
      for (const transferDecoder of [false, true]) {
        const cfg = SegConfigSchema.parse({ seg: { transferDecoder }, seed: 5 });
        const { unet, info: si } = buildSegModel(model, info, cfg);
        const sd = unet.stateDict();
        expect(same(sd, src, 'encoder.')).toBe(true);
        expect(same(sd, src, 'decoder.')).toBe(transferDecoder);
        expect(same(sd, src, 'segmentation_head.')).toBe(transferDecoder);
        expect(si.encoderFrozen).toBe(true);
        expect(unet.trainableVariables().length).toBe(unet.decoder.trainableVariables().length + unet.segmentation_head.trainableVariables().length);
        unet.dispose();
      }
      const { unet, info: ri } = buildSegModel(random.model, random.info, SegConfigSchema.parse({}));
      expect(ri.encoderFrozen).toBe(false);
      expect(unet.encoder.trainableVariables().length).toBeGreaterThan(0);
      unet.dispose();
      // an encoder-only checkpoint (e.g. *_encoder.pth) has no decoder to transfer
      const fake = { ...info, kind: 'checkpoint' as const, checkpointKind: 'reference-encoder' as const, loadedParts: ['img_model.encoder'] };
      expect(() => buildSegModel(model, fake, SegConfigSchema.parse({ seg: { transferDecoder: true } }))).toThrow(/seg\.transferDecoder needs a checkpoint with G2D's decoder/);
    } finally {
      model.dispose();
      random.model.dispose();
    }
  });

  describeShared('covid-chestxray masks', 'data/covid_chestxray_ieee8023', (root) => {
    it('leaves out the images without a mask of the selected set', () => {
      const cfg = SegConfigSchema.parse({});
      for (const [masks, n] of [
        ['v7labs', 330],
        ['lungvae', 150],
      ] as const) {
        const d = loadDataset(`covid-chestxray:${root}`, { adapter: { masks }, requireLabels: false });
        expect(d.index.items.length).toBe(431);
        const kept = withMasks(d, { ...cfg, data: { ...cfg.data, masks } }, () => undefined);
        expect(kept.index.items.length).toBe(n);
        expect(kept.index.items.every((it) => it.mask?.kind === 'image' && it.mask.path.includes(`masks/${masks}/`))).toBe(true);
      }
    });
  });
});
