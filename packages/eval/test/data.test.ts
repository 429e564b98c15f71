import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { DatasetIndex, ItemRef } from '@g2d-ts/data';
import { imageName, loadDataset, makeSplits, parseDatasetSpec, positives, selectClasses, splitSizes, type LoadedDataset } from '../src';

function fake(nPatients: number, perPatient: number, classes = ['A', 'B']): LoadedDataset {
  const items: ItemRef[] = [];
  for (let p = 0; p < nPatients; p++) {
    for (let k = 0; k < perPatient; k++) {
      const id = `p${p}-${k}`;
      items.push({ id, patientId: `p${p}`, image: `/data/images/${id}.png`, labels: [(p + k) % 2, p % 3 === 0 ? 1 : 0] });
    }
  }
  const index: DatasetIndex = { name: 'fake', root: '/data', classes, items, skipped: [] };
  return { spec: { adapter: 'fake', root: '/data' }, displayName: 'fake', index, classes, dropped: 0, identity: 'fake' };
}

describe('dataset specs, splits and fractions', () => {
  it('parses adapter[:dir] and rejects unknown adapters or a missing folder', () => {
    expect(parseDatasetSpec('synthetic')).toEqual({ adapter: 'synthetic', root: undefined });
    expect(parseDatasetSpec('nih-cxr14:/x/y')).toEqual({ adapter: 'nih-cxr14', root: '/x/y' });
    expect(() => parseDatasetSpec('nih:/x')).toThrow(/unknown dataset adapter "nih".*valid: .*nih-cxr14/);
    expect(() => parseDatasetSpec('nih-cxr14')).toThrow(/needs its folder: --dataset nih-cxr14:<dir>/);
    expect(() => loadDataset('covid-chestxray:/no/such/folder')).toThrow(/\/no\/such\/folder: dataset folder not found/);
  });

  it('patient-level split: no patient in two parts, fixed by splitSeed, not by seed', () => {
    const d = fake(60, 2);
    const ratios = { train: 0.7, val: 0.15, test: 0.15 };
    const a = makeSplits(d, undefined, { splitSeed: 0, ratios, fraction: 1, seed: 0 });
    const b = makeSplits(d, undefined, { splitSeed: 0, ratios, fraction: 1, seed: 5 });
    expect(a.source).toBe('patient-split');
    const pats = (l: ItemRef[]) => new Set(l.map((i) => i.patientId));
    const [tr, va, te] = [pats(a.train), pats(a.val), pats(a.test)];
    for (const p of tr) expect(va.has(p) || te.has(p)).toBe(false);
    for (const p of va) expect(te.has(p)).toBe(false);
    expect(a.train.length + a.val.length + a.test.length).toBe(120);
    expect(b.test.map((i) => i.id)).toEqual(a.test.map((i) => i.id)); // same test patients for every seed
    const c = makeSplits(d, undefined, { splitSeed: 1, ratios, fraction: 1, seed: 0 });
    expect(c.test.map((i) => i.id)).not.toEqual(a.test.map((i) => i.id));
  });

  it('fractions sample whole patients from the training split, nested per seed', () => {
    const d = fake(200, 2);
    const ratios = { train: 0.7, val: 0.15, test: 0.15 };
    const s1 = makeSplits(d, undefined, { splitSeed: 0, ratios, fraction: 0.01, seed: 3 });
    const s10 = makeSplits(d, undefined, { splitSeed: 0, ratios, fraction: 0.1, seed: 3 });
    expect(s1.train.length).toBeGreaterThanOrEqual(Math.ceil(0.01 * s1.trainFull.length));
    expect(s1.train.length).toBeLessThan(s10.train.length);
    const ids10 = new Set(s10.train.map((i) => i.id));
    for (const it of s1.train) expect(ids10.has(it.id)).toBe(true);
    const other = makeSplits(d, undefined, { splitSeed: 0, ratios, fraction: 0.1, seed: 4 });
    expect(other.train.map((i) => i.id)).not.toEqual(s10.train.map((i) => i.id));
    expect(splitSizes(s10).train!.images).toBe(s10.train.length);
  });

  it('uses the dataset split when every item has one; --test data is aligned by class name', () => {
    const d = fake(20, 1);
    d.index.items.forEach((it, k) => (it.meta = { split: k < 12 ? 'train' : k < 16 ? 'val' : 'test' }));
    const s = makeSplits(d, undefined, { splitSeed: 0, ratios: { train: 0.7, val: 0.15, test: 0.15 }, fraction: 1, seed: 0 });
    expect([s.source, s.train.length, s.val.length, s.test.length]).toEqual(['dataset', 12, 4, 4]);
    const t = fake(5, 1, ['B', 'A', 'C']);
    t.index.items.forEach((it) => (it.labels = [1, 0, 1]));
    const w = makeSplits(d, t, { splitSeed: 0, ratios: { train: 0.7, val: 0.15, test: 0.15 }, fraction: 1, seed: 0 });
    expect(w.source).toBe('test-folder');
    expect(w.test.length).toBe(5);
    expect(w.test[0]!.labels).toEqual([0, 1]); // A, B of the training classes
    const bad = fake(3, 1, ['X']);
    expect(() => makeSplits(d, bad, { splitSeed: 0, ratios: { train: 0.7, val: 0.15, test: 0.15 }, fraction: 1, seed: 0 })).toThrow(/--test data lacks the class\(es\) A, B/);
  });

  it('selects classes by name, counts positives, names images without extension', () => {
    const d = fake(4, 1);
    const s = selectClasses(d.index, ['B']);
    expect(s.classes).toEqual(['B']);
    expect(s.items[0]!.labels).toEqual([1]);
    expect(() => selectClasses(d.index, ['Z'])).toThrow(/"Z" is not a class of fake \(classes: A, B\)/);
    expect(positives(d.index.items, d.classes)).toEqual({ A: 2, B: 2 });
    expect(imageName(d.index.items[0]!)).toBe('p0-0');
    expect(imageName({ id: 'synth-000003', patientId: 'x' })).toBe('synth-000003');
  });

  it('loads the on-the-fly synthetic dataset with its own split', () => {
    const d = loadDataset('synthetic', { synthetic: { count: 24, seed: 0, size: 64 } });
    expect(d.classes.length).toBe(8);
    expect(d.index.items.length).toBe(24);
    const s = makeSplits(d, undefined, { splitSeed: 0, ratios: { train: 0.7, val: 0.15, test: 0.15 }, fraction: 1, seed: 0 });
    expect(s.source).toBe('dataset');
    expect(d.identity).toContain('"size":64');
  });

  it('a labelled folder dataset: items without labels are dropped and counted', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'g2d-eval-covid-'));
    try {
      fs.mkdirSync(path.join(dir, 'images'));
      fs.writeFileSync(path.join(dir, 'metadata.csv'), 'patientid,finding,filename\n1,COVID-19,a.jpg\n2,,b.jpg\n3,No Finding,c.jpg\n');
      const d = loadDataset(`covid-chestxray:${dir}`, { adapter: { masks: 'none' } });
      expect(d.classes).toEqual(['COVID-19', 'No Finding']);
      expect(d.index.items.length).toBe(2);
      expect(d.dropped).toBe(1);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
