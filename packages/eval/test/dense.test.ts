/**
 * Dense-item geometry: stored pixels ↔ model input through the preprocessing crop, and the
 * synthetic finding masks (one drawing) against the adapter's own per-finding masks.
 */
import { datasets, loadSyntheticItem, nonZeroBBox, referencePreprocess, type ItemRef } from '@g2d-ts/data';
import { boxToInput, boxToStored, denseTestDataset, loadDenseItem, mapToStored, maskToInput, type DenseItem } from '../src/dense';
import { makeSplits, type LoadedDataset } from '../src/data';

function geom(over: Partial<DenseItem>): DenseItem {
  return { ref: { id: 'x', patientId: 'p' }, id: 'x', name: 'x', patientId: 'p', width: 10, height: 6, crop: [1, 4, 2, 9], image: new Uint8Array(16), size: 4, ...over };
}

describe('dense geometry', () => {
  it('maps boxes stored -> input -> stored exactly through the crop', () => {
    const it = geom({}); // crop rows 1..4 (4), columns 2..9 (8) -> 4x4: x scale 1/2, y scale 1
    expect(boxToInput([2, 1, 10, 5], it)).toEqual([0, 0, 4, 4]);
    expect(boxToInput([4, 2, 6, 3], it)).toEqual([1, 1, 2, 2]);
    expect(boxToStored([1, 1, 2, 2], it)).toEqual([4, 2, 6, 3]);
    // clipped to the image
    expect(boxToStored([-4, -4, 10, 10], it)).toEqual([0, 0, 10, 6]);
  });

  it('samples masks to the input size nearest and maps maps back bilinearly, zero outside the crop', () => {
    const it = geom({});
    const mask = new Uint8Array(60);
    // stored columns 6..9 of rows 1..4 -> the right half of the input
    for (let y = 1; y <= 4; y++) for (let x = 6; x <= 9; x++) mask[y * 10 + x] = 1;
    expect(Array.from(maskToInput(mask, it))).toEqual([0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1]);
    const back = mapToStored(Float32Array.from(maskToInput(mask, it)), it);
    expect(back.length).toBe(60);
    for (let x = 0; x < 10; x++) {
      expect(back[0 * 10 + x]).toBe(0); // row 0 is outside the crop
      expect(back[5 * 10 + x]).toBe(0);
    }
    expect(back[0 * 10 + 0]).toBe(0);
    // inside: exactly 0 far left, 1 far right, a blend at the boundary
    expect(back[2 * 10 + 2]).toBe(0);
    expect(back[2 * 10 + 9]).toBe(1);
    expect(back[2 * 10 + 5]).toBeGreaterThan(0);
    expect(back[2 * 10 + 5]).toBeLessThan(1);
    expect(() => mapToStored(new Float32Array(5), it)).toThrow(/expected 4x4/);
  });
});

describe('loadDenseItem', () => {
  it('synthetic: one drawing gives the image, the crop and each finding mask, as the adapter draws them', async () => {
    const make = (mask?: string) => datasets.create('synthetic', { count: 6, size: 64, seed: 4, ...(mask ? { mask } : {}) } as never);
    const plain = make();
    const ref: ItemRef = plain.items.find((x) => (x.meta?.findings as string[]).length > 0)!;
    const it = await loadDenseItem(ref, { size: 32, variant: 'code', mask: false, findingMasks: true });
    const loaded = loadSyntheticItem(ref);
    expect([it.width, it.height]).toEqual([64, 64]);
    expect(it.crop).toEqual(nonZeroBBox(loaded.image));
    expect(Array.from(it.image)).toEqual(Array.from(referencePreprocess(loaded.image, { size: 32, variant: 'code' })));
    for (const f of ref.meta!.findings as string[]) {
      const withMask = make(f).items.find((x) => x.id === ref.id)!;
      expect(Array.from(it.findingMasks!.get(f)!)).toEqual(Array.from(loadSyntheticItem(withMask).mask!.data));
    }
    expect(it.findingMasks!.get('lungs')!.some((v) => v > 0)).toBe(true);
    expect(it.boxes?.length).toBe(loaded.boxes!.length);
  });
});

describe('denseTestDataset', () => {
  it('lets a --test folder whose classes differ from the training data through makeSplits, keeping every item', () => {
    const mk = (name: string, classes: string[], n: number): LoadedDataset => ({
      spec: { adapter: 'covid-chestxray', root: `/${name}` },
      displayName: name,
      classes,
      dropped: 0,
      identity: name,
      index: { name, root: `/${name}`, classes, skipped: [], items: Array.from({ length: n }, (_, i) => ({ id: `${name}${i}`, patientId: `${name}p${i}`, image: `/${name}/${i}.jpg`, labels: classes.map(() => 0) })) },
    });
    const data = mk('train', ['A', 'B', 'C'], 20);
    const test = mk('test', ['A'], 5);
    const opts = { splitSeed: 0, ratios: { train: 0.7, val: 0.15, test: 0.15 }, fraction: 1, seed: 0 };
    expect(() => makeSplits(data, test, opts)).toThrow(/lacks the class/);
    const s = makeSplits(data, denseTestDataset(test, data), opts);
    expect(s.test.map((it) => it.id)).toEqual(test.index.items.map((it) => it.id));
    expect(s.source).toBe('test-folder');
    expect(s.train.length + s.val.length).toBe(20);
  });
});
