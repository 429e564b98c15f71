/**
 * safetensors (https://huggingface.co/docs/safetensors) reader and writer: an 8-byte
 * little-endian header length, a JSON header {name: {dtype, shape, data_offsets}}, then the
 * raw little-endian tensor bytes. Writes are atomic (temporary file + rename).
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { G2DError } from '../errors';
import { type CheckpointDType, DTYPE_SIZE, type RawTensor, bytesOf, numel, typedFromBytes, validateRawTensor } from './dtypes';

const TO_ST: Record<CheckpointDType, string> = {
  float32: 'F32', float16: 'F16', bfloat16: 'BF16', float64: 'F64', int64: 'I64',
  int32: 'I32', int16: 'I16', int8: 'I8', uint8: 'U8', bool: 'BOOL',
};
const FROM_ST: Record<string, CheckpointDType> = Object.fromEntries(
  Object.entries(TO_ST).map(([k, v]) => [v, k as CheckpointDType]),
);

const MAX_HEADER = 100 * 1024 * 1024;

export async function readSafetensors(
  file: string,
): Promise<{ tensors: Map<string, RawTensor>; metadata: Record<string, string> }> {
  const fh = await fsp.open(file, 'r');
  try {
    const { size } = await fh.stat();
    if (size < 8) throw new G2DError('not a safetensors file (shorter than 8 bytes)', { source: file });
    const lenBuf = new Uint8Array(8);
    await fh.read(lenBuf, 0, 8, 0);
    const n = new DataView(lenBuf.buffer).getBigUint64(0, true);
    if (n > BigInt(Math.min(MAX_HEADER, size - 8))) {
      throw new G2DError(`not a safetensors file (header length ${n} exceeds the file size ${size})`, { source: file });
    }
    const headerLen = Number(n);
    const hb = new Uint8Array(headerLen);
    await fh.read(hb, 0, headerLen, 8);
    let header: Record<string, unknown>;
    try {
      header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(hb)) as Record<string, unknown>;
    } catch (e) {
      throw new G2DError(`not a safetensors file (header is not JSON: ${(e as Error).message})`, { source: file });
    }
    if (!header || typeof header !== 'object' || Array.isArray(header)) {
      throw new G2DError('safetensors header is not a JSON object', { source: file });
    }
    const dataStart = 8 + headerLen;
    const dataLen = size - dataStart;
    const metadata: Record<string, string> = {};
    const entries: { name: string; dtype: CheckpointDType; shape: number[]; begin: number; end: number }[] = [];
    for (const [name, info] of Object.entries(header)) {
      if (name === '__metadata__') {
        if (info && typeof info === 'object') for (const [k, v] of Object.entries(info)) metadata[k] = String(v);
        continue;
      }
      const i = info as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
      const dtype = FROM_ST[String(i?.dtype)];
      if (!dtype) {
        throw new G2DError(
          `tensor "${name}" has unsupported dtype "${String(i?.dtype)}" (supported: ${Object.keys(FROM_ST).join(', ')})`,
          { source: file },
        );
      }
      const shape = i.shape;
      const off = i.data_offsets;
      if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
        throw new G2DError(`tensor "${name}" has an invalid shape ${JSON.stringify(shape)}`, { source: file });
      }
      if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isInteger(d) && d >= 0) || off[1] < off[0]) {
        throw new G2DError(`tensor "${name}" has invalid data_offsets ${JSON.stringify(off)}`, { source: file });
      }
      const [begin, end] = off as [number, number];
      const expected = numel(shape as number[]) * DTYPE_SIZE[dtype];
      if (end - begin !== expected) {
        throw new G2DError(
          `tensor "${name}" (${dtype} [${(shape as number[]).join(', ')}]) spans ${end - begin} bytes, expected ${expected}`,
          { source: file },
        );
      }
      if (end > dataLen) {
        throw new G2DError(`tensor "${name}" ends at byte ${end} past the data section (${dataLen} bytes; truncated file?)`, { source: file });
      }
      entries.push({ name, dtype, shape: shape as number[], begin, end });
    }
    const tensors = new Map<string, RawTensor>();
    for (const e of entries) {
      const b = new Uint8Array(e.end - e.begin);
      let done = 0;
      while (done < b.length) {
        const { bytesRead } = await fh.read(b, done, b.length - done, dataStart + e.begin + done);
        if (bytesRead === 0) throw new G2DError(`tensor "${e.name}": unexpected end of file`, { source: file });
        done += bytesRead;
      }
      tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data: typedFromBytes(e.dtype, b) });
    }
    return { tensors, metadata };
  } finally {
    await fh.close();
  }
}

export async function writeSafetensors(
  file: string,
  tensors: Map<string, RawTensor> | Record<string, RawTensor>,
  metadata?: Record<string, string>,
): Promise<void> {
  const list = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  const seen = new Set<string>();
  for (const [name, t] of list) {
    if (name === '__metadata__') throw new G2DError('a tensor may not be named "__metadata__"', { source: file });
    if (seen.has(name)) throw new G2DError(`duplicate tensor name "${name}"`, { source: file });
    seen.add(name);
    validateRawTensor(t, name, file);
  }
  // larger alignment first, then by name (as the reference implementation orders them)
  list.sort(([a, ta], [b, tb]) => DTYPE_SIZE[tb.dtype] - DTYPE_SIZE[ta.dtype] || (a < b ? -1 : a > b ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new G2DError(`metadata "${k}" must be a string`, { source: file });
    }
    header.__metadata__ = metadata;
  }
  let offset = 0;
  for (const [name, t] of list) {
    const len = t.data.byteLength;
    header[name] = { dtype: TO_ST[t.dtype], shape: t.shape, data_offsets: [offset, offset + len] };
    offset += len;
  }
  let json = JSON.stringify(header);
  const enc = new TextEncoder();
  let hb = enc.encode(json);
  const pad = (8 - (hb.length % 8)) % 8;
  if (pad) {
    json += ' '.repeat(pad);
    hb = enc.encode(json);
  }
  const lenBuf = new Uint8Array(8);
  new DataView(lenBuf.buffer).setBigUint64(0, BigInt(hb.length), true);
  await fsp.mkdir(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
  const fh = await fsp.open(tmp, 'w');
  try {
    await fh.write(lenBuf);
    await fh.write(hb);
    for (const [, t] of list) if (t.data.byteLength) await fh.write(bytesOf(t));
    await fh.sync();
  } catch (e) {
    await fh.close();
    await fsp.rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  await fsp.rename(tmp, file);
}
