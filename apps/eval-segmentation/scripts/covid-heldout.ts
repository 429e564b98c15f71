/**
 * Builds two folders in the covid-chestxray layout from one (metadata.csv rows filtered by
 * patient; images/ and masks/ as symlinks to the original, nothing copied):
 *
 *   <out>/heldout    the patients of the default segmentation split's test part
 *   <out>/trainval   every other patient
 *
 * so `--dataset covid-chestxray:<out>/trainval --test covid-chestxray:<out>/heldout` trains on
 * the first and evaluates on a separate folder of other patients (the same patients a plain
 * run holds out). The split is the app's: items with a mask of the selected set (default
 * v7labs), patient-level, data.splitSeed 0, ratios 0.7/0.15/0.15.
 *
 *   pnpm exec tsx --tsconfig tools/build/tsconfig.run.json apps/eval-segmentation/scripts/covid-heldout.ts \
 *     ../shared/data/covid_chestxray_ieee8023 tmp/covid-split [v7labs|lungvae]
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readCsv } from '@g2d-ts/data';
import { loadDataset, makeSplits } from '@g2d-ts/eval';
import { SegConfigSchema } from '../src/config';

function csvLine(fields: string[]): string {
  return fields.map((f) => (/[",\r\n]/.test(f) ? `"${f.replace(/"/g, '""')}"` : f)).join(',');
}

function main(): void {
  const [rootArg, outArg, masksArg] = process.argv.slice(2);
  if (!rootArg || !outArg) {
    process.stderr.write('usage: covid-heldout.ts <covid_chestxray_ieee8023 dir> <out dir> [v7labs|lungvae]\n');
    process.exit(2);
  }
  const root = path.resolve(rootArg);
  const out = path.resolve(outArg);
  const masks = (masksArg ?? 'v7labs') as 'v7labs' | 'lungvae';
  const cfg = SegConfigSchema.parse({ dataset: `covid-chestxray:${root}`, data: { masks } });
  const d = loadDataset(cfg.dataset, { adapter: { masks }, requireLabels: false });
  const withMask = { ...d, index: { ...d.index, items: d.index.items.filter((it) => it.mask) } };
  const s = makeSplits(withMask, undefined, { splitSeed: cfg.data.splitSeed, ratios: cfg.data.ratios, fraction: 1, seed: 0, useDatasetSplit: cfg.data.useDatasetSplit });
  const heldout = new Set(s.test.map((it) => it.patientId));
  const rows = readCsv(path.join(root, 'metadata.csv'));
  const header = Object.keys(rows[0] ?? {}).filter((k) => !k.startsWith('__'));
  for (const [name, keep] of [
    ['heldout', (p: string) => heldout.has(p)],
    ['trainval', (p: string) => !heldout.has(p)],
  ] as const) {
    const dir = path.join(out, name);
    fs.mkdirSync(dir, { recursive: true });
    const lines = [csvLine(header), ...rows.filter((r) => keep(r.patientid ?? '')).map((r) => csvLine(header.map((h) => r[h] ?? '')))];
    fs.writeFileSync(path.join(dir, 'metadata.csv'), lines.join('\n') + '\n');
    for (const sub of ['images', 'masks']) {
      const link = path.join(dir, sub);
      if (!fs.existsSync(link)) fs.symlinkSync(path.join(root, sub), link, 'dir');
    }
    process.stdout.write(`${dir}: ${lines.length - 1} images\n`);
  }
  process.stdout.write(`held-out patients: ${heldout.size} (${s.test.length} images with a ${masks} mask)\n`);
}

main();
