/**
 * safetensors from bytes already in memory (a browser `File`, a `fetch` response, a test
 * buffer): the same format and checks as `readSafetensors`, without a file system. Imports
 * nothing from Node, so browser bundles can use it.
 */
import { G2DError } from '../errors';
import { type CheckpointDType, DTYPE_SIZE, type RawTensor, numel, typedFromBytes } from './dtypes';

const FROM_ST: Record<string, CheckpointDType> = {
  F32: 'float32', F16: 'float16', BF16: 'bfloat16', F64: 'float64', I64: 'int64',
  I32: 'int32', I16: 'int16', I8: 'int8', U8: 'uint8', BOOL: 'bool',
};

const MAX_HEADER = 100 * 1024 * 1024;

/**
 * Parses a whole safetensors file held in `bytes` into tensors (copied out, aligned) and the
 * header's `__metadata__`. Every malformed header, dtype, shape or offset is a `G2DError`
 * naming `source` (default `<bytes>`) and the tensor.
 */
export function parseSafetensors(
  bytes: Uint8Array | ArrayBuffer,
  source = '<bytes>',
): { tensors: Map<string, RawTensor>; metadata: Record<string, string> } {
  const b = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const size = b.byteLength;
  if (size < 8) throw new G2DError('not a safetensors file (shorter than 8 bytes)', { source });
  const n = new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(Math.min(MAX_HEADER, size - 8))) {
    throw new G2DError(`not a safetensors file (header length ${n} exceeds the file size ${size})`, { source });
  }
  const headerLen = Number(n);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(b.subarray(8, 8 + headerLen)));
  } catch (e) {
    throw new G2DError(`not a safetensors file (header is not JSON: ${(e as Error).message})`, { source });
  }
  if (!header || typeof header !== 'object' || Array.isArray(header)) {
    throw new G2DError('safetensors header is not a JSON object', { source });
  }
  const dataStart = 8 + headerLen;
  const dataLen = size - dataStart;
  const metadata: Record<string, string> = {};
  const tensors = new Map<string, RawTensor>();
  for (const [name, info] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (info && typeof info === 'object') for (const [k, v] of Object.entries(info)) metadata[k] = String(v);
      continue;
    }
    const i = info as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null;
    const dtype = FROM_ST[String(i?.dtype)];
    if (!dtype) {
      throw new G2DError(`tensor "${name}" has unsupported dtype "${String(i?.dtype)}" (supported: ${Object.keys(FROM_ST).join(', ')})`, { source });
    }
    const shape = i!.shape;
    const off = i!.data_offsets;
    if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
      throw new G2DError(`tensor "${name}" has an invalid shape ${JSON.stringify(shape)}`, { source });
    }
    if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isInteger(d) && d >= 0) || off[1] < off[0]) {
      throw new G2DError(`tensor "${name}" has invalid data_offsets ${JSON.stringify(off)}`, { source });
    }
    const [begin, end] = off as [number, number];
    const expected = numel(shape as number[]) * DTYPE_SIZE[dtype];
    if (end - begin !== expected) {
      throw new G2DError(`tensor "${name}" (${dtype} [${(shape as number[]).join(', ')}]) spans ${end - begin} bytes, expected ${expected}`, { source });
    }
    if (end > dataLen) {
      throw new G2DError(`tensor "${name}" ends at byte ${end} past the data section (${dataLen} bytes; truncated file?)`, { source });
    }
    tensors.set(name, { dtype, shape: shape as number[], data: typedFromBytes(dtype, b.subarray(dataStart + begin, dataStart + end)) });
  }
  return { tensors, metadata };
}
