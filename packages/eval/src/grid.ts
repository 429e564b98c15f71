/**
 * Grids: datasets × fractions × seeds, each cell one run of an evaluation app into its own
 * folder. The spec is a JSON file beside the app (`apps/<app>/eval-grid.json`); the nx plugin
 * in tools/nx-eval-grid turns every cell into its own cached nx target (`grid-<cell>`) and adds
 * `grid`, which depends on all of them and runs the app's `aggregate` command: this module's
 * `aggregateGrid`, writing `<out>/results.md` (mean ± std over seeds, the paper's layout) and
 * `<out>/grid-results.json`.
 *
 * Paths inside the spec (dataset folders, `out`) are relative to the workspace root, where nx
 * runs the cells.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z, type ZodType } from 'zod';
import { G2DError, UsageError, parseConfig, type CliCommand } from '@g2d-ts/core';
import { meanStd } from '@g2d-ts/viz';
import { findWorkspaceRoot } from './encoder';
import { fractionLabel, paperTableMarkdown, writeJson, writeResultsMd, type TableValue } from './results';

export const GridSpecSchema = z
  .object({
    description: z.string().optional(),
    /** the app's bin relative to the app folder (default dist/main.js) */
    bin: z.string().default('dist/main.js'),
    /** output folder of the grid, relative to the workspace root; cells go to <out>/<cell> */
    out: z.string().min(1),
    /** arguments every cell gets (encoder, protocol, --set …) */
    args: z.array(z.string()).default([]),
    /** dataset name -> the arguments that select it (`["--dataset", "covid-chestxray:../shared/…"]`) */
    datasets: z.record(z.string().regex(/^[a-z0-9][a-z0-9_-]*$/i, 'dataset names are letters, digits, - and _'), z.array(z.string())).refine((d) => Object.keys(d).length > 0, 'at least one dataset'),
    fractions: z.array(z.number().gt(0).max(1)).min(1),
    seeds: z.array(z.number().int().min(0)).min(1),
    /** the metric aggregated into results.md: a dotted path into results.json's `metrics` */
    metric: z.string().default('auc.mean'),
    /** its label in the table header */
    metricLabel: z.string().default('AUC'),
    /** scale for display (100: AUC as in the paper) */
    scale: z.number().positive().default(100),
    /** files/folders (relative to the workspace root) whose content the cells depend on beyond the sources: data folders, checkpoints */
    dataInputs: z.array(z.string()).default([]),
  })
  .strict();
export type GridSpec = z.output<typeof GridSpecSchema>;

export interface GridCell {
  /** `<dataset>-<pct>-s<seed>`, e.g. `covid-10pct-s1` */
  id: string;
  dataset: string;
  fraction: number;
  seed: number;
  /** output folder relative to the workspace root */
  out: string;
  /** the full argument list of the cell's run */
  args: string[];
}

export function readGridSpec(file: string): GridSpec {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new G2DError(`cannot read the grid spec: ${(e as Error).message}`, { source: file, cause: e });
  }
  return parseConfig<GridSpec>(raw, GridSpecSchema as unknown as ZodType<GridSpec>, file);
}

/** `0.01` -> `1pct`, `0.1` -> `10pct`, `1` -> `100pct`. */
export function fractionId(f: number): string {
  return `${fractionLabel(f).slice(0, -1).replace('.', 'p')}pct`;
}

/** Every cell of the grid, datasets × fractions × seeds in spec order. */
export function gridCells(spec: GridSpec): GridCell[] {
  const cells: GridCell[] = [];
  for (const [dataset, dargs] of Object.entries(spec.datasets)) {
    for (const fraction of spec.fractions) {
      for (const seed of spec.seeds) {
        const id = `${dataset}-${fractionId(fraction)}-s${seed}`;
        const out = path.posix.join(spec.out, id);
        cells.push({ id, dataset, fraction, seed, out, args: [...spec.args, ...dargs, '--fraction', String(fraction), '--seed', String(seed), '--out', out] });
      }
    }
  }
  return cells;
}

function getPath(obj: unknown, dotted: string): unknown {
  let cur = obj;
  for (const k of dotted.split('.')) {
    if (!cur || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

export interface GridAggregate {
  spec: GridSpec;
  /** per cell: its metric (null: undefined or the cell has no results) */
  cells: { id: string; dataset: string; fraction: number; seed: number; method: string | null; value: number | null; results: string | null }[];
  /** per method × dataset × fraction: mean ± std over seeds */
  table: { method: string; column: string; dataset: string; fraction: number; mean: number | null; std: number | null; n: number; values: (number | null)[] }[];
  missing: string[];
}

/**
 * Reads every cell's results.json and aggregates `spec.metric` (mean ± sample std over seeds)
 * into `<out>/results.md` and `<out>/grid-results.json`. Missing cells are listed (and fail the
 * call unless `allowMissing`).
 */
export function aggregateGrid(spec: GridSpec, opts: { root: string; allowMissing?: boolean; title?: string }): GridAggregate {
  const cells: GridAggregate['cells'] = [];
  const missing: string[] = [];
  const displayOf = new Map<string, string>();
  for (const c of gridCells(spec)) {
    const file = path.join(opts.root, c.out, 'results.json');
    if (!fs.existsSync(file)) {
      missing.push(c.id);
      cells.push({ id: c.id, dataset: c.dataset, fraction: c.fraction, seed: c.seed, method: null, value: null, results: null });
      continue;
    }
    let doc: Record<string, unknown>;
    try {
      doc = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch (e) {
      throw new G2DError(`not valid JSON: ${(e as Error).message}`, { source: file, cause: e });
    }
    const v = getPath(doc.metrics, spec.metric);
    if (v !== null && v !== undefined && typeof v !== 'number') throw new G2DError(`metrics.${spec.metric} is not a number (${JSON.stringify(v)})`, { source: file });
    const enc = doc.encoder as { label?: string } | undefined;
    const method = [enc?.label ?? 'encoder', doc.protocol].filter(Boolean).join(', ');
    const data = doc.data as { displayName?: string } | undefined;
    if (data?.displayName) displayOf.set(c.dataset, data.displayName);
    cells.push({ id: c.id, dataset: c.dataset, fraction: c.fraction, seed: c.seed, method, value: typeof v === 'number' && Number.isFinite(v) ? v : null, results: path.relative(opts.root, file) });
  }
  if (missing.length && !opts.allowMissing) {
    throw new G2DError(`${missing.length} grid cell(s) have no results.json yet: ${missing.join(', ')} (run them: nx run <app>:grid)`, { source: path.join(opts.root, spec.out) });
  }
  const columnOf = (dataset: string, f: number) => `${displayOf.get(dataset) ?? dataset} ${fractionLabel(f)}`;
  const columns: string[] = [];
  for (const d of Object.keys(spec.datasets)) for (const f of spec.fractions) columns.push(columnOf(d, f));
  const methods = [...new Set(cells.map((c) => c.method).filter((m): m is string => m !== null))];
  const table: GridAggregate['table'] = [];
  for (const m of methods) {
    for (const d of Object.keys(spec.datasets)) {
      for (const f of spec.fractions) {
        const vals = cells.filter((c) => c.method === m && c.dataset === d && c.fraction === f).map((c) => c.value);
        const ms = meanStd(vals.map((v) => (v === null ? NaN : v)), 1);
        table.push({ method: m, column: columnOf(d, f), dataset: d, fraction: f, mean: ms.n ? ms.mean : null, std: ms.n > 1 ? ms.std : null, n: ms.n, values: vals });
      }
    }
  }
  const md = [
    `# ${opts.title ?? 'Evaluation grid'}`,
    '',
    spec.description ? `${spec.description}\n` : '',
    `${spec.metricLabel} (\`metrics.${spec.metric}\`${spec.scale === 100 ? ', ×100' : ''}), mean ± sample std over seeds ${spec.seeds.join(', ')}; rows = encoder/method, columns = dataset × label fraction.`,
    '',
    paperTableMarkdown({
      columns,
      rows: methods.map((m) => ({
        method: m,
        cells: Object.fromEntries(table.filter((t) => t.method === m).map((t): [string, TableValue] => [t.column, { mean: t.mean, std: t.std }])),
      })),
      scale: spec.scale,
    }),
    missing.length ? `\nMissing cells: ${missing.join(', ')}\n` : '',
    '## Cells',
    '',
    ...cells.map((c) => `- \`${c.id}\`: ${c.value === null ? '—' : (c.value * spec.scale).toFixed(spec.scale === 100 ? 2 : 4)}${c.results ? ` (${c.results})` : ' (missing)'}`),
    '',
  ].join('\n');
  const out = path.join(opts.root, spec.out);
  writeResultsMd(out, md);
  writeJson(path.join(out, 'grid-results.json'), { spec, cells, table, missing });
  return { spec, cells, table, missing };
}

/** The `aggregate` subcommand every evaluation app adds (`<bin> aggregate --grid apps/<app>/eval-grid.json`). */
export function gridAggregateCommand(title: string): CliCommand {
  return {
    summary: 'aggregate a grid (datasets × fractions × seeds) into results.md: mean ± std over seeds',
    options: {
      grid: { type: 'string', value: 'FILE', description: 'the grid spec (eval-grid.json)' },
      'allow-missing': { type: 'boolean', description: 'write the table even when some cells have no results yet' },
    },
    run(args, ctx) {
      const g = args.values.grid;
      if (typeof g !== 'string' || !g) throw new UsageError('aggregate needs --grid FILE');
      const file = ctx.resolvePath(g);
      const spec = readGridSpec(file);
      const root = findWorkspaceRoot(path.dirname(file)) ?? ctx.cwd;
      const r = aggregateGrid(spec, { root, allowMissing: args.values['allow-missing'] === true, title });
      ctx.out(`${path.join(root, spec.out, 'results.md')}: ${r.cells.length - r.missing.length}/${r.cells.length} cells\n`);
      for (const t of r.table) ctx.out(`  ${t.method} | ${t.column}: ${t.mean === null ? '—' : (t.mean * spec.scale).toFixed(2)}${t.std === null ? '' : ` ± ${(t.std * spec.scale).toFixed(2)}`} (n=${t.n})\n`);
      return 0;
    },
  };
}
