/**
 * PyTorch checkpoint reader (torch.save's zip format, and the legacy pre-1.6 format) built
 * on the restricted unpickler: only the globals needed to rebuild tensors and containers
 * are understood; any other global is refused by name before anything is built.
 */
import { promises as fsp } from 'node:fs';
import { G2DError } from '../errors';
import { type CheckpointDType, DTYPE_SIZE, type RawTensor, numel, typedFromBytes } from './dtypes';
import { type PyCallable, type PyDict, unpickle, describe } from './pickle';
import { ZipReader, isZipMagic } from '../archive';

/** A storage referenced by a persistent id; bytes are loaded lazily. */
export class TorchStorage {
  constructor(
    readonly key: string,
    readonly dtype: CheckpointDType,
    readonly numel: number,
  ) {}
}

/** A tensor as described by the pickle (storage view), before its bytes are read. */
export class TorchTensorRef {
  constructor(
    readonly storage: TorchStorage,
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
  ) {}
}

class StorageType {
  constructor(
    readonly pyName: string,
    readonly dtype: CheckpointDType,
  ) {}
}

const STORAGE_DTYPES: Record<string, CheckpointDType> = {
  FloatStorage: 'float32',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  DoubleStorage: 'float64',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
  UntypedStorage: 'uint8',
};
const UNSUPPORTED_STORAGE: Record<string, string> = {
  ComplexFloatStorage: 'complex64',
  ComplexDoubleStorage: 'complex128',
  QInt8Storage: 'qint8',
  QUInt8Storage: 'quint8',
  QInt32Storage: 'qint32',
  QUInt4x2Storage: 'quint4x2',
  QUInt2x4Storage: 'quint2x4',
};
const TORCH_DTYPES: Record<string, string> = {
  float32: 'float32', float: 'float32', float16: 'float16', half: 'float16', bfloat16: 'bfloat16',
  float64: 'float64', double: 'float64', int64: 'int64', long: 'int64', int32: 'int32', int: 'int32',
  int16: 'int16', short: 'int16', int8: 'int8', uint8: 'uint8', bool: 'bool',
};

function fn(pyName: string, call: (args: unknown[]) => unknown): PyCallable {
  return { pyName, call };
}

function intList(x: unknown, what: string, source: string): number[] {
  if (!Array.isArray(x) || x.some((v) => typeof v !== 'number' || !Number.isInteger(v) || v < 0)) {
    throw new G2DError(`pickle: tensor ${what} is not a tuple of non-negative ints`, { source });
  }
  return x as number[];
}

/** A plain attribute bag (argparse.Namespace and similar records). */
export class PyObject {
  constructor(readonly pyName: string) {}
  attrs: Record<string, unknown> = {};
  __setstate__(state: unknown): void {
    if (state instanceof Map) for (const [k, v] of state) this.attrs[String(k)] = v;
  }
}

/**
 * The allow-list. Everything not named here is refused with the global's name in the error.
 */
export function torchGlobalResolver(source: string): (module: string, name: string) => unknown {
  const rebuildTensor = (what: string) =>
    fn(what, (args) => {
      const [storage, offset, size, stride] = args;
      if (!(storage instanceof TorchStorage)) {
        throw new G2DError(`pickle: ${what} expects a storage, got ${describe(storage)}`, { source });
      }
      if (typeof offset !== 'number') throw new G2DError(`pickle: ${what} storage offset is not an int`, { source });
      return new TorchTensorRef(storage, offset, intList(size, 'size', source), intList(stride, 'stride', source));
    });
  const passData = (what: string) => fn(what, (args) => args[0]);
  const table: Record<string, () => unknown> = {
    'torch._utils._rebuild_tensor_v2': () => rebuildTensor('torch._utils._rebuild_tensor_v2'),
    'torch._utils._rebuild_tensor': () => rebuildTensor('torch._utils._rebuild_tensor'),
    'torch._utils._rebuild_parameter': () => passData('torch._utils._rebuild_parameter'),
    'torch._utils._rebuild_parameter_with_state': () => passData('torch._utils._rebuild_parameter_with_state'),
    'torch.nn.parameter.Parameter': () => passData('torch.nn.parameter.Parameter'),
    'torch.Tensor': () => passData('torch.Tensor'),
    'torch._tensor._rebuild_from_type_v2': () =>
      fn('torch._tensor._rebuild_from_type_v2', (args) => {
        const [func, , fargs] = args;
        if (!func || typeof (func as PyCallable).call !== 'function') {
          throw new G2DError('pickle: _rebuild_from_type_v2 without a rebuild function', { source });
        }
        return (func as PyCallable).call(fargs as unknown[]);
      }),
    'collections.OrderedDict': () =>
      fn('collections.OrderedDict', (args) => {
        const d: PyDict = new Map();
        const items = args[0];
        if (Array.isArray(items)) for (const kv of items) if (Array.isArray(kv) && kv.length === 2) d.set(kv[0], kv[1]);
        return d;
      }),
    'torch.Size': () => fn('torch.Size', (args) => (Array.isArray(args[0]) ? [...(args[0] as unknown[])] : [])),
    'torch.device': () => fn('torch.device', (args) => args.map(String).join(':')),
    '_codecs.encode': () =>
      fn('_codecs.encode', (args) => {
        const s = String(args[0] ?? '');
        const out = new Uint8Array(s.length);
        for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
        return out;
      }),
    'builtins.set': () => fn('builtins.set', (args) => new Set(Array.isArray(args[0]) ? args[0] : [])),
    '__builtin__.set': () => fn('__builtin__.set', (args) => new Set(Array.isArray(args[0]) ? args[0] : [])),
    'builtins.frozenset': () => fn('builtins.frozenset', (args) => new Set(Array.isArray(args[0]) ? args[0] : [])),
    '__builtin__.frozenset': () => fn('__builtin__.frozenset', (args) => new Set(Array.isArray(args[0]) ? args[0] : [])),
    '__builtin__.bytearray': () =>
      fn('__builtin__.bytearray', (args) => (args[0] instanceof Uint8Array ? args[0] : new Uint8Array(0))),
    'builtins.bytearray': () =>
      fn('builtins.bytearray', (args) => (args[0] instanceof Uint8Array ? args[0] : new Uint8Array(0))),
    'argparse.Namespace': () => fn('argparse.Namespace', () => new PyObject('argparse.Namespace')),
  };
  return (module, name) => {
    const full = `${module}.${name}`;
    const entry = table[full];
    if (entry) return entry();
    if ((module === 'torch' || module === 'torch.cuda') && name in STORAGE_DTYPES) {
      return new StorageType(full, STORAGE_DTYPES[name]!);
    }
    if ((module === 'torch' || module === 'torch.cuda') && name in UNSUPPORTED_STORAGE) {
      throw new G2DError(`unsupported tensor dtype ${UNSUPPORTED_STORAGE[name]} (storage type ${full})`, { source });
    }
    if (module === 'torch' && name in TORCH_DTYPES) return `torch.${TORCH_DTYPES[name]}`;
    throw new G2DError(
      `refusing to load global "${full}": the restricted unpickler only rebuilds tensors and plain containers ` +
        `(a checkpoint naming other globals could run code when loaded by Python). ` +
        `Re-save just the weights with torch.save(model.state_dict(), path) or as .safetensors.`,
      { source },
    );
  };
}

function storageFromPid(pid: unknown, source: string, cache: Map<string, TorchStorage>): TorchStorage {
  if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length < 5) {
    throw new G2DError(`pickle: unsupported persistent id ${describe(pid)}`, { source });
  }
  const [, type, key, , count] = pid as unknown[];
  let dtype: CheckpointDType;
  if (type instanceof StorageType) dtype = type.dtype;
  else if (typeof type === 'string' && type.startsWith('torch.') && TORCH_DTYPES[type.slice(6)]) {
    dtype = TORCH_DTYPES[type.slice(6)] as CheckpointDType;
  } else throw new G2DError(`pickle: persistent id names no storage type (${describe(type)})`, { source });
  if (typeof count !== 'number') throw new G2DError('pickle: storage size is not an int', { source });
  const k = String(key);
  let s = cache.get(k);
  if (!s) {
    s = new TorchStorage(k, dtype, count);
    cache.set(k, s);
  }
  return s;
}

/** Copies the view described by `ref` out of its storage bytes (handles strides and offsets). */
export function materialize(ref: TorchTensorRef, storageBytes: Uint8Array, source: string, name: string): RawTensor {
  const { dtype } = ref.storage;
  const es = DTYPE_SIZE[dtype];
  const n = numel(ref.shape);
  const avail = Math.floor(storageBytes.byteLength / es);
  if (ref.shape.length !== ref.stride.length) {
    throw new G2DError(`tensor "${name}": size and stride have different ranks`, { source });
  }
  let maxIndex = ref.offset;
  for (let i = 0; i < ref.shape.length; i++) if (ref.shape[i]! > 0) maxIndex += (ref.shape[i]! - 1) * ref.stride[i]!;
  if (n > 0 && maxIndex >= avail) {
    throw new G2DError(
      `tensor "${name}" ([${ref.shape.join(', ')}] at offset ${ref.offset}) reaches element ${maxIndex} of a storage holding ${avail}`,
      { source },
    );
  }
  // contiguous row-major?
  let contiguous = true;
  let expect = 1;
  for (let i = ref.shape.length - 1; i >= 0; i--) {
    if (ref.shape[i]! !== 1 && ref.stride[i]! !== expect) contiguous = false;
    expect *= ref.shape[i]!;
  }
  let bytes: Uint8Array;
  if (contiguous || n === 0) {
    bytes = storageBytes.subarray(ref.offset * es, (ref.offset + n) * es);
  } else {
    bytes = new Uint8Array(n * es);
    const rank = ref.shape.length;
    const idx = new Array<number>(rank).fill(0);
    let src = ref.offset;
    for (let i = 0; i < n; i++) {
      bytes.set(storageBytes.subarray(src * es, src * es + es), i * es);
      for (let d = rank - 1; d >= 0; d--) {
        idx[d]!++;
        src += ref.stride[d]!;
        if (idx[d]! < ref.shape[d]!) break;
        src -= ref.stride[d]! * ref.shape[d]!;
        idx[d] = 0;
      }
    }
  }
  return { dtype, shape: [...ref.shape], data: typedFromBytes(dtype, bytes) };
}

function byteswap(b: Uint8Array, es: number): Uint8Array {
  if (es === 1) return b;
  const out = new Uint8Array(b.length);
  for (let i = 0; i < b.length; i += es) for (let j = 0; j < es; j++) out[i + j] = b[i + es - 1 - j]!;
  return out;
}

/** A parsed checkpoint: the unpickled object tree (tensors still as refs) and a byte loader. */
export interface TorchArchive {
  file: string;
  root: unknown;
  loadStorage(s: TorchStorage): Promise<Uint8Array>;
  close(): Promise<void>;
}

export async function openTorchArchive(file: string): Promise<TorchArchive> {
  const fh = await fsp.open(file, 'r');
  const head = new Uint8Array(8);
  try {
    await fh.read(head, 0, 8, 0);
  } finally {
    await fh.close();
  }
  if (isZipMagic(head)) return openZipArchive(file);
  if (head[0] === 0x80) return openLegacyArchive(file);
  throw new G2DError('not a PyTorch checkpoint (neither a torch.save zip archive nor a legacy pickle)', { source: file });
}

async function openZipArchive(file: string): Promise<TorchArchive> {
  const zip = ZipReader.open(file);
  try {
    const pkls = [...zip.entries.keys()].filter((n) => /^[^/]+\/data\.pkl$/.test(n));
    const names = [...zip.entries.keys()];
    if (pkls.length !== 1) {
      const hint = names.some((n) => /\/(constants\.pkl|code\/)/.test(n))
        ? ' This looks like a TorchScript archive; save model.state_dict() with torch.save instead.'
        : '';
      throw new G2DError(`zip archive has ${pkls.length} "*/data.pkl" records, expected 1.${hint}`, { source: file });
    }
    const prefix = pkls[0]!.slice(0, -'data.pkl'.length);
    const source = `${file} (${pkls[0]})`;
    let bigEndian = false;
    if (zip.entries.has(`${prefix}byteorder`)) {
      bigEndian = new TextDecoder().decode(zip.read(`${prefix}byteorder`)).trim() === 'big';
    }
    const cache = new Map<string, TorchStorage>();
    const pkl = zip.read(pkls[0]!);
    const { value } = unpickle(pkl, {
      source,
      resolveGlobal: torchGlobalResolver(source),
      persistentLoad: (pid) => storageFromPid(pid, source, cache),
    });
    return {
      file,
      root: value,
      async loadStorage(s) {
        const entry = `${prefix}data/${s.key}`;
        if (!zip.entries.has(entry)) throw new G2DError(`storage record "${entry}" missing (truncated archive?)`, { source: file });
        const b = zip.read(entry);
        const es = DTYPE_SIZE[s.dtype];
        if (b.byteLength < s.numel * es) {
          throw new G2DError(`storage "${entry}" has ${b.byteLength} bytes, expected ${s.numel * es} (${s.numel} × ${s.dtype})`, { source: file });
        }
        return bigEndian ? byteswap(b, es) : b;
      },
      close: async () => zip.close(),
    };
  } catch (e) {
    zip.close();
    throw e;
  }
}

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;

async function openLegacyArchive(file: string): Promise<TorchArchive> {
  const data = new Uint8Array(await fsp.readFile(file));
  const source = `${file} (legacy torch.save format)`;
  const plain = { source, resolveGlobal: torchGlobalResolver(source) };
  const magic = unpickle(data, plain, 0);
  if (magic.value !== LEGACY_MAGIC) {
    throw new G2DError(
      'not a PyTorch checkpoint: a bare pickle file. Only torch.save files (zip or legacy) and .safetensors are read.',
      { source: file },
    );
  }
  const proto = unpickle(data, plain, magic.end);
  if (proto.value !== 1001) throw new G2DError(`unsupported legacy protocol version ${String(proto.value)}`, { source });
  const sysInfo = unpickle(data, plain, proto.end);
  if (sysInfo.value instanceof Map && sysInfo.value.get('little_endian') === false) {
    throw new G2DError('big-endian legacy checkpoints are not supported; re-save with a current torch.save', { source });
  }
  const cache = new Map<string, TorchStorage>();
  const views = new Map<TorchStorage, { root: TorchStorage; offset: number }>();
  const main = unpickle(data, {
    ...plain,
    persistentLoad(pid) {
      const s = storageFromPid(pid, source, cache);
      const view = Array.isArray(pid) ? (pid as unknown[])[5] : null;
      if (Array.isArray(view) && view.length === 3) {
        const [vkey, voff, vsize] = view as [unknown, number, number];
        const vs = new TorchStorage(String(vkey), s.dtype, vsize);
        views.set(vs, { root: s, offset: voff });
        return vs;
      }
      return s;
    },
  }, sysInfo.end);
  const keys = unpickle(data, plain, main.end);
  if (!Array.isArray(keys.value)) throw new G2DError('legacy checkpoint: storage key list missing', { source });
  const offsets = new Map<string, number>();
  let pos = keys.end;
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (const k of keys.value as unknown[]) {
    const s = cache.get(String(k));
    if (!s) throw new G2DError(`legacy checkpoint: storage "${String(k)}" listed but never referenced`, { source });
    if (pos + 8 > data.length) throw new G2DError('legacy checkpoint truncated', { source });
    const count = Number(dv.getBigInt64(pos, true));
    offsets.set(s.key, pos + 8);
    pos += 8 + count * DTYPE_SIZE[s.dtype];
    if (pos > data.length) throw new G2DError('legacy checkpoint truncated', { source });
  }
  return {
    file,
    root: main.value,
    async loadStorage(s) {
      const v = views.get(s);
      const root = v ? v.root : s;
      const start = offsets.get(root.key);
      if (start === undefined) throw new G2DError(`legacy checkpoint: storage "${root.key}" has no data`, { source });
      const es = DTYPE_SIZE[s.dtype];
      const off = start + (v ? v.offset * es : 0);
      return data.subarray(off, off + s.numel * es);
    },
    close: async () => undefined,
  };
}

/** Walks containers and returns every tensor ref (dicts, lists, tuples, attribute bags). */
function resolveTree(x: unknown, fnRef: (r: TorchTensorRef) => unknown, seen = new Set<unknown>()): unknown {
  if (x instanceof TorchTensorRef) return fnRef(x);
  if (x === null || typeof x !== 'object' || seen.has(x)) return x;
  seen.add(x);
  if (x instanceof Map) {
    for (const [k, v] of x) x.set(k, resolveTree(v, fnRef, seen));
  } else if (Array.isArray(x)) {
    for (let i = 0; i < x.length; i++) x[i] = resolveTree(x[i], fnRef, seen);
  } else if (x instanceof PyObject) {
    for (const k of Object.keys(x.attrs)) x.attrs[k] = resolveTree(x.attrs[k], fnRef, seen);
  }
  return x;
}

/**
 * Loads the whole object saved by torch.save (dicts as Map, lists/tuples as arrays, tensors as
 * RawTensor, argparse.Namespace as PyObject). Use `readTorchCheckpoint` for a flat state dict.
 */
export async function loadTorchObject(file: string): Promise<unknown> {
  const ar = await openTorchArchive(file);
  try {
    return await materializeTree(ar, ar.root);
  } finally {
    await ar.close();
  }
}

export async function materializeTree(ar: TorchArchive, tree: unknown, name = ''): Promise<unknown> {
  const refs: TorchTensorRef[] = [];
  resolveTree(tree, (r) => (refs.push(r), r));
  const storages = new Map<TorchStorage, Uint8Array>();
  for (const r of refs) if (!storages.has(r.storage)) storages.set(r.storage, await ar.loadStorage(r.storage));
  return resolveTree(tree, (r) => materialize(r, storages.get(r.storage)!, ar.file, name || 'tensor'));
}

const WRAPPER_KEYS = ['state_dict', 'model_state_dict', 'model', 'module', 'net', 'network', 'model_ema', 'ema', 'params', 'weights'];

/**
 * Finds the state dict in a checkpoint tree: unwraps `state_dict`, `model_state_dict`, `model`…
 * nesting and flattens nested dicts with dotted names. Exported for the safetensors/other paths.
 */
export function findStateDict<T>(root: unknown, isTensor: (x: unknown) => x is T, source: string): Map<string, T> {
  let node = root;
  const path: string[] = [];
  for (let depth = 0; depth < 4; depth++) {
    if (!(node instanceof Map)) break;
    const hasTensor = [...node.values()].some((v) => isTensor(v));
    if (hasTensor) break;
    const k = WRAPPER_KEYS.find((w) => node instanceof Map && node.get(w) instanceof Map);
    if (!k) break;
    path.push(k);
    node = node.get(k);
  }
  if (!(node instanceof Map)) {
    throw new G2DError(`checkpoint holds ${describe(node)}, not a state dict`, { source });
  }
  const out = new Map<string, T>();
  const walk = (d: Map<unknown, unknown>, prefix: string) => {
    for (const [k, v] of d) {
      const key = prefix + String(k);
      if (isTensor(v)) out.set(key, v);
      else if (v instanceof Map) walk(v, key + '.');
    }
  };
  walk(node, '');
  if (out.size === 0) {
    const keys = [...(node as Map<unknown, unknown>).keys()].map(String).slice(0, 20);
    throw new G2DError(
      `no tensors found${path.length ? ` under "${path.join('.')}"` : ''}; top-level keys: ${keys.join(', ') || '(none)'}`,
      { source },
    );
  }
  return stripModulePrefix(out);
}

/** Drops a DataParallel/DDP `module.` prefix when every key carries it. */
export function stripModulePrefix<T>(m: Map<string, T>): Map<string, T> {
  const keys = [...m.keys()];
  if (keys.length === 0 || !keys.every((k) => k.startsWith('module.'))) return m;
  return new Map(keys.map((k) => [k.slice('module.'.length), m.get(k)!]));
}

/** Reads a PyTorch checkpoint (.pth/.pt/.bin) and returns its (unwrapped, flattened) state dict. */
export async function readTorchCheckpoint(file: string): Promise<Map<string, RawTensor>> {
  const ar = await openTorchArchive(file);
  try {
    const refs = findStateDict(ar.root, (x): x is TorchTensorRef => x instanceof TorchTensorRef, file);
    const storages = new Map<TorchStorage, Uint8Array>();
    const out = new Map<string, RawTensor>();
    for (const [k, r] of refs) {
      let b = storages.get(r.storage);
      if (!b) {
        b = await ar.loadStorage(r.storage);
        storages.set(r.storage, b);
      }
      out.set(k, materialize(r, b, file, k));
    }
    return out;
  } finally {
    await ar.close();
  }
}
