import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { resolvePretrained } from '@g2d-ts/core';
import * as text from '../src';
import { BertModel, BertTokenizer, bertTokenizerJson } from '../src';
import { FIXTURES } from './helpers';

const TINY = path.join(FIXTURES, 'tiny-bert');
const COMMIT = 'a'.repeat(40);

/** A Hugging Face cache holding the tiny model as org/tiny-bert at refs/main. */
function fakeCache(files: string[]): string {
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'g2d-hf-'));
  const repo = path.join(cache, 'models--org--tiny-bert');
  const snap = path.join(repo, 'snapshots', COMMIT);
  fs.mkdirSync(snap, { recursive: true });
  fs.mkdirSync(path.join(repo, 'refs'));
  fs.writeFileSync(path.join(repo, 'refs', 'main'), COMMIT);
  fs.mkdirSync(path.join(repo, 'blobs'));
  for (const f of files) {
    // blobs + relative symlinks, as huggingface_hub lays them out
    const blob = path.join(repo, 'blobs', f.replace(/\W/g, '_'));
    fs.copyFileSync(path.join(TINY, f), blob);
    fs.symlinkSync(path.relative(snap, blob), path.join(snap, f));
  }
  return cache;
}

describe('fromPretrained: local directory and Hugging Face cache layout', () => {
  const made: string[] = [];
  afterAll(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  it('finds a hub id in the cache (refs/main -> snapshots/<commit>) and loads it offline', async () => {
    const cache = fakeCache(['config.json', 'pytorch_model.bin']);
    made.push(cache);
    const m = await BertModel.fromPretrained('org/tiny-bert', { cacheDir: cache, offline: true });
    expect(m.config.hiddenSize).toBe(32);
    const direct = await BertModel.fromPretrained(TINY);
    const a = m.forward({ inputIds: [[2, 5, 9]] });
    const b = direct.forward({ inputIds: [[2, 5, 9]] });
    expect(Array.from(a.lastHiddenState.dataSync())).toEqual(Array.from(b.lastHiddenState.dataSync()));
    tf.dispose([a.lastHiddenState, a.pooledOutput!, b.lastHiddenState, b.pooledOutput!]);
    m.dispose();
    direct.dispose();
    // a commit hash as revision goes straight to the snapshot
    const r = await resolvePretrained('org/tiny-bert', [{ anyOf: ['config.json'] }], { cacheDir: cache, revision: COMMIT, offline: true });
    expect(r.from).toBe('cache');
    expect(r.dir).toBe(path.join(cache, 'models--org--tiny-bert', 'snapshots', COMMIT));
  });

  it('loads the tokenizer from a model directory (vocab.txt + tokenizer_config.json do_lower_case)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'g2d-tok-'));
    made.push(dir);
    const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'lung', 'Lung'];
    fs.writeFileSync(path.join(dir, 'vocab.txt'), vocab.join('\n') + '\n');
    // no tokenizer_config.json: transformers' default do_lower_case=true
    expect((await BertTokenizer.fromPretrained(dir)).encode('Lung')).toEqual([2, 5, 3]);
    fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify({ do_lower_case: false }));
    expect((await BertTokenizer.fromPretrained(dir)).encode('Lung')).toEqual([2, 6, 3]);
    expect((await BertTokenizer.fromPretrained(dir, { lowercase: true })).encode('Lung')).toEqual([2, 5, 3]);
    fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(bertTokenizerJson(vocab, { lowercase: true })));
    fs.rmSync(path.join(dir, 'vocab.txt'));
    expect((await BertTokenizer.fromPretrained(dir)).encode('Lung')).toEqual([2, 5, 3]);
  });

  it('fails clearly offline when the model is not cached', async () => {
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'g2d-hf-'));
    made.push(cache);
    const old = process.env.HF_HUB_OFFLINE;
    process.env.HF_HUB_OFFLINE = '1';
    try {
      await expect(BertModel.fromPretrained('emilyalsentzer/Bio_ClinicalBERT', { cacheDir: cache })).rejects.toThrow(
        `emilyalsentzer/Bio_ClinicalBERT: model not available offline: nothing cached at ${path.join(cache, 'models--emilyalsentzer--Bio_ClinicalBERT')} for revision "main"`,
      );
    } finally {
      if (old === undefined) delete process.env.HF_HUB_OFFLINE;
      else process.env.HF_HUB_OFFLINE = old;
    }
    // a cached snapshot without weights names what is missing
    const partial = fakeCache(['config.json']);
    made.push(partial);
    await expect(BertModel.fromPretrained('org/tiny-bert', { cacheDir: partial, offline: true })).rejects.toThrow(
      /lacks one of model\.safetensors \/ pytorch_model\.bin/,
    );
  });

  it('reports a failed download (no network) without a stack of library internals', async () => {
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'g2d-hf-'));
    made.push(cache);
    const failing = (() => Promise.reject(new TypeError('fetch failed'))) as unknown as typeof fetch;
    await expect(BertModel.fromPretrained('org/not-here', { cacheDir: cache, offline: false, fetch: failing })).rejects.toThrow(
      /^org\/not-here: could not download config\.json from the Hugging Face Hub \(fetch failed\); it is not in the cache/,
    );
  });

  it('names bad paths and incomplete directories', async () => {
    await expect(BertModel.fromPretrained('./no/such/dir/')).rejects.toThrow('./no/such/dir/: no such file or directory, and not a Hugging Face model id');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'g2d-m-'));
    made.push(dir);
    fs.copyFileSync(path.join(TINY, 'config.json'), path.join(dir, 'config.json'));
    await expect(BertModel.fromPretrained(dir)).rejects.toThrow(`${dir}: not a complete model directory: missing one of model.safetensors / pytorch_model.bin`);
  });

  it('has no hub shims of its own: the resolver is in @g2d-ts/core (tested in packages/core/test/hub.test.ts)', () => {
    for (const name of ['resolvePretrained', 'hfCacheDir', 'cachedSnapshot', 'isOffline', 'repoFolderName', 'activation', 'Module']) expect(name in text).toBe(false);
  });
});
