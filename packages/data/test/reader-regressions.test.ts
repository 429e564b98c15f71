/** Inputs `pnpm fuzz` found that made a reader throw something other than a G2DError. */
import { parseIuXml } from '../src';

describe('reader regressions found by fuzzing', () => {
  it('parseIuXml: a character reference outside Unicode (&#xFFFFFFFF;, &#0;, a surrogate) becomes U+FFFD, not a RangeError', () => {
    const xml = `<eCitation><IUXRId id="7"/><AbstractText Label="FINDINGS">a&#xFFFFFFFF;b &#0; &#xD800; &#233;</AbstractText></eCitation>`;
    const r = parseIuXml(xml, '7.xml');
    expect(r.uid).toBe('7');
    expect(r.findings).toBe('a\ufffdb \ufffd \ufffd é');
  });
});
