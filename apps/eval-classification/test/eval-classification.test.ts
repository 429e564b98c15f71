/**
 * g2d-eval-classification end to end on tiny data: a micro G2D checkpoint (saved by the test,
 * never runs/pretrain-demo), 30 on-the-fly synthetic studies at 64², a few epochs. Checks the
 * output files, that results.json's AUCs are what predictions.csv gives (ours, and sklearn's
 * when the Python reference tooling is installed), the feature cache, and the CLI's errors.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { rocAuc } from '@g2d-ts/metrics';
import { cliRunner, microModelFixture } from '@g2d-ts/eval/testing';
import { spec } from '../src/main';

const ROOT = path.resolve(__dirname, '../../..');
const PY = path.join(ROOT, '.venv-ref', 'bin', 'python');

const run = cliRunner(spec);

function readCsv(file: string): { header: string[]; rows: string[][] } {
  const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
  return { header: lines[0]!.split(','), rows: lines.slice(1).map((l) => l.split(',')) };
}

describe('g2d-eval-classification', () => {
  const fx = microModelFixture('g2d-eval-cls-');
  const common = () => ['--encoder', fx.encoder, '--dataset', 'synthetic', '--set', 'data.synthetic.count=30', '--set', 'data.synthetic.size=64', '--cache-dir', path.join(fx.dir, 'cache')];

  it('usage errors exit 2 and name the option; config errors exit 1 and name the key', async () => {
    const help = await run(['--help'], fx.dir);
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/--protocol linear\|finetune/);
    expect(help.out).toMatch(/--fraction F/);
    const unknown = await run(['--fractoin', '0.1'], fx.dir);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/unknown option --fractoin \(did you mean --fraction\?\)/);
    const proto = await run(['--protocol', 'svm'], fx.dir);
    expect(proto.code).toBe(2);
    expect(proto.err).toMatch(/^g2d-eval-classification: option --protocol must be one of linear, finetune, got "svm"/);
    const frac = await run(['--fraction', '5'], fx.dir);
    expect(frac.code).toBe(2);
    const key = await run([...common(), '--set', 'train.epochz=3'], fx.dir);
    expect(key.code).toBe(1);
    expect(key.err).toMatch(/train: Unrecognized key\(s\) in object: 'epochz'/);
    const data = await run([...common(), '--dataset', `nih-cxr14:${path.join(fx.dir, 'missing')}`], fx.dir);
    expect(data.code).toBe(1);
    expect(data.err).toMatch(/missing: dataset folder not found/);
  });

  it('linear probe: writes the results files; results.json AUCs are exactly what predictions.csv gives', async () => {
    const out = path.join(fx.dir, 'linear');
    const r = await run([...common(), '--set', 'train.epochs=4', '--seed', '1', '--out', out], fx.dir);
    expect(r.err).not.toMatch(/internal error/);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/test AUC per class \(\d+ images\)/);
    for (const f of ['results.json', 'results.md', 'predictions.csv', 'roc.svg', 'auc-per-class.svg', 'training-loss.svg', 'training-auc.svg', 'training.json', 'head/model.safetensors']) {
      expect(fs.existsSync(path.join(out, f))).toBe(true);
    }
    const res = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8'));
    expect(res.task).toBe('classification');
    expect(res.protocol).toBe('linear');
    expect(res.config.train).toMatchObject({ epochs: 4, lr: 5e-4, batchSize: 8, weightDecay: 1e-6 });
    expect(res.encoder.kind).toBe('checkpoint');
    expect(res.data.classes.length).toBe(8);
    expect(res.data.sizes.test.images).toBeGreaterThan(0);
    expect(res.runtime.seconds).toBeGreaterThan(0);
    expect(Object.keys(res.metrics.auc.perClass)).toEqual(res.data.classes);
    const { header, rows } = readCsv(path.join(out, 'predictions.csv'));
    expect(header[0]).toBe('image');
    expect(header.slice(1, 3)).toEqual(['opacity_score', 'opacity_label']);
    expect(rows.length).toBe(res.data.sizes.test.images);
    expect(rows[0]![0]).toMatch(/^synth-\d{6}$/);
    const defined: number[] = [];
    res.data.classes.forEach((c: string, j: number) => {
      const s = rows.map((r) => Number(r[1 + 2 * j]));
      const l = rows.map((r) => Number(r[2 + 2 * j]));
      expect(l.every((v) => v === 0 || v === 1)).toBe(true);
      const auc = rocAuc(s, l);
      if (Number.isNaN(auc)) expect(res.metrics.auc.perClass[c]).toBeNull();
      else {
        expect(res.metrics.auc.perClass[c]).toBe(auc);
        defined.push(auc);
      }
    });
    expect(res.metrics.auc.mean).toBeCloseTo(defined.reduce((a, b) => a + b, 0) / defined.length, 15);
    expect(fs.readFileSync(path.join(out, 'results.md'), 'utf8')).toMatch(/\| Method +\| synthetic 100% \|/);
    // sklearn on the same file
    if (!fs.existsSync(PY)) {
      process.stderr.write(`[g2d] SKIP: sklearn check of predictions.csv (no ${PY}; bash tools/setup.sh installs it)\n`);
      return;
    }
    const py = spawnSync(PY, [path.join(ROOT, 'tools/metrics/check_predictions.py'), out], { encoding: 'utf8' });
    if (py.status !== 0 && /No module named/.test(py.stderr)) {
      process.stderr.write(`[g2d] SKIP: sklearn check (${py.stderr.trim().split('\n').pop()})\n`);
      return;
    }
    expect(py.stderr).toBe('');
    const chk = JSON.parse(py.stdout);
    expect(chk.ok).toBe(true);
    expect(chk.maxAbsDiff).toBeLessThanOrEqual(1e-12);
  });

  it('a second run reads every feature from the cache; another seed changes the training subset', async () => {
    const r = await run([...common(), '--set', 'train.epochs=2', '--fraction', '0.1', '--seed', '2', '--out', path.join(fx.dir, 'again')], fx.dir);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/features: \d+ cached, 0 computed/);
    const res = JSON.parse(fs.readFileSync(path.join(fx.dir, 'again', 'results.json'), 'utf8'));
    expect(res.data.sizes.train.images).toBeLessThan(res.data.sizes.trainFull.images);
  });

  it('fine-tuning trains the encoder and the head (separate learning rates) and writes the same files', async () => {
    const out = path.join(fx.dir, 'ft');
    const r = await run([...common(), '--protocol', 'finetune', '--set', 'train.epochs=1', '--set', 'train.batchSize=8', '--set', 'train.headLr=0.001', '--out', out], fx.dir);
    expect(r.err).not.toMatch(/internal error/);
    expect(r.code).toBe(0);
    const res = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8'));
    expect(res.protocol).toBe('finetune');
    expect(res.config.train).toMatchObject({ lr: 1e-4, headLr: 0.001, batchSize: 8, epochs: 1 });
    expect(res.training.epochsRun).toBe(1);
    expect(res.training.steps).toBe(Math.ceil(res.data.sizes.train.images / 8));
    expect(fs.existsSync(path.join(out, 'predictions.csv'))).toBe(true);
  });
});
