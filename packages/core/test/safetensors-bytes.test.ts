/** parseSafetensors: the in-memory reader agrees with the file reader and names every malformation. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { G2DError, parseSafetensors, readSafetensors, writeSafetensors, type RawTensor } from '../src';

const tensors = new Map<string, RawTensor>([
  ['a.weight', { dtype: 'float32', shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) }],
  ['a.count', { dtype: 'int64', shape: [], data: new BigInt64Array([7n]) }],
  ['b.half', { dtype: 'float16', shape: [2], data: new Uint8Array([0, 60, 0, 64]) }],
  ['c.mask', { dtype: 'bool', shape: [3], data: new Uint8Array([1, 0, 1]) }],
]);

function header(h: unknown, data = new Uint8Array(0)): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(h));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

describe('parseSafetensors', () => {
  let file: string;
  beforeAll(async () => {
    file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'g2d-st-')), 'w.safetensors');
    await writeSafetensors(file, tensors, { format: 'test' });
  });
  afterAll(() => fs.rmSync(path.dirname(file), { recursive: true, force: true }));

  it('reads what writeSafetensors wrote, as readSafetensors does (also from an offset view and an ArrayBuffer)', async () => {
    const bytes = new Uint8Array(fs.readFileSync(file));
    const fromFile = await readSafetensors(file);
    const padded = new Uint8Array(bytes.length + 3);
    padded.set(bytes, 3);
    for (const input of [bytes, padded.subarray(3), bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)]) {
      const r = parseSafetensors(input, 'w.safetensors');
      expect(r.metadata).toEqual({ format: 'test' });
      expect([...r.tensors.keys()].sort()).toEqual([...tensors.keys()].sort());
      for (const [k, t] of r.tensors) {
        expect({ k, dtype: t.dtype, shape: t.shape, data: Array.from(t.data as ArrayLike<number | bigint>) }).toEqual({
          k,
          dtype: fromFile.tensors.get(k)!.dtype,
          shape: fromFile.tensors.get(k)!.shape,
          data: Array.from(fromFile.tensors.get(k)!.data as ArrayLike<number | bigint>),
        });
      }
    }
  });

  it('names the source and the problem for malformed bytes', () => {
    const good = new Uint8Array(fs.readFileSync(file));
    const cases: [string, Uint8Array, RegExp][] = [
      ['short', new Uint8Array(5), /^x\.st: not a safetensors file \(shorter than 8 bytes\)/],
      ['header length', header({}).map((v, i) => (i === 0 ? 0xff : i === 1 ? 0xff : v)), /header length \d+ exceeds the file size/],
      ['not JSON', (() => { const b = header({ a: 1 }); b[8] = 0x7a; return b; })(), /header is not JSON/],
      ['array header', header([1, 2]), /header is not a JSON object/],
      ['dtype', header({ t: { dtype: 'F128', shape: [1], data_offsets: [0, 16] } }, new Uint8Array(16)), /tensor "t" has unsupported dtype "F128"/],
      ['shape', header({ t: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, new Uint8Array(4)), /tensor "t" has an invalid shape \[-1\]/],
      ['offsets', header({ t: { dtype: 'F32', shape: [1], data_offsets: [4, 0] } }, new Uint8Array(4)), /tensor "t" has invalid data_offsets \[4,0\]/],
      ['size', header({ t: { dtype: 'F32', shape: [2], data_offsets: [0, 4] } }, new Uint8Array(4)), /tensor "t" \(float32 \[2\]\) spans 4 bytes, expected 8/],
      ['truncated', good.subarray(0, good.length - 2), /ends at byte \d+ past the data section \(\d+ bytes; truncated file\?\)/],
    ];
    for (const [what, bytes, re] of cases) {
      let err: unknown;
      try {
        parseSafetensors(bytes, 'x.st');
      } catch (e) {
        err = e;
      }
      expect({ what, g2d: err instanceof G2DError, message: (err as Error)?.message }).toEqual({ what, g2d: true, message: expect.stringMatching(re) });
    }
  });
});
