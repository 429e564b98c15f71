/** SVG charts: well-formed XML, series names, axis ranges and ticks, gaps, decimation, errors. */
import { G2DError } from '@g2d-ts/core';
import { barChart, emaSmooth, histogram, histogramChart, lineChart, linearAxis, logAxis, niceStep, rocChart } from '../src';
import { formatTicks } from '../src/util';
import { allText, byClass, findAll, parseXml, type XmlElement } from './xml';

function plotOf(svg: XmlElement): XmlElement {
  const p = byClass(svg, 'plot');
  expect(p).toHaveLength(1);
  return p[0]!;
}
const domain = (el: XmlElement, axis: 'x' | 'y') => el.attrs[`data-${axis}-domain`]!.split(' ').map(Number);
const tickLabels = (svg: XmlElement, axis: 'x' | 'y') => byClass(svg, `${axis}-tick`).map((t) => t.text);
const legendNames = (svg: XmlElement) => byClass(svg, 'legend-item').map((g) => allText(g));
/** Numbers of the path commands ("M1 2L3 4") as [x, y] pairs, one list per subpath. */
function subpaths(d: string): number[][][] {
  return d
    .split('M')
    .filter(Boolean)
    .map((s) => s.split('L').map((p) => p.trim().split(/\s+/).map(Number)));
}

describe('the test XML parser', () => {
  it('accepts well-formed documents and rejects malformed ones', () => {
    expect(parseXml('<svg a="1"><g><text>a &amp; b &lt;c&gt; &#955;</text></g><path d=\'M0 0\'/></svg>').children).toHaveLength(2);
    for (const bad of [
      '<svg><g></svg>',
      '<svg a="1" a="2"/>',
      '<svg>&foo;</svg>',
      '<svg>a & b</svg>',
      '<svg a=1/>',
      '<svg/><svg/>',
      '<svg>',
      '<svg a="<"/>',
      '<svg a="1"b="2"/>',
      'text<svg/>',
    ]) {
      expect(() => parseXml(bad)).toThrow();
    }
  });
});

describe('scales', () => {
  it('nice steps are 1, 2 or 5 × 10^k', () => {
    expect(niceStep(10, 5)).toBe(2);
    expect(niceStep(1, 5)).toBe(0.2);
    expect(niceStep(0.003, 5)).toBeCloseTo(0.0005, 12);
    expect(niceStep(17000, 4)).toBe(5000);
  });
  it('linear value axes extend to tick multiples; step axes keep the data extent', () => {
    const a = linearAxis(0.13, 0.87, { nice: true, target: 5 });
    expect(a.domain).toEqual([0, 1]);
    expect(a.ticks).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(a.labels).toEqual(['0.0', '0.2', '0.4', '0.6', '0.8', '1.0']);
    const s = linearAxis(0, 19999, { nice: false, target: 4 });
    expect(s.domain).toEqual([0, 19999]);
    expect(s.ticks).toEqual([0, 5000, 10000, 15000]);
    expect(s.labels).toEqual(['0', '5k', '10k', '15k']);
    // a constant series still gets a drawable range around its value
    const c = linearAxis(2e-5, 2e-5, { nice: true });
    expect(c.domain[0]).toBeLessThan(2e-5);
    expect(c.domain[1]).toBeGreaterThan(2e-5);
  });
  it('tick labels: consistent decimals, k/M suffixes, exponent form for tiny values', () => {
    expect(formatTicks([0, 0.5, 1, 1.5], 0.5)).toEqual(['0.0', '0.5', '1.0', '1.5']);
    expect(formatTicks([0, 5e-6, 1e-5, 1.5e-5, 2e-5], 5e-6)).toEqual(['0', '5e-6', '1e-5', '1.5e-5', '2e-5']);
    expect(formatTicks([0, 2.5e6, 5e6], 2.5e6)).toEqual(['0', '2.5M', '5.0M']);
    expect(formatTicks([-1, 0, 1], 1)).toEqual(['-1', '0', '1']);
    expect(formatTicks([0, 0.25, 0.5], 0.25)).toEqual(['0.00', '0.25', '0.50']);
  });
  it('log axes end at whole decades', () => {
    const a = logAxis(3e-8, 2e-5);
    expect(a.domain).toEqual([1e-8, 1e-4]);
    expect(a.ticks).toEqual([1e-8, 1e-7, 1e-6, 1e-5, 1e-4]);
    expect(a.labels).toEqual(['1e-8', '1e-7', '1e-6', '1e-5', '1e-4']);
    expect(logAxis(2, 7).ticks).toEqual([1, 2, 5, 10]);
  });
});

describe('lineChart', () => {
  const series = [
    { name: 'VLA <loss> & "more"', points: [[0, 4], [1, 3], [2, null], [3, 2], [4, 1.5]] as [number, number | null][] },
    { name: 'PS', x: [0, 1, 2, 3, 4], y: [1, 0.9, 0.8, NaN, 0.5] },
  ];
  const svg = lineChart({ series, title: 'Loss', xLabel: 'step', yLabel: 'loss' });
  const doc = parseXml(svg);

  it('is well-formed SVG with escaped names in the legend', () => {
    expect(doc.name).toBe('svg');
    expect(doc.attrs.xmlns).toBe('http://www.w3.org/2000/svg');
    expect(legendNames(doc)).toEqual(['VLA <loss> & "more"', 'PS']);
    expect(svg).toContain('VLA &lt;loss&gt; &amp; &quot;more&quot;');
    expect(allText(byClass(doc, 'title')[0]!)).toBe('Loss');
    expect(allText(byClass(doc, 'x-label')[0]!)).toBe('step');
    expect(allText(byClass(doc, 'y-label')[0]!)).toBe('loss');
  });
  it('axis ranges: x = the data extent, y = nice ticks around the finite values', () => {
    const plot = plotOf(doc);
    expect(domain(plot, 'x')).toEqual([0, 4]);
    // finite y values span 0.5..4; NaN/null are ignored; step 0.5 (about 6 ticks for 360 px)
    expect(domain(plot, 'y')).toEqual([0.5, 4]);
    expect(tickLabels(doc, 'y')).toEqual(['0.5', '1.0', '1.5', '2.0', '2.5', '3.0', '3.5', '4.0']);
    expect(tickLabels(doc, 'x')).toEqual(['0', '1', '2', '3', '4']);
  });
  it('maps values to pixels linearly inside the plot', () => {
    const plot = plotOf(doc);
    const rect = findAll(plot, 'rect')[0]!;
    const [x0, y0, w, h] = ['x', 'y', 'width', 'height'].map((k) => Number(rect.attrs[k])) as [number, number, number, number];
    const [lo, hi] = domain(plot, 'y') as [number, number];
    const py = (v: number) => y0 + h - ((v - lo) / (hi - lo)) * h;
    const pieces = subpaths(findAll(byClass(doc, 'series')[0]!, 'path')[0]!.attrs.d!);
    // (0, 4): the left edge at the top; (4, 1.5): the right edge
    expect(pieces[0]![0]![0]).toBeCloseTo(x0, 1);
    expect(pieces[0]![0]![1]).toBeCloseTo(py(4), 1);
    expect(pieces[0]![1]![0]).toBeCloseTo(x0 + w / 4, 1);
    expect(pieces[0]![1]![1]).toBeCloseTo(py(3), 1);
    expect(pieces[1]![1]![0]).toBeCloseTo(x0 + w, 1);
    expect(pieces[1]![1]![1]).toBeCloseTo(py(1.5), 1);
  });
  it('is deterministic', () => {
    expect(lineChart({ series, title: 'Loss', xLabel: 'step', yLabel: 'loss' })).toBe(svg);
  });
  it('decimates 200 000 points to a few per pixel column and keeps a one-step spike', () => {
    const n = 200000;
    const pts: [number, number][] = [];
    for (let i = 0; i < n; i++) pts.push([i, 1 + Math.sin(i / 500) * 0.1 + (i === 123457 ? 5 : 0)]);
    const big = lineChart({ series: [{ name: 'long', points: pts }], width: 800, height: 400 });
    const d = parseXml(big);
    const path = findAll(byClass(d, 'series')[0]!, 'path')[0]!.attrs.d!;
    const nPts = subpaths(path).reduce((s, p) => s + p.length, 0);
    expect(nPts).toBeLessThan(4 * 800);
    expect(big.length).toBeLessThan(80000);
    const spike = 1 + Math.sin(123457 / 500) * 0.1 + 5;
    expect(domain(plotOf(d), 'y')[1]).toBeGreaterThanOrEqual(spike);
    const rect = findAll(plotOf(d), 'rect')[0]!;
    const top = Number(rect.attrs.y);
    const h = Number(rect.attrs.height);
    const [y0, y1] = domain(plotOf(d), 'y');
    const spikeY = top + h - ((spike - y0!) / (y1! - y0!)) * h;
    const minY = Math.min(...subpaths(path).flat().map((p) => p[1]!));
    expect(Math.abs(minY - spikeY)).toBeLessThan(0.01);
  });
  it('log y: positive values only, decade ticks', () => {
    const lr = lineChart({ series: [{ name: 'lr', points: [[0, 1e-8], [1, 2e-5], [2, 0], [3, 1e-6]] }], logY: true });
    const d = parseXml(lr);
    expect(plotOf(d).attrs['data-y-scale']).toBe('log');
    expect(domain(plotOf(d), 'y')).toEqual([1e-8, 1e-4]);
    expect(tickLabels(d, 'y')).toEqual(['1e-8', '1e-7', '1e-6', '1e-5', '1e-4']);
  });
  it('fixed domains override the data', () => {
    const d = parseXml(lineChart({ series: [{ name: 'acc', points: [[0, 10], [5, 60]] }], yDomain: [0, 100], xDomain: [0, 10] }));
    expect(domain(plotOf(d), 'y')).toEqual([0, 100]);
    expect(domain(plotOf(d), 'x')).toEqual([0, 10]);
  });
  it('smoothing draws a faint raw curve and the debiased EMA', () => {
    const d = parseXml(lineChart({ series: [{ name: 'l', points: [[0, 1], [1, 3], [2, 2]] }], smoothing: 0.5 }));
    const groups = byClass(d, 'series');
    expect(groups.map((g) => g.attrs['data-name'])).toEqual(['l (raw)', 'l']);
    // hand-worked: last = .5, 1.75, 1.875 -> /(1-.5^k) = 1, 2.333.., 2.142857..
    const e = emaSmooth([1, 3, 2], 0.5);
    expect(e[0]).toBeCloseTo(1, 12);
    expect(e[1]).toBeCloseTo(1.75 / 0.75, 12);
    expect(e[2]).toBeCloseTo(1.875 / 0.875, 12);
    // gaps stay gaps and do not reset the average
    const g = emaSmooth([1, NaN, 3], 0.5);
    expect(g[1]).toBeNaN();
    expect(g[2]).toBeCloseTo(1.75 / 0.75, 12);
  });
  it('an empty chart says "no data"; bad input names the series and point', () => {
    const d = parseXml(lineChart({ series: [{ name: 'x', points: [] }] }));
    expect(allText(byClass(d, 'message')[0]!)).toBe('no data');
    expect(() => lineChart({ series: [{ name: 'a', points: [[0, 1]] }, { name: 'b', points: [[0, 1], [1] as never] }] })).toThrow(/series\[1\]\.points\[1\]/);
    expect(() => lineChart({ series: [{ name: 'a', points: [['x' as never, 1]] }] })).toThrow(G2DError);
    expect(() => lineChart({ series: [{ name: 'a', x: [1, 2], y: [1] }] })).toThrow(/x has 2 values but y has 1/);
    expect(() => lineChart({ series: [{ name: 'a', points: [[0, 1]] }], smoothing: 1.5 })).toThrow(/smoothing/);
    expect(() => lineChart({ series: [{ name: 'a', points: [[0, 1]] }], width: 50 })).toThrow(/width/);
    expect(() => lineChart({ series: [{ name: 'a', points: [[0, 1]] }], logY: true, yDomain: [0, 1] })).toThrow(/yDomain/);
  });
});

describe('barChart', () => {
  const bars = [
    { label: 'Atelectasis', value: 0.71, error: 0.02 },
    { label: 'Cardiomegaly', value: 0.85, error: 0.01 },
    { label: 'Hernia', value: null },
    { label: 'Edema <x>', value: 0.64 },
  ];
  it('draws one bar per value with error bars, values and escaped labels', () => {
    const svg = barChart({ bars, title: 'AUC', valueLabel: 'AUC' });
    const d = parseXml(svg);
    const rects = byClass(d, 'bar');
    expect(rects.map((r) => r.attrs['data-label'])).toEqual(['Atelectasis', 'Cardiomegaly', 'Edema <x>']);
    expect(byClass(d, 'error-bar')).toHaveLength(2);
    expect(byClass(d, 'category').map((t) => t.text)).toEqual(['Atelectasis', 'Cardiomegaly', 'Hernia', 'Edema <x>']);
    expect(byClass(d, 'value').map((t) => t.text)).toEqual(['0.710', '0.850', 'n/a', '0.640']);
    // value axis from 0, widened to the next tick (step 0.2 for 360 px) above the highest bar + error
    expect(domain(plotOf(d), 'y')).toEqual([0, 1]);
    expect(tickLabels(d, 'y')).toEqual(['0.0', '0.2', '0.4', '0.6', '0.8', '1.0']);
    // bar heights are proportional to the values
    const h = rects.map((r) => Number(r.attrs.height));
    expect(h[0]! / h[1]!).toBeCloseTo(0.71 / 0.85, 2);
  });
  it('sorts (descending by default, missing last) and lays out horizontally', () => {
    const d = parseXml(barChart({ bars, sorted: true, horizontal: true }));
    expect(byClass(d, 'category').map((t) => t.text)).toEqual(['Cardiomegaly', 'Atelectasis', 'Edema <x>', 'Hernia']);
    expect(domain(plotOf(d), 'x')).toEqual([0, 1]);
    expect(byClass(d, 'value').map((t) => t.text)[0]).toBe('0.850 ± 0.010');
    const asc = parseXml(barChart({ bars, sorted: 'asc' }));
    expect(byClass(asc, 'category').map((t) => t.text)).toEqual(['Edema <x>', 'Atelectasis', 'Cardiomegaly', 'Hernia']);
    // horizontal bar lengths agree with the x axis ticks drawn by the frame
    const rect = byClass(d, 'bar')[0]!;
    const ticks = byClass(d, 'x-tick');
    const x0 = Number(ticks.find((t) => t.text === '0.0')!.attrs.x);
    const x1 = Number(ticks.find((t) => t.text === '1.0')!.attrs.x);
    expect(Number(rect.attrs.x)).toBeCloseTo(x0, 1);
    expect(Number(rect.attrs.width)).toBeCloseTo(0.85 * (x1 - x0), 1);
  });
  it('negative values, a reference line and a fixed domain', () => {
    const d = parseXml(barChart({ bars: [{ label: 'a', value: -2 }, { label: 'b', value: 3 }], reference: { value: 1, label: 'chance' } }));
    expect(domain(plotOf(d), 'y')).toEqual([-2, 3]);
    expect(byClass(d, 'reference')).toHaveLength(1);
    expect(byClass(d, 'reference-label')[0]!.text).toBe('chance');
    const f = parseXml(barChart({ bars: [{ label: 'a', value: 0.7 }], domain: [0.5, 1] }));
    expect(domain(plotOf(f), 'y')).toEqual([0.5, 1]);
  });
  it('rejects bad bars with their index', () => {
    expect(() => barChart({ bars: [{ label: 'a', value: 1 }, { label: 'b', value: 'x' as never }] })).toThrow(/bars\[1\]/);
    expect(() => barChart({ bars: [{ label: 'a', value: 1, error: -1 }] })).toThrow(/non-negative/);
    expect(() => barChart({ bars: [{ label: 3 as never, value: 1 }] })).toThrow(G2DError);
  });
});

describe('rocChart', () => {
  it('has the diagonal, unit axes and the AUC in the legend', () => {
    const svg = rocChart({
      curves: [
        { name: 'model A', fpr: [0, 0, 0.5, 1], tpr: [0, 0.5, 1, 1], auc: 0.875 },
        { name: 'B', fpr: [0, 1], tpr: [0, 1], auc: 0.5 },
      ],
      title: 'ROC',
    });
    const d = parseXml(svg);
    expect(legendNames(d)).toEqual(['model A (AUC 0.875)', 'B (AUC 0.500)']);
    expect(domain(plotOf(d), 'x')).toEqual([0, 1]);
    expect(domain(plotOf(d), 'y')).toEqual([0, 1]);
    expect(byClass(d, 'chance')).toHaveLength(1);
    const curves = byClass(d, 'curve');
    expect(curves.map((c) => c.attrs['data-name'])).toEqual(['model A', 'B']);
    expect(subpaths(curves[0]!.attrs.d!)[0]).toHaveLength(4);
    // square plot
    const rect = findAll(plotOf(d), 'rect')[0]!;
    expect(Number(rect.attrs.width)).toBeCloseTo(Number(rect.attrs.height), 5);
  });
  it('thins long curves and validates input', () => {
    const n = 50000;
    const fpr = Array.from({ length: n }, (_, i) => i / (n - 1));
    const tpr = fpr.map((f) => Math.sqrt(f));
    const d = parseXml(rocChart({ curves: [{ name: 'long', fpr, tpr, auc: 2 / 3 }] }));
    const pts = subpaths(byClass(d, 'curve')[0]!.attrs.d!)[0]!;
    expect(pts.length).toBeLessThan(2000);
    expect(() => rocChart({ curves: [{ name: 'x', fpr: [0, 1], tpr: [0], auc: 0.5 }] })).toThrow(/fpr has 2 values but tpr has 1/);
    expect(() => rocChart({ curves: [{ name: 'x', fpr: [0, 1.5], tpr: [0, 1] }] })).toThrow(/curves\[0\]\.fpr\[1\]/);
  });
});

describe('histogram / histogramChart', () => {
  it('counts like numpy.histogram (last bin closed) and skips non-finite / out-of-range values', () => {
    const h = histogram([0, 0.1, 0.5, 0.99, 1, 1.5, NaN, -0.1], 2, 0, 1);
    expect(Array.from(h.counts)).toEqual([2, 3]);
    expect(Array.from(h.edges)).toEqual([0, 0.5, 1]);
    expect(h.inside).toBe(5);
    expect(h.skipped).toBe(3);
  });
  it('density: bar areas sum to 1 for every series, whatever its size', () => {
    const a = Float32Array.from({ length: 1000 }, (_, i) => (i % 100) / 100);
    const b = [0.25, 0.25, 0.75];
    const svg = histogramChart({ series: [{ name: 'A', values: a }, { name: 'B', values: b }], bins: 4, range: [0, 1], title: 'intensities' });
    const d = parseXml(svg);
    expect(legendNames(d)).toEqual(['A (n=1000)', 'B (n=3)']);
    expect(domain(plotOf(d), 'x')).toEqual([0, 1]);
    // B: 2/3 of the mass in [0.25, 0.5) with width 0.25 -> density 2.667, the tallest bar
    const [y0, y1] = domain(plotOf(d), 'y');
    expect(y0).toBe(0);
    expect(y1).toBeGreaterThanOrEqual(8 / 3);
    expect(y1).toBeLessThan(3.5);
    expect(byClass(d, 'series')).toHaveLength(2);
  });
  it('probability and count normalisations, empty input, bad options', () => {
    const p = parseXml(histogramChart({ series: [{ name: 'a', values: [1, 1, 2, 3] }], bins: 2, normalize: 'count' }));
    expect(domain(plotOf(p), 'y')[1]).toBeGreaterThanOrEqual(2);
    expect(allText(byClass(p, 'y-label')[0]!)).toBe('count');
    const e = parseXml(histogramChart({ series: [{ name: 'a', values: [] }] }));
    expect(allText(byClass(e, 'message')[0]!)).toBe('no data');
    expect(() => histogramChart({ series: [{ name: 'a', values: [1] }], bins: 0 })).toThrow(/bins/);
    expect(() => histogramChart({ series: [{ name: 'a', values: [1] }], normalize: 'pdf' as never })).toThrow(/normalize/);
    expect(() => histogramChart({ series: [{ name: 'a', values: [1] }], range: [1, 0] })).toThrow(/range/);
  });
});

describe('every chart', () => {
  it('is well-formed with hostile names and uses unique clip-path ids per chart', () => {
    const evil = '</text><script>alert(1)</script>&\u0001';
    const charts = [
      lineChart({ series: [{ name: evil, points: [[0, 1], [1, 2]] }], title: evil, xLabel: evil, yLabel: evil }),
      barChart({ bars: [{ label: evil, value: 1 }], title: evil, reference: { value: 0.5, label: evil } }),
      rocChart({ curves: [{ name: evil, fpr: [0, 1], tpr: [0, 1], auc: 0.5 }], title: evil }),
      histogramChart({ series: [{ name: evil, values: [1, 2, 3] }], title: evil }),
    ];
    const ids = new Set<string>();
    for (const c of charts) {
      const d = parseXml(c);
      expect(findAll(d, 'script')).toHaveLength(0);
      const clip = findAll(d, 'clipPath')[0]!.attrs.id!;
      ids.add(clip);
    }
    expect(ids.size).toBe(4);
  });
});
