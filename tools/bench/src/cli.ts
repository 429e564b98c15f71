/**
 * `pnpm bench [name...] [--quick] [--list]`: runs registered benchmarks (all when none are
 * named) and writes bench/results/<name>.json = {name, backend, machine, ours, reference,
 * ratio, unit}. ratio = our time per unit of work / the reference's, measured in this run.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initBackend } from '@g2d-ts/core';
import type { BenchContext, Benchmark } from './types';

const root = path.resolve(__dirname, '../../..');
const benchDir = path.join(__dirname, 'benchmarks');

async function loadBenchmarks(): Promise<Map<string, Benchmark>> {
  const out = new Map<string, Benchmark>();
  const files = fs.existsSync(benchDir) ? fs.readdirSync(benchDir).filter((f) => f.endsWith('.ts')).sort() : [];
  for (const f of files) {
    const mod = await import(path.join(benchDir, f));
    const b: Benchmark | undefined = mod.default?.run ? mod.default : mod.default?.default;
    if (!b?.name || typeof b.run !== 'function') throw new Error(`${f}: default export is not a benchmark (use defineBenchmark)`);
    out.set(b.name, b);
  }
  return out;
}

function referencePython(): string {
  const venv = path.join(root, '.venv-ref/bin/python');
  return fs.existsSync(venv) ? venv : '/usr/bin/python3';
}

function runPython(python: string, script: string, args: string[] = [], opts: { env?: Record<string, string>; timeoutMs?: number } = {}) {
  return new Promise<Record<string, unknown>>((resolve, reject) => {
    const p = spawn(python, [path.resolve(root, script), ...args], {
      cwd: root,
      env: { ...process.env, PYTHONUNBUFFERED: '1', ...opts.env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    const timer = opts.timeoutMs ? setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs) : undefined;
    p.on('error', reject);
    p.on('close', (code) => {
      if (timer) clearTimeout(timer);
      if (code !== 0) return reject(new Error(`${script} exited with ${code}`));
      const last = out.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(last));
      } catch {
        reject(new Error(`${script}: last stdout line is not JSON: ${last.slice(0, 200)}`));
      }
    });
  });
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

async function main(argv: string[]): Promise<number> {
  const quick = argv.includes('--quick');
  const names = argv.filter((a) => !a.startsWith('--'));
  const all = await loadBenchmarks();
  if (argv.includes('--list')) {
    for (const b of all.values()) console.log(`${b.name}\t${b.description}`);
    return 0;
  }
  const unknown = names.filter((n) => !all.has(n));
  if (unknown.length) {
    console.error(`unknown benchmark(s): ${unknown.join(', ')}. Valid names: ${[...all.keys()].join(', ') || '(none)'}`);
    return 2;
  }
  const selected = names.length ? names.map((n) => all.get(n)!) : [...all.values()];
  const info = await initBackend();
  const python = referencePython();
  const ctx: BenchContext = {
    backend: info.backend,
    quick,
    python,
    root,
    log: (m) => console.error(`  ${m}`),
    runPython: (s, a, o) => runPython(python, s, a, o),
  };
  const outDir = path.join(root, 'bench/results');
  fs.mkdirSync(outDir, { recursive: true });
  let failed = 0;
  for (const b of selected) {
    console.error(`[bench] ${b.name}: ${b.description}`);
    try {
      const r = await b.run(ctx);
      const record = { name: b.name, description: b.description, backend: info.backend, machine: machine(), quick, date: new Date().toISOString(), ...r };
      const file = path.join(outDir, `${b.name}.json`);
      fs.writeFileSync(file + '.tmp', JSON.stringify(record, null, 2) + '\n');
      fs.renameSync(file + '.tmp', file);
      console.log(`${b.name}: ratio ${r.ratio.toFixed(3)} (${r.unit}); ours ${JSON.stringify(r.ours)}; reference ${JSON.stringify(r.reference)}`);
    } catch (e) {
      failed++;
      console.error(`[bench] ${b.name} FAILED: ${e instanceof Error ? e.stack : String(e)}`);
    }
  }
  return failed ? 1 : 0;
}

main(process.argv.slice(2)).then((c) => process.exit(c), (e) => { console.error(e); process.exit(1); });
