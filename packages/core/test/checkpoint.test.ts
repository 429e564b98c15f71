import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import {
  type RawTensor,
  fromFloat32,
  loadTorchObject,
  PyObject,
  readCheckpoint,
  readSafetensors,
  readTorchCheckpoint,
  toFloat32,
  unpickle,
  writeSafetensors,
  writeTorchCheckpoint,
  halfToFloat,
  floatToHalf,
} from '../src/checkpoint';
import { ZipReader } from '../src/archive';

const FIX = path.join(__dirname, 'checkpoint-fixtures');
const fx = (f: string) => path.join(FIX, f);
type Expected = Record<string, { dtype: string; shape: number[]; values: (number | string)[] }>;
const expected = JSON.parse(fs.readFileSync(fx('expected.json'), 'utf8')) as Expected;
const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'g2d-ckpt-'));
afterAll(() => fs.rmSync(tmpDir, { recursive: true, force: true }));

/** The reference venv's python, or null after a visible SKIP line naming what is skipped. */
function refPython(what: string): string | null {
  const py = path.resolve(__dirname, '../../../.venv-ref/bin/python');
  if (fs.existsSync(py)) return py;
  process.stderr.write(`[g2d] SKIP: .venv-ref absent, ${what} skipped\n`);
  return null;
}

function checkAll(sd: Map<string, RawTensor>, which: string) {
  expect([...sd.keys()].sort()).toEqual(Object.keys(expected).sort());
  for (const [k, e] of Object.entries(expected)) {
    const t = sd.get(k)!;
    expect({ k, dtype: t.dtype, shape: t.shape }).toEqual({ k, dtype: e.dtype, shape: e.shape });
    if (e.dtype === 'int64') {
      expect(Array.from(t.data as BigInt64Array, String)).toEqual(e.values);
    } else {
      const got = Array.from(toFloat32(t));
      const want = (e.values as number[]).map((v) => Math.fround(v));
      expect({ which, k, got }).toEqual({ which, k, got: want });
    }
  }
}

describe('readTorchCheckpoint', () => {
  it('reads every dtype, views, offsets, strides, scalars and empty tensors (zip format)', async () => {
    checkAll(await readTorchCheckpoint(fx('dtypes.pth')), 'zip');
  });
  it('reads the legacy (pre-1.6) format', async () => {
    checkAll(await readTorchCheckpoint(fx('dtypes_legacy.pth')), 'legacy');
  });
  it('reads deflated zip records', async () => {
    checkAll(await readCheckpoint(fx('dtypes_deflated.pth')), 'deflated');
  });
  it('keeps int64 exactly and typed arrays per dtype', async () => {
    const sd = await readCheckpoint(fx('dtypes.pth'));
    expect(sd.get('i64')!.data).toBeInstanceOf(BigInt64Array);
    expect((sd.get('i64')!.data as BigInt64Array)[3]).toBe(-(2n ** 50n));
    expect(sd.get('f16')!.data).toBeInstanceOf(Uint8Array);
    expect(sd.get('i16')!.data).toBeInstanceOf(Int16Array);
    expect(sd.get('f64')!.data).toBeInstanceOf(Float64Array);
    expect(Array.from(sd.get('bool')!.data as Uint8Array)).toEqual([1, 0, 1]);
  });
  it('unwraps model_state_dict and strips module. prefixes', async () => {
    const sd = await readCheckpoint(fx('wrapped.pth'));
    const want = JSON.parse(fs.readFileSync(fx('wrapped_expected.json'), 'utf8')) as Record<string, { shape: number[]; values: number[] }>;
    expect([...sd.keys()].sort()).toEqual(Object.keys(want).sort());
    for (const [k, e] of Object.entries(want)) {
      expect(sd.get(k)!.shape).toEqual(e.shape);
      expect(Array.from(toFloat32(sd.get(k)!))).toEqual(e.values.map(Math.fround));
    }
  });
  it('loads the whole object tree (optimizer state, argparse args, plain values)', async () => {
    const obj = (await loadTorchObject(fx('wrapped.pth'))) as Map<string, unknown>;
    expect(obj.get('epoch')).toBe(6);
    expect(obj.get('best')).toBe(0.25);
    const args = obj.get('args') as PyObject;
    expect(args).toBeInstanceOf(PyObject);
    expect(args.attrs).toEqual({ lr: 2e-5, name: 'g2d' });
    const optState = obj.get('optimizer_state_dict') as Map<string, unknown>;
    const groups = optState.get('param_groups') as Map<string, unknown>[];
    expect(groups[0]!.get('lr')).toBe(2e-5);
    expect(groups[0]!.get('betas')).toEqual([0.9, 0.999]);
    const st = (optState.get('state') as Map<number, Map<string, RawTensor>>).get(0)!;
    expect(st.get('exp_avg')!.shape).toEqual([3, 2, 3, 3]);
  });
});

describe('restricted unpickler', () => {
  it.each([
    ['malicious_os_system.pth', 'posix.system'],
    ['malicious_eval.pth', '__builtin__.eval'], // protocol 2 spells builtins as __builtin__,
    ['numpy_scalar.pth', 'numpy.core.multiarray.scalar'],
  ])('refuses %s by naming the global %s and runs nothing', async (file, global) => {
    await expect(readCheckpoint(fx(file))).rejects.toThrow(`refusing to load global "${global}"`);
    await expect(readCheckpoint(fx(file))).rejects.toThrow(file);
    expect(fs.existsSync('/tmp/g2d-pwned')).toBe(false);
  });
  it('refuses unsupported dtypes with a clear error', async () => {
    await expect(readCheckpoint(fx('complex.pth'))).rejects.toThrow(/unsupported tensor dtype complex64.*ComplexFloatStorage/);
  });
  const opts = { source: 'test.pkl', resolveGlobal: () => { throw new Error('no globals'); } };
  it('parses protocol 4 and protocol 0 containers (bytes from CPython pickle.dumps)', () => {
    // pickle.dumps({'a': [1, 2.5, None, True], 'b': (b'xy', -70000, 2**70), 's': frozenset([3])}, protocol=4)
    const p4 = Buffer.from(
      '8004953e000000000000007d94288c0161945d94284b014740040000000000004e88658c01629443027879944a90eefe' +
        'ff8a0900000000000000004087948c017394284b039194752e',
      'hex',
    );
    const v = unpickle(new Uint8Array(p4), opts).value as Map<string, unknown>;
    expect(v.get('a')).toEqual([1, 2.5, null, true]);
    const b = v.get('b') as unknown[];
    expect(Array.from(b[0] as Uint8Array)).toEqual([0x78, 0x79]);
    expect(b[1]).toBe(-70000);
    expect(b[2]).toBe(2n ** 70n);
    expect(v.get('s')).toEqual(new Set([3]));
    // pickle.dumps([1, 'x', (2,)], protocol=0)
    const p0 = new TextEncoder().encode('(lp0\nI1\naVx\np1\na(I2\ntp2\na.');
    expect(unpickle(p0, opts).value).toEqual([1, 'x', [2]]);
  });
  it('fails on unknown or unsupported opcodes, naming them and the file', () => {
    expect(() => unpickle(new Uint8Array([0x80, 0x02, 0xff]), opts)).toThrow(/test\.pkl: pickle: unknown opcode 0xff/);
    expect(() => unpickle(new Uint8Array([0x80, 0x02, 0x82, 0x01]), opts)).toThrow(/opcode EXT1 .* not supported/);
    expect(() => unpickle(new Uint8Array([0x80, 0x02, 0x4b]), opts)).toThrow(/truncated/);
  });
  it('resolves STACK_GLOBAL through the same allow-list', () => {
    // protocol 4: STACK_GLOBAL 'os' 'system'
    const bytes = new Uint8Array([0x80, 0x04, 0x8c, 2, 0x6f, 0x73, 0x8c, 6, ...Buffer.from('system'), 0x93, 0x2e]);
    const seen: string[] = [];
    expect(() =>
      unpickle(bytes, { source: 's', resolveGlobal: (m, n) => { seen.push(`${m}.${n}`); throw new Error('refused'); } }),
    ).toThrow('refused');
    expect(seen).toEqual(['os.system']);
  });
});

describe('writeTorchCheckpoint (on the archive module\'s ZipWriter)', () => {
  it('round-trips every dtype, scalars and empty tensors; 64-byte aligned records; same bytes twice', async () => {
    const src = await readCheckpoint(fx('dtypes.pth'));
    const out = path.join(tmpDir, 'rt.pth');
    await writeTorchCheckpoint(out, src);
    expect(fs.readdirSync(tmpDir).filter((f) => f.includes('.tmp'))).toEqual([]);
    checkAll(await readTorchCheckpoint(out), 'pth roundtrip');
    const again = path.join(tmpDir, 'rt2.pth');
    await writeTorchCheckpoint(again, src);
    expect(fs.readFileSync(out).equals(fs.readFileSync(again))).toBe(true);
    const zip = ZipReader.open(out);
    const b = fs.readFileSync(out);
    for (const e of zip.entries.values()) {
      const start = e.localHeaderOffset + 30 + b.readUInt16LE(e.localHeaderOffset + 26) + b.readUInt16LE(e.localHeaderOffset + 28);
      expect({ name: e.name, mod: start % 64 }).toEqual({ name: e.name, mod: 0 });
    }
    zip.close();
  });
  it('is loaded by torch.load(weights_only=True)', async () => {
    const py = refPython('torch.load cross-check of writeTorchCheckpoint');
    if (!py) return;
    const out = path.join(tmpDir, 'torch.pth');
    await writeTorchCheckpoint(out, {
      'encoder.w': fromFloat32([1, 2, 3, 4, 5, 6], [2, 3]),
      'encoder.h': fromFloat32([0.5, -7], [2], 'float16'),
      steps: { dtype: 'int64', shape: [], data: new BigInt64Array([123456789012n]) },
      empty: fromFloat32([], [0, 4]),
    });
    const r = spawnSync(py, ['-c', `
import json, sys, torch
sd = torch.load(sys.argv[1], weights_only=True)
print(json.dumps([[k, list(v.shape), str(v.dtype), v.double().reshape(-1).tolist()] for k, v in sd.items()]))
`, out], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual([
      ['encoder.w', [2, 3], 'torch.float32', [1, 2, 3, 4, 5, 6]],
      ['encoder.h', [2], 'torch.float16', [0.5, -7]],
      ['steps', [], 'torch.int64', [123456789012]],
      ['empty', [0, 4], 'torch.float32', []],
    ]);
  });
});

describe('safetensors', () => {
  it('reads files written by the reference library (all dtypes, metadata)', async () => {
    const { tensors, metadata } = await readSafetensors(fx('dtypes.safetensors'));
    expect(metadata).toEqual({ format: 'pt', note: 'fixture' });
    checkAll(tensors, 'safetensors');
  });
  it('round-trips every dtype through writeSafetensors', async () => {
    const src = await readCheckpoint(fx('dtypes.pth'));
    const out = path.join(tmpDir, 'rt.safetensors');
    await writeSafetensors(out, src, { a: 'b' });
    expect(fs.readdirSync(tmpDir).filter((f) => f.includes('.tmp'))).toEqual([]);
    const back = await readSafetensors(out);
    expect(back.metadata).toEqual({ a: 'b' });
    checkAll(back.tensors, 'roundtrip');
    // 8-byte aligned header as the reference writes it
    const n = fs.readFileSync(out).readBigUInt64LE(0);
    expect(Number(n) % 8).toBe(0);
  });
  it('is readable by the reference safetensors library', async () => {
    const py = refPython('reference safetensors cross-check');
    if (!py) return;
    const out = path.join(tmpDir, 'x.safetensors');
    await writeSafetensors(out, {
      w: fromFloat32([1, 2, 3, 4, 5, 6], [2, 3]),
      h: fromFloat32([0.1, -7], [2], 'float16'),
      b: fromFloat32([1.5, -1e30], [2], 'bfloat16'),
      i: { dtype: 'int64', shape: [2], data: new BigInt64Array([5n, -6n]) },
    });
    const r = spawnSync(py, ['-c', `
import json, sys
from safetensors.torch import load_file
t = load_file(sys.argv[1])
print(json.dumps({k: [list(v.shape), str(v.dtype), v.double().reshape(-1).tolist()] for k, v in t.items()}))
`, out], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const got = JSON.parse(r.stdout) as Record<string, [number[], string, number[]]>;
    expect(got.w).toEqual([[2, 3], 'torch.float32', [1, 2, 3, 4, 5, 6]]);
    expect(got.h![1]).toBe('torch.float16');
    expect(got.h![2]).toEqual([halfToFloat(floatToHalf(0.1)), -7]);
    expect(got.b![1]).toBe('torch.bfloat16');
    expect(got.b![2]![0]).toBe(1.5);
    expect(got.i).toEqual([[2], 'torch.int64', [5, -6]]);
  });
  it('rejects bad input with the file name and the problem', async () => {
    const bad = path.join(tmpDir, 'bad.safetensors');
    const hdr = Buffer.from(JSON.stringify({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 12] } }));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(hdr.length));
    fs.writeFileSync(bad, Buffer.concat([len, hdr, Buffer.alloc(16)]));
    await expect(readSafetensors(bad)).rejects.toThrow(/bad\.safetensors: tensor "w" \(float32 \[4\]\) spans 12 bytes, expected 16/);
    const hdr2 = Buffer.from(JSON.stringify({ w: { dtype: 'F8_E4M3', shape: [1], data_offsets: [0, 1] } }));
    len.writeBigUInt64LE(BigInt(hdr2.length));
    fs.writeFileSync(bad, Buffer.concat([len, hdr2, Buffer.alloc(1)]));
    await expect(readSafetensors(bad)).rejects.toThrow(/unsupported dtype "F8_E4M3"/);
    await expect(
      writeSafetensors(path.join(tmpDir, 'w.safetensors'), { w: { dtype: 'float32', shape: [3], data: new Float32Array(2) } }),
    ).rejects.toThrow(/tensor "w" \(float32 \[3\]\) needs 12 bytes of data, got 8/);
  });
});

describe('readCheckpoint format detection and corrupt files', () => {
  it('detects by content, not extension', async () => {
    const renamed = path.join(tmpDir, 'weights.bin');
    fs.copyFileSync(fx('dtypes.safetensors'), renamed);
    checkAll(await readCheckpoint(renamed), 'renamed');
  });
  it('names the file for unknown formats and truncated archives', async () => {
    const junk = path.join(tmpDir, 'junk.pth');
    fs.writeFileSync(junk, 'hello world, not a checkpoint');
    await expect(readCheckpoint(junk)).rejects.toThrow(/junk\.pth: unrecognised checkpoint format/);
    const trunc = path.join(tmpDir, 'trunc.pth');
    const full = fs.readFileSync(fx('dtypes.pth'));
    fs.writeFileSync(trunc, full.subarray(0, full.length - 300));
    await expect(readCheckpoint(trunc)).rejects.toThrow(/trunc\.pth/);
    await expect(readCheckpoint(path.join(tmpDir, 'missing.pth'))).rejects.toThrow(/missing\.pth: cannot open/);
  });
});

describe('float16 / bfloat16 conversions', () => {
  it('round-trips representable halves and rounds to nearest even', () => {
    for (const v of [0, -0, 1, -2.5, 65504, 6.103515625e-5, 5.960464477539063e-8, Infinity, -Infinity]) {
      expect(halfToFloat(floatToHalf(v))).toBe(v);
    }
    expect(halfToFloat(floatToHalf(1 + 2 ** -11))).toBe(1); // tie -> even
    expect(halfToFloat(floatToHalf(1e6))).toBe(Infinity);
    expect(Number.isNaN(halfToFloat(floatToHalf(NaN)))).toBe(true);
    const bf = fromFloat32([1, 3.140625, -0.5], [3], 'bfloat16');
    expect(Array.from(toFloat32(bf))).toEqual([1, 3.140625, -0.5]);
  });
});
