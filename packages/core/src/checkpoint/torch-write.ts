/**
 * Writes a state dict as a PyTorch checkpoint (`torch.save` zip format, what `torch.load`
 * reads since PyTorch 1.6): a stored (uncompressed) ZIP holding `archive/data.pkl` (a
 * protocol-2 pickle of an `OrderedDict` of `torch._utils._rebuild_tensor_v2` calls whose
 * storages are persistent ids), one `archive/data/<n>` record per tensor and
 * `archive/version`. Tensor records are 64-byte aligned as PyTorch writes them. Output is
 * deterministic (no times, no paths) and written atomically (temp file, fsync, rename).
 *
 * Only the globals our reader's restricted unpickler accepts are emitted (OrderedDict,
 * _rebuild_tensor_v2, the typed storages), so our own files round-trip through it too.
 */
import { writeZip } from '../archive';
import { G2DError } from '../errors';
import { bytesOf, validateRawTensor, type CheckpointDType, type RawTensor } from './dtypes';

const STORAGE: Partial<Record<CheckpointDType, string>> = {
  float32: 'FloatStorage',
  float64: 'DoubleStorage',
  float16: 'HalfStorage',
  bfloat16: 'BFloat16Storage',
  int64: 'LongStorage',
  int32: 'IntStorage',
  int16: 'ShortStorage',
  int8: 'CharStorage',
  uint8: 'ByteStorage',
  bool: 'BoolStorage',
};

class PickleWriter {
  private parts: number[] = [];
  private memo = 0;
  byte(...b: number[]): void {
    for (const x of b) this.parts.push(x & 0xff);
  }
  u32(n: number): void {
    this.byte(n, n >>> 8, n >>> 16, n >>> 24);
  }
  ascii(s: string): void {
    for (let i = 0; i < s.length; i++) this.parts.push(s.charCodeAt(i));
  }
  global(module: string, name: string): void {
    this.byte(0x63); // GLOBAL
    this.ascii(`${module}\n${name}\n`);
    this.put();
  }
  put(): void {
    if (this.memo < 256) this.byte(0x71, this.memo); // BINPUT
    else {
      this.byte(0x72); // LONG_BINPUT
      this.u32(this.memo);
    }
    this.memo++;
  }
  str(s: string): void {
    const b = new TextEncoder().encode(s);
    this.byte(0x58); // BINUNICODE
    this.u32(b.length);
    for (const x of b) this.parts.push(x);
    this.put();
  }
  int(n: number): void {
    if (!Number.isInteger(n)) throw new Error(`not an integer: ${n}`);
    if (n >= 0 && n < 256) this.byte(0x4b, n); // BININT1
    else if (n >= 0 && n < 65536) this.byte(0x4d, n, n >>> 8); // BININT2
    else if (n >= -(2 ** 31) && n < 2 ** 31) {
      this.byte(0x4a); // BININT
      this.u32(n >>> 0);
    } else {
      // LONG1: little-endian two's complement
      let v = BigInt(n);
      const bytes: number[] = [];
      do {
        bytes.push(Number(v & 0xffn));
        v >>= 8n;
      } while (!((v === 0n && (bytes[bytes.length - 1]! & 0x80) === 0) || (v === -1n && (bytes[bytes.length - 1]! & 0x80) !== 0)));
      this.byte(0x8a, bytes.length, ...bytes);
    }
  }
  tuple(items: (() => void)[]): void {
    if (items.length === 0) {
      this.byte(0x29); // EMPTY_TUPLE
      return;
    }
    this.byte(0x28); // MARK
    for (const f of items) f();
    this.byte(0x74); // TUPLE
    this.put();
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

function contiguousStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

/** The pickle of an OrderedDict name -> tensor, storages keyed "0", "1", ... in order. */
function stateDictPickle(entries: [string, RawTensor][], source: string): Uint8Array {
  const w = new PickleWriter();
  w.byte(0x80, 2); // PROTO 2
  w.global('collections', 'OrderedDict');
  w.byte(0x29, 0x52); // EMPTY_TUPLE, REDUCE
  w.put();
  if (entries.length) {
    w.byte(0x28); // MARK
    entries.forEach(([name, t], i) => {
      const storage = STORAGE[t.dtype];
      if (!storage) throw new G2DError(`tensor "${name}": dtype ${t.dtype} cannot be written to a PyTorch checkpoint`, { source });
      const numel = t.shape.reduce((a, b) => a * b, 1);
      w.str(name);
      w.global('torch._utils', '_rebuild_tensor_v2');
      w.byte(0x28); // MARK (args tuple)
      // persistent id: ('storage', torch.<X>Storage, key, location, numel)
      w.tuple([() => w.str('storage'), () => w.global('torch', storage), () => w.str(String(i)), () => w.str('cpu'), () => w.int(numel)]);
      w.byte(0x51); // BINPERSID
      w.int(0); // storage offset
      w.tuple(t.shape.map((d) => () => w.int(d)));
      w.tuple(contiguousStrides(t.shape).map((d) => () => w.int(d)));
      w.byte(0x89); // NEWFALSE: requires_grad
      w.global('collections', 'OrderedDict'); // backward_hooks
      w.byte(0x29, 0x52); // EMPTY_TUPLE, REDUCE
      w.put();
      w.byte(0x74); // TUPLE (closes the args MARK)
      w.put();
      w.byte(0x52); // REDUCE
      w.put();
    });
    w.byte(0x75); // SETITEMS
  }
  w.byte(0x2e); // STOP
  return w.bytes();
}

/**
 * Writes `tensors` (PyTorch names, layout and shapes) as a checkpoint `torch.load` reads as
 * an OrderedDict of tensors. Atomic; throws a G2DError naming the tensor for unsupported dtypes.
 */
export async function writeTorchCheckpoint(file: string, tensors: Map<string, RawTensor> | Record<string, RawTensor>): Promise<void> {
  const entries = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  for (const [n, t] of entries) validateRawTensor(t, n, file);
  const prefix = 'archive';
  const records: [string, Uint8Array][] = [[`${prefix}/data.pkl`, stateDictPickle(entries, file)]];
  entries.forEach(([, t], i) => records.push([`${prefix}/data/${i}`, bytesOf(t)]));
  records.push([`${prefix}/version`, new TextEncoder().encode('3\n')]);

  // stored records, 64-byte aligned as torch.save writes them; ZIP64 past 4 GiB; temp file + fsync + rename
  writeZip(file, records, { align: 64 });
}
