/**
 * Named variables: everything in this package works on `Map<string, tf.Variable>` (the name
 * is the checkpoint key). A plain record, an iterable of pairs, or anything with a
 * PyTorch-like `namedVariables()` (e.g. an `@g2d-ts/nn` Module) is accepted too.
 */
import * as tf from '@tensorflow/tfjs';
import { G2DError, type CheckpointDType, type RawTensor } from '@g2d-ts/core';

export type NamedVariables = Map<string, tf.Variable>;

/** Anything with named variables (structural: an `@g2d-ts/nn` Module qualifies). */
export interface HasNamedVariables {
  namedVariables(): Map<string, tf.Variable> | Iterable<[string, tf.Variable]> | Record<string, tf.Variable>;
}

export type VariableSource =
  | Map<string, tf.Variable>
  | Record<string, tf.Variable>
  | Iterable<[string, tf.Variable]>
  | HasNamedVariables;

function isVariable(v: unknown): v is tf.Variable {
  return v instanceof tf.Variable;
}

/** Resolves any accepted source to a name → variable map, checking every entry is a tf.Variable. */
export function resolveVariables(source: VariableSource, what = 'variables'): NamedVariables {
  let entries: Iterable<[string, unknown]>;
  if (source instanceof Map) entries = source;
  else if (source && typeof (source as HasNamedVariables).namedVariables === 'function') {
    const nv = (source as HasNamedVariables).namedVariables();
    return resolveVariables(nv as VariableSource, what);
  } else if (source && typeof (source as Iterable<unknown>)[Symbol.iterator] === 'function') {
    entries = source as Iterable<[string, tf.Variable]>;
  } else if (source && typeof source === 'object') entries = Object.entries(source);
  else throw new G2DError(`${what}: expected a Map<string, tf.Variable>, a record or a Module, got ${typeof source}`);
  const out: NamedVariables = new Map();
  for (const pair of entries) {
    if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string') {
      throw new G2DError(`${what}: entries must be [name, tf.Variable] pairs`);
    }
    const [name, v] = pair as [string, unknown];
    if (!isVariable(v)) throw new G2DError(`${what}: "${name}" is not a tf.Variable`);
    if (out.has(name)) throw new G2DError(`${what}: duplicate name "${name}"`);
    out.set(name, v);
  }
  return out;
}

/** The trainable subset (tf.Variable.trainable), in the source's order. */
export function trainableOnly(vars: NamedVariables): NamedVariables {
  return new Map([...vars].filter(([, v]) => v.trainable));
}

const TF_TO_RAW: Partial<Record<tf.DataType, CheckpointDType>> = { float32: 'float32', int32: 'int32', bool: 'bool' };

/** Copies a tensor's values out to a RawTensor (row-major, the tensor's own layout). */
export async function tensorToRaw(t: tf.Tensor, name = 'tensor'): Promise<RawTensor> {
  const dtype = TF_TO_RAW[t.dtype];
  if (!dtype) throw new G2DError(`"${name}": dtype ${t.dtype} cannot be checkpointed (float32, int32 and bool can)`);
  const values = await t.data();
  const data =
    dtype === 'float32'
      ? Float32Array.from(values as Float32Array)
      : dtype === 'int32'
        ? Int32Array.from(values as Int32Array)
        : Uint8Array.from(values as Uint8Array);
  return { dtype, shape: [...t.shape], data };
}

/** A tf.Tensor from a RawTensor (float32/int32/bool; float16/bfloat16/float64/int64 are converted to float32/int32). */
export function rawToTensor(raw: RawTensor, name = 'tensor', source?: string): tf.Tensor {
  switch (raw.dtype) {
    case 'float32':
      return tf.tensor(raw.data as Float32Array, raw.shape, 'float32');
    case 'int32':
      return tf.tensor(raw.data as Int32Array, raw.shape, 'int32');
    case 'bool':
      return tf.tensor(raw.data as Uint8Array, raw.shape, 'bool');
    default:
      throw new G2DError(`tensor "${name}" has dtype ${raw.dtype}; training state holds float32, int32 or bool`, { source });
  }
}

/**
 * Assigns `tensors` to `vars` by name. `strict` (default): the two name sets must be equal.
 * Shapes and dtypes must match. Returns the names that were assigned.
 */
export function assignVariables(
  vars: NamedVariables,
  tensors: Map<string, RawTensor>,
  opts: { strict?: boolean; source?: string } = {},
): string[] {
  const strict = opts.strict ?? true;
  const missing = [...vars.keys()].filter((k) => !tensors.has(k));
  const unexpected = [...tensors.keys()].filter((k) => !vars.has(k));
  if (strict && (missing.length || unexpected.length)) {
    const list = (a: string[]) => (a.length > 8 ? `${a.slice(0, 8).join(', ')} … (${a.length})` : a.join(', '));
    throw new G2DError(
      `variables do not match the checkpoint` +
        (missing.length ? `; missing from the checkpoint: ${list(missing)}` : '') +
        (unexpected.length ? `; in the checkpoint but not in the model: ${list(unexpected)}` : ''),
      { source: opts.source },
    );
  }
  // validate everything before assigning anything
  for (const [name, v] of vars) {
    const raw = tensors.get(name);
    if (!raw) continue;
    if (raw.shape.length !== v.shape.length || raw.shape.some((d, i) => d !== v.shape[i])) {
      throw new G2DError(`"${name}": checkpoint shape [${raw.shape.join(', ')}] != variable shape [${v.shape.join(', ')}]`, { source: opts.source });
    }
    if (TF_TO_RAW[v.dtype] !== raw.dtype) {
      throw new G2DError(`"${name}": checkpoint dtype ${raw.dtype} != variable dtype ${v.dtype}`, { source: opts.source });
    }
  }
  const done: string[] = [];
  for (const [name, v] of vars) {
    const raw = tensors.get(name);
    if (!raw) continue;
    const t = rawToTensor(raw, name, opts.source);
    v.assign(t);
    t.dispose();
    done.push(name);
  }
  return done;
}
