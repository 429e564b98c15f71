/** PNG/JPEG I/O and the preprocessing on hand-worked inputs. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { G2DError } from '@g2d-ts/core';
import { decodeImage, decodePngGray, encodeGrayPng, letterboxPreprocess, loadImage, referencePreprocess, resizeBilinear, nonZeroBBox, toFloat32 } from '../src';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'g2d-img-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('PNG', () => {
  it('16-bit grey round-trips exactly', () => {
    const data = Uint16Array.from({ length: 6 * 5 }, (_, i) => (i * 2311) % 65536);
    const png = encodeGrayPng({ width: 6, height: 5, data, maxValue: 65535 });
    const back = decodePngGray(png);
    expect(back.image.maxValue).toBe(65535);
    expect(back.meta.bitDepth).toBe(16);
    expect(Array.from(back.image.data)).toEqual(Array.from(data));
    expect(toFloat32(back.image)[1]).toBeCloseTo(2311 / 65535, 6);
  });
  it('8-bit grey round-trips; corrupt PNG and unknown formats are named errors', async () => {
    const data = Uint8Array.from([0, 10, 255, 128]);
    const f = path.join(tmp, 'a.png');
    fs.writeFileSync(f, encodeGrayPng({ width: 2, height: 2, data, maxValue: 255 }));
    expect(Array.from((await loadImage(f)).image.data)).toEqual([0, 10, 255, 128]);
    const bad = path.join(tmp, 'bad.png');
    fs.writeFileSync(bad, fs.readFileSync(f).subarray(0, 30));
    await expect(loadImage(bad)).rejects.toThrow(/bad\.png: corrupt or truncated PNG/);
    await expect(decodeImage(Buffer.from('hello world, not an image'), 'x.txt')).rejects.toThrow(/x\.txt: unrecognised image format/);
    await expect(loadImage(path.join(tmp, 'missing.jpg'))).rejects.toThrow(/missing\.jpg: file not found/);
    const empty = path.join(tmp, 'empty.jpg');
    fs.writeFileSync(empty, '');
    await expect(loadImage(empty)).rejects.toBeInstanceOf(G2DError);
  });
  it('corrupt JPEG is a named error', async () => {
    const f = path.join(tmp, 'bad.jpg');
    fs.writeFileSync(f, Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 4, 0, 0, 0xff, 0xd9]));
    await expect(loadImage(f)).rejects.toThrow(/bad\.jpg: corrupt JPEG/);
  });
});

describe('preprocessing', () => {
  it('bilinear resize: 2x2 -> 4x4 by hand (half-pixel centres, mirror edges)', () => {
    // out coord c = (k + 0.5) / 2 - 0.5 = [-0.25, 0.25, 0.75, 1.25] -> mirrored [0.25, 0.25, 0.75, 0.75]
    const r = resizeBilinear([0, 4, 8, 12], 2, 2, 4, 4);
    const row = (a: number, b: number) => [0.75 * a + 0.25 * b, 0.75 * a + 0.25 * b, 0.25 * a + 0.75 * b, 0.25 * a + 0.75 * b];
    const top = row(0, 4);
    const bot = row(8, 12);
    const col = (k: number) => [0.75 * top[k]! + 0.25 * bot[k]!, 0.75 * top[k]! + 0.25 * bot[k]!, 0.25 * top[k]! + 0.75 * bot[k]!, 0.25 * top[k]! + 0.75 * bot[k]!];
    const expected = [0, 1, 2, 3].map((y) => [0, 1, 2, 3].map((x) => col(x)[y]!)).flat();
    expect(Array.from(r).map((v) => +v.toFixed(9))).toEqual(expected.map((v) => +v.toFixed(9)));
  });
  it('crop to non-zero bbox, x256 scaling and the uint8 wrap of the maximum (code variant)', () => {
    const img = { width: 4, height: 3, data: Uint8Array.from([0, 0, 0, 0, 0, 10, 20, 0, 0, 30, 50, 0]) };
    expect(nonZeroBBox(img)).toEqual([1, 2, 1, 2]);
    // crop [[10,20],[30,50]], min 10 max 50: (v-10)*(1/40*256) = [0, 64, 128, 256]; same size -> 256 wraps to 0
    expect(Array.from(referencePreprocess(img, { size: 2 }))).toEqual([0, 64, 128, 0]);
    expect(Array.from(referencePreprocess(img, { size: 2, variant: 'clean' }))).toEqual([0, 64, 128, 255]);
  });
  it('all-zero image is refused; constant image gives zeros like the reference', () => {
    expect(() => referencePreprocess({ width: 2, height: 2, data: new Uint8Array(4) }, { source: 'z.png' })).toThrow(/z\.png: image is entirely zero/);
    expect(Array.from(referencePreprocess({ width: 2, height: 2, data: new Uint8Array(4).fill(9) }, { size: 3 }))).toEqual(new Array(9).fill(0));
  });
  it('letterbox keeps the aspect ratio and centres the image', () => {
    const data = Uint8Array.from({ length: 200 }, (_, i) => 20 + (i % 97));
    const { data: out, box } = letterboxPreprocess({ width: 20, height: 10, data }, { size: 8 });
    expect(box).toEqual([0, 2, 8, 4]);
    expect(out.length).toBe(64);
    expect(Array.from(out.subarray(0, 16))).toEqual(new Array(16).fill(0));
    expect(out[2 * 8 + 4]).toBeGreaterThan(0);
  });
});
