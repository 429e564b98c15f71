/** `data.text` (report | impression) and `data.padding` (max_length | longest) of the pretraining data. */
import { extractSections, syntheticLayout } from '@g2d-ts/data';
import { createModel } from '@g2d-ts/model';
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
    let model;
    try {
      model = createModel({ base: 'g2d-resnet18-tiny', imageSize: 64, text: { vocabSize: 28996, hiddenSize: 16, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 32, freezeLayers: 0, maxLength: 64 } } as never);
    } catch (e) {
      // the Bio_ClinicalBERT vocabulary comes from ../shared (or G2D_VOCAB): absent on a bare clone
      process.stderr.write(`[g2d] SKIP padding test: no tokenizer vocabulary (${(e as Error).message.slice(0, 120)})\n`);
      return;
    }
    const pairs = openPairs(cfgWith({ text: 'impression' }), 64);
    const base = { batchSize: 4, seed: 1, size: 64, mean: [0.5, 0.5, 0.5] as [number, number, number], std: [0.25, 0.25, 0.25] as [number, number, number], augment: 'none' as const, tokenizer: model.tokenizer, maxLength: 64 };
    const first = async (padding: 'max_length' | 'longest') => (await new PairBatches(pairs.train, { ...base, padding }).epoch(0, 0).next()).value!;
    expect((await first('max_length')).length).toBe(64);
    expect((await first('longest')).length).toBeLessThan(64);
    model.dispose();
  });
});
