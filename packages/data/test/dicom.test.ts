/** DICOM reading on hand-made files: LUT arithmetic worked by hand, RLE, and every bad-input path. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { G2DError } from '@g2d-ts/core';
import { sharedPath } from '@g2d-ts/core/testing';
import { decodeDicom, decodeDicomGray, encodeRleFrame, readDicom, readDicomMeta, present, quantize } from '../src';
import { writeDicom, u16le } from '../src/testing';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'g2d-dicom-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('native pixels, masking and LUTs (hand-worked)', () => {
  it('masks BitsStored and sign-extends signed data', async () => {
    // 12 bits stored in 16, garbage in the top nibble
    const f = writeDicom({ rows: 1, cols: 3, bitsStored: 12, pixels: u16le([0xf005, 0x0fff, 0x1800]) });
    expect(Array.from((await decodeDicom(f)).pixels)).toEqual([5, 4095, 2048]);
    const s = writeDicom({ rows: 1, cols: 3, bitsStored: 12, pixelRepresentation: 1, pixels: u16le([0x0fff, 0x0800, 0x07ff]) });
    const px = await decodeDicom(s);
    expect(px.pixels).toBeInstanceOf(Int16Array);
    expect(Array.from(px.pixels)).toEqual([-1, -2048, 2047]);
  });

  it('rescale + LINEAR window + MONOCHROME1 inversion, as worked by hand', async () => {
    // 8-bit unsigned, slope 2 intercept -10, window centre 100 width 101, MONOCHROME1
    const f = writeDicom({
      rows: 1,
      cols: 4,
      bitsAllocated: 8,
      photometric: 'MONOCHROME1',
      pixels: Uint8Array.from([0, 30, 55, 200]),
      extra: [
        { tag: [0x0028, 0x1050], vr: 'DS', value: '100' },
        { tag: [0x0028, 0x1051], vr: 'DS', value: '101' },
        { tag: [0x0028, 0x1052], vr: 'DS', value: '-10' },
        { tag: [0x0028, 0x1053], vr: 'DS', value: '2' },
      ],
    });
    const px = await decodeDicom(f);
    const p = present(px);
    // modality: [-10, 50, 100, 390]; y range: [0*2-10, 255*2-10] = [-10, 500]; LINEAR: c=99.5, w=100
    // -10 <= 49.5 -> y_min=-10; 50 -> ((50-99.5)/100+0.5)*510-10 = 0.005*510... = 17.75*... compute:
    const y = (v: number) => (v <= 49.5 ? -10 : v > 149.5 ? 500 : ((v - 99.5) / 100 + 0.5) * 510 - 10);
    const u = [-10, 50, 100, 390].map((v) => 1 - (y(v) + 10) / 510);
    expect(Array.from(p.data)).toEqual(u);
    expect(p.range).toEqual([-10, 500]);
    expect(Array.from(quantize(p, 255))).toEqual(u.map((x) => Math.floor(x * 255 + 0.5)));
    const noVoi = present(px, { voi: false, invertMonochrome1: false });
    expect(Array.from(noVoi.data)).toEqual([-10, 50, 100, 390].map((v) => (v + 10) / 510));
  });

  it('RLE lossless (16-bit, 2 frames) round-trips through our encoder', async () => {
    const rows = 5;
    const cols = 7;
    const vals = Array.from({ length: rows * cols }, (_, i) => (i * 977) % 4096);
    const le = u16le(vals);
    const f1 = encodeRleFrame(le, rows, cols, 1, 16);
    const f2 = encodeRleFrame(u16le(vals.map((v) => 4095 - v)), rows, cols, 1, 16);
    const f = writeDicom({ rows, cols, bitsStored: 12, transferSyntax: '1.2.840.10008.1.2.5', frames: [f1, f2], extra: [{ tag: [0x0028, 0x0008], vr: 'IS', value: '2' }] });
    const px = await decodeDicom(f);
    expect(px.meta.numberOfFrames).toBe(2);
    expect(Array.from(px.pixels)).toEqual([...vals, ...vals.map((v) => 4095 - v)]);
    const one = await decodeDicom(f, { frames: [1] });
    expect(Array.from(one.pixels)).toEqual(vals.map((v) => 4095 - v));
  });
});

describe('bad input gives a G2DError naming the file and the reason', () => {
  const expectErr = async (p: Promise<unknown>, re: RegExp, file?: string) => {
    const e = await p.then(() => undefined, (x: unknown) => x);
    expect(e).toBeInstanceOf(G2DError);
    expect((e as Error).message).toMatch(re);
    if (file) expect((e as Error).message).toContain(file);
  };
  it('missing path', async () => {
    const f = path.join(tmp, 'nope.dcm');
    await expectErr(readDicom(f), /file not found/, f);
  });
  it('a directory', async () => expectErr(readDicom(tmp), /is a directory/, tmp));
  it('random bytes', async () => {
    const f = path.join(tmp, 'random.dcm');
    fs.writeFileSync(f, Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 37 + 11) % 256)));
    await expectErr(readDicom(f), /not a DICOM file/, f);
  });
  it('too short', async () => expectErr(decodeDicom(new Uint8Array(3), { source: 'tiny.dcm' }), /only 3 bytes/, 'tiny.dcm'));
  it('unknown transfer syntax', async () => {
    const f = writeDicom({ rows: 1, cols: 1, transferSyntax: '1.2.3.999', pixels: u16le([1]) });
    await expectErr(decodeDicom(f, { source: 'x.dcm' }), /unknown transfer syntax UID "1\.2\.3\.999"/, 'x.dcm');
  });
  it('known but unsupported transfer syntax', async () => {
    const f = writeDicom({ rows: 1, cols: 1, transferSyntax: '1.2.840.10008.1.2.4.100', frames: [new Uint8Array(4)] });
    await expectErr(decodeDicom(f), /MPEG2 Main Profile.*not supported/);
  });
  it('native pixel data shorter than the header says', async () => {
    const f = writeDicom({ rows: 4, cols: 4, pixels: u16le([1, 2, 3]) });
    await expectErr(decodeDicom(f, { source: 'short.dcm' }), /pixel data is truncated: 6 bytes present, 32 expected/, 'short.dcm');
  });
  it('a file cut in the middle', async () => {
    const real = sharedPath('data/dicom_samples/chest/CR-MONO1-10-chest.dcm');
    const bytes = real ? fs.readFileSync(real).subarray(0, 5000) : writeDicom({ rows: 64, cols: 64, pixels: u16le(new Array(64 * 64).fill(7)) }).subarray(0, 2000);
    await expectErr(decodeDicom(bytes, { source: 'cut.dcm' }), /truncated/, 'cut.dcm');
  });
  it('corrupt compressed frame', async () => {
    const f = writeDicom({ rows: 8, cols: 8, bitsAllocated: 8, transferSyntax: '1.2.840.10008.1.2.4.50', frames: [Uint8Array.from([0xff, 0xd8, 0xff, 0xc0, 0, 11, 8, 0, 8, 0, 8, 1, 1, 0x11, 0, 0xff, 0xd9])] });
    await expectErr(decodeDicom(f, { source: 'bad-jpeg.dcm' }), /JPEG decoding failed|JPEG/, 'bad-jpeg.dcm');
  });
  it('a data set without an image', async () => {
    const f = writeDicom({ rows: 2, cols: 2 }).subarray(0, 132 + 12 + 4 * 0); // meta only
    await expectErr(decodeDicom(f), /./);
  });
  it('grey conversion of PALETTE COLOR is refused clearly', async () => {
    const f = writeDicom({ rows: 1, cols: 2, bitsAllocated: 8, photometric: 'PALETTE COLOR', pixels: Uint8Array.from([1, 2]) });
    await expectErr(decodeDicomGray(f, 'pal.dcm'), /PALETTE COLOR/, 'pal.dcm');
  });
});

describe('metadata', () => {
  it('reads header fields without decoding pixels', () => {
    const f = writeDicom({
      rows: 3,
      cols: 2,
      pixels: u16le([1, 2, 3, 4, 5, 6]),
      extra: [
        { tag: [0x0018, 0x5101], vr: 'CS', value: 'PA' },
        { tag: [0x0028, 0x0030], vr: 'DS', value: '0.139\\0.14' },
        { tag: [0x0020, 0x000d], vr: 'UI', value: '1.2.3' },
      ],
    });
    const m = readDicomMeta(f, 'm.dcm');
    expect(m).toMatchObject({ rows: 3, columns: 2, viewPosition: 'PA', pixelSpacing: [0.139, 0.14], pixelSpacingSource: 'PixelSpacing', studyInstanceUID: '1.2.3', patientId: 'TESTPATIENT', hasPixelData: true, pixelDataBytes: 12 });
  });
});
