/** The `synthetic` dataset adapter (on the fly and from a folder) and the `g2d-data synth` command. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { G2DError, runCli, type CliSpec } from '@g2d-ts/core';
import { captureCli, tempDirs } from '@g2d-ts/core/testing';
import { DataLoader, datasets, loadItem } from '../src';
import { main as dataCli } from '../src/cli';
import {
  SYNTH_FINDINGS, generateSynthetic, isSyntheticItem, loadSyntheticItem, parseDatasetSpec, synthCommand, syntheticDataset, writeSyntheticDataset,
} from '../src/synth';

const SIZE = 96;
const tmpDir = tempDirs('g2d-synth');

describe('synthetic adapter, on the fly', () => {
  it('indexes count studies with labels, text, boxes and splits; loading draws the same image again', () => {
    const ds = datasets.create('synthetic', { root: '', count: 10, size: SIZE, seed: 9 });
    expect(ds.name).toBe('synthetic');
    expect(ds.classes).toEqual([...SYNTH_FINDINGS]);
    expect(ds.items).toHaveLength(10);
    for (const ref of ds.items.slice(0, 4)) {
      expect(isSyntheticItem(ref)).toBe(true);
      const s = generateSynthetic(Number(ref.id.slice(-6)), { seed: 9, size: SIZE });
      expect(ref.labels).toEqual(s.labels);
      expect(ref.boxes).toEqual(s.findings.map((f) => ({ x: f.box[0], y: f.box[1], w: f.box[2] - f.box[0], h: f.box[3] - f.box[1], label: f.name })));
      expect(ref.text && ref.text.length).toBeGreaterThan(20);
      expect(['train', 'val', 'test']).toContain(ref.meta?.split);
      const it = loadSyntheticItem(ref);
      expect(it.image.width).toBe(SIZE);
      expect(Buffer.compare(Buffer.from(it.image.data), Buffer.from(s.image))).toBe(0);
      expect(it.labels).toEqual(ref.labels);
      expect(it.text).toBe(ref.text);
    }
  });

  it('keeps one split, carries the asked-for mask, and names bad options', () => {
    const all = syntheticDataset({ count: 24, size: 64, seed: 1 });
    const train = syntheticDataset({ count: 24, size: 64, seed: 1, split: 'train' });
    expect(train.items.length).toBe(all.items.filter((i) => i.meta?.split === 'train').length);
    expect(train.items.length).toBeLessThan(24);
    const withMask = syntheticDataset({ count: 24, size: 64, seed: 1, mask: 'effusion' });
    const pos = withMask.items.find((i) => (i.meta?.findings as string[]).includes('effusion'));
    const neg = withMask.items.find((i) => !(i.meta?.findings as string[]).includes('effusion'));
    expect(pos && neg).toBeTruthy();
    const mp = loadSyntheticItem(pos!).mask!;
    const mn = loadSyntheticItem(neg!).mask!;
    expect(mp.data.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expect(mn.data.reduce((a, b) => a + b, 0)).toBe(0);
    expect(() => syntheticDataset({ count: 0 })).toThrow(/"count"/);
    expect(() => syntheticDataset({ count: 2, size: 8 })).toThrow(/"size"/);
    expect(() => syntheticDataset({ count: 2, mask: 'fracture' as never })).toThrow(/"mask"/);
    expect(() => syntheticDataset({ count: 2, split: 'dev' as never })).toThrow(/"split"/);
    // app configs may hand numbers over as strings
    expect(syntheticDataset({ count: '3' as never, size: '64' as never }).items).toHaveLength(3);
  });

  it('parses dataset specs', () => {
    expect(parseDatasetSpec('synthetic')).toEqual({ name: 'synthetic' });
    expect(parseDatasetSpec('synthetic:/data/x')).toEqual({ name: 'synthetic', root: '/data/x' });
    expect(parseDatasetSpec('synthetic:')).toEqual({ name: 'synthetic' });
  });
});

describe('synthetic adapter, from a folder', () => {
  let dir: string;
  beforeAll(() => {
    dir = tmpDir('folder');
    writeSyntheticDataset({ out: dir, count: 8, seed: 9, size: SIZE });
  });

  it('reads what the writer wrote: the same items, text, labels and boxes as on the fly; images decode to the generated pixels', async () => {
    const fly = syntheticDataset({ count: 8, size: SIZE, seed: 9 });
    const ds = datasets.create('synthetic', { root: dir });
    expect(ds.items.map((i) => i.id)).toEqual(fly.items.map((i) => i.id));
    for (let k = 0; k < ds.items.length; k++) {
      const a = ds.items[k]!, b = fly.items[k]!;
      expect(a.patientId).toBe(b.patientId);
      expect(a.text).toBe(b.text);
      expect(a.labels).toEqual(b.labels);
      expect(a.boxes).toEqual(b.boxes);
      expect(a.meta?.split).toBe(b.meta?.split);
    }
    const it = await loadItem(ds.items[3]!);
    expect(Buffer.compare(Buffer.from(it.image.data), Buffer.from(generateSynthetic(3, { seed: 9, size: SIZE }).image))).toBe(0);
  });

  it('masks: the finding\'s PNG for positives, an empty mask for negatives', async () => {
    const ds = syntheticDataset({ root: dir, mask: 'support_device' });
    const anyFinding = syntheticDataset({ root: dir }).items.flatMap((i) => i.meta?.findings as string[]);
    const name = (SYNTH_FINDINGS.find((n) => anyFinding.includes(n)) ?? 'opacity') as (typeof SYNTH_FINDINGS)[number];
    const ds2 = syntheticDataset({ root: dir, mask: name });
    const pos = ds2.items.find((i) => (i.meta?.findings as string[]).includes(name))!;
    const neg = ds2.items.find((i) => !(i.meta?.findings as string[]).includes(name))!;
    const mp = (await loadItem(pos)).mask!;
    const mn = (await loadItem(neg)).mask!;
    const s = generateSynthetic(Number(pos.id.slice(-6)), { seed: 9, size: SIZE });
    const want = new Uint8Array(SIZE * SIZE);
    for (const f of s.findings) if (f.name === name) f.mask.forEach((v, i) => (want[i] = want[i]! | v));
    expect(Buffer.compare(Buffer.from(mp.data), Buffer.from(want))).toBe(0);
    expect(mn.data.every((v) => v === 0)).toBe(true);
    expect(ds.items).toHaveLength(8);
  });

  it('feeds the DataLoader', async () => {
    const ds = syntheticDataset({ root: dir, split: undefined });
    const loader = new DataLoader(ds.items, { batchSize: 4, seed: 1, size: 64, workers: 0 });
    let n = 0;
    for await (const b of loader.epoch(0)) {
      n += b.samples.length;
      expect(b.samples[0]!.labels).toHaveLength(SYNTH_FINDINGS.length);
    }
    await loader.close();
    expect(n).toBe(8);
  });

  it('bad folders and rows are G2DErrors naming the file', () => {
    expect(() => syntheticDataset({ root: path.join(dir, 'nope') })).toThrow(/nope.*not found|not found/);
    const bad = tmpDir('bad');
    fs.mkdirSync(path.join(bad, 'images'));
    fs.writeFileSync(path.join(bad, 'metadata.csv'), 'image,findings,report,split,patient\nimages/a.png,opacity|fracture,"FINDINGS: x",train,p1\n');
    expect(() => syntheticDataset({ root: bad })).toThrow(G2DError);
    expect(() => syntheticDataset({ root: bad })).toThrow(/metadata\.csv:2.*fracture/);
    const skipped = syntheticDataset({ root: bad, onError: 'skip', log: () => undefined });
    expect(skipped.items).toHaveLength(0);
    expect(skipped.skipped).toHaveLength(1);
    fs.writeFileSync(path.join(bad, 'metadata.csv'), 'image,findings,report,split,patient\nimages/a.png,,"FINDINGS: x",holdout,p1\n');
    expect(() => syntheticDataset({ root: bad })).toThrow(/split must be train, val or test/);
  });
});

describe('g2d-data synth', () => {
  const spec: CliSpec = { name: 'g2d-data', version: '0', summary: 'test', commands: { synth: synthCommand } };
  const run = (argv: string[], cwd: string) => captureCli((io) => runCli(spec, argv, { ...io, cwd }));

  it('writes a dataset (relative --out against the working directory) and reports what it wrote', async () => {
    const cwd = tmpDir('cli');
    const r = await run(['synth', '--out', 'ds', '--count', '3', '--seed', '9', '--size', String(SIZE), '--quiet'], cwd);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/wrote 3 synthetic image\(s\) to .*ds/);
    expect(fs.readFileSync(path.join(cwd, 'ds', 'images', 'synth-000002.png'))).toEqual(
      (() => {
        const ref = tmpDir('cli-ref');
        writeSyntheticDataset({ out: ref, count: 3, seed: 9, size: SIZE });
        return fs.readFileSync(path.join(ref, 'images', 'synth-000002.png'));
      })(),
    );
  });

  it('is a g2d-data subcommand with its own --help', async () => {
    const { code, out } = await captureCli((io) => dataCli(['synth', '--help'], io));
    expect(code).toBe(0);
    expect(out).toMatch(/--out DIR/);
    expect(out).toMatch(/synthetic/);
  });

  it('usage errors exit 2 and name the option', async () => {
    const cwd = tmpDir('cli-bad');
    expect(await run(['synth', '--count', '3'], cwd)).toMatchObject({ code: 2, err: expect.stringMatching(/--out/) });
    expect(await run(['synth', '--out', 'x'], cwd)).toMatchObject({ code: 2, err: expect.stringMatching(/--count/) });
    expect(await run(['synth', '--out', 'x', '--count', '2', '--size', '9'], cwd)).toMatchObject({ code: 2, err: expect.stringMatching(/--size/) });
    expect(await run(['synth', '--out', 'x', '--count', '2', '--normal-share', '1.5'], cwd)).toMatchObject({ code: 2, err: expect.stringMatching(/--normal-share/) });
  });
});

describe('loadItem on on-the-fly synthetic items', () => {
  it('draws the item again (same image as the generator), so the generic loaders take synthetic data', async () => {
    const { generateSynthetic } = await import('../src');
    const idx = datasets.create('synthetic', { count: 3, size: 64, seed: 5 } as never);
    const it0 = await loadItem(idx.items[1]!);
    const s = generateSynthetic(1, { size: 64, seed: 5 });
    expect(it0.id).toBe(s.id);
    expect(Buffer.from(it0.image.data as Uint8Array).equals(Buffer.from(s.image))).toBe(true);
  });
});
