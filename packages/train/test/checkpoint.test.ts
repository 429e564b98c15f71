/** Checkpoints: round trip, incomplete/damaged folders never picked, byte-identical weights, pruning, errors. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { G2DError, readSafetensors } from '@g2d-ts/core';
import { describeBackends } from '@g2d-ts/core/testing';
import {
  AdamW,
  CosineAnnealingWarmRestarts,
  latestCheckpoint,
  listCheckpoints,
  loadTrainingState,
  readCheckpointExport,
  restoreTrainingState,
  saveTrainingState,
  verifyCheckpoint,
  WarmupCosine,
} from '../src';

function tmpdir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'g2d-train-ckpt-'));
}

function model(seed: number): Map<string, tf.Variable> {
  return new Map([
    ['enc.weight', tf.variable(tf.randomNormal([3, 4], 0, 1, 'float32', seed))],
    ['enc.bias', tf.variable(tf.randomNormal([4], 0, 1, 'float32', seed + 1))],
    ['bn.num_batches', tf.variable(tf.tensor1d([7], 'int32'), false)],
  ]);
}
const lossOf = (m: Map<string, tf.Variable>) => () =>
  tf.tidy(() => tf.sum(tf.square(tf.add(tf.sum(m.get('enc.weight')!, 0), m.get('enc.bias')!))) as tf.Scalar);

describeBackends('training-state checkpoints', () => {
  it('save -> latestCheckpoint -> load -> restore: variables, optimizer, scheduler, position, RNG and extra come back', async () => {
    const dir = tmpdir();
    const m = model(1);
    const opt = new AdamW(m, { lr: 0.01, weightDecay: 0.1 });
    const sched = new CosineAnnealingWarmRestarts({ baseLr: 0.01, T0: 3 });
    for (let i = 0; i < 4; i++) {
      opt.lr = sched.lr;
      opt.minimize(lossOf(m));
      sched.step();
    }
    const enc = new Map([['encoder.conv1.weight', tf.ones([4, 3])]]); // e.g. a PyTorch-layout export
    const p = await saveTrainingState(dir, {
      variables: m,
      optimizer: opt,
      scheduler: sched,
      step: 4,
      epoch: 1,
      loaderPosition: { epoch: 1, batch: 2 },
      rngStates: { run: { seed: 42 } },
      extra: { note: 'hello' },
      exports: { encoder: enc },
    });
    expect(path.basename(p)).toBe('step-000000004');
    expect(fs.readdirSync(p).sort()).toEqual(['encoder.safetensors', 'manifest.json', 'model.safetensors', 'optimizer.safetensors', 'state.json']);
    expect(fs.readdirSync(dir)).toEqual(['step-000000004']); // no temporary folder left behind
    expect(await latestCheckpoint(dir)).toBe(p);

    const m2 = model(99);
    const opt2 = new AdamW(m2);
    const sched2 = new CosineAnnealingWarmRestarts({ baseLr: 0.01, T0: 3 });
    const loaded = await loadTrainingState(p);
    const r = restoreTrainingState(loaded, { variables: m2, optimizer: opt2, scheduler: sched2 });
    expect(r).toEqual({ step: 4, epoch: 1, loaderPosition: { epoch: 1, batch: 2 }, rngStates: { run: { seed: 42 } }, extra: { note: 'hello' } });
    for (const [k, v] of m) expect(Array.from(m2.get(k)!.dataSync())).toEqual(Array.from(v.dataSync()));
    expect(sched2.state()).toEqual(sched.state());
    expect(opt2.hyper).toEqual(opt.hyper);
    // both continue identically
    for (let i = 0; i < 3; i++) {
      for (const [o, s, mm] of [[opt, sched, m], [opt2, sched2, m2]] as const) {
        o.lr = s.lr;
        o.minimize(lossOf(mm));
        s.step();
      }
    }
    expect(Array.from(m2.get('enc.weight')!.dataSync())).toEqual(Array.from(m.get('enc.weight')!.dataSync()));
    expect(Array.from((await readCheckpointExport(p, 'encoder')).get('encoder.conv1.weight')!.data as Float32Array)).toEqual(Array(12).fill(1));
    await expect(readCheckpointExport(p, 'decoder')).rejects.toThrow(/has no export "decoder"/);
    [opt, opt2].forEach((o) => o.dispose());
    [...m.values(), ...m2.values(), ...enc.values()].forEach((v) => v.dispose());
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a half-written checkpoint is never picked: temp folder, missing manifest, truncated or altered file', async () => {
    const dir = tmpdir();
    const m = model(2);
    const good = await saveTrainingState(dir, { variables: m, step: 10, epoch: 0 });
    // (1) a save killed before publishing: newer step, but only in a hidden temp folder
    const tmp = path.join(dir, '.tmp-step-000000020-999999-abcd1234');
    fs.mkdirSync(tmp);
    fs.copyFileSync(path.join(good, 'model.safetensors'), path.join(tmp, 'model.safetensors'));
    // (2) a folder without manifest (what a non-atomic writer leaves)
    const noManifest = path.join(dir, 'step-000000030');
    fs.cpSync(good, noManifest, { recursive: true });
    fs.rmSync(path.join(noManifest, 'manifest.json'));
    // (3) a truncated weight file
    const truncated = path.join(dir, 'step-000000040');
    fs.cpSync(good, truncated, { recursive: true });
    fs.truncateSync(path.join(truncated, 'model.safetensors'), 40);
    // (4) same size, different bytes (sha256 mismatch)
    const altered = path.join(dir, 'step-000000050');
    fs.cpSync(good, altered, { recursive: true });
    const mf = JSON.parse(fs.readFileSync(path.join(altered, 'manifest.json'), 'utf8'));
    mf.step = 50;
    fs.writeFileSync(path.join(altered, 'manifest.json'), JSON.stringify(mf));
    const buf = fs.readFileSync(path.join(altered, 'model.safetensors'));
    buf[buf.length - 1] ^= 0xff;
    fs.writeFileSync(path.join(altered, 'model.safetensors'), buf);

    const skipped: string[] = [];
    expect(await latestCheckpoint(dir, { onSkip: (c) => skipped.push(`${c.name}: ${c.reason}`) })).toBe(good);
    expect(skipped).toEqual([
      expect.stringMatching(/step-000000050: .*model\.safetensors: sha256 .* does not match/),
      expect.stringMatching(/step-000000040: .*model\.safetensors has 40 bytes/),
      expect.stringMatching(/step-000000030: .*no manifest\.json/),
    ]);
    const list = await listCheckpoints(dir);
    expect(list.map((c) => [c.name, c.complete])).toEqual([
      ['step-000000050', false],
      ['step-000000040', false],
      ['step-000000030', false],
      ['step-000000010', true],
    ]);
    await expect(loadTrainingState(truncated)).rejects.toThrow(G2DError);
    await expect(loadTrainingState(noManifest)).rejects.toThrow(/no manifest\.json/);
    await expect(loadTrainingState(dir)).rejects.toThrow(/folder of checkpoints, not one checkpoint/);
    // the next save removes the dead process's temp folder
    await saveTrainingState(dir, { variables: m, step: 11, epoch: 0 });
    expect(fs.existsSync(tmp)).toBe(false);
    expect(await latestCheckpoint(path.join(dir, 'nonexistent'))).toBeNull();
    m.forEach((v) => v.dispose());
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('weights carry no paths or times: identical state -> byte-identical files in different folders', async () => {
    const a = tmpdir();
    const b = tmpdir();
    const m = model(3);
    const opt = new AdamW(m);
    opt.minimize(lossOf(m));
    const pa = await saveTrainingState(a, { variables: m, optimizer: opt, step: 1, epoch: 0 });
    await new Promise((r) => setTimeout(r, 20));
    const pb = await saveTrainingState(path.join(b, 'deeper', 'path'), { variables: m, optimizer: opt, step: 1, epoch: 0 });
    for (const f of ['model.safetensors', 'optimizer.safetensors', 'state.json', 'manifest.json']) {
      expect(fs.readFileSync(path.join(pa, f)).equals(fs.readFileSync(path.join(pb, f)))).toBe(true);
    }
    const text = fs.readFileSync(path.join(pa, 'model.safetensors')).toString('latin1');
    expect(text).not.toContain(a);
    expect((await readSafetensors(path.join(pa, 'model.safetensors'))).metadata).toEqual({});
    opt.dispose();
    m.forEach((v) => v.dispose());
    [a, b].forEach((d) => fs.rmSync(d, { recursive: true, force: true }));
  });

  it('re-saving a step replaces it; keep prunes older complete checkpoints', async () => {
    const dir = tmpdir();
    const m = model(4);
    for (const s of [1, 2, 3]) await saveTrainingState(dir, { variables: m, step: s, epoch: 0 });
    m.get('enc.bias')!.assign(tf.fill([4], 9));
    await saveTrainingState(dir, { variables: m, step: 3, epoch: 0, extra: { again: true } });
    const l = await loadTrainingState(path.join(dir, 'step-000000003'));
    expect(Array.from(l.variables.get('enc.bias')!.data as Float32Array)).toEqual([9, 9, 9, 9]);
    expect(l.extra).toEqual({ again: true });
    await saveTrainingState(dir, { variables: m, step: 4, epoch: 0 }, { keep: 2 });
    expect(fs.readdirSync(dir).sort()).toEqual(['step-000000003', 'step-000000004']);
    m.forEach((v) => v.dispose());
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('restore is strict about names and shapes, and checks the scheduler kind', async () => {
    const dir = tmpdir();
    const m = model(5);
    const p = await saveTrainingState(dir, { variables: m, scheduler: new CosineAnnealingWarmRestarts({ baseLr: 1, T0: 2 }), step: 0, epoch: 0 });
    const loaded = await loadTrainingState(p);
    const wrong = new Map([['enc.weight', tf.variable(tf.zeros([4, 3]))]]);
    expect(() => restoreTrainingState(loaded, { variables: wrong, strict: false })).toThrow(/"enc\.weight": checkpoint shape \[3, 4\] != variable shape \[4, 3\]/);
    const fewer = new Map([['enc.weight', tf.variable(tf.zeros([3, 4]))]]);
    expect(() => restoreTrainingState(loaded, { variables: fewer })).toThrow(/in the checkpoint but not in the model: bn\.num_batches, enc\.bias/);
    expect(() => restoreTrainingState(loaded, { variables: m, optimizer: new AdamW(m) })).toThrow(/no optimizer state/);
    expect(() => restoreTrainingState(loaded, { variables: m, scheduler: new CosineAnnealingWarmRestarts({ baseLr: 1, T0: 2 }) })).not.toThrow();
    expect(() => restoreTrainingState(loaded, { variables: m, scheduler: new WarmupCosine({ baseLr: 1, warmupSteps: 0, totalSteps: 3 }) })).toThrow(
      /checkpoint scheduler is "cosine-warm-restarts", the run uses "warmup-cosine"/,
    );
    await expect(saveTrainingState(dir, { variables: m, step: -1, epoch: 0 })).rejects.toThrow(/step must be an integer >= 0/);
    await expect(saveTrainingState(dir, { variables: m, step: 1, epoch: 0, exports: { model: new Map() } })).rejects.toThrow(/invalid export name "model"/);
    await expect(saveTrainingState(dir, { variables: m, step: 1, epoch: 0, extra: { x: 1n } as never })).rejects.toThrow(/not JSON-serialisable/);
    expect(await verifyCheckpoint(p)).toMatchObject({ step: 0, epoch: 0 });
    [...m.values(), ...wrong.values(), ...fewer.values()].forEach((v) => v.dispose());
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
