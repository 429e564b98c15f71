/**
 * A few hundred fuzz cases in the test suite (the same harness as `pnpm fuzz`, in this thread
 * with a per-case time bound): every mutated input of every reader either succeeds or throws a
 * G2DError naming its input. The full run (thousands of cases, worker threads, hang and memory
 * bounds) is `pnpm fuzz`.
 */
import { G2DError } from '@g2d-ts/core';
import { applyOps, sampleCases } from '../src/mutate';
import { fuzzInProcess, runCaseInProcess } from '../src/runner';
import { TARGETS, fixPngCrcs } from '../src/targets';

const CASES = Number(process.env.G2D_FUZZ_CASES ?? 24);

describe('fuzz: mutations are deterministic and do what they say', () => {
  it('the same seed gives the same cases; ops apply within bounds', () => {
    const a = sampleCases(3, true, 50, 7);
    expect(sampleCases(3, true, 50, 7)).toEqual(a);
    expect(sampleCases(3, true, 50, 8)).not.toEqual(a);
    const input = Uint8Array.from({ length: 100 }, (_, i) => i);
    expect(Array.from(applyOps(input, [{ kind: 'truncate', at: 10 }]))).toEqual(Array.from(input.subarray(0, 10)));
    expect(applyOps(input, [{ kind: 'flip', at: 205, bit: 0 }])[5]).toBe(4);
    expect(applyOps(input, [{ kind: 'delete', at: 98, len: 64 }])).toHaveLength(98);
    expect(Array.from(applyOps(input, [{ kind: 'length', at: 0, width: 4, littleEndian: true, value: 0xffffffff }]).subarray(0, 5))).toEqual([255, 255, 255, 255, 4]);
    expect(new TextDecoder().decode(applyOps(new TextEncoder().encode('ab'), [{ kind: 'token', at: 1, token: '"' }]))).toBe('a"b');
    for (const c of a) expect(applyOps(input, c.ops).length).toBeLessThan(100 + 4 * 256 + 64);
  });

  it('a reader that throws something else, or an unnamed G2DError, is reported as a failure', async () => {
    const t = { name: 'bad', reader: 'x', text: false, seeds: () => [{ name: 's', bytes: new Uint8Array(4) }] };
    const [c] = sampleCases(1, false, 1, 1);
    const other = await runCaseInProcess({ ...t, run: () => { throw new RangeError('Invalid typed array length'); } }, t.seeds(), c!, 0, '/tmp', 1000);
    expect(other.outcome).toBe('other');
    const unnamed = await runCaseInProcess({ ...t, run: () => { throw new G2DError('bad'); } }, t.seeds(), c!, 0, '/tmp', 1000);
    expect(unnamed.outcome).toBe('unnamed');
    const named = await runCaseInProcess({ ...t, run: (_b, label) => { throw new G2DError('bad', { source: label }); } }, t.seeds(), c!, 0, '/tmp', 1000);
    expect(named.outcome).toBe('g2d');
    const slow = await runCaseInProcess({ ...t, run: () => new Promise((r) => setTimeout(r, 30)) }, t.seeds(), c!, 0, '/tmp', 5);
    expect(slow.outcome).toBe('slow');
  });

  it('PNG CRC repair makes a mutated chunk pass the checksum', () => {
    const png = TARGETS.find((t) => t.name === 'png-crc')!.seeds(true)[0]!.bytes;
    const broken = Uint8Array.from(png);
    broken[20] ^= 0x01; // inside IHDR's width
    expect(fixPngCrcs(broken).subarray(29, 33)).not.toEqual(png.subarray(29, 33));
  });
});

describe(`fuzz: ${CASES} seeded cases per reader (G2D_FUZZ_CASES to change)`, () => {
  for (const target of TARGETS) {
    it(`${target.name}: ${target.reader}`, async () => {
      const s = await fuzzInProcess(target, { cases: CASES, seed: 20261129, small: true, boundMs: 10_000 });
      expect(s.cases).toBe(CASES);
      expect(s.failures.map((f) => `${f.outcome} case ${f.index} (${f.seed}: ${f.ops}): ${f.message}`)).toEqual([]);
      expect(s.counts.ok + s.counts.g2d).toBe(CASES);
    });
  }
});
