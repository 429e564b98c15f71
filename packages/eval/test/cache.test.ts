import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cacheKey, defaultCacheDir, itemFingerprint, RowCache } from '../src';

describe('RowCache (features / images on disk)', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'g2d-eval-cache-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('keys are stable under key order and differ with any part', () => {
    expect(cacheKey({ a: 1, b: { c: 2, d: 3 } })).toBe(cacheKey({ b: { d: 3, c: 2 }, a: 1 }));
    expect(cacheKey({ encoder: 'h1', dataset: 'x' })).not.toBe(cacheKey({ encoder: 'h2', dataset: 'x' }));
  });

  it('round-trips rows exactly, per fingerprint', () => {
    const parts = { encoder: 'abc', dataset: 'd', transform: 't', kind: 'avgpool' };
    const c = RowCache.open(dir, 'features', parts, 3, 'float32');
    c.set('a', 'fp1', [0.1, -2.5, 1e-7]);
    c.set('b', 'fp2', [1, 2, 3]);
    c.flush();
    const d = RowCache.open(dir, 'features', parts, 3, 'float32');
    expect(d.size).toBe(2);
    expect(Array.from(d.get('a', 'fp1')!)).toEqual(Array.from(new Float32Array([0.1, -2.5, 1e-7])));
    expect(d.get('a', 'changed')).toBeUndefined(); // the image changed: recompute
    expect(d.get('zzz', 'fp1')).toBeUndefined();
    expect(RowCache.open(dir, 'features', { ...parts, encoder: 'other' }, 3, 'float32').size).toBe(0);
    expect(() => d.set('c', 'x', [1, 2])).toThrow(/row of "c" has 2 values, expected 3/);
  });

  it('merges rows another writer added meanwhile, and ignores a damaged file', () => {
    const parts = { k: 1 };
    const a = RowCache.open(dir, 'images', parts, 4, 'uint8');
    const b = RowCache.open(dir, 'images', parts, 4, 'uint8');
    a.set('x', 'f', [1, 2, 3, 4]);
    a.flush();
    b.set('y', 'f', [5, 6, 7, 8]);
    b.flush(); // re-reads the file, keeps x
    const c = RowCache.open(dir, 'images', parts, 4, 'uint8');
    expect(c.size).toBe(2);
    expect(Array.from(c.get('x', 'f')!)).toEqual([1, 2, 3, 4]);
    fs.writeFileSync(c.file, Buffer.from('G2DCACHE1\n\x05\x00\x00\x00{bad json'));
    expect(RowCache.open(dir, 'images', parts, 4, 'uint8').size).toBe(0);
    fs.truncateSync(a.file, 0);
    expect(RowCache.open(dir, 'images', parts, 4, 'uint8').size).toBe(0);
    // no temp files left behind
    expect(fs.readdirSync(path.dirname(a.file)).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('fingerprints files by size and mtime; the default folder honours G2D_EVAL_CACHE', () => {
    const f = path.join(dir, 'img.png');
    fs.writeFileSync(f, 'abc');
    const fp = itemFingerprint({ id: 'i', patientId: 'p', image: f });
    fs.writeFileSync(f, 'abcd');
    expect(itemFingerprint({ id: 'i', patientId: 'p', image: f })).not.toBe(fp);
    expect(itemFingerprint({ id: 'i', patientId: 'p' })).toBe('generated');
    const prev = process.env.G2D_EVAL_CACHE;
    process.env.G2D_EVAL_CACHE = dir;
    try {
      expect(defaultCacheDir()).toBe(dir);
      expect(defaultCacheDir('rel', '/base')).toBe('/base/rel');
    } finally {
      if (prev === undefined) delete process.env.G2D_EVAL_CACHE;
      else process.env.G2D_EVAL_CACHE = prev;
    }
  });
});
