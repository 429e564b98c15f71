/**
 * Weight import from foreign checkpoints: finds where this model's parameters live in the
 * checkpoint (the key prefix: "", "encoder.", "img_model.", "img_model.encoder.", "module."…),
 * renames foreign layouts (timm ViT), checks every name and shape and loads all-or-nothing.
 *
 * Works for torchvision/timm ResNets (`conv1.weight`…, `fc.*` ignored), smp encoders
 * (`encoder.*`), full smp.Unet state dicts, and the G2D reference checkpoints
 * (`*_encoder.pth`, `*_encoder_decoder.pth`, `*_checkpoint.pth` with `model_state_dict`).
 */
import { G2DError, type RawTensor, readCheckpoint } from '@g2d-ts/core';
import type { Module } from './nn/module';

export interface LoadWeightsOptions {
  /** Missing/unexpected keys are errors (default true); shape mismatches always are. */
  strict?: boolean;
  /** Force the key prefix instead of detecting it (e.g. "img_model.encoder."). */
  prefix?: string;
}

export interface LoadWeightsReport {
  source: string;
  /** Prefix under which the model's keys were found. */
  prefix: string;
  loaded: number;
  /** Keys under the prefix deliberately unused (e.g. a classifier `fc.*`). */
  ignored: string[];
  /** Strict=false only: keys the model has but the checkpoint lacks, and extra keys. */
  missing: string[];
  unexpected: string[];
  /** Checkpoint keys outside the prefix (other parts of a bigger model), not loaded. */
  outside: number;
}

interface Hooks {
  translate: (key: string) => string;
  ignorable: (key: string) => boolean;
}

/** Collects translateKeys/isIgnorableKey hooks of the module tree, applied per sub-path. */
function hooksOf(model: Module): Hooks {
  const translators: [string, (keys: string[]) => Map<string, string>][] = [];
  const ignorers: [string, (key: string) => boolean][] = [];
  const walk = (m: Module, path: string) => {
    const t = (m as unknown as { translateKeys?: (keys: string[]) => Map<string, string> }).translateKeys;
    const i = (m as unknown as { isIgnorableKey?: (key: string) => boolean }).isIgnorableKey;
    if (typeof t === 'function') translators.push([path, t.bind(m)]);
    if (typeof i === 'function') ignorers.push([path, i.bind(m)]);
    for (const [n, c] of m.children()) walk(c, `${path}${n}.`);
  };
  walk(model, '');
  return {
    translate(key) {
      for (const [p, t] of translators) {
        if (key.startsWith(p)) {
          const rest = key.slice(p.length);
          const r = t([rest]).get(rest);
          if (r) return p + r;
        }
      }
      return key;
    },
    ignorable(key) {
      return ignorers.some(([p, f]) => key.startsWith(p) && f(key.slice(p.length)));
    },
  };
}

/** Loads `source` (a checkpoint path or a state dict) into `model`. */
export async function loadWeights(
  model: Module,
  source: string | Map<string, RawTensor>,
  opts: LoadWeightsOptions = {},
): Promise<LoadWeightsReport> {
  const sd = typeof source === 'string' ? await readCheckpoint(source) : source;
  const name = typeof source === 'string' ? source : '(state dict)';
  return loadStateDictInto(model, sd, name, opts);
}

export function loadStateDictInto(
  model: Module,
  sd: Map<string, RawTensor>,
  name: string,
  opts: LoadWeightsOptions = {},
): LoadWeightsReport {
  const strict = opts.strict ?? true;
  const hooks = hooksOf(model);
  const expected = new Map(model.namedEntries());
  const prefix = opts.prefix ?? detectPrefix(model, sd, hooks);
  if (prefix === null) {
    const sample = [...sd.keys()].slice(0, 8).join(', ');
    const want = [...expected.keys()].slice(0, 4).join(', ');
    throw new G2DError(
      `none of ${model.constructor.name}'s parameters (e.g. ${want}) were found under any key prefix; checkpoint keys start: ${sample}`,
      { source: name },
    );
  }
  const mine = new Map<string, RawTensor>();
  let outside = 0;
  for (const [k, v] of sd) {
    if (!k.startsWith(prefix)) {
      outside++;
      continue;
    }
    mine.set(hooks.translate(k.slice(prefix.length)), v);
  }
  const res = model.loadStateDict(mine, {
    strict,
    source: prefix ? `${name} [prefix "${prefix}"]` : name,
    ignore: hooks.ignorable,
  });
  return {
    source: name,
    prefix,
    loaded: res.loaded.length,
    ignored: res.ignored,
    missing: res.missing,
    unexpected: res.unexpected,
    outside,
  };
}

/**
 * The prefix P maximising the number of model keys k with P+k (after renaming) in the
 * checkpoint; ties broken by matching shapes, then by the shortest prefix.
 */
function detectPrefix(model: Module, sd: Map<string, RawTensor>, hooks: Hooks): string | null {
  const expected = new Map(model.namedEntries());
  const score = new Map<string, number>();
  for (const k of sd.keys()) {
    const parts = k.split('.');
    for (let i = 0; i < parts.length; i++) {
      const p = i === 0 ? '' : `${parts.slice(0, i).join('.')}.`;
      const rest = hooks.translate(k.slice(p.length));
      const e = expected.get(rest);
      if (!e) continue;
      let s = 1;
      // shape agreement counts extra so e.g. proj_v vs proj_t are told apart
      if (e.kind === 'tensor') {
        const t = sd.get(k)!;
        const v = e.variable;
        const n = t.shape.reduce((a, b) => a * b, 1);
        if (n === v.size) s += 1;
      }
      score.set(p, (score.get(p) ?? 0) + s);
    }
  }
  let best: string | null = null;
  let bestScore = 0;
  for (const [p, s] of score) {
    if (s > bestScore || (s === bestScore && best !== null && p.length < best.length)) {
      best = p;
      bestScore = s;
    }
  }
  return best;
}
