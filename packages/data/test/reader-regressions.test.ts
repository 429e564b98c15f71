/** Inputs `pnpm fuzz` found that made a reader throw something other than a G2DError. */
import { G2DError } from '@g2d-ts/core';
import { decodeDicom, parseIuXml, readDicomMeta } from '../src';

describe('reader regressions found by fuzzing', () => {
  it('parseIuXml: a character reference outside Unicode (&#xFFFFFFFF;, &#0;, a surrogate) becomes U+FFFD, not a RangeError', () => {
    const xml = `<eCitation><IUXRId id="7"/><AbstractText Label="FINDINGS">a&#xFFFFFFFF;b &#0; &#xD800; &#233;</AbstractText></eCitation>`;
    const r = parseIuXml(xml, '7.xml');
    expect(r.uid).toBe('7');
    expect(r.findings).toBe('a\ufffdb \ufffd \ufffd é');
  });

  it('readDicomMeta / decodeDicom: a header value cut off by the end of the file is a G2DError, not a thrown string', async () => {
    // raw implicit-VR little-endian data set whose last element (WindowCenter) claims 40 bytes and has 2
    const parts: number[] = [];
    const el = (g: number, e: number, len: number, body: number[]) => parts.push(g & 255, g >> 8, e & 255, e >> 8, len & 255, (len >> 8) & 255, (len >> 16) & 255, len >>> 24, ...body);
    el(0x0008, 0x0060, 2, [77, 82]);
    el(0x0028, 0x0010, 2, [4, 0]);
    el(0x0028, 0x0011, 2, [4, 0]);
    el(0x0028, 0x0100, 2, [8, 0]);
    el(0x0028, 0x1050, 40, [0x35, 0x30]);
    const bytes = Uint8Array.from(parts);
    expect(() => readDicomMeta(bytes, 'cut.dcm')).toThrow(G2DError);
    expect(() => readDicomMeta(bytes, 'cut.dcm')).toThrow(/^cut\.dcm: truncated or corrupt header/);
    await expect(decodeDicom(bytes, { source: 'cut.dcm' })).rejects.toThrow(G2DError);
  });
});
