/** `data.text` (report | impression) and `data.padding` (max_length | longest) of the pretraining data. */
import { extractSections, syntheticLayout } from '@g2d-ts/data';
import { BertTokenizer } from '@g2d-ts/text';
import { PretrainConfigSchema } from '../src/config';
import { openPairs, PairBatches } from '../src/data';

const cfgWith = (data: Record<string, unknown>) => PretrainConfigSchema.parse({ data: { count: 40, ...data } });

describe('data.text and data.padding', () => {
  it('impression pairs each synthetic image with its impression section only', () => {
    const report = openPairs(cfgWith({}), 64);
    const imp = openPairs(cfgWith({ text: 'impression' }), 64);
    expect(imp.train.map((p) => p.id)).toEqual(report.train.map((p) => p.id));
    const k = Number(imp.train[0]!.id.replace(/\D/g, ''));
    const sections = extractSections(syntheticLayout(k, { seed: 0, size: 64 }).report);
    expect((sections.impression ?? '').length).toBeGreaterThan(0);
    for (const [i, p] of imp.train.entries()) {
      expect(p.text.length).toBeGreaterThan(0);
      expect(p.text.length).toBeLessThan(report.train[i]!.text.length); // the findings section is gone
    }
  });

  it('impression on a source without sections is an error naming the key and the dataset', () => {
    expect(() => openPairs(cfgWith({ text: 'impression', dataset: 'covid-chestxray:/nowhere' }), 64)).toThrow(/data\.text: "impression".*covid-chestxray:\/nowhere/);
  });

  it('padding longest pads a batch to its longest text, max_length to text.maxLength', async () => {
    // a small in-memory WordPiece vocabulary: every impression word of these studies, so the test
    // needs neither the shared Bio_ClinicalBERT vocab nor a model
    const pairs = openPairs(cfgWith({ text: 'impression' }), 64);
    const words = new Set(pairs.train.flatMap((p) => p.text.toLowerCase().match(/[a-z]+|[^a-z\s]/g) ?? []));
    const tokenizer = BertTokenizer.fromVocab(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...words], { lowercase: true });
    const base = { batchSize: 4, seed: 1, size: 64, mean: [0.5, 0.5, 0.5] as [number, number, number], std: [0.25, 0.25, 0.25] as [number, number, number], augment: 'none' as const, tokenizer, maxLength: 64 };
    const first = async (padding: 'max_length' | 'longest') => (await new PairBatches(pairs.train, { ...base, padding }).epoch(0, 0).next()).value!;
    const full = await first('max_length');
    const longest = await first('longest');
    expect(full.length).toBe(64);
    expect(longest.length).toBeLessThan(64);
    // the same tokens, only the padding differs: each row's unpadded ids are equal
    const rows = (b: typeof full) => Array.from({ length: b.batch }, (_, r) => Array.from(b.inputIds.subarray(r * b.length, (r + 1) * b.length)).filter((_, j) => b.attentionMask[r * b.length + j] === 1));
    expect(rows(longest)).toEqual(rows(full));
    expect(Math.max(...rows(longest).map((r) => r.length))).toBe(longest.length);
  });
});
