import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { ZodType, ZodError } from 'zod';
import { G2DError } from './errors';

export class ConfigError extends G2DError {
  readonly issues: { key: string; message: string }[];
  constructor(source: string, issues: { key: string; message: string }[]) {
    super(`invalid config:\n${issues.map((i) => `  - ${i.key || '(root)'}: ${i.message}`).join('\n')}`, { source });
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

function formatZod(err: ZodError): { key: string; message: string }[] {
  return err.issues.map((i) => ({ key: i.path.map(String).join('.'), message: i.message }));
}

/** Validate an already-parsed object against a zod schema; errors name every bad key and the source. */
export function parseConfig<T>(value: unknown, schema: ZodType<T>, source = '<inline config>'): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new ConfigError(source, formatZod(r.error));
  return r.data;
}

/** Load a YAML (or JSON) file and validate it; `overrides` (dot keys) are applied before validation. */
export function loadConfig<T>(file: string, schema: ZodType<T>, overrides: Record<string, unknown> = {}): T {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new G2DError(`cannot read config file (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { source: file, cause: e });
  }
  let raw: unknown;
  try {
    raw = parseYaml(text) ?? {};
  } catch (e) {
    throw new G2DError(`not valid YAML: ${(e as Error).message}`, { source: file, cause: e });
  }
  for (const [k, v] of Object.entries(overrides)) setPath(raw as Record<string, unknown>, k, v);
  return parseConfig(raw, schema, file);
}

/** Set `a.b.c` in a nested object, creating objects along the way. */
export function setPath(obj: Record<string, unknown>, dotted: string, value: unknown): void {
  const keys = dotted.split('.');
  let cur: Record<string, unknown> = obj;
  for (const k of keys.slice(0, -1)) {
    if (typeof cur[k] !== 'object' || cur[k] === null) cur[k] = {};
    cur = cur[k] as Record<string, unknown>;
  }
  cur[keys[keys.length - 1]!] = value;
}
