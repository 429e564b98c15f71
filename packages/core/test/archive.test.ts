/** The one archive module: ZIP read/write (aligned, deterministic, atomic, ZIP64 on read), tar, decompression by content. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { gzipSync, zipSync } from 'fflate';
import { ZipReader, ZipWriter, decompressAuto, gunzipIfGzip, readTar, writeZip } from '../src/archive';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'g2d-archive-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);
const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed * 7) & 0xff);

/** offset of an entry's data, from its local header */
function dataOffset(file: string, zip: ZipReader, name: string): number {
  const b = fs.readFileSync(file);
  const o = zip.entries.get(name)!.localHeaderOffset;
  return o + 30 + b.readUInt16LE(o + 26) + b.readUInt16LE(o + 28);
}

describe('ZipWriter + ZipReader', () => {
  const entries: [string, Uint8Array][] = [
    ['archive/data.pkl', bytes(77, 1)],
    ['archive/data/0', bytes(1000, 2)],
    ['archive/data/1', new Uint8Array(0)],
    ['archive/ünïcode name', enc('utf-8 names')],
  ];

  it('round-trips entries from a file and from memory, in order', () => {
    const f = path.join(tmp, 'a.zip');
    writeZip(f, entries);
    for (const z of [ZipReader.open(f), ZipReader.fromBytes(fs.readFileSync(f), f)]) {
      expect([...z.entries.keys()]).toEqual(entries.map(([n]) => n));
      for (const [n, d] of entries) expect(Array.from(z.read(n))).toEqual(Array.from(d));
      z.close();
    }
  });

  it('aligns entry data (64 bytes, as torch.save) and writes the same bytes every time', () => {
    const f1 = path.join(tmp, 'b1.zip');
    const f2 = path.join(tmp, 'b2.zip');
    writeZip(f1, entries, { align: 64 });
    writeZip(f2, entries, { align: 64 });
    expect(fs.readFileSync(f1).equals(fs.readFileSync(f2))).toBe(true);
    const z = ZipReader.open(f1);
    for (const [n] of entries) expect(dataOffset(f1, z, n) % 64).toBe(0);
    z.close();
  });

  it('shows nothing at the target until close, and abort leaves nothing behind', () => {
    const f = path.join(tmp, 'sub', 'c.zip');
    const w = ZipWriter.create(f);
    w.add('x', enc('1'));
    expect(fs.existsSync(f)).toBe(false);
    w.close();
    expect(dec(ZipReader.fromBytes(fs.readFileSync(f)).read('x'))).toBe('1');
    const g = path.join(tmp, 'sub', 'd.zip');
    const w2 = ZipWriter.create(g);
    w2.add('y', enc('2'));
    w2.abort();
    expect(fs.readdirSync(path.join(tmp, 'sub'))).toEqual(['c.zip']);
  });

  it('rejects duplicate and unsafe names, naming the file', () => {
    const f = path.join(tmp, 'e.zip');
    expect(() => writeZip(f, [['a', enc('1')], ['a', enc('2')]])).toThrow(/duplicate zip entry "a".*e\.zip|e\.zip.*duplicate zip entry "a"/s);
    expect(() => writeZip(f, [['../evil', enc('1')]])).toThrow(/bad zip entry name/);
    expect(fs.existsSync(f)).toBe(false);
    expect(() => ZipWriter.create(f, { align: 0 })).toThrow(/align must be an integer/);
  });

  it('reads deflated entries (fflate) and reports corrupt or missing ones', () => {
    const z = zipSync({ 'a.txt': enc('hello '.repeat(100)), 'b/c.bin': bytes(5000, 3) }, { level: 6 });
    const r = ZipReader.fromBytes(z, 'mem.zip');
    expect(r.entries.get('a.txt')!.method).toBe(8);
    expect(dec(r.read('a.txt'))).toBe('hello '.repeat(100));
    expect(Array.from(r.read('b/c.bin'))).toEqual(Array.from(bytes(5000, 3)));
    expect(() => r.read('nope')).toThrow(/zip entry "nope" not found/);
    expect(() => ZipReader.fromBytes(enc('not a zip at all, no directory'), 'x.zip')).toThrow(/no end-of-central-directory/);
    expect(() => ZipReader.fromBytes(z.subarray(0, z.length - 30), 'cut.zip')).toThrow(/cut\.zip|end-of-central/);
  });

  it('is read by Python zipfile (CRCs checked), and reads Python ZIP64 archives', () => {
    const py = spawnSync('python3', ['-c', 'import zipfile'], { encoding: 'utf8' });
    if (py.status !== 0) {
      process.stderr.write('[g2d] SKIP: python3 absent, zipfile cross-check skipped\n');
      return;
    }
    const f = path.join(tmp, 'py.zip');
    writeZip(f, entries, { align: 64 });
    const check = spawnSync('python3', ['-c', 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); print(z.testzip(), [ (i.filename, i.file_size) for i in z.infolist() ])', f], { encoding: 'utf8' });
    expect(check.stderr).toBe('');
    expect(check.stdout.trim()).toBe(`None ${JSON.stringify(entries.map(([n, d]) => [n, d.length])).replace(/"/g, "'").replace(/\[(?='|\d)/g, '(').replace(/(\d)\]/g, '$1)').replace(/,(?=\S)/g, ', ')}`);
    const z64 = path.join(tmp, 'z64.zip');
    const mk = spawnSync('python3', ['-c', 'import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], "w") as z:\n  with z.open("big.bin", "w", force_zip64=True) as f: f.write(bytes(range(256)) * 4)\n  z.writestr("small.txt", "ok")', z64], { encoding: 'utf8' });
    expect(mk.stderr).toBe('');
    const r = ZipReader.open(z64);
    expect(r.read('big.bin').length).toBe(1024);
    expect(r.read('big.bin')[300]).toBe(300 & 0xff);
    expect(dec(r.read('small.txt'))).toBe('ok');
    r.close();
  });
});

/** a ustar header block for `name` of `size` bytes (type '0' file, 'L' GNU long name) */
function tarHeader(name: string, size: number, type = '0'): Uint8Array {
  const h = new Uint8Array(512);
  h.set(enc(name.slice(0, 100)), 0);
  h.set(enc(size.toString(8).padStart(11, '0')), 124);
  h[156] = type.charCodeAt(0);
  h.set(enc('ustar\0'), 257);
  return h;
}
function tarFile(files: [string, Uint8Array][]): Uint8Array {
  const parts: Uint8Array[] = [];
  const pad = (n: number) => new Uint8Array((512 - (n % 512)) % 512);
  for (const [name, data] of files) {
    if (name.length > 100) {
      const ln = enc(`${name}\0`);
      parts.push(tarHeader('././@LongLink', ln.length, 'L'), ln, pad(ln.length));
    }
    parts.push(tarHeader(name, data.length), data, pad(data.length));
  }
  parts.push(new Uint8Array(1024));
  return new Uint8Array(Buffer.concat(parts));
}

describe('readTar', () => {
  const long = `ecgen-radiology/${'x'.repeat(120)}.xml`;
  const files: [string, Uint8Array][] = [['a/1.xml', enc('<a/>')], [long, bytes(700, 5)], ['empty', new Uint8Array(0)]];
  it('reads plain and gzipped archives, GNU long names included', () => {
    const t = tarFile(files);
    for (const b of [t, gzipSync(t)]) {
      const m = readTar(b, 'r.tgz');
      expect([...m.keys()]).toEqual(files.map(([n]) => n));
      expect(Array.from(m.get(long)!)).toEqual(Array.from(files[1]![1]));
    }
  });
  it('names the archive for a truncated entry or corrupt gzip', () => {
    const t = tarFile(files);
    expect(() => readTar(t.subarray(0, 5 * 512 + 300), 'cut.tar')).toThrow(/tar entry "ecgen-radiology\/x+\.xml" is truncated/);
    expect(() => readTar(t.subarray(0, 512 + 512 + 100), 'cut.tar')).toThrow(/ends inside a header/);
    const gz = gzipSync(t);
    expect(() => readTar(gz.subarray(0, 40), 'bad.tgz')).toThrow(/corrupt gzip/);
  });
});

describe('decompressAuto', () => {
  it('plain, gzip and the first file of a zip, by content', () => {
    const text = enc('a,b\n1,2\n');
    expect(dec(decompressAuto(text))).toBe('a,b\n1,2\n');
    expect(dec(decompressAuto(gzipSync(text)))).toBe('a,b\n1,2\n');
    expect(dec(gunzipIfGzip(gzipSync(text)))).toBe('a,b\n1,2\n');
    const z = zipSync({ 'dir/': new Uint8Array(0), 'dir/t.csv': text, 'other.csv': enc('x') });
    expect(dec(decompressAuto(z, 't.zip'))).toBe('a,b\n1,2\n');
    expect(dec(decompressAuto(z, 't.zip', 'other.csv'))).toBe('x');
    expect(() => decompressAuto(z, 't.zip', 'missing.csv')).toThrow(/zip has no entry "missing.csv"/);
  });
});
