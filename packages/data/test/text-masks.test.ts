/** CSV, reports (reference cleaning, MIMIC sections, IU XML) and SIIM RLE / box masks. */
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import { describeShared } from '@g2d-ts/core/testing';
import { G2DError } from '@g2d-ts/core';
import { boxesToMask, decodeSiimRle, encodeSiimRle, extractSections, parseCsv, readCsv, readIuReportsArchive, referenceReportText } from '../src';
import { parseCsvRows } from '../src/csv';

describe('CSV', () => {
  it('quotes, embedded commas/newlines, CRLF, BOM', () => {
    const rows = parseCsv('\ufeffa,b,c\r\n1,"x, ""y""",3\r\n4,"multi\nline",6\n');
    expect(rows).toEqual([{ a: '1', b: 'x, "y"', c: '3' }, { a: '4', b: 'multi\nline', c: '6' }]);
    expect(parseCsvRows('a\n"b\nc"\nd').map((r) => r.line)).toEqual([1, 2, 4]);
  });
  it('a malformed row names file:line; skip policy reports it', () => {
    expect(() => parseCsv('a,b\n1,2\n3\n', 'labels.csv')).toThrow(/labels\.csv:3: row has 1 field\(s\), the header has 2/);
    const bad: string[] = [];
    expect(parseCsv('a,b\n1,2\n3\n4,5', 'l.csv', { onBadRow: (w, r) => bad.push(`${w} ${r}`) })).toHaveLength(2);
    expect(bad).toEqual(['l.csv:3 row has 1 field(s), the header has 2']);
    expect(() => parseCsv('a\n"open', 'q.csv')).toThrow(G2DError);
  });
});

describe('reports', () => {
  it('reference cleaning, worked by hand', () => {
    expect(referenceReportText('FINDINGS: Lungs are clear. 2. No effusion.', 'IMPRESSION: No acute process.')).toBe(
      // impression + findings; 'FINDINGS:' removed, 'IMPRESSION:' kept (reference spells IMPRESSSION); digit-only pieces dropped
      'IMPRESSION: No acute process. Lungs are clear. No effusion. ',
    );
    expect(referenceReportText(undefined, 'Normal.')).toBe('Normal.');
    expect(referenceReportText('dumb', 'FINDINGS: raw')).toBe('FINDINGS: raw');
    expect(referenceReportText('COMPARISON:  ___ Heart normal', 'Stable')).toBe('Stable Heart normal');
  });
  it('MIMIC section extraction', () => {
    const r = `                                 FINAL REPORT
 EXAMINATION:  CHEST (PA AND LAT)

 INDICATION:  ___F with cough

 FINDINGS:
 
 The lungs are clear.  No pleural effusion.
 Heart size is normal.
 
 IMPRESSION:
 
 No acute cardiopulmonary process.
`;
    const s = extractSections(r);
    expect(s.findings).toBe('The lungs are clear. No pleural effusion. Heart size is normal.');
    expect(s.impression).toBe('No acute cardiopulmonary process.');
    expect(s.sections.indication).toBe('___F with cough');
    expect(extractSections('Some text.\n\nCONCLUSION: stable.').impression).toBe('stable.');
    expect(extractSections('No headers here.\n\nLast paragraph only.').impression).toBe('Last paragraph only.');
  });
});

describeShared('IU X-ray reports (real NLMCXR_reports.tgz vs reports.csv)', 'data/iu_xray_reports_text_only', (dir) => {
  it('parses all 3,955 XML reports and agrees with the extracted CSV', () => {
    const reps = readIuReportsArchive(`${dir}/NLMCXR_reports.tgz`);
    expect(reps).toHaveLength(3955);
    const csv = new Map(readCsv(`${dir}/reports.csv`).map((r) => [r.report, r]));
    let withText = 0;
    for (const r of reps) {
      const c = csv.get(r.report)!;
      expect(c).toBeDefined();
      expect(r.findings ?? '').toBe(c.findings);
      expect(r.impression ?? '').toBe(c.impression);
      expect(r.imageIds.join(';')).toBe(c.image_ids);
      expect(r.meshMajor).toEqual(c.mesh_major!.split(';').map((x) => x.trim()).filter(Boolean));
      if (r.findings || r.impression) withText++;
    }
    expect(withText).toBe(3927);
  });
});

describe('masks', () => {
  it('SIIM RLE is relative and column-major; round-trips', () => {
    // 4x3 image (w=4, h=3): column-major pixels 1,2 (col 0 rows 1,2) and 6 (col 2 row 0)
    const m = decodeSiimRle('1 2 3 1', 4, 3);
    expect(Array.from(m.data)).toEqual([0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 0, 0]);
    expect(encodeSiimRle(m)).toBe('1 2 3 1');
    expect(encodeSiimRle(decodeSiimRle('-1', 4, 3))).toBe('-1');
    expect(() => decodeSiimRle('5 100', 4, 3, 'rle.csv:7')).toThrow(/rle\.csv:7: RLE run 0 ends at pixel 105/);
    expect(() => decodeSiimRle('1 2 3', 4, 3)).toThrow(/pairs/);
  });
  it('boxes to masks', () => {
    expect(Array.from(boxesToMask([{ x: 1, y: 0, w: 2, h: 2 }], 4, 3).data)).toEqual([0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0]);
  });
});

describeShared('SIIM train-rle.csv (real table)', 'data/label_tables/siim-pneumothorax-train-rle.csv.gz', (file) => {
  it('every positive RLE decodes inside 1024x1024 and re-encodes to the same string', () => {
    const rows = parseCsv(zlib.gunzipSync(fs.readFileSync(file)).toString('utf8'), file);
    expect(rows).toHaveLength(12954);
    const pos = rows.filter((r) => r.EncodedPixels!.trim() !== '-1');
    for (const r of pos.filter((_, k) => k % 500 === 0)) {
      const rle = r.EncodedPixels!.trim();
      const m = decodeSiimRle(rle, 1024, 1024, `${file}:${r.ImageId}`);
      expect(m.data.some((v) => v === 1)).toBe(true);
      expect(encodeSiimRle(m)).toBe(rle);
    }
  });
});
