import * as fs from 'node:fs';
import { describeShared, sharedPath } from '@g2d-ts/core/testing';
import { BertTokenizer } from '../src';
import { parseCsv, reportText, tokenizerGoldens } from './helpers';

// Done-when: the first 500 IU X-ray reports (findings + impression) encode to exactly the ids
// of transformers' BertTokenizerFast with the cased vocab (goldens: tools/text/gen_goldens.py).
describeShared('IU X-ray reports tokenize exactly as transformers', 'data/iu_xray_reports_text_only/reports.csv', (csvPath) => {
  const cased = sharedPath('data/tokenizers/bert-base-cased/vocab.txt');
  const uncased = sharedPath('data/tokenizers/bert-base-uncased/vocab.txt');
  const g = tokenizerGoldens();
  const rows = parseCsv(fs.readFileSync(csvPath, 'utf8'))
    .map((r) => ({ uid: r.uid!, text: reportText(r) }))
    .filter((r) => r.text !== '')
    .slice(0, g.reports.length);

  it('reads the same 500 reports the goldens were made from', () => {
    expect(g.reports).toHaveLength(500);
    expect(rows.map((r) => r.uid)).toEqual(g.reports.map((r) => r.uid));
  });

  const settings = [
    ['cased', cased, false],
    ['cased_lower', cased, true],
    ['uncased', uncased, true],
  ] as const;
  for (const [key, vocab, lowercase] of settings) {
    (vocab ? it : it.skip)(`${key}: every report's ids match`, () => {
      const tok = BertTokenizer.fromVocab(vocab!, { lowercase });
      const mismatched: string[] = [];
      let n = 0;
      g.reports.forEach((r, i) => {
        const want = r[key];
        if (!want) return;
        n++;
        const got = tok.encode(rows[i]!.text);
        if (JSON.stringify(got) !== JSON.stringify(want)) mismatched.push(`uid ${r.uid}: ${JSON.stringify(got)} != ${JSON.stringify(want)}`);
      });
      expect(n).toBe(key === 'cased' ? 500 : 50);
      expect(mismatched).toEqual([]);
    });
  }
});
