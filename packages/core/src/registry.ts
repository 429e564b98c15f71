import { G2DError } from './errors';

/** One registry per swappable part (backbones, decoders, heads, losses, datasets…). */
export interface Registry<Opts, T> {
  readonly kind: string;
  register(name: string, factory: (opts: Opts) => T, meta?: Record<string, unknown>): void;
  create(name: string, opts?: Opts): T;
  has(name: string): boolean;
  list(): string[];
  meta(name: string): Record<string, unknown> | undefined;
}

export function createRegistry<Opts = Record<string, unknown>, T = unknown>(kind: string): Registry<Opts, T> {
  const entries = new Map<string, { factory: (opts: Opts) => T; meta?: Record<string, unknown> }>();
  const unknown = (name: string) =>
    new G2DError(`unknown ${kind} "${name}". Valid names: ${[...entries.keys()].sort().join(', ') || '(none registered)'}`);
  return {
    kind,
    register(name, factory, meta) {
      if (entries.has(name)) throw new G2DError(`${kind} "${name}" is already registered`);
      entries.set(name, { factory, meta });
    },
    create(name, opts) {
      const e = entries.get(name);
      if (!e) throw unknown(name);
      return e.factory((opts ?? {}) as Opts);
    },
    has: (name) => entries.has(name),
    list: () => [...entries.keys()].sort(),
    meta(name) {
      const e = entries.get(name);
      if (!e) throw unknown(name);
      return e.meta;
    },
  };
}
