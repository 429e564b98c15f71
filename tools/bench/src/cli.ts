/**
 * `pnpm bench [name...] [--quick] [--rounds N] [--modes fast,balanced,lean] [--variants id,…] [--out dir] [--list]`:
 * runs registered benchmarks (all when none are named) and writes bench/results/<name>.json =
 * {name, backend, machine, load, ours, reference, ratio, ratioRounds, ratioSpread, unit, …}.
 *
 * Every measurement runs in a process of its own, so no benchmark inherits another's peak RSS:
 * a whole benchmark (`run`) per round, or for training benchmarks with memory modes one child
 * per (variant, mode) and one Python process for the reference. Ours and the reference
 * alternate over `--rounds` rounds (default 3, `--quick` 1); `ratio` is the median over the
 * rounds of our time / the reference's time measured in the same round, `ratioSpread` its
 * min and max. The load average is recorded with every measurement: the figures depend on
 * what else the machine runs.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend } from '@g2d-ts/core';
import {
  isModeBenchmark,
  median,
  type AnyBenchmark,
  type BenchContext,
  type BenchMode,
  type BenchResult,
  type Figures,
  type ModeBenchmark,
  type ModeResults,
} from './types';

const root = path.resolve(__dirname, '../../..');
const benchDir = path.join(__dirname, 'benchmarks');
const RESULT_MARK = 'G2D_BENCH_RESULT ';
const ALL_MODES: BenchMode[] = ['fast', 'balanced', 'lean'];

async function loadBenchmarks(): Promise<Map<string, AnyBenchmark>> {
  const out = new Map<string, AnyBenchmark>();
  const files = fs.existsSync(benchDir) ? fs.readdirSync(benchDir).filter((f) => f.endsWith('.ts')).sort() : [];
  for (const f of files) {
    const mod = await import(path.join(benchDir, f));
    const b: AnyBenchmark | undefined = mod.default?.name ? mod.default : mod.default?.default;
    if (!b?.name || (typeof (b as { run?: unknown }).run !== 'function' && !isModeBenchmark(b))) {
      throw new Error(`${f}: default export is not a benchmark (use defineBenchmark)`);
    }
    out.set(b.name, b);
  }
  return out;
}

function referencePython(): string {
  const venv = path.join(root, '.venv-ref/bin/python');
  return fs.existsSync(venv) ? venv : '/usr/bin/python3';
}

/** Runs a command whose last stdout line (after `mark`, when given) is one JSON object. */
function runJson(cmd: string, args: string[], opts: { env?: Record<string, string>; timeoutMs?: number; mark?: string; what: string }): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { cwd: root, env: { ...process.env, PYTHONUNBUFFERED: '1', ...opts.env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    const timer = opts.timeoutMs ? setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs) : undefined;
    p.on('error', reject);
    p.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      if (code !== 0) return reject(new Error(`${opts.what} exited with ${code ?? signal}`));
      const lines = out.trim().split('\n');
      const last = opts.mark ? lines.filter((l) => l.startsWith(opts.mark!)).pop()?.slice(opts.mark.length) : lines.pop();
      try {
        resolve(JSON.parse(last ?? ''));
      } catch {
        reject(new Error(`${opts.what}: no JSON result line: ${(last ?? out).slice(0, 200)}`));
      }
    });
  });
}

function runPython(python: string, script: string, args: string[] = [], opts: { env?: Record<string, string>; timeoutMs?: number } = {}) {
  return runJson(python, [path.resolve(root, script), ...args], { ...opts, what: script });
}

interface ChildSpec {
  name: string;
  quick: boolean;
  part: 'run' | 'ours';
  mode?: BenchMode;
  variant?: string;
}

/** One measurement in a fresh Node process (same loader and tsconfig as this one). */
function runChild(spec: ChildSpec): Promise<Record<string, unknown>> {
  const what = `${spec.name}${spec.variant ? `/${spec.variant}` : ''}${spec.mode ? ` [${spec.mode}]` : ''}`;
  return runJson(process.execPath, [...process.execArgv, __filename, '--child', JSON.stringify(spec)], { mark: RESULT_MARK, what });
}

function machine() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    platform: `${process.platform}-${process.arch}`,
    node: process.version,
  };
}

const load = () => os.loadavg().map((x) => Math.round(x * 100) / 100);
const round3 = (x: number) => Math.round(x * 1000) / 1000;

function context(backend: string, quick: boolean): BenchContext {
  const python = referencePython();
  return {
    backend,
    quick,
    python,
    root,
    log: (m) => console.error(`  ${m}`),
    runPython: (s, a, o) => runPython(python, s, a, o),
  };
}

async function childMain(spec: ChildSpec): Promise<number> {
  const all = await loadBenchmarks();
  const b = all.get(spec.name);
  if (!b) throw new Error(`unknown benchmark ${spec.name}`);
  const info = await initBackend({ log: false });
  const ctx = context(info.backend, spec.quick);
  let result: unknown;
  if (spec.part === 'run') {
    if (isModeBenchmark(b)) throw new Error(`${b.name} is measured per mode`);
    result = { backend: info.backend, ...(await b.run(ctx)) };
  } else {
    if (!isModeBenchmark(b)) throw new Error(`${b.name} has no per-mode part`);
    result = { backend: info.backend, ...(await b.ours(ctx, { mode: spec.mode!, variant: spec.variant! })) };
  }
  process.stdout.write(`${RESULT_MARK}${JSON.stringify(result)}\n`);
  return 0;
}

/** Median figure of a list of per-round figure sets: numbers by median, the rest from the first. */
function aggregate(list: Figures[]): Figures {
  const out: Figures = {};
  for (const k of Object.keys(list[0] ?? {})) {
    const vals = list.map((f) => f[k]);
    out[k] = vals.every((v) => typeof v === 'number' && Number.isFinite(v)) ? median(vals as number[]) : (vals[0] ?? null);
  }
  return out;
}

interface Sample {
  round: number;
  variant: string;
  part: string;
  medianMs: number | null;
  peakRssMiB: number | null;
  load1: number;
}

async function runModeBenchmark(b: ModeBenchmark, ctx: BenchContext, opts: { rounds: number; modes: BenchMode[]; variants?: string[] }) {
  const modes = b.modes.filter((m) => opts.modes.includes(m));
  if (!modes.length) throw new Error(`${b.name}: none of --modes ${opts.modes.join(',')} is measured here (${b.modes.join(', ')})`);
  const declared = b.variants ?? [{ id: 'default', label: b.description }];
  const unknownVariant = opts.variants?.find((v) => !declared.some((d) => d.id === v));
  if (unknownVariant) throw new Error(`${b.name}: unknown variant "${unknownVariant}" (known: ${declared.map((d) => d.id).join(', ')})`);
  const variants = opts.variants ? declared.filter((d) => opts.variants!.includes(d.id)) : declared;
  const samples: Sample[] = [];
  const results: ModeResults = {};
  const perVariant: Record<string, { ratioRounds: number[]; modeRounds: Record<string, Figures[]>; refRounds: Figures[] }> = {};
  let backend = ctx.backend;
  for (const v of variants) {
    const rounds = ctx.quick ? 1 : Math.min(v.rounds ?? opts.rounds, opts.rounds);
    const withRef = v.reference ?? true;
    const rec = { ratioRounds: [] as number[], modeRounds: {} as Record<string, Figures[]>, refRounds: [] as Figures[] };
    perVariant[v.id] = rec;
    for (let r = 0; r < rounds; r++) {
      const parts: string[] = [...(withRef ? ['reference'] : []), ...modes];
      if (r % 2 === 1) parts.reverse();
      const round: Record<string, Figures> = {};
      for (const part of parts) {
        const l1 = load()[0]!;
        console.error(`[bench] ${b.name}/${v.id} round ${r + 1}/${rounds}: ${part === 'reference' ? 'reference (PyTorch)' : `ours, memory ${part}`} (load ${l1})`);
        const f = (part === 'reference' ? await b.reference(ctx, { variant: v.id }) : await runChild({ name: b.name, quick: ctx.quick, part: 'ours', mode: part as BenchMode, variant: v.id })) as Figures;
        if (part !== 'reference' && typeof f.backend === 'string') backend = f.backend;
        f.load1 = l1;
        round[part] = f;
        samples.push({ round: r + 1, variant: v.id, part, medianMs: num(f.medianMs), peakRssMiB: num(f.peakRssMiB), load1: l1 });
        console.error(`  -> ${num(f.medianMs)?.toFixed(0) ?? '?'} ms/step, peak RSS ${num(f.peakRssMiB)?.toFixed(0) ?? '?'} MiB`);
      }
      if (round.reference) rec.refRounds.push(round.reference);
      for (const m of modes) (rec.modeRounds[m] ??= []).push(round[m]!);
      if (round.reference && round.fast) rec.ratioRounds.push(num(round.fast.medianMs)! / num(round.reference.medianMs)!);
    }
    const ref = rec.refRounds.length ? aggregate(rec.refRounds) : null;
    const modeFigs: Partial<Record<BenchMode, Figures>> = {};
    for (const m of modes) {
      const f = aggregate(rec.modeRounds[m]!);
      const timeRatios = rec.refRounds.map((rf, i) => num(rec.modeRounds[m]![i]!.medianMs)! / num(rf.medianMs)!);
      f.rounds = rec.modeRounds[m]!.length;
      f.medianMsRounds = rec.modeRounds[m]!.map((x) => Math.round(num(x.medianMs)!)).join('/');
      f.peakRssMiBRounds = rec.modeRounds[m]!.map((x) => Math.round(num(x.peakRssMiB)!)).join('/');
      if (ref) {
        f.timeRatio = round3(median(timeRatios));
        f.timeRatioSpread = `${round3(Math.min(...timeRatios))}-${round3(Math.max(...timeRatios))}`;
        f.rssRatio = round3(num(f.peakRssMiB)! / num(ref.peakRssMiB)!);
      }
      modeFigs[m] = f;
    }
    results[v.id] = { modes: modeFigs, reference: ref };
  }
  const summary = b.summarize?.(results) ?? {};
  const head = variants[0]!;
  const hr = results[head.id]!;
  // the top-level figures are the `fast` mode's (outside checks read ratio / ours.medianMs /
  // ours.peakRssMiB as fast-mode figures): a run without `fast` leaves them out
  const headFast = hr.modes.fast ?? {};
  const ratioRounds = perVariant[head.id]!.ratioRounds;
  const variantRecords: Record<string, unknown> = {};
  for (const v of variants.slice(1)) {
    const r = results[v.id]!;
    const rr = perVariant[v.id]!.ratioRounds;
    variantRecords[v.id] = {
      label: v.label,
      ours: { ...(r.modes.fast ?? {}), modes: r.modes },
      reference: r.reference,
      ...(rr.length ? { ratio: median(rr), ratioRounds: rr.map(round3), ratioSpread: { min: Math.min(...rr), max: Math.max(...rr) } } : {}),
    };
  }
  const ratio = ratioRounds.length ? median(ratioRounds) : null;
  return {
    backend,
    result: {
      ours: { ...headFast, modes: hr.modes },
      reference: hr.reference ?? {},
      ratio,
      ratioRounds: ratioRounds.map(round3),
      ratioSpread: ratioRounds.length ? { min: Math.min(...ratioRounds), max: Math.max(...ratioRounds) } : null,
      unit: b.unit,
      variant: head.label,
      variants: variantRecords,
      summary,
      samples,
      ...(b.notes ? { notes: b.notes } : {}),
    },
  };
}

async function runWholeBenchmark(b: AnyBenchmark, ctx: BenchContext, rounds: number) {
  const per: (BenchResult & { backend?: string; load1: number })[] = [];
  const n = ctx.quick ? 1 : rounds;
  for (let r = 0; r < n; r++) {
    const l1 = load()[0]!;
    console.error(`[bench] ${b.name} round ${r + 1}/${n} (load ${l1})`);
    const res = (await runChild({ name: b.name, quick: ctx.quick, part: 'run' })) as unknown as BenchResult & { backend?: string };
    per.push({ ...res, load1: l1 });
  }
  const ratios = per.map((p) => p.ratio);
  const m = median(ratios);
  // the round whose ratio is the median (the lower middle one for an even count)
  const pick = per[ratios.indexOf([...ratios].sort((a, c) => a - c)[Math.floor((ratios.length - 1) / 2)]!)]!;
  return {
    backend: pick.backend ?? ctx.backend,
    result: {
      ours: pick.ours,
      reference: pick.reference,
      ratio: m,
      ratioRounds: ratios.map(round3),
      ratioSpread: { min: Math.min(...ratios), max: Math.max(...ratios) },
      unit: pick.unit,
      roundLoad1: per.map((p) => p.load1),
      ...(pick.notes ? { notes: pick.notes } : {}),
    },
  };
}

function num(x: unknown): number | null {
  return typeof x === 'number' && Number.isFinite(x) ? x : null;
}

const USAGE = `usage: pnpm bench [name...] [--quick] [--rounds N] [--modes fast,balanced,lean] [--variants id,...] [--out dir] [--list]`;

async function main(argv: string[]): Promise<number> {
  if (argv[0] === '--child') return childMain(JSON.parse(argv[1]!) as ChildSpec);
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        quick: { type: 'boolean' },
        list: { type: 'boolean' },
        rounds: { type: 'string' },
        modes: { type: 'string' },
        variants: { type: 'string' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const o = parsed.values;
  if (o.help) {
    console.log(USAGE);
    return 0;
  }
  const quick = !!o.quick;
  const rounds = o.rounds === undefined ? 3 : Number(o.rounds);
  if (!Number.isInteger(rounds) || rounds < 1) {
    console.error(`--rounds must be a positive integer, got "${o.rounds}"\n${USAGE}`);
    return 2;
  }
  const modes = (o.modes ?? ALL_MODES.join(',')).split(',').map((s) => s.trim()) as BenchMode[];
  const badMode = modes.find((m) => !ALL_MODES.includes(m));
  if (badMode !== undefined) {
    console.error(`--modes: unknown mode "${badMode}" (known: ${ALL_MODES.join(', ')})\n${USAGE}`);
    return 2;
  }
  const names = parsed.positionals;
  const all = await loadBenchmarks();
  if (o.list) {
    for (const b of all.values()) console.log(`${b.name}\t${b.description}${isModeBenchmark(b) ? ` (modes: ${b.modes.join(', ')})` : ''}`);
    return 0;
  }
  const unknown = names.filter((n) => !all.has(n));
  if (unknown.length) {
    console.error(`unknown benchmark(s): ${unknown.join(', ')}. Valid names: ${[...all.keys()].join(', ') || '(none)'}`);
    return 2;
  }
  const selected = names.length ? names.map((n) => all.get(n)!) : [...all.values()];
  // the parent only spawns: its backend is what the children will pick (G2D_BACKEND or auto)
  const info = await initBackend();
  const ctx = context(info.backend, quick);
  // relative to where pnpm was started (INIT_CWD), like the other command lines
  const outDir = o.out ? path.resolve(process.env.INIT_CWD ?? process.cwd(), o.out) : path.join(root, 'bench/results');
  fs.mkdirSync(outDir, { recursive: true });
  let failed = 0;
  for (const b of selected) {
    console.error(`[bench] ${b.name}: ${b.description}`);
    const loadStart = load();
    const t0 = Date.now();
    try {
      const { backend, result } = isModeBenchmark(b) ? await runModeBenchmark(b, ctx, { rounds, modes, variants: o.variants?.split(',').map((x) => x.trim()) }) : await runWholeBenchmark(b, ctx, rounds);
      const record = {
        name: b.name,
        description: b.description,
        backend,
        machine: machine(),
        quick,
        date: new Date().toISOString(),
        rounds: quick ? 1 : rounds,
        load: { start: loadStart, end: load(), note: 'os.loadavg() (1, 5, 15 min) when the benchmark started and ended' },
        wallSeconds: Math.round((Date.now() - t0) / 1000),
        ...result,
      };
      const file = path.join(outDir, `${b.name}.json`);
      const tmp = `${file}.tmp-${process.pid}`;
      const fd = fs.openSync(tmp, 'w');
      fs.writeSync(fd, `${JSON.stringify(record, null, 2)}\n`);
      fs.fsyncSync(fd);
      fs.closeSync(fd);
      fs.renameSync(tmp, file);
      const r = result as { ratio: number | null; ratioSpread?: { min: number; max: number } | null; unit: string; ours: Record<string, unknown> };
      const spread = r.ratioSpread ? ` (rounds ${r.ratioSpread.min.toFixed(3)}-${r.ratioSpread.max.toFixed(3)})` : '';
      const modeLine = (r.ours.modes as Record<string, Figures> | undefined)
        ? ` | ${Object.entries(r.ours.modes as Record<string, Figures>).map(([m, f]) => `${m}: ${Math.round(num(f.medianMs) ?? NaN)} ms, ${Math.round(num(f.peakRssMiB) ?? NaN)} MiB`).join('; ')}`
        : '';
      console.log(`${b.name}: ratio ${r.ratio === null ? 'n/a (fast mode or the reference not measured)' : r.ratio.toFixed(3)}${spread} (${r.unit})${modeLine}; load ${loadStart.join('/')} -> ${record.load.end.join('/')}`);
    } catch (e) {
      failed++;
      console.error(`[bench] ${b.name} FAILED: ${e instanceof Error ? e.stack : String(e)}`);
    }
  }
  return failed ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (c) => process.exit(c),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
