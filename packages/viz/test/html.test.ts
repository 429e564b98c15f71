/** HTML reports: escaping, self-containedness (no scripts, no external requests), figures, grids; Markdown tables. */
import { decode } from 'fast-png';
import {
  createRgba, details, encodePng, escapeHtml, figure, figureRow, formatMeanStd, html, htmlPage, htmlTable, imageGrid, imageSrc, keyValueTable, lineChart, markdownTable,
  meanStd, paragraph, preformatted, rawHtml, renderContent,
} from '../src';
import { byClass, findAll, parseXml } from './xml';

const EVIL = `<script>alert("x")</script> & 'q' <img src=http://evil/x.png>`;

/** Every URL the page would load or link to, from src/href attributes and CSS url(). */
function urls(page: string): string[] {
  const out: string[] = [];
  for (const m of page.matchAll(/\b(?:src|href|xlink:href)\s*=\s*(["'])(.*?)\1/gi)) out.push(m[2]!);
  for (const m of page.matchAll(/url\(\s*["']?([^"')]+)/gi)) out.push(m[1]!);
  return out;
}

describe('escaping', () => {
  it('escapeHtml covers the five special characters and drops XML-invalid controls', () => {
    expect(escapeHtml(EVIL)).toBe('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39; &lt;img src=http://evil/x.png&gt;');
    expect(escapeHtml('a\u0000b\u001fc\td')).toBe('abc\td');
  });
  it('strings are escaped, Html is inserted verbatim, the html`` tag escapes its values', () => {
    expect(renderContent([EVIL, rawHtml('<b>ok</b>'), 3, null])).toBe(`${escapeHtml(EVIL)}<b>ok</b>3`);
    expect(html`<p>${EVIL}</p>`.__html).toBe(`<p>${escapeHtml(EVIL)}</p>`);
    expect(html`<p>${rawHtml('<i>x</i>')}</p>`.__html).toBe('<p><i>x</i></p>');
    expect(paragraph(EVIL).__html).not.toContain('<script');
    expect(preformatted('a < b').__html).toBe('<pre>a &lt; b</pre>');
  });
});

describe('htmlTable', () => {
  it('escapes every text cell and header, formats numbers, right-aligns numeric columns', () => {
    const t = htmlTable(
      [
        [EVIL, 0.87349, 3, null],
        ['b', 1e-7, 4, rawHtml('<em>kept</em>')],
      ],
      ['name <1>', 'AUC', 'n', 'note'],
    ).__html;
    const doc = parseXml(t);
    expect(findAll(doc, 'script')).toHaveLength(0);
    expect(findAll(doc, 'img')).toHaveLength(0);
    expect(findAll(doc, 'em')).toHaveLength(1);
    const th = findAll(doc, 'th').map((e) => e.text);
    expect(th).toEqual(['name <1>', 'AUC', 'n', 'note']);
    const cells = findAll(doc, 'td');
    expect(cells.map((c) => c.text)).toEqual([EVIL, '0.8735', '3', '—', 'b', '1e-7', '4', '']);
    expect(cells[1]!.attrs.class).toBe('num');
    expect(cells[0]!.attrs.class).toBeUndefined();
  });
  it('digits, explicit alignment, caption; rows of the wrong length are named', () => {
    const t = htmlTable([[0.5, 'x']], ['a', 'b'], { digits: 3, align: ['center', 'right'], caption: 'Table <1>' }).__html;
    expect(t).toContain('<caption>Table &lt;1&gt;</caption>');
    expect(t).toContain('<td class="center">0.500</td><td class="num">x</td>');
    expect(() => htmlTable([['a', 'b'], ['c']], ['x', 'y'])).toThrow(/htmlTable: rows\[1\]: has 1 cells but the table has 2 columns/);
    expect(() => htmlTable([['a']], ['x'], { align: ['left', 'left'] })).toThrow(/align/);
    const kv = keyValueTable({ seed: 7, 'data <dir>': '/x' }).__html;
    expect(parseXml(kv).name).toBe('table');
    expect(kv).toContain('data &lt;dir&gt;');
  });
});

describe('figures and grids', () => {
  const img = createRgba(4, 3, [200, 10, 10, 255]);
  it('an RGBA image becomes a PNG data URI that decodes to the image', () => {
    const f = figure({ image: img, caption: 'cap <x>', alt: 'a "b"' }).__html;
    const doc = parseXml(f.replace(/(<img[^>]*?)>/, '$1/>'));
    const src = findAll(doc, 'img')[0]!.attrs.src!;
    expect(src.startsWith('data:image/png;base64,')).toBe(true);
    const d = decode(Buffer.from(src.slice(22), 'base64'));
    expect([d.width, d.height]).toEqual([4, 3]);
    expect(Array.from(d.data.subarray(0, 3))).toEqual([200, 10, 10]);
    expect(findAll(doc, 'img')[0]!.attrs.alt).toBe('a "b"');
    expect(findAll(doc, 'figcaption')[0]!.text).toBe('cap <x>');
  });
  it('PNG/JPEG bytes and data URIs are accepted; URLs and other bytes are refused', () => {
    expect(imageSrc(encodePng(img)).startsWith('data:image/png;base64,')).toBe(true);
    expect(imageSrc(Uint8Array.from([0xff, 0xd8, 0xff, 0xe0]))).toBe('data:image/jpeg;base64,/9j/4A==');
    expect(imageSrc('data:image/png;base64,AAAA')).toBe('data:image/png;base64,AAAA');
    expect(() => imageSrc('https://example.org/x.png', 'cells[2].image')).toThrow(/cells\[2\]\.image: must be a base64 data:image/);
    expect(() => imageSrc('x.png')).toThrow(/self-contained/);
    expect(() => imageSrc(Uint8Array.from([1, 2, 3]))).toThrow(/neither PNG nor JPEG/);
  });
  it('charts are inlined; SVG with scripts or external references is refused', () => {
    const svg = lineChart({ series: [{ name: 'a', points: [[0, 1], [1, 2]] }] });
    expect(figure({ svg }).__html).toContain(svg);
    expect(() => figure({ svg: '<svg><script>1</script></svg>' })).toThrow(/scripts/);
    expect(() => figure({ svg: '<svg><image href="http://x/y.png"/></svg>' })).toThrow(/external references/);
    expect(() => figure({ svg: '<svg onload="x()"></svg>' })).toThrow(/event handlers/);
    expect(() => figure({ svg: '<div></div>' })).toThrow(/<svg>/);
    expect(() => figure({ svg, image: img })).toThrow(/either image or svg/);
  });
  it('imageGrid: one cell per item with caption and escaped text, a column count', () => {
    const g = imageGrid(
      [
        { image: img, caption: 'A', text: 'FINDINGS: <none>\nIMPRESSION: ok' },
        { image: img, caption: rawHtml('<b>B</b>') },
      ],
      { columns: 3 },
    ).__html;
    const doc = parseXml(g.replace(/(<img[^>]*?)>/g, '$1/>'));
    expect(doc.attrs.style).toBe('--cols:3');
    expect(byClass(doc, 'g2d-cell')).toHaveLength(2);
    expect(byClass(doc, 'text')[0]!.text).toBe('FINDINGS: <none>\nIMPRESSION: ok');
    expect(findAll(doc, 'b')).toHaveLength(1);
    expect(() => imageGrid([{ image: img }], { columns: 0 })).toThrow(/columns/);
    expect(() => imageGrid([{ image: 'http://x' }])).toThrow(/imageGrid: cells\[0\]\.image/);
  });
});

describe('htmlPage', () => {
  const chart = lineChart({ series: [{ name: 'loss', points: [[0, 2], [10, 1]] }], title: 'Loss' });
  const page = htmlPage({
    title: `Run <report> ${EVIL}`,
    subtitle: EVIL,
    sections: [
      { title: 'Curves', body: figureRow([figure({ svg: chart, caption: 'loss' })]) },
      { title: 'Images', body: imageGrid([{ image: createRgba(2, 2), caption: EVIL }]) },
      { title: 'Curves', body: [paragraph(EVIL), details('raw', preformatted(EVIL))] },
    ],
    footer: EVIL,
  });
  it('is one self-contained document: no scripts, every URL a data: URI or an in-page anchor', () => {
    expect(page.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(page).not.toMatch(/<script/i);
    expect(page).not.toMatch(/<link\b/i);
    expect(page).not.toMatch(/@import/i);
    const all = urls(page);
    expect(all.length).toBeGreaterThan(3);
    for (const u of all) expect(u.startsWith('data:') || u.startsWith('#')).toBe(true);
    // the hostile <img src=http…> in the text arrived escaped, not as a tag
    expect(page).not.toContain('<img src=http');
    expect(page).toContain('&lt;img src=http://evil/x.png&gt;');
  });
  it('escapes titles and text, inlines the chart, gives sections unique anchors and a table of contents', () => {
    expect(page).toContain(`<title>Run &lt;report&gt; ${escapeHtml(EVIL)}</title>`);
    expect(page).toContain(chart);
    expect(page).toContain('<section id="curves">');
    expect(page).toContain('<section id="curves-2">');
    expect(page).toContain('<a href="#curves-2">Curves</a>');
    // <title>, <h1>, subtitle, grid caption, paragraph, <pre>, footer
    expect(page.split(escapeHtml(EVIL)).length - 1).toBe(7);
  });
  it('is deterministic and rejects bad options', () => {
    expect(htmlPage({ title: 't', sections: [{ title: 'a', body: 'x' }] })).toBe(htmlPage({ title: 't', sections: [{ title: 'a', body: 'x' }] }));
    expect(() => htmlPage({ title: 't', sections: [{ title: 'a', body: '' }], css: "@import 'http://x/y.css';" })).toThrow(/css/);
    expect(() => htmlPage({ title: 't', sections: [{ title: 'a', body: '' }], css: 'body{background:url(http://x/y.png)}' })).toThrow(/css/);
    expect(() => htmlPage({ title: 't', sections: [{ body: 'x' } as never] })).toThrow(/sections\[0\]/);
  });
});

describe('markdownTable', () => {
  it('pads columns, escapes pipes and line breaks, aligns numbers right', () => {
    const md = markdownTable(['method', 'AUC', 'note'], [
      ['G2D', 0.8734, 'a|b'],
      ['random init', 0.5, 'line\nbreak'],
      ['n/a', null, ''],
    ], { digits: 3 });
    expect(md).toBe(
      [
        '| method      |   AUC | note       |',
        '| ----------- | ----: | ---------- |',
        '| G2D         | 0.873 | a\\|b       |',
        '| random init | 0.500 | line break |',
        '| n/a         |     — |            |',
        '',
      ].join('\n'),
    );
  });
  it('backslash-escapes characters that would break the table or become HTML', () => {
    const md = markdownTable(['a <b>'], [['x\\y|<script>']]);
    expect(md.split('\n')[0]).toBe('| a \\<b\\>          |'); // padded to the cell below
    expect(md.split('\n')[2]).toBe('| x\\\\y\\|\\<script\\> |');
  });
  it('explicit alignment, errors name the row', () => {
    const md = markdownTable(['a', 'b'], [['x', 'y']], { align: ['center', 'right'] });
    expect(md.split('\n')[1]).toBe('| :-: | --: |');
    expect(() => markdownTable(['a', 'b'], [['x']])).toThrow(/markdownTable: rows\[0\]: has 1 cells but the table has 2 columns/);
  });
  it('mean ± std helpers', () => {
    const { mean, std, n } = meanStd([0.8, 0.82, NaN, 0.84]);
    expect(n).toBe(3);
    expect(mean).toBeCloseTo(0.82, 12);
    expect(std).toBeCloseTo(0.02, 12); // sample std (ddof 1)
    expect(meanStd([1, 3], 0).std).toBe(1);
    expect(formatMeanStd(mean, std)).toBe('0.820 ± 0.020');
    expect(formatMeanStd(null, 0.1)).toBe('—');
    expect(formatMeanStd(0.5, NaN, 2)).toBe('0.50');
  });
});
