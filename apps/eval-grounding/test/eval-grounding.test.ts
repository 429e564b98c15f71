/**
 * g2d-eval-grounding: the scoring and geometry by hand, then end to end on 20 on-the-fly
 * synthetic studies with a micro G2D checkpoint saved by the test: every (image, finding) pair
 * with a region is one case, the metrics are the per-case means, overlays are written.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { generateSynthetic, type ItemRef, type SynthOptions } from '@g2d-ts/data';
import { loadDataset, type DenseItem } from '@g2d-ts/eval';
import { cliRunner, microModelFixture } from '@g2d-ts/eval/testing';
import { spec } from '../src/main';
import { heatToStored, regionsOf, scoreCase } from '../src/run';

const run = cliRunner(spec);

function item(over: Partial<DenseItem>): DenseItem {
  return { ref: { id: 'x', patientId: 'p' }, id: 'x', name: 'x', patientId: 'p', width: 8, height: 4, crop: [0, 3, 0, 7], image: new Uint8Array(16), size: 4, ...over };
}

describe('grounding scores', () => {
  it('pointing hit, IoU and Dice of the thresholded min-max normalised map', () => {
    // 4x2 heat; region = right column
    const heat = Float32Array.from([0, 1, 0.2, 0.9, 0.4, 0.3, 0.1, 0.8]);
    const region = Uint8Array.from([0, 1, 0, 1, 0, 1, 0, 1]);
    const r = scoreCase(heat, region, 0.5);
    expect(r.hit).toBe(1);
    // map >= 0.5: indices 1, 3, 7 -> all in the region (4 pixels): IoU 3/4, Dice 6/7
    expect(r.iou).toBeCloseTo(3 / 4, 12);
    expect(r.dice).toBeCloseTo(6 / 7, 12);
    expect(r.area).toBe(0.5);
    const miss = scoreCase(Float32Array.from([1, 0, 0, 0]), Uint8Array.from([0, 1, 1, 1]), 0.5);
    expect(miss.hit).toBe(0);
    expect(miss.iou).toBe(0);
  });

  it('maps the grid to the stored image through the preprocessing crop, the minimum outside it', () => {
    // stored 8x4 image whose crop is columns 2..5 (all rows); a 2x2 grid whose top-left cell is hot
    const it = item({ crop: [0, 3, 2, 5] });
    const heat = heatToStored(Float32Array.from([1, 0, 0, 0]), 2, it);
    expect(heat.length).toBe(32);
    expect(heat[0 * 8 + 0]).toBe(0); // outside the crop: the grid's minimum
    expect(heat[0 * 8 + 7]).toBe(0);
    expect(heat[0 * 8 + 2]).toBe(1); // the top-left stored pixel of the crop is the hot cell's centre region
    expect(heat[3 * 8 + 5]).toBe(0);
    let arg = 0;
    heat.forEach((v, i) => (v > heat[arg]! ? (arg = i) : 0));
    expect(arg).toBe(2);
  });

  it('groups boxes by finding, maps a one-class set, leaves out regions without prompts and the anatomy', () => {
    const skipped = new Map<string, number>();
    const boxes = item({
      boxes: [
        { box: [0, 0, 2, 2], label: 'Effusion' },
        { box: [4, 1, 6, 3], label: 'Effusion' },
        { box: [1, 1, 3, 2], label: 'Nodule' },
        { box: [1, 1, 3, 2], label: 'Unknown' },
      ],
    });
    const r = regionsOf(boxes, ['Effusion', 'Nodule'], skipped);
    expect([...r.keys()]).toEqual(['Effusion', 'Nodule']);
    expect(r.get('Effusion')!.reduce((s, v) => s + v, 0)).toBe(8);
    expect(skipped.get('Unknown')).toBe(1);
    const single = regionsOf(item({ boxes: [{ box: [0, 0, 1, 1], label: 'Lung Opacity' }] }), ['Pneumonia'], skipped);
    expect([...single.keys()]).toEqual(['Pneumonia']);
    const synth = regionsOf(item({ findingMasks: new Map([['lungs', new Uint8Array(32).fill(1)], ['nodule', new Uint8Array(32)]]) }), ['nodule'], skipped);
    expect([...synth.keys()]).toEqual(['nodule']);
  });
});

describe('g2d-eval-grounding', () => {
  const fx = microModelFixture('g2d-eval-ground-', { native: true });

  it('scores every (image, finding) with a region and writes the outputs', async () => {
    const out = path.join(fx.dir, 'run');
    const r = await run(['--dataset', 'synthetic', '--set', 'data.synthetic.count=20', '--set', 'data.synthetic.size=64', '--encoder', fx.encoder, '--set', 'output.overlays=3', '--out', out], fx.dir);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^\d+ cases: pointing \d+\.\d \(chance \d+\.\d\), IoU/);
    for (const f of ['results.json', 'results.md', 'per_case.csv', 'overlays.png', 'overlays.html', 'pointing.svg']) expect(fs.existsSync(path.join(out, f))).toBe(true);
    expect(fs.readdirSync(path.join(out, 'overlays'))).toHaveLength(3);
    const res = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8'));
    // the expected cases: every finding drawn in every study
    const data = loadDataset('synthetic', { synthetic: { count: 20, size: 64 }, requireLabels: false });
    const expected = data.index.items.flatMap((it: ItemRef) => {
      const src = it.meta!.synthetic as { index: number; options: SynthOptions };
      return [...new Set(generateSynthetic(src.index, src.options).findings.map((f) => `${it.id}/${f.name}`))];
    });
    const rows = fs.readFileSync(path.join(out, 'per_case.csv'), 'utf8').trim().split('\n');
    expect(rows[0]).toBe('image,finding,hit,iou,dice,area');
    expect(rows.slice(1).map((l) => l.split(',').slice(0, 2).join('/')).sort()).toEqual(expected.sort());
    const hits = rows.slice(1).map((l) => Number(l.split(',')[2]));
    expect(res.metrics.pointing).toBeCloseTo(hits.reduce((s, v) => s + v, 0) / hits.length, 12);
    expect(res.metrics.n).toBe(expected.length);
  });
});
