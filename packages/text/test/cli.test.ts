import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { sharedPath } from '@g2d-ts/core/testing';
import { bertTokenizerJson } from '../src';
import { runTextCli } from '../src/cli/run';
import { tokenizerGoldens } from './helpers';

async function run(argv: string[], input: string): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => (out += d));
  stderr.on('data', (d) => (err += d));
  const code = await runTextCli(argv, { stdin: Readable.from([input]), stdout, stderr });
  return { code, out, err };
}

const TOY = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'the', 'lung', '##s', 'are', 'clear', '.'];

describe('g2d-text tokenize', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'g2d-cli-'));
  const vocab = path.join(tmp, 'vocab.txt');
  fs.writeFileSync(vocab, TOY.join('\n') + '\n');
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('prints one JSON array of ids per input line, with [CLS]/[SEP] and no padding', async () => {
    const r = await run(['tokenize', '--vocab', vocab], 'the lungs are clear.\n\nThe lungs\r\n');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toBe('[2,5,6,7,8,9,10,3]\n[2,3]\n[2,1,6,7,3]\n');
    const lower = await run(['tokenize', '--vocab', vocab, '--lowercase', '--max-length', '4'], 'The lungs are clear.');
    expect(lower.out).toBe('[2,5,6,3]\n');
  });

  it('reads a tokenizer.json too', async () => {
    const tj = path.join(tmp, 'tokenizer.json');
    fs.writeFileSync(tj, JSON.stringify(bertTokenizerJson(TOY, { lowercase: true })));
    const r = await run(['tokenize', `--vocab=${tj}`], 'The LUNGS\n');
    expect(r.out).toBe('[2,5,6,7,3]\n');
  });

  const cased = sharedPath('data/tokenizers/bert-base-cased/vocab.txt');
  (cased ? it : it.skip)('reproduces the transformers ids for the edge-case goldens (cased vocab)', async () => {
    const g = tokenizerGoldens();
    // eslint-disable-next-line no-control-regex
    const texts = g.edge.filter((e) => !/[\n\r\u0085\u2028\u2029\u000b\u000c]/.test(e.text));
    const r = await run(['tokenize', '--vocab', cased!], texts.map((e) => e.text).join('\n') + '\n');
    expect(r.out.trimEnd().split('\n').map((l) => JSON.parse(l))).toEqual(texts.map((e) => e.cased));
  });

  it('exits 2 on usage errors and 1 on bad files, naming the file', async () => {
    expect((await run([], '')).code).toBe(2);
    const unknown = await run(['detokenize'], '');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/unknown command "detokenize"/);
    const noVocab = await run(['tokenize'], '');
    expect(noVocab.code).toBe(2);
    expect(noVocab.err).toMatch(/--vocab is required/);
    expect((await run(['tokenize', '--vocab', vocab, '--max-length', '1'], '')).err).toMatch(/--max-length must be an integer >= 2/);
    const missing = await run(['tokenize', '--vocab', path.join(tmp, 'nope.txt')], 'x\n');
    expect(missing.code).toBe(1);
    expect(missing.err).toBe(`g2d-text: ${path.join(tmp, 'nope.txt')}: vocab file not found\n`);
    const bpe = path.join(tmp, 'bpe.json');
    fs.writeFileSync(bpe, JSON.stringify({ model: { type: 'BPE', vocab: {} } }));
    const r = await run(['tokenize', '--vocab', bpe], 'x\n');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(new RegExp(`${bpe.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: model.type "BPE" is not supported`));
    expect((await run(['tokenize', '--help'], '')).out).toMatch(/^usage: g2d-text tokenize/);
  });
});
