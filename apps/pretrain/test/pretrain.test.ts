/**
 * Pretraining end to end on a micro config (tensorflow backend when built, else the first one
 * available): outputs, a constant tensor count per step, and exact resume after SIGKILL —
 * the final model.safetensors is byte-identical to an uninterrupted run's written elsewhere.
 * Needs the Bio_ClinicalBERT vocabulary (../shared); skipped with a visible message without it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '@g2d-ts/core';
import { sharedPath } from '@g2d-ts/core/testing';
import { configOfRun, loadPretrainConfig } from '../src/config';
import { runPretraining } from '../src/run';
import { validateRun } from '../src/validate-run';
import { openPairs } from '../src/data';
import { validate } from '../src/evaluate';
import { createModelWithWeights } from '@g2d-ts/model';

const REPO = path.resolve(__dirname, '../../..');
const MAIN = path.join(__dirname, '..', 'src', 'main.ts');
const MICRO = path.join(__dirname, 'fixtures', 'micro.yaml');
const TSCONFIG = path.join(REPO, 'tools', 'build', 'tsconfig.run.json');
const vocab = sharedPath('data/tokenizers/bert-base-cased/vocab.txt');
const d = vocab ? describe : describe.skip;

function child(args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    cwd: REPO,
    env: { ...process.env, TSX_TSCONFIG_PATH: TSCONFIG, TF_CPP_MIN_LOG_LEVEL: '2', G2D_VOCAB: vocab ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function finish(p: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }> {
  let out = '';
  p.stdout!.on('data', (b) => (out += b));
  p.stderr!.on('data', (b) => (out += b));
  return new Promise((resolve) => p.on('exit', (code, signal) => resolve({ code, signal, out })));
}

const lines = (f: string) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8').split('\n').filter((l) => l.trim()).length : 0);

d('g2d-pretrain on a micro config', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'g2d-pretrain-'));
  beforeAll(async () => {
    process.env.G2D_VOCAB = vocab!;
    await initBackend({ log: false });
  });

  it('trains, validates, exports and reports; the tensor count is constant per step', async () => {
    const out = path.join(root, 'inproc');
    const { config } = loadPretrainConfig(MICRO, ['train.epochs=4']);
    const before = tf.memory().numTensors;
    const res = await runPretraining(config, out, { log: () => undefined });
    expect(res.steps).toBe(4 * Math.floor(res.steps / 4));
    const rows = fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.length).toBeGreaterThanOrEqual(20);
    for (const k of ['step', 'epoch', 'lr', 'loss', 'vla', 'ps', 'acc1', 'acc5', 'imagesPerSec', 'numTensors', 'rssMiB']) expect(rows[0]).toHaveProperty(k);
    // once PS has joined (step 3: the decoder's optimizer slots appear), the count never moves
    const counts = new Set(rows.slice(4).map((r) => r.numTensors));
    expect([...counts]).toHaveLength(1);
    // PS joins after loss.vlaOnlySteps = 3
    expect(rows[2].psActive).toBe(0);
    expect(rows[3].psActive).toBe(1);
    for (const f of ['final/model.safetensors', 'final/config.json', 'final/micro_encoder.pth', 'final/micro_encoder_decoder.pth', 'final/micro_encoder.safetensors', 'report.html', 'val.jsonl', 'run.json', 'exports/micro_0_encoder.pth']) {
      expect(fs.existsSync(path.join(out, f))).toBe(true);
    }
    const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
    expect(html).toContain('Figure 4');
    expect(html).not.toMatch(/<script|src="http/);
    expect(res.validation!.summary.n).toBe(8);
    // attention spread of the held-out images: a map of weights summing to 1 per image
    const a = res.validation!.summary.attention!;
    expect(a.cells).toBeGreaterThan(1);
    expect(a.peak).toBeGreaterThanOrEqual(1);
    expect(a.peak).toBeLessThanOrEqual(a.cells);
    expect(a.entropy).toBeGreaterThan(0);
    expect(a.entropy).toBeLessThanOrEqual(1 + 1e-6);
    expect(html).toContain('attention peak (1 = uniform)');
    // the average map: h x w cells whose mean is 1 (each image's map sums to 1)
    const flat = a.mean!.flat();
    expect(flat).toHaveLength(a.cells);
    expect(flat.reduce((x, y) => x + y, 0) / a.cells).toBeCloseTo(1, 5);
    expect(html).toContain('Where the attention sits on average');
    // pseudo masks against both baselines, per finding of the held-out synthetic images
    const iou = res.validation!.summary.pseudoMaskIoU!;
    expect(Object.keys(iou).length).toBeGreaterThan(0);
    for (const v of Object.values(iou)) {
      for (const x of [v.pseudo, v.random, v.other!]) expect(x >= 0 && x <= 1).toBe(true);
      expect(v.n).toBeGreaterThan(0);
      expect(v.ciRandom![0]).toBeLessThanOrEqual(v.pseudo - v.random + 1e-12);
      expect(v.ciRandom![1]).toBeGreaterThanOrEqual(v.pseudo - v.random - 1e-12);
    }
    // pooled over the images with any finding (scored on up to data.maxMaskVal images, at least the retrieval pairs)
    expect(a.n).toBeGreaterThanOrEqual(res.validation!.summary.n);
    const any = res.validation!.summary.pseudoMaskAny!;
    expect(any.n).toBeGreaterThanOrEqual(Math.max(...Object.values(iou).map((v) => v.n)));
    expect(any.n).toBeLessThanOrEqual(a.n!);
    expect(html).toContain('other images&#39; masks IoU');
    expect(html).toContain('any finding (pooled');
    expect(html).toContain('95 % bootstrap interval');
    expect(tf.memory().numTensors).toBe(before);
    // `validate` on the final weights: the same pseudo-mask scores (same weights, images and seed), retrieval on fewer pairs
    const again = await validateRun(out, configOfRun(out, ['data.maxVal=4']));
    expect(again.weights).toBe(path.join(out, 'final'));
    expect(again.summary.n).toBe(4);
    expect(again.summary.pseudoMaskIoU).toEqual(iou);
    expect(again.summary.pseudoMaskAny).toEqual(any);
    expect(JSON.parse(fs.readFileSync(path.join(out, 'validation.json'), 'utf8')).data.maxVal).toBe(4);
    // masks are scored on at least the retrieval pairs
    expect((await validateRun(out, configOfRun(out, ['data.maxVal=4', 'data.maxMaskVal=2']))).summary.attention!.n).toBe(4);
    // one pass over the pairs: retrieval alone (masks: 0) gives the same similarities, and no attention or masks
    const { model: trained } = await createModelWithWeights(undefined, path.join(out, 'final'));
    const val = openPairs(config, trained.config.imageSize).val;
    const only = await validate(trained, val, { seed: config.train.seed, retrieval: 4, masks: 0 });
    const both = await validate(trained, val, { seed: config.train.seed, retrieval: 4, masks: val.length });
    trained.dispose();
    expect(only.summary.n).toBe(4);
    expect(only.summary.attention).toBeUndefined();
    expect(only.summary.pseudoMaskIoU).toBeUndefined();
    expect(both.similarity).toEqual(only.similarity);
    expect(both.summary.pseudoMaskIoU).toEqual(iou);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => configOfRun(root)).toThrow(/no run.json/);
    expect(() => configOfRun(out, ['data.maxMaskVal=0'])).toThrow(/maxMaskVal/);
  }, 600_000);

  it('resumes exactly after SIGKILL: byte-identical final weights, in another folder', async () => {
    const ref = path.join(root, 'uninterrupted');
    const r0 = await finish(child(['train', '--config', MICRO, '--out', ref]));
    expect(r0.code).toBe(0);
    const killed = path.join(root, 'killed');
    const metrics = path.join(killed, 'metrics.jsonl');
    const total = lines(path.join(ref, 'metrics.jsonl'));
    const killAt = 3 + Math.floor(Math.random() * (total - 6)); // a random step, past a checkpoint
    const p = child(['train', '--config', MICRO, '--out', killed]);
    const done = finish(p);
    await new Promise<void>((resolve) => {
      const t = setInterval(() => {
        if (lines(metrics) >= killAt || p.exitCode !== null) {
          clearInterval(t);
          p.kill('SIGKILL');
          resolve();
        }
      }, 20);
    });
    const k = await done;
    expect(k.signal).toBe('SIGKILL');
    expect(fs.existsSync(path.join(killed, 'final', 'model.safetensors'))).toBe(false);
    const r1 = await finish(child(['train', '--config', MICRO, '--out', killed]));
    expect(r1.code).toBe(0);
    expect(r1.out).toMatch(/resumed from/);
    const a = fs.readFileSync(path.join(ref, 'final', 'model.safetensors'));
    const b = fs.readFileSync(path.join(killed, 'final', 'model.safetensors'));
    expect(b.equals(a)).toBe(true);
    expect(lines(metrics)).toBe(total);
  }, 900_000);

  it('a half-written checkpoint is never resumed from; --fresh starts over', async () => {
    const out = path.join(root, 'partial');
    const { config } = loadPretrainConfig(MICRO, ['train.epochs=1']);
    await runPretraining(config, out, { log: () => undefined, report: false });
    const ck = path.join(out, 'checkpoints');
    const newest = fs.readdirSync(ck).filter((f) => f.startsWith('step-')).sort().pop()!;
    // a newer checkpoint killed mid-save: weights there, manifest missing
    const torn = path.join(ck, 'step-000009999');
    fs.mkdirSync(torn);
    fs.copyFileSync(path.join(ck, newest, 'model.safetensors'), path.join(torn, 'model.safetensors'));
    const logs: string[] = [];
    const { config: c2 } = loadPretrainConfig(MICRO, ['train.epochs=2']);
    await runPretraining(c2, out, { log: (l) => logs.push(l), report: false });
    expect(logs.join('\n')).toMatch(new RegExp(`resumed from .*${newest}`));
    const fresh: string[] = [];
    await runPretraining(c2, out, { resume: false, log: (l) => fresh.push(l), report: false });
    expect(fresh.join('\n')).not.toMatch(/resumed from/);
  }, 600_000);
});
