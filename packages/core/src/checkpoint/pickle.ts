/**
 * Restricted Python unpickler: it interprets the pickle opcodes that build plain data
 * (numbers, strings, bytes, lists, tuples, dicts, sets) and hands every GLOBAL reference to
 * a caller-supplied resolver, which only knows an allow-list of harmless names (torch's
 * tensor-rebuild functions, storage types, OrderedDict…) and refuses everything else by
 * name. Nothing in a pickle can therefore run code here. Unknown opcodes fail loudly.
 */
import { G2DError } from '../errors';

/** A Python callable/class the resolver allowed; REDUCE/NEWOBJ/INST call `call(args)`. */
export interface PyCallable {
  readonly pyName: string;
  call(args: unknown[]): unknown;
}

export function isPyCallable(x: unknown): x is PyCallable {
  return typeof x === 'object' && x !== null && typeof (x as PyCallable).call === 'function' && typeof (x as PyCallable).pyName === 'string';
}

/** A Python dict (also OrderedDict). Keys are strings, numbers, bigints, booleans or null. */
export type PyDict = Map<unknown, unknown>;

/** Object attributes restored by BUILD on a dict/object that is not a tensor (e.g. `_metadata`). */
export const PY_STATE = Symbol('pyState');

export interface UnpickleOptions {
  /** Named in every error (the checkpoint file and the record inside it). */
  source: string;
  /** Returns the allowed object for `module.name` or throws (the restriction lives here). */
  resolveGlobal(module: string, name: string): unknown;
  /** Called for PERSID/BINPERSID (torch storages). Absent: persistent ids are refused. */
  persistentLoad?(pid: unknown): unknown;
}

const OPNAMES: Record<number, string> = {
  0x28: 'MARK', 0x2e: 'STOP', 0x30: 'POP', 0x31: 'POP_MARK', 0x32: 'DUP', 0x46: 'FLOAT', 0x49: 'INT',
  0x4a: 'BININT', 0x4b: 'BININT1', 0x4c: 'LONG', 0x4d: 'BININT2', 0x4e: 'NONE', 0x50: 'PERSID',
  0x51: 'BINPERSID', 0x52: 'REDUCE', 0x53: 'STRING', 0x54: 'BINSTRING', 0x55: 'SHORT_BINSTRING',
  0x56: 'UNICODE', 0x58: 'BINUNICODE', 0x61: 'APPEND', 0x62: 'BUILD', 0x63: 'GLOBAL', 0x64: 'DICT',
  0x7d: 'EMPTY_DICT', 0x65: 'APPENDS', 0x67: 'GET', 0x68: 'BINGET', 0x69: 'INST', 0x6a: 'LONG_BINGET',
  0x6c: 'LIST', 0x5d: 'EMPTY_LIST', 0x6f: 'OBJ', 0x70: 'PUT', 0x71: 'BINPUT', 0x72: 'LONG_BINPUT',
  0x73: 'SETITEM', 0x74: 'TUPLE', 0x29: 'EMPTY_TUPLE', 0x75: 'SETITEMS', 0x47: 'BINFLOAT',
  0x80: 'PROTO', 0x81: 'NEWOBJ', 0x82: 'EXT1', 0x83: 'EXT2', 0x84: 'EXT4', 0x85: 'TUPLE1', 0x86: 'TUPLE2',
  0x87: 'TUPLE3', 0x88: 'NEWTRUE', 0x89: 'NEWFALSE', 0x8a: 'LONG1', 0x8b: 'LONG4', 0x42: 'BINBYTES',
  0x43: 'SHORT_BINBYTES', 0x8c: 'SHORT_BINUNICODE', 0x8d: 'BINUNICODE8', 0x8e: 'BINBYTES8',
  0x8f: 'EMPTY_SET', 0x90: 'ADDITEMS', 0x91: 'FROZENSET', 0x92: 'NEWOBJ_EX', 0x93: 'STACK_GLOBAL',
  0x94: 'MEMOIZE', 0x95: 'FRAME', 0x96: 'BYTEARRAY8', 0x97: 'NEXT_BUFFER', 0x98: 'READONLY_BUFFER',
};

function bigOrNumber(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** Little-endian two's-complement integer of arbitrary length (LONG1/LONG4). */
function decodeLong(b: Uint8Array): number | bigint {
  if (b.length === 0) return 0;
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
  if (b[b.length - 1]! & 0x80) v -= 1n << BigInt(8 * b.length);
  return bigOrNumber(v);
}

/**
 * Unpickles one object starting at `start`; returns it and the offset after its STOP.
 */
export function unpickle(data: Uint8Array, opts: UnpickleOptions, start = 0): { value: unknown; end: number } {
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const utf8 = new TextDecoder('utf-8', { fatal: false });
  const latin1 = new TextDecoder('latin1');
  let pos = start;
  let stack: unknown[] = [];
  const metastack: unknown[][] = [];
  const memo = new Map<number, unknown>();
  let opPos = start;

  const fail = (msg: string): never => {
    throw new G2DError(`pickle: ${msg} (at byte ${opPos})`, { source: opts.source });
  };
  const need = (n: number) => {
    if (pos + n > data.length) fail(`truncated data: needs ${n} more byte(s)`);
  };
  const u8 = () => (need(1), data[pos++]!);
  const u16 = () => (need(2), (pos += 2), dv.getUint16(pos - 2, true));
  const i32 = () => (need(4), (pos += 4), dv.getInt32(pos - 4, true));
  const u32 = () => (need(4), (pos += 4), dv.getUint32(pos - 4, true));
  const u64 = () => {
    need(8);
    pos += 8;
    const v = dv.getBigUint64(pos - 8, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail('length too large');
    return Number(v);
  };
  const bytes = (n: number) => {
    need(n);
    pos += n;
    return data.subarray(pos - n, pos);
  };
  const line = () => {
    const end = data.indexOf(0x0a, pos);
    if (end < 0) fail('unterminated text line');
    const s = latin1.decode(data.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const pop = () => {
    if (stack.length === 0) fail('stack underflow');
    return stack.pop();
  };
  const top = () => {
    if (stack.length === 0) fail('stack underflow');
    return stack[stack.length - 1];
  };
  const popMark = () => {
    const items = stack;
    const prev = metastack.pop();
    if (!prev) fail('MARK expected');
    stack = prev!;
    return items;
  };
  const asDict = (d: unknown, op: string): PyDict => {
    if (!(d instanceof Map)) fail(`${op} on a non-dict (${describe(d)})`);
    return d as PyDict;
  };
  const dictKey = (k: unknown) => (Array.isArray(k) ? JSON.stringify(k, (_, v) => (typeof v === 'bigint' ? String(v) : v)) : k);
  const callOf = (fnObj: unknown, args: unknown, op: string) => {
    if (!isPyCallable(fnObj)) fail(`${op} on a non-callable (${describe(fnObj)})`);
    if (!Array.isArray(args)) fail(`${op} arguments are not a tuple`);
    return (fnObj as PyCallable).call(args as unknown[]);
  };
  const global = (module: string, name: string) => opts.resolveGlobal(module, name);
  const persistent = (pid: unknown) => {
    if (!opts.persistentLoad) fail('persistent id found but this file format does not use them');
    return opts.persistentLoad!(pid);
  };

  for (;;) {
    opPos = pos;
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) fail('unsupported pickle protocol');
        break;
      case 0x95: // FRAME
        u64();
        break;
      case 0x2e: { // STOP
        const value = pop();
        return { value, end: pos };
      }
      case 0x28: // MARK
        metastack.push(stack);
        stack = [];
        break;
      case 0x29: stack.push([]); break;
      case 0x5d: stack.push([]); break;
      case 0x7d: stack.push(new Map()); break;
      case 0x8f: stack.push(new Set()); break;
      case 0x4e: stack.push(null); break;
      case 0x88: stack.push(true); break;
      case 0x89: stack.push(false); break;
      case 0x4a: stack.push(i32()); break;
      case 0x4b: stack.push(u8()); break;
      case 0x4d: stack.push(u16()); break;
      case 0x8a: stack.push(decodeLong(bytes(u8()))); break;
      case 0x8b: {
        const n = i32();
        if (n < 0) fail('negative LONG4 length');
        stack.push(decodeLong(bytes(n)));
        break;
      }
      case 0x47: need(8); stack.push(dv.getFloat64(pos, false)); pos += 8; break;
      case 0x58: stack.push(utf8.decode(bytes(u32()))); break;
      case 0x8c: stack.push(utf8.decode(bytes(u8()))); break;
      case 0x8d: stack.push(utf8.decode(bytes(u64()))); break;
      case 0x54: stack.push(latin1.decode(bytes(i32()))); break;
      case 0x55: stack.push(latin1.decode(bytes(u8()))); break;
      case 0x42: stack.push(Uint8Array.from(bytes(u32()))); break;
      case 0x43: stack.push(Uint8Array.from(bytes(u8()))); break;
      case 0x8e: stack.push(Uint8Array.from(bytes(u64()))); break;
      case 0x96: stack.push(Uint8Array.from(bytes(u64()))); break;
      case 0x49: { // INT (text)
        const s = line();
        if (s === '00') stack.push(false);
        else if (s === '01') stack.push(true);
        else if (/^[-+]?\d+$/.test(s)) stack.push(bigOrNumber(BigInt(s)));
        else fail(`bad INT literal "${s}"`);
        break;
      }
      case 0x4c: { // LONG (text)
        const s = line().replace(/L$/, '');
        if (!/^[-+]?\d+$/.test(s)) fail(`bad LONG literal "${s}"`);
        stack.push(bigOrNumber(BigInt(s)));
        break;
      }
      case 0x46: { // FLOAT (text)
        const s = line();
        const v = Number(s);
        if (Number.isNaN(v) && !/nan/i.test(s)) fail(`bad FLOAT literal "${s}"`);
        stack.push(v);
        break;
      }
      case 0x56: { // UNICODE (raw-unicode-escape)
        const s = line().replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_, a: string, b: string) =>
          String.fromCodePoint(parseInt(a ?? b, 16)),
        );
        stack.push(s);
        break;
      }
      case 0x74: case 0x6c: { // TUPLE, LIST (popMark replaces `stack`: read it first)
        const items = popMark();
        stack.push(items);
        break;
      }
      case 0x85: stack.push([pop()]); break;
      case 0x86: { const b = pop(); const a = pop(); stack.push([a, b]); break; }
      case 0x87: { const c = pop(); const b = pop(); const a = pop(); stack.push([a, b, c]); break; }
      case 0x64: { // DICT
        const items = popMark();
        const d: PyDict = new Map();
        for (let i = 0; i + 1 < items.length; i += 2) d.set(dictKey(items[i]), items[i + 1]);
        stack.push(d);
        break;
      }
      case 0x61: { // APPEND
        const v = pop();
        const l = top();
        if (!Array.isArray(l)) fail(`APPEND to a non-list (${describe(l)})`);
        (l as unknown[]).push(v);
        break;
      }
      case 0x65: { // APPENDS
        const items = popMark();
        const l = top();
        if (!Array.isArray(l)) fail(`APPENDS to a non-list (${describe(l)})`);
        (l as unknown[]).push(...items);
        break;
      }
      case 0x73: { // SETITEM
        const v = pop();
        const k = pop();
        asDict(top(), 'SETITEM').set(dictKey(k), v);
        break;
      }
      case 0x75: { // SETITEMS
        const items = popMark();
        const d = asDict(top(), 'SETITEMS');
        for (let i = 0; i + 1 < items.length; i += 2) d.set(dictKey(items[i]), items[i + 1]);
        break;
      }
      case 0x90: { // ADDITEMS
        const items = popMark();
        const s = top();
        if (!(s instanceof Set)) fail('ADDITEMS to a non-set');
        for (const it of items) (s as Set<unknown>).add(it);
        break;
      }
      case 0x91: { // FROZENSET
        const items = popMark();
        stack.push(new Set(items));
        break;
      }
      case 0x63: { // GLOBAL
        const module = line();
        const name = line();
        stack.push(global(module, name));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL needs two strings');
        stack.push(global(module as string, name as string));
        break;
      }
      case 0x52: { // REDUCE
        const args = pop();
        const fnObj = pop();
        stack.push(callOf(fnObj, args, 'REDUCE'));
        break;
      }
      case 0x81: // NEWOBJ: cls, args
      case 0x92: { // NEWOBJ_EX: cls, args, kwargs (none supported)
        const kwargs = op === 0x92 ? pop() : undefined;
        if (kwargs instanceof Map && kwargs.size > 0) fail('NEWOBJ_EX with keyword arguments is not supported');
        const args = pop();
        const cls = pop();
        stack.push(callOf(cls, args, op === 0x92 ? 'NEWOBJ_EX' : 'NEWOBJ'));
        break;
      }
      case 0x69: { // INST
        const module = line();
        const name = line();
        const args = popMark();
        stack.push(callOf(global(module, name), args, 'INST'));
        break;
      }
      case 0x6f: { // OBJ
        const items = popMark();
        const cls = items.shift();
        stack.push(callOf(cls, items, 'OBJ'));
        break;
      }
      case 0x62: { // BUILD
        const state = pop();
        const obj = top();
        build(obj, state, fail);
        break;
      }
      case 0x51: stack.push(persistent(pop())); break; // BINPERSID
      case 0x50: stack.push(persistent(line())); break; // PERSID
      case 0x71: memo.set(u8(), top()); break; // BINPUT
      case 0x72: memo.set(u32(), top()); break; // LONG_BINPUT
      case 0x94: memo.set(memo.size, top()); break; // MEMOIZE
      case 0x70: memo.set(Number(line()), top()); break; // PUT
      case 0x68: case 0x6a: case 0x67: { // BINGET, LONG_BINGET, GET
        const idx = op === 0x68 ? u8() : op === 0x6a ? u32() : Number(line());
        if (!memo.has(idx)) fail(`memo key ${idx} missing`);
        stack.push(memo.get(idx));
        break;
      }
      case 0x30: pop(); break; // POP
      case 0x31: popMark(); break; // POP_MARK
      case 0x32: stack.push(top()); break; // DUP
      default: {
        const name = OPNAMES[op];
        fail(
          name
            ? `opcode ${name} (0x${op.toString(16)}) is not supported by the restricted unpickler`
            : `unknown opcode 0x${op.toString(16).padStart(2, '0')} (not a pickle, or a corrupt one)`,
        );
      }
    }
  }
}

function build(obj: unknown, state: unknown, fail: (m: string) => never): void {
  if (obj && typeof obj === 'object') {
    const setState = (obj as { __setstate__?: (s: unknown) => void }).__setstate__;
    if (typeof setState === 'function') {
      setState.call(obj, state);
      return;
    }
    if (!Object.isFrozen(obj)) {
      (obj as Record<symbol, unknown>)[PY_STATE] = state;
      return;
    }
  }
  fail(`BUILD on ${describe(obj)}`);
}

export function describe(x: unknown): string {
  if (x === null) return 'None';
  if (Array.isArray(x)) return 'a tuple/list';
  if (x instanceof Map) return 'a dict';
  if (x instanceof Uint8Array) return 'bytes';
  if (isPyCallable(x)) return x.pyName;
  return typeof x;
}
