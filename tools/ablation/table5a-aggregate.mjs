#!/usr/bin/env node
// Aggregates the segmentation runs of tools/ablation/table5a.sh into <out>/table5a.md and
// <out>/table5a.json: test mean Dice (per image, threshold 0.5), mean ± sample std over seeds,
// rows = how the encoder (+ decoder) was pretrained, columns = frozen encoder with a new
// decoder / encoder + pretrained decoder transferred. Missing runs are listed, not guessed.
// usage: node tools/ablation/table5a-aggregate.mjs <out>
import * as fs from 'node:fs';
import * as path from 'node:path';

/** temp file, fsync, rename */
function writeAtomic(file, text) {
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

const out = process.argv[2];
if (!out) {
  process.stderr.write('usage: table5a-aggregate.mjs <out folder of table5a.sh>\n');
  process.exit(2);
}
const segDir = path.join(out, 'seg');
if (!fs.existsSync(segDir)) {
  process.stderr.write(`${segDir}: no segmentation runs yet\n`);
  process.exit(1);
}
const ROWS = [
  ['vla-ps', 'VLA + PS (G2D)'],
  ['vla', 'VLA only (decoder not pretrained)'],
  ['random', 'random init (encoder trained along)'],
  ['random-frozen', 'random init (encoder frozen)'],
];
const COLS = [
  ['encoder', 'frozen encoder, new decoder'],
  ['encdec', 'encoder + pretrained decoder'],
];
const runs = [];
for (const name of fs.readdirSync(segDir).sort()) {
  const m = /^(.+)-(encoder|encdec)-s(\d+)$/.exec(name);
  if (!m) continue;
  const file = path.join(segDir, name, 'results.json');
  if (!fs.existsSync(file)) continue;
  let doc;
  try {
    doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    process.stderr.write(`${file}: not valid JSON (${e.message})\n`);
    process.exit(1);
  }
  runs.push({
    enc: m[1],
    proto: m[2],
    seed: Number(m[3]),
    dice: doc.metrics?.dice?.mean ?? null,
    diceForeground: doc.metrics?.dice?.meanForeground ?? null,
    valDice: doc.metrics?.validation?.dice ?? null,
    trainImages: doc.data?.sizes?.train?.images ?? null,
    testImages: doc.data?.sizes?.test?.images ?? null,
    frozen: doc.encoder?.frozen ?? null,
    seconds: doc.runtime?.seconds ?? null,
    results: path.relative(out, file),
  });
}
function stats(values) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x));
  if (!v.length) return { mean: null, std: null, n: 0, values };
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const std = v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1)) : null;
  return { mean, std, n: v.length, values };
}
const fmt = (s) => (s.mean === null ? '—' : `${(100 * s.mean).toFixed(1)}${s.std === null ? '' : ` ± ${(100 * s.std).toFixed(1)}`} (n=${s.n})`);
const table = {};
const lines = [];
for (const [enc, label] of ROWS) {
  const cells = COLS.map(([proto]) => {
    if (enc.startsWith('random') && proto === 'encdec') return 'n/a (no pretrained decoder)';
    const sel = runs.filter((r) => r.enc === enc && r.proto === proto).sort((a, b) => a.seed - b.seed);
    const s = stats(sel.map((r) => r.dice));
    const f = stats(sel.map((r) => r.diceForeground));
    table[`${enc}/${proto}`] = { dice: s, diceForeground: f, seeds: sel.map((r) => r.seed) };
    return `${fmt(s)}; fg ${fmt(f).replace(/ \(n=\d+\)/, '')}`;
  });
  lines.push(`| ${label} | ${cells.join(' | ')} |`);
}
// the checkpoints and settings table5a.sh recorded
const inputsFile = path.join(out, 'inputs.txt');
const inputs = fs.existsSync(inputsFile) ? fs.readFileSync(inputsFile, 'utf8').trim() : null;
const trainImgs = [...new Set(runs.map((r) => r.trainImages))].join(', ');
const testImgs = [...new Set(runs.map((r) => r.testImages))].join(', ');
const md = [
  '# Table 5a in miniature (synthetic findings, 1 % labels)',
  '',
  `Test mean Dice ×100 (per image at 0.5, empty/empty = 1), mean ± sample std over seeds; "fg" = the mean over test images that have a finding. Training images per run: ${trainImgs || '—'}; test images: ${testImgs || '—'}. Produced by \`VLA_PS=<checkpoint> VLA=<checkpoint> bash tools/ablation/table5a.sh\` (this file: \`node tools/ablation/table5a-aggregate.mjs ${out}\`).`,
  '',
  `| pretraining | ${COLS.map((c) => c[1]).join(' | ')} |`,
  `|---|${COLS.map(() => '---:').join('|')}|`,
  ...lines,
  '',
  ...(inputs ? ['## Inputs', '', '```', inputs, '```', ''] : []),
  '## Runs',
  '',
  ...runs.map((r) => `- \`${r.results}\`: Dice ${r.dice === null ? '—' : (100 * r.dice).toFixed(2)} (fg ${r.diceForeground === null ? '—' : (100 * r.diceForeground).toFixed(2)}, validation ${r.valDice === null ? '—' : (100 * r.valDice).toFixed(2)}), encoder ${r.frozen ? 'frozen' : 'trained'}, ${r.seconds === null ? '?' : r.seconds.toFixed(0)} s`),
  '',
].join('\n');
writeAtomic(path.join(out, 'table5a.md'), md);
writeAtomic(path.join(out, 'table5a.json'), JSON.stringify({ table, runs, inputs }, null, 1) + '\n');
process.stdout.write(md);
