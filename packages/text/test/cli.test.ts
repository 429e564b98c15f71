import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { captureCli, sharedPath, type CapturedRun } from '@g2d-ts/core/testing';
import { bertTokenizerJson } from '../src';
import { runTextCli } from '../src/cli';
import { tokenizerGoldens } from './helpers';

function run(argv: string[], input: string): Promise<CapturedRun> {
  return captureCli((io) => runTextCli(argv, { ...io, stdin: Readable.from([input]) }));
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

  it('rejects unknown options and stray arguments by name; --version; relative --vocab resolves against the caller', async () => {
    const typo = await run(['tokenize', '--vocab', vocab, '--lowercse'], 'x\n');
    expect(typo.code).toBe(2);
    expect(typo.err).toMatch(/unknown option --lowercse \(did you mean --lowercase\?\)/);
    const stray = await run(['tokenize', '--vocab', vocab, 'extra.txt'], 'x\n');
    expect(stray.code).toBe(2);
    expect(stray.err).toMatch(/unexpected argument "extra.txt"/);
    const v = await run(['--version'], '');
    expect(v.code).toBe(0);
    expect(v.out).toMatch(/^g2d-text \d+\.\d+\.\d+\n$/);
    const { code, out } = await captureCli((io) => runTextCli(['tokenize', '--vocab', 'vocab.txt'], { ...io, stdin: Readable.from(['the lungs\n']), cwd: tmp }));
    expect(code).toBe(0);
    expect(out).toBe('[2,5,6,7,3]\n');
  });

  it('stdout closed by the reader (EPIPE, `| head`) ends quietly with 0', async () => {
    let writes = 0;
    const closedAfterOne = new Writable({
      write(_c, _e, cb) {
        writes++;
        if (writes === 1) cb();
        else cb(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      },
    });
    const stderr = new PassThrough();
    let err = '';
    stderr.on('data', (d) => (err += d));
    const many = Readable.from((function* () {
      for (let i = 0; i < 100000; i++) yield 'the lungs are clear.\n';
    })());
    const code = await runTextCli(['tokenize', '--vocab', vocab], { stdin: many, stdout: closedAfterOne, stderr });
    expect(code).toBe(0);
    expect(err).toBe('');
    expect(writes).toBeGreaterThanOrEqual(2);
  });

  it('the bin itself: `g2d-text tokenize ... | head -1` prints one line and no EPIPE trace', async () => {
    const tsx = require.resolve('tsx/cli');
    const entry = path.join(__dirname, '../src/cli/index.ts');
    const tsconfig = path.join(__dirname, '../../../tools/build/tsconfig.run.json');
    const child = spawn(process.execPath, [tsx, '--tsconfig', tsconfig, entry, 'tokenize', '--vocab', vocab], { stdio: ['pipe', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    let first = '';
    child.stdout.on('data', (d) => {
      first += d;
      if (first.includes('\n')) child.stdout.destroy(); // what `head -1` does after its line
    });
    child.stdin.on('error', () => undefined);
    const line = 'the lungs are clear.\n'.repeat(2000);
    const feed = () => {
      if (child.stdin.writable && child.stdin.write(line)) setImmediate(feed);
      else if (child.stdin.writable) child.stdin.once('drain', feed);
    };
    feed();
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    expect(first.split('\n')[0]).toBe('[2,5,6,7,8,9,10,3]');
    expect(err).toBe('');
    expect(code).toBe(0);
  }, 60000);
});
