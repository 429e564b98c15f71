/**
 * Tensor element types shared by the PyTorch and safetensors readers, and conversions
 * between half-precision bit patterns and float32.
 */
import { G2DError } from '../errors';

export type CheckpointDType =
  | 'float32'
  | 'float16'
  | 'bfloat16'
  | 'float64'
  | 'int64'
  | 'int32'
  | 'int16'
  | 'int8'
  | 'uint8'
  | 'bool';

/**
 * A tensor read from (or to be written to) a checkpoint, in PyTorch's row-major layout.
 *
 * `data` per dtype: float32 → Float32Array, float64 → Float64Array, int64 → BigInt64Array,
 * int32 → Int32Array, int16 → Int16Array, int8 → Int8Array, uint8 and bool → Uint8Array
 * (bool: 0/1), float16 and bfloat16 → Uint8Array holding the raw little-endian bytes
 * (2 per element; `toFloat32` decodes them).
 */
export interface RawTensor {
  dtype: CheckpointDType;
  shape: number[];
  data: Float32Array | Int32Array | Uint8Array | Int8Array | Int16Array | BigInt64Array | Float64Array;
}

/** Bytes per element. */
export const DTYPE_SIZE: Record<CheckpointDType, number> = {
  float32: 4,
  float16: 2,
  bfloat16: 2,
  float64: 8,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
};

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * Wraps little-endian bytes (any alignment; copied) as the typed array that `RawTensor.data`
 * uses for `dtype`.
 */
export function typedFromBytes(dtype: CheckpointDType, bytes: Uint8Array): RawTensor['data'] {
  // copy into a fresh, aligned buffer
  const buf = new Uint8Array(bytes.byteLength);
  buf.set(bytes);
  switch (dtype) {
    case 'float32':
      return new Float32Array(buf.buffer, 0, buf.byteLength / 4);
    case 'float64':
      return new Float64Array(buf.buffer, 0, buf.byteLength / 8);
    case 'int64':
      return new BigInt64Array(buf.buffer, 0, buf.byteLength / 8);
    case 'int32':
      return new Int32Array(buf.buffer, 0, buf.byteLength / 4);
    case 'int16':
      return new Int16Array(buf.buffer, 0, buf.byteLength / 2);
    case 'int8':
      return new Int8Array(buf.buffer, 0, buf.byteLength);
    case 'uint8':
    case 'bool':
    case 'float16':
    case 'bfloat16':
      return buf;
  }
}

/** Raw little-endian bytes of a tensor's data (a view, not a copy). */
export function bytesOf(t: RawTensor): Uint8Array {
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE 754 half (bit pattern) → number. */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** number → IEEE 754 half bit pattern (round to nearest even). */
export function floatToHalf(v: number): number {
  f32[0] = v;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++; // a carry rolls into the exponent
  return sign | h;
}

/** Converts any checkpoint tensor to float32 (float32 input is returned as is, not copied). */
export function toFloat32(t: RawTensor): Float32Array {
  const n = numel(t.shape);
  switch (t.dtype) {
    case 'float32':
      return t.data as Float32Array;
    case 'float16':
    case 'bfloat16': {
      const b = t.data as Uint8Array;
      if (b.length !== n * 2) throw new G2DError(`${t.dtype} tensor has ${b.length} bytes, expected ${n * 2}`);
      const out = new Float32Array(n);
      if (t.dtype === 'float16') {
        for (let i = 0; i < n; i++) out[i] = halfToFloat(b[2 * i]! | (b[2 * i + 1]! << 8));
      } else {
        const o32 = new Uint32Array(out.buffer);
        for (let i = 0; i < n; i++) o32[i] = ((b[2 * i]! | (b[2 * i + 1]! << 8)) << 16) >>> 0;
      }
      return out;
    }
    case 'int64': {
      const d = t.data as BigInt64Array;
      const out = new Float32Array(d.length);
      for (let i = 0; i < d.length; i++) out[i] = Number(d[i]!);
      return out;
    }
    default:
      return Float32Array.from(t.data as ArrayLike<number>);
  }
}

/** Encodes float32 values as a float16 or bfloat16 RawTensor (round to nearest even). */
export function fromFloat32(values: ArrayLike<number>, shape: number[], dtype: 'float32' | 'float16' | 'bfloat16' = 'float32'): RawTensor {
  if (numel(shape) !== values.length) {
    throw new G2DError(`fromFloat32: ${values.length} values do not fill shape [${shape.join(', ')}]`);
  }
  if (dtype === 'float32') return { dtype, shape: [...shape], data: Float32Array.from(values) };
  const out = new Uint8Array(values.length * 2);
  for (let i = 0; i < values.length; i++) {
    let h: number;
    if (dtype === 'float16') h = floatToHalf(values[i]!);
    else {
      f32[0] = values[i]!;
      const x = u32[0]!;
      if ((x & 0x7f800000) === 0x7f800000 && x & 0x7fffff) h = (x >>> 16) | 0x40;
      else h = ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
    }
    out[2 * i] = h & 0xff;
    out[2 * i + 1] = h >>> 8;
  }
  return { dtype, shape: [...shape], data: out };
}

/** Checks that `t` is a well-formed RawTensor (dtype known, data type and length match the shape). */
export function validateRawTensor(t: RawTensor, name: string, source?: string): void {
  if (!t || typeof t !== 'object') throw new G2DError(`tensor "${name}" is not a RawTensor`, { source });
  if (!(t.dtype in DTYPE_SIZE)) throw new G2DError(`tensor "${name}" has unsupported dtype "${String(t.dtype)}"`, { source });
  if (!Array.isArray(t.shape) || t.shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new G2DError(`tensor "${name}" has an invalid shape ${JSON.stringify(t.shape)}`, { source });
  }
  const expectedBytes = numel(t.shape) * DTYPE_SIZE[t.dtype];
  if (!ArrayBuffer.isView(t.data) || t.data.byteLength !== expectedBytes) {
    throw new G2DError(
      `tensor "${name}" (${t.dtype} [${t.shape.join(', ')}]) needs ${expectedBytes} bytes of data, got ${ArrayBuffer.isView(t.data) ? t.data.byteLength : 'none'}`,
      { source },
    );
  }
}
