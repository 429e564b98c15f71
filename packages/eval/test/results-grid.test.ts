import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { aggregateGrid, classificationMetrics, csvField, fractionId, fractionLabel, gridCells, paperTableMarkdown, predictionsCsv, readGridSpec, rocCurve, toJson, type GridSpec } from '../src';

// the nx plugin (tools/nx-eval-grid, plain JS, not a library) implements this package's grid contract, so it is tested here
// eslint-disable-next-line @nx/enforce-module-boundaries
const plugin = require('../../../tools/nx-eval-grid/index.js') as {
  createNodes: [string, (files: string[], o: unknown, ctx: { workspaceRoot: string }) => Promise<[string, { projects: Record<string, { targets: Record<string, { options: { command: string }; dependsOn: string[]; outputs: string[]; cache: boolean; inputs: unknown[] }> }> }][]>];
};

describe('classification metrics', () => {
  it('per-class AUC (null when undefined), best F1 with ACC there, ACC at 0.5, top-1', () => {
    const scores = [
      [0.9, 0.1],
      [0.8, 0.3],
      [0.2, 0.6],
      [0.1, 0.7],
    ];
    const labels = [
      [1, 0],
      [1, 0],
      [0, 1],
      [0, 1],
    ];
    const m = classificationMetrics(scores, labels, ['A', 'B']);
    expect(m.auc.perClass).toEqual({ A: 1, B: 1 });
    expect(m.auc.mean).toBe(1);
    expect(m.bestF1.perClass.A).toEqual({ f1: 1, threshold: 0.8, accuracy: 1 });
    expect(m.accuracy.perClass.A).toBe(1);
    expect(m.accuracy.top1).toBe(1);
    const one = classificationMetrics([[0.2], [0.4]], [[1], [1]], ['C']);
    expect(one.auc.perClass.C).toBeNull();
    expect(one.auc.mean).toBeNull();
    const multi = classificationMetrics([[0.9, 0.8]], [[1, 1]], ['A', 'B']);
    expect(multi.accuracy.top1).toBeUndefined(); // not single-label
    expect(() => classificationMetrics([[1]], [[1, 0]], ['A'])).toThrow(/row 0 does not have 1 columns/);
  });

  it('ROC curve points from (0,0) to (1,1) with one point per distinct score', () => {
    const r = rocCurve([0.9, 0.5, 0.5, 0.1], [1, 0, 1, 0]);
    expect(r.fpr).toEqual([0, 0, 0.5, 1]);
    expect(r.tpr).toEqual([0, 0.5, 1, 1]);
    expect(rocCurve([0.1], [1])).toEqual({ fpr: [], tpr: [] });
  });
});

describe('results writers', () => {
  it('predictions.csv: quoting, full-precision scores that read back exactly, 0/1 labels', () => {
    const s = 0.12345678901234568;
    const csv = predictionsCsv(['COVID-19, ARDS', 'B'], [{ image: 'img 1', scores: [s, 1e-9], labels: [1, 0] }]);
    const [head, row] = csv.trim().split('\n');
    expect(head).toBe('image,"COVID-19, ARDS_score","COVID-19, ARDS_label",B_score,B_label');
    expect(row).toBe(`img 1,${String(s)},1,1e-9,0`);
    expect(Number(row!.split(',')[1])).toBe(s);
    expect(() => predictionsCsv(['A'], [{ image: 'x', scores: [0.5], labels: [2] }])).toThrow(/label of A for x is 2/);
    expect(csvField('a"b')).toBe('"a""b"');
  });

  it('JSON without NaN; paper tables with mean ± std; fraction labels', () => {
    expect(toJson({ a: NaN, b: Infinity, c: 1 })).toBe('{\n "a": null,\n "b": null,\n "c": 1\n}\n');
    expect([fractionLabel(0.01), fractionLabel(0.1), fractionLabel(1)]).toEqual(['1%', '10%', '100%']);
    expect([fractionId(0.01), fractionId(0.1), fractionId(1), fractionId(0.005)]).toEqual(['1pct', '10pct', '100pct', '0p5pct']);
    const md = paperTableMarkdown({ columns: ['X 1%', 'X 10%'], rows: [{ method: 'G2D', cells: { 'X 1%': { mean: 0.8, std: 0.01 }, 'X 10%': null } }] });
    expect(md).toContain('| G2D    | 80.0 ± 1.0 |     — |');
  });
});

describe('grids: cells, aggregation, nx plugin', () => {
  let root: string;
  const spec: GridSpec = {
    description: 'test grid',
    bin: 'dist/main.js',
    out: 'runs/x/grid',
    args: ['--encoder', 'g2d-resnet18-tiny'],
    datasets: { syn: ['--dataset', 'synthetic'], cov: ['--dataset', 'covid-chestxray:../data/c d'] },
    fractions: [0.01, 1],
    seeds: [0, 1],
    metric: 'auc.mean',
    metricLabel: 'AUC',
    scale: 100,
    dataInputs: ['../data/c d'],
  };
  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'g2d-eval-grid-'));
    fs.writeFileSync(path.join(root, 'nx.json'), '{}');
    fs.mkdirSync(path.join(root, 'apps', 'app'), { recursive: true });
    fs.writeFileSync(path.join(root, 'apps', 'app', 'eval-grid.json'), JSON.stringify(spec));
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it('lists datasets x fractions x seeds with their arguments and folders', () => {
    const cells = gridCells(spec);
    expect(cells.map((c) => c.id)).toEqual(['syn-1pct-s0', 'syn-1pct-s1', 'syn-100pct-s0', 'syn-100pct-s1', 'cov-1pct-s0', 'cov-1pct-s1', 'cov-100pct-s0', 'cov-100pct-s1']);
    expect(cells[1]!.args).toEqual(['--encoder', 'g2d-resnet18-tiny', '--dataset', 'synthetic', '--fraction', '0.01', '--seed', '1', '--out', 'runs/x/grid/syn-1pct-s1']);
    expect(readGridSpec(path.join(root, 'apps', 'app', 'eval-grid.json')).datasets.cov).toEqual(spec.datasets.cov);
  });

  it('aggregates mean ± sample std over seeds into results.md, refusing missing cells unless allowed', () => {
    const vals: Record<string, number | null> = { 'syn-1pct-s0': 0.6, 'syn-1pct-s1': 0.7, 'syn-100pct-s0': 0.8, 'syn-100pct-s1': 0.9, 'cov-1pct-s0': 0.5, 'cov-1pct-s1': null, 'cov-100pct-s0': 0.75 };
    for (const c of gridCells(spec)) {
      if (!(c.id in vals)) continue;
      const dir = path.join(root, c.out);
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, 'results.json'), JSON.stringify({ protocol: 'linear', encoder: { label: 'random tiny' }, data: { displayName: c.dataset === 'syn' ? 'synthetic' : 'COVID' }, metrics: { auc: { mean: vals[c.id] } } }));
    }
    expect(() => aggregateGrid(spec, { root })).toThrow(/1 grid cell\(s\) have no results.json yet: cov-100pct-s1/);
    const r = aggregateGrid(spec, { root, allowMissing: true, title: 'T' });
    const t = (col: string) => r.table.find((x) => x.column === col)!;
    expect(t('synthetic 1%').mean).toBeCloseTo(0.65, 12);
    expect(t('synthetic 1%').std).toBeCloseTo(Math.sqrt(0.005), 12);
    expect(t('COVID 1%')).toMatchObject({ mean: 0.5, std: null, n: 1 });
    const md = fs.readFileSync(path.join(root, spec.out, 'results.md'), 'utf8');
    expect(md).toMatch(/\| random tiny, linear \| +65.0 ± 7.1 \| +85.0 ± 7.1 \| +50.0 \| +75.0 \|/);
    expect(md).toContain('Missing cells: cov-100pct-s1');
    expect(JSON.parse(fs.readFileSync(path.join(root, spec.out, 'grid-results.json'), 'utf8')).missing).toEqual(['cov-100pct-s1']);
  });

  it('the nx plugin adds one cached target per cell and a grid target depending on all of them', async () => {
    const [pattern, create] = plugin.createNodes;
    expect(pattern).toBe('apps/*/eval-grid.json');
    const res = await create(['apps/app/eval-grid.json'], undefined, { workspaceRoot: root });
    const targets = res[0]![1].projects['apps/app']!.targets;
    const cells = Object.keys(targets).filter((k) => k.startsWith('grid-'));
    expect(cells.length).toBe(8);
    const t = targets['grid-cov-1pct-s1']!;
    expect(t.cache).toBe(true);
    expect(t.outputs).toEqual(['{workspaceRoot}/runs/x/grid/cov-1pct-s1']);
    expect(t.options.command).toBe("node apps/app/dist/main.js --encoder g2d-resnet18-tiny --dataset 'covid-chestxray:../data/c d' --fraction 0.01 --seed 1 --out runs/x/grid/cov-1pct-s1");
    expect(t.inputs).toContainEqual({ runtime: "node tools/nx-eval-grid/fingerprint.js '../data/c d'" });
    expect(targets.grid!.dependsOn).toEqual(['build', ...cells]);
    expect(targets.grid!.options.command).toBe('node apps/app/dist/main.js aggregate --grid apps/app/eval-grid.json');
    fs.writeFileSync(path.join(root, 'apps', 'app', 'bad.json'), '{"out": "x", "datasets": {}, "fractions": [1], "seeds": [0]}');
    await expect(create(['apps/app/bad.json'], undefined, { workspaceRoot: root })).rejects.toThrow(/"datasets" must map names/);
  });
});
