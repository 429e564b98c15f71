/**
 * `pnpm fuzz`: seeded mutation fuzzing of the public readers. Each target runs its cases in a
 * worker thread with a per-case time bound and a heap limit; prints the cases per reader and
 * every failure (a non-G2DError exception, a G2DError that does not name its input, a hang, a
 * slow case, memory exhaustion) with what reproduces it; exits 1 when there is any.
 *
 *   pnpm fuzz [--cases N] [--seed S] [--target NAME]... [--bound-ms MS] [--heap-mb MB] [--small] [--only I,J]
 */
import { G2DError, UsageError, intOption, runBin, stringOption, type CliSpec } from '@g2d-ts/core';
import { FAILURES, fuzzInWorker, type TargetSummary } from './runner';
import { TARGETS } from './targets';

const SPEC: CliSpec = {
  name: 'pnpm fuzz',
  version: '0.1.0',
  summary: 'seeded mutation fuzzing of the public readers',
  defaultCommand: 'fuzz',
  commands: {
    fuzz: {
      summary: 'every case must succeed or throw a G2DError naming its input; no other exception, no hang, bounded memory',
      options: {
        cases: { type: 'string', value: 'N', description: 'cases per target (default 1000)' },
        seed: { type: 'string', value: 'S', description: 'fast-check seed (default 20261129); the same seed gives the same cases' },
        target: { type: 'string', multiple: true, value: 'NAME', description: `only these targets: ${TARGETS.map((t) => t.name).join(', ')}` },
        'bound-ms': { type: 'string', value: 'MS', description: 'per-case time bound (default 5000)' },
        'heap-mb': { type: 'string', value: 'MB', description: 'worker heap limit (default 1024)' },
        small: { type: 'boolean', description: 'only the small seeds (as the test suite)' },
        only: { type: 'string', value: 'I,J', description: 'only these case indices (reproduce a failure; with one --target)' },
      },
      async run({ values }, ctx) {
        const cases = intOption(values, 'cases', 1000, { min: 1 });
        const seed = intOption(values, 'seed', 20261129, { min: 0 });
        const boundMs = intOption(values, 'bound-ms', 5000, { min: 1 });
        const heapMb = intOption(values, 'heap-mb', 1024, { min: 64 });
        const names = (values.target as string[] | undefined) ?? TARGETS.map((t) => t.name);
        for (const n of names) if (!TARGETS.some((t) => t.name === n)) throw new UsageError(`unknown target "${n}" (targets: ${TARGETS.map((t) => t.name).join(', ')})`);
        const onlyText = stringOption(values, 'only');
        const only = onlyText?.split(',').map((x) => Number(x.trim()));
        if (only && only.some((x) => !Number.isInteger(x) || x < 0)) throw new UsageError(`--only takes case indices, got "${onlyText}"`);
        const t0 = Date.now();
        const all: TargetSummary[] = [];
        for (const name of names) {
          const tt = Date.now();
          const s = await fuzzInWorker(name, {
            cases, seed, boundMs, heapMb, small: !!values.small, only,
            progress: (d, n) => {
              if (process.stderr.isTTY && (d % 50 === 0 || d === n)) ctx.err(`\r  ${name}: ${d}/${n}`);
            },
          });
          if (process.stderr.isTTY) ctx.err('\r\x1b[K');
          all.push(s);
          const f = s.failures.length;
          ctx.out(
            `${name.padEnd(15)} ${String(s.cases).padStart(6)} cases  ${String(s.seeds).padStart(3)} seeds  ok ${String(s.counts.ok).padStart(5)}  G2DError ${String(s.counts.g2d).padStart(5)}  ` +
              `failures ${f}${f ? ` (${FAILURES.filter((o) => s.counts[o]).map((o) => `${o} ${s.counts[o]}`).join(', ')})` : ''}  max ${s.maxMs.toFixed(0)} ms  ${((Date.now() - tt) / 1000).toFixed(1)} s  [${s.reader}]\n`,
          );
        }
        const failures = all.flatMap((s) => s.failures);
        const total = all.reduce((n, s) => n + s.cases, 0);
        ctx.out(`fuzz: ${total} cases over ${all.length} readers (seed ${seed}) in ${((Date.now() - t0) / 1000).toFixed(0)} s: ${failures.length} failure(s), ${failures.filter((f) => f.outcome === 'hang').length} hang(s)\n`);
        for (const f of failures.slice(0, 40)) {
          ctx.out(`\nFAIL ${f.target} case ${f.index} [${f.outcome}] seed ${f.seed}: ${f.ops}\n  ${(f.message ?? '').split('\n').join('\n  ')}\n  reproduce: pnpm fuzz --target ${f.target} --cases ${cases} --seed ${seed} --only ${f.index}${values.small ? ' --small' : ''}\n`);
        }
        if (failures.length > 40) ctx.out(`... and ${failures.length - 40} more\n`);
        if (failures.length) throw new G2DError(`${failures.length} failure(s)`);
        return 0;
      },
    },
  },
};

runBin(SPEC);
