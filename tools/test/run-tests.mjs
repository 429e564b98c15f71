#!/usr/bin/env node
// Runs every project's jest suite through nx, then prints one closing line for the
// workspace: "tests: N passed, N failed, N skipped". Extra args go to nx (e.g. -p core).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'g2d-tests-'));
const args = process.argv.slice(2);
const r = spawnSync('pnpm', ['exec', 'nx', 'run-many', '-t', 'test', '--outputStyle=stream', ...args], {
  stdio: 'inherit',
  env: { ...process.env, G2D_TEST_SUMMARY_DIR: dir, NX_DAEMON: process.env.NX_DAEMON ?? 'false', TF_CPP_MIN_LOG_LEVEL: process.env.TF_CPP_MIN_LOG_LEVEL ?? '2' },
});
let passed = 0, failed = 0, skipped = 0;
const rows = [];
for (const f of readdirSync(dir)) {
  const s = JSON.parse(readFileSync(join(dir, f), 'utf8'));
  passed += s.passed; failed += s.failed; skipped += s.skipped;
  rows.push(`  ${s.project}: ${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped`);
}
rmSync(dir, { recursive: true, force: true });
console.log('\nper project:\n' + rows.sort().join('\n'));
const code = r.status ?? 1;
if (code !== 0 && failed === 0) failed = 1; // a crash outside jest still counts as a failure
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(code);
