/** g2d-data as a user meets it: strict arguments, exit codes, prepare / inspect / convert on files it makes. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { captureCli, describeShared, type CapturedRun } from '@g2d-ts/core/testing';
import { decodeDicomGray, decodePngGray, encodeGrayPng, openCache, referencePreprocess } from '../src';
import { main, DATA_COMMANDS } from '../src/cli';
import { u16le, writeDicom } from '../src/testing';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'g2d-data-cli-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function cli(argv: string[], cwd = tmp): Promise<CapturedRun> {
  return captureCli((io) => main(argv, { ...io, cwd }));
}

/** A w x h 8-bit grey PNG with a bright square whose position depends on `seed`. */
function png(file: string, seed: number, w = 40, h = 36): void {
  const d = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) d[y * w + x] = (x * 3 + y * 5 + seed * 17) % 200;
  for (let y = 5 + seed; y < 15 + seed; y++) for (let x = 8; x < 20; x++) d[y * w + x] = 255;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, encodeGrayPng({ width: w, height: h, data: d, maxValue: 255 }));
}

/** A covid-chestxray-style dataset folder (metadata.csv + images/) under tmp/<name>. */
function covidDataset(name: string, n: number): string {
  const dir = path.join(tmp, name);
  const rows = ['patientid,finding,view,filename'];
  for (let i = 0; i < n; i++) {
    png(path.join(dir, 'images', `img${i}.png`), i);
    rows.push(`p${i},Pneumonia,PA,img${i}.png`);
  }
  fs.writeFileSync(path.join(dir, 'metadata.csv'), rows.join('\n') + '\n');
  return dir;
}

describe('g2d-data command line', () => {
  it('rejects unknown options and stray arguments by name (exit 2); --version; per-command --help', async () => {
    const a = path.join(tmp, 'a.png');
    png(a, 1);
    const sise = await cli(['prepare', '--list', 'l.txt', '--out', 'o', '--sise', '512']);
    expect(sise.code).toBe(2);
    expect(sise.err).toMatch(/unknown option --sise \(did you mean --size\?\)/);
    expect(fs.existsSync(path.join(tmp, 'o'))).toBe(false);
    const bogus = await cli(['convert', a, path.join(tmp, 'b.png'), '--bogus']);
    expect(bogus.code).toBe(2);
    expect(bogus.err).toMatch(/unknown option --bogus/);
    expect(fs.existsSync(path.join(tmp, 'b.png'))).toBe(false);
    const stray = await cli(['convert', a, path.join(tmp, 'b.png'), 'extra']);
    expect(stray.code).toBe(2);
    expect(stray.err).toMatch(/unexpected argument "extra"/);
    const v = await cli(['--version']);
    expect(v).toEqual({ code: 0, out: expect.stringMatching(/^g2d-data \d+\.\d+\.\d+\n$/), err: '' });
    const help = await cli(['prepare', '--help']);
    expect(help.code).toBe(0);
    // the folder layout each dataset expects
    expect(help.out).toContain('nih-cxr14:');
    expect(help.out).toContain('<root>/stage_2_train_images/<patientId>.dcm');
    expect(help.out).toContain('<root>/metadata.csv');
    expect((await cli(['convert', '--help'])).out).toContain('MONOCHROME1: u = 1 - u');
    expect((await cli(['frobnicate'])).code).toBe(2);
    const missing = await cli(['convert', path.join(tmp, 'nope.dcm'), path.join(tmp, 'x.png')]);
    expect(missing).toEqual({ code: 1, out: '', err: `g2d-data: ${path.join(tmp, 'nope.dcm')}: file not found\n` });
    expect(Object.keys(DATA_COMMANDS)).toEqual(expect.arrayContaining(['convert', 'inspect', 'prepare']));
  });

  it('prepare --dataset with a relative --root resolves it once, against the caller\'s directory', async () => {
    covidDataset('covid-rel', 3);
    const r = await cli(['prepare', '--dataset', 'covid-chestxray', '--root', 'covid-rel', '--out', 'cache-rel', '--size', '16', '--quiet']);
    expect(r.err).toBe('');
    expect(r.out).toMatch(/^prepared 3 image\(s\) \(0 already done\), skipped 0; manifest /);
    expect(r.code).toBe(0);
    const c = openCache(path.join(tmp, 'cache-rel'));
    expect(c.length).toBe(3);
    const want = referencePreprocess(decodePngGray(fs.readFileSync(path.join(tmp, 'covid-rel/images/img1.png'))).image, { size: 16 });
    expect(Buffer.from(c.get(1)).equals(Buffer.from(want))).toBe(true);
    c.close();
  });

  it('prepare: a run that prepares nothing, or skips more than --max-skipped, exits 1 with the first reasons', async () => {
    covidDataset('covid-broken', 2);
    fs.rmSync(path.join(tmp, 'covid-broken/images'), { recursive: true });
    const none = await cli(['prepare', '--dataset', 'covid-chestxray', '--root', path.join(tmp, 'covid-broken'), '--out', 'cache-broken', '--size', '16', '-q']);
    expect(none.code).toBe(1);
    expect(none.out).toMatch(/prepared 0 image\(s\) \(0 already done\), skipped 2/);
    expect(none.err).toMatch(/none of the 2 input\(s\) could be read/);
    expect(none.err).toContain('images/img0.png: file not found');
    // one of three unreadable: over the default 5%, fine with --max-skipped 1
    const dir = covidDataset('covid-one-bad', 3);
    fs.writeFileSync(path.join(dir, 'images/img2.png'), 'not a png');
    const over = await cli(['prepare', '--dataset', 'covid-chestxray', '--root', dir, '--out', 'cache-one-bad', '--size', '16', '-q']);
    expect(over.code).toBe(1);
    expect(over.err).toMatch(/1 of 3 input\(s\) could not be read, more than --max-skipped 5% \(0\)/);
    expect(over.err).toContain('img2.png');
    const ok = await cli(['prepare', '--dataset', 'covid-chestxray', '--root', dir, '--out', 'cache-one-bad', '--size', '16', '-q', '--max-skipped', '1']);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/prepared 0 image\(s\) \(2 already done\), skipped 1/);
    expect((await cli(['prepare', '--list', 'x.txt', '--out', 'y', '--max-skipped', 'lots'])).code).toBe(2);
    fs.writeFileSync(path.join(tmp, 'empty.txt'), '# nothing\n');
    const empty = await cli(['prepare', '--list', 'empty.txt', '--out', 'cache-empty', '-q']);
    expect(empty.code).toBe(1);
    expect(empty.err).toMatch(/the input list is empty/);
  });

  it('prepare: skipped items are retried by the next run, not counted as done', async () => {
    const dir = covidDataset('covid-retry', 3);
    const img2 = path.join(dir, 'images/img2.png');
    fs.renameSync(img2, `${img2}.away`);
    const first = await cli(['prepare', '--dataset', 'covid-chestxray', '--root', dir, '--out', 'cache-retry', '--size', '16', '-q', '--max-skipped', '50%']);
    expect(first.code).toBe(0);
    expect(first.out).toMatch(/prepared 2 image\(s\) \(0 already done\), skipped 1/);
    fs.renameSync(`${img2}.away`, img2);
    const second = await cli(['prepare', '--dataset', 'covid-chestxray', '--root', dir, '--out', 'cache-retry', '--size', '16', '-q']);
    expect(second.code).toBe(0);
    expect(second.out).toMatch(/prepared 1 image\(s\) \(2 already done\), skipped 0/);
    const c = openCache(path.join(tmp, 'cache-retry'));
    expect(c.length).toBe(3);
    expect(c.manifest.complete).toBe(true);
    expect(c.manifest.skipped).toEqual([]);
    expect(c.source(2)).toBe(img2);
    c.close();
  });

  it('prepare: resume is keyed by the inputs\' content and the options; a change is refused (or --overwrite starts anew)', async () => {
    png(path.join(tmp, 'one/a.png'), 1);
    png(path.join(tmp, 'one/b.png'), 7);
    fs.writeFileSync(path.join(tmp, 'list-a.txt'), 'one/a.png\n');
    fs.writeFileSync(path.join(tmp, 'list-b.txt'), 'one/b.png\n');
    expect((await cli(['prepare', '--list', 'list-a.txt', '--out', 'cache-ab', '--size', '16', '-q'])).code).toBe(0);
    const other = await cli(['prepare', '--list', 'list-b.txt', '--out', 'cache-ab', '--size', '16', '-q']);
    expect(other.code).toBe(1);
    expect(other.err).toMatch(/refusing to resume this cache: it was made from a different input list \(row 1 was "one\/a.png", this run has "one\/b.png"\)/);
    const size = await cli(['prepare', '--list', 'list-a.txt', '--out', 'cache-ab', '--size', '32', '-q']);
    expect(size.code).toBe(1);
    expect(size.err).toMatch(/it was made with size 16 \(this run: 32\)/);
    const a16 = referencePreprocess(decodePngGray(fs.readFileSync(path.join(tmp, 'one/a.png'))).image, { size: 16 });
    let c = openCache(path.join(tmp, 'cache-ab'));
    expect(Buffer.from(c.get(0)).equals(Buffer.from(a16))).toBe(true);
    c.close();
    const over = await cli(['prepare', '--list', 'list-b.txt', '--out', 'cache-ab', '--size', '16', '-q', '--overwrite']);
    expect(over.code).toBe(0);
    expect(over.out).toMatch(/prepared 1 image\(s\) \(0 already done\)/);
    const b16 = referencePreprocess(decodePngGray(fs.readFileSync(path.join(tmp, 'one/b.png'))).image, { size: 16 });
    c = openCache(path.join(tmp, 'cache-ab'));
    expect(Buffer.from(c.get(0)).equals(Buffer.from(b16))).toBe(true);
    c.close();
    const again = await cli(['prepare', '--list', 'list-b.txt', '--out', 'cache-ab', '--size', '16', '-q']);
    expect(again.out).toMatch(/prepared 0 image\(s\) \(1 already done\), skipped 0/);
    expect(again.code).toBe(0);
  });

  it('prepare: --out that is a file, or a folder of other things, is a clear error', async () => {
    fs.writeFileSync(path.join(tmp, 'a-file'), 'x');
    const r = await cli(['prepare', '--list', 'list-a.txt', '--out', 'a-file', '-q']);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`g2d-data: ${path.join(tmp, 'a-file')}: the output is a file, not a folder: give a new or existing cache folder\n`);
    fs.mkdirSync(path.join(tmp, 'busy'));
    fs.writeFileSync(path.join(tmp, 'busy/notes.txt'), 'mine');
    const busy = await cli(['prepare', '--list', 'list-a.txt', '--out', 'busy', '-q']);
    expect(busy.code).toBe(1);
    expect(busy.err).toMatch(/not empty and holds no cache manifest \(notes.txt\)/);
  });

  it('inspect reports pixelDataComplete and exits 1 on truncated pixel data unless --allow-truncated', async () => {
    const px = u16le(Array.from({ length: 64 * 48 }, (_, i) => i % 1024));
    const full = writeDicom({ rows: 48, cols: 64, bitsAllocated: 16, bitsStored: 10, pixels: px });
    fs.writeFileSync(path.join(tmp, 'full.dcm'), full);
    fs.writeFileSync(path.join(tmp, 'cut.dcm'), full.subarray(0, full.length - 2000));
    const ok = await cli(['inspect', 'full.dcm']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.out)).toMatchObject({ format: 'dicom', rows: 48, columns: 64, bitsStored: 10, hasPixelData: true, pixelDataComplete: true });
    const cut = await cli(['inspect', 'cut.dcm']);
    expect(cut.code).toBe(1);
    expect(JSON.parse(cut.out)).toMatchObject({ hasPixelData: true, pixelDataComplete: false, pixelDataProblem: expect.stringMatching(/truncated: \d+ bytes present, 6144 expected/) });
    expect(cut.err).toMatch(/cut\.dcm: pixel data is truncated/);
    expect((await cli(['inspect', 'cut.dcm', '--allow-truncated'])).code).toBe(0);
    const pngInfo = await cli(['inspect', 'one/a.png']);
    expect(JSON.parse(pngInfo.out)).toMatchObject({ format: 'png', width: 40, height: 36, pixelDataComplete: true });
  });

  it('convert writes a PNG a viewer shows right (10-bit -> 16-bit by bit replication + sBIT 10); --exact keeps the stored values', async () => {
    const vals = Array.from({ length: 64 * 48 }, (_, i) => (i * 7) % 1024);
    vals[0] = 0;
    vals[1] = 1023;
    fs.writeFileSync(path.join(tmp, 'ten.dcm'), writeDicom({ rows: 48, cols: 64, bitsAllocated: 16, bitsStored: 10, pixels: u16le(vals) }));
    const r = await cli(['convert', 'ten.dcm', 'out/ten.png']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/16-bit grey, values 0\.\.65535, 10-bit values scaled to 16 bits by bit replication; sBIT 10/);
    const bytes = fs.readFileSync(path.join(tmp, 'out/ten.png'));
    const sbit = bytes.indexOf(Buffer.from('sBIT'));
    expect(sbit).toBe(37); // right after IHDR
    expect(bytes[sbit + 4]).toBe(10);
    const back = decodePngGray(bytes);
    const ours = await decodeDicomGray(fs.readFileSync(path.join(tmp, 'ten.dcm')));
    expect(back.image.data[0]).toBe(0);
    expect(back.image.data[1]).toBe(65535);
    expect(Array.from(back.image.data, (v) => v >> 6)).toEqual(Array.from(ours.image.data));
    const exact = await cli(['convert', 'ten.dcm', 'out/ten-exact.png', '--exact']);
    expect(exact.code).toBe(0);
    const e = fs.readFileSync(path.join(tmp, 'out/ten-exact.png'));
    expect(e.indexOf(Buffer.from('sBIT'))).toBe(-1);
    expect(Array.from(decodePngGray(e).image.data)).toEqual(Array.from(ours.image.data));
    // 8-bit stays 8-bit
    expect((await cli(['convert', 'one/a.png', 'out/a.png'])).out).toMatch(/8-bit grey, values 0\.\.255/);
  });
});

describeShared('g2d-data on the shared samples', 'data/nih_cxr14_bbox', (root) => {
  it('prepare --dataset nih-cxr14 with a relative --root prepares every image; a rerun resumes', async () => {
    const cwd = path.dirname(root);
    const rel = path.basename(root);
    const out = path.join(tmp, 'nih-cache');
    const r = await cli(['prepare', '--dataset', 'nih-cxr14', '--root', rel, '--out', out, '--size', '16', '--shard-size', '300', '-q'], cwd);
    expect(r.out).toMatch(/^prepared 660 image\(s\) \(0 already done\), skipped 0/);
    expect(r.code).toBe(0);
    expect(openCache(out).manifest.shards.map((s) => s.count)).toEqual([300, 300, 60]);
    const again = await cli(['prepare', '--dataset', 'nih-cxr14', '--root', root, '--out', out, '--size', '16', '--shard-size', '300', '-q'], cwd);
    expect(again.out).toMatch(/^prepared 0 image\(s\) \(660 already done\), skipped 0/);
    expect(again.code).toBe(0);
    const unknown = await cli(['prepare', '--dataset', 'nope', '--root', root, '--out', out]);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/unknown dataset "nope"; datasets: chexpert, covid-chestxray/);
  });

  it('inspect on a cut-off copy of a shared uncompressed DICOM exits 1 (head -c 2000)', async () => {
    const src = path.join(root, '../dicom_samples/chest/CR-MONO1-10-chest.dcm');
    if (!fs.existsSync(src)) return;
    fs.writeFileSync(path.join(tmp, 'head2000.dcm'), fs.readFileSync(src).subarray(0, 2000));
    const r = await cli(['inspect', 'head2000.dcm']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toMatchObject({ hasPixelData: true, pixelDataComplete: false });
  });
});
