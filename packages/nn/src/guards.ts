/**
 * Tensor argument guards: each throws a G2DError naming the function (`source`) and the
 * argument or option, e.g. `clipLoss: argument "img" contains NaN at flat index 7`.
 */
import * as tf from '@tensorflow/tfjs';
import { G2DError } from '@g2d-ts/core';

export interface GuardOptions {
  /** The function checking its input (prefixes the message). */
  source?: string;
  /** What `name` is: an 'argument' (default) or an 'option' of the call. */
  kind?: 'argument' | 'option';
}

function label(name: string, opts: GuardOptions): string {
  return `${opts.kind ?? 'argument'} "${name}"`;
}

function norm(opts: GuardOptions | string | undefined): GuardOptions {
  return typeof opts === 'string' ? { source: opts } : (opts ?? {});
}

/** A tfjs tensor (duck-typed, so a tensor from another copy of tfjs is still recognised). */
export function isTensor(t: unknown): t is tf.Tensor {
  return (
    t instanceof tf.Tensor ||
    (typeof t === 'object' && t !== null && Array.isArray((t as tf.Tensor).shape) && typeof (t as tf.Tensor).dataSync === 'function')
  );
}

/** Throws unless `t` is a live (not disposed) tensor. `opts` may be the source string. */
export function requireTensor(t: unknown, name: string, opts?: GuardOptions | string): asserts t is tf.Tensor {
  const o = norm(opts);
  if (!isTensor(t)) {
    throw new G2DError(`${label(name, o)} must be a tf.Tensor, got ${t === null ? 'null' : Array.isArray(t) ? 'an array' : typeof t}`, { source: o.source });
  }
  if (t.isDisposed) throw new G2DError(`${label(name, o)} is a disposed tensor`, { source: o.source });
}

/**
 * Throws at the first NaN or infinite value (reads the tensor back to the host: a sync on GPU
 * backends; callers usually make it optional).
 */
export function requireFinite(t: tf.Tensor, name: string, opts?: GuardOptions | string): void {
  const o = norm(opts);
  const v = t.dataSync();
  for (let i = 0; i < v.length; i++) {
    if (!Number.isFinite(v[i]!)) {
      throw new G2DError(`${label(name, o)} contains ${Number.isNaN(v[i]!) ? 'NaN' : 'an infinite value'} at flat index ${i}`, { source: o.source });
    }
  }
}

/** Throws unless `t` is a tensor of one of the given ranks. */
export function requireRank(t: unknown, rank: number | readonly number[], name: string, opts?: GuardOptions | string): asserts t is tf.Tensor {
  requireTensor(t, name, opts);
  const ranks = typeof rank === 'number' ? [rank] : rank;
  if (!ranks.includes(t.rank)) {
    const o = norm(opts);
    throw new G2DError(`${label(name, o)} must have rank ${ranks.join(' or ')}, got shape [${t.shape.join(', ')}]`, { source: o.source });
  }
}

/**
 * Throws unless `t` is a tensor of `shape`; `null` entries match any size, e.g.
 * `requireShape(x, [null, 256, 256, 3], 'images')`. `dims` names the axes in the message.
 */
export function requireShape(
  t: unknown,
  shape: readonly (number | null)[],
  name: string,
  opts?: (GuardOptions & { dims?: string }) | string,
): asserts t is tf.Tensor {
  requireTensor(t, name, opts);
  const ok = t.rank === shape.length && shape.every((d, i) => d === null || d === t.shape[i]);
  if (!ok) {
    const o = norm(opts) as GuardOptions & { dims?: string };
    const want = `[${shape.map((d) => (d === null ? '*' : d)).join(', ')}]`;
    throw new G2DError(`${label(name, o)} must have shape ${want}${o.dims ? ` (${o.dims})` : ''}, got [${t.shape.join(', ')}]`, { source: o.source });
  }
}
