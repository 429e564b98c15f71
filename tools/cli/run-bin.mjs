#!/usr/bin/env node
// Runs a package's built bin from the repository (`pnpm g2d-data ...`, `pnpm g2d-text ...`):
// - in the directory pnpm was started from (INIT_CWD), so relative paths are the caller's,
//   not the repository root's (pnpm runs root scripts at the root);
// - the built JavaScript (dist/cli.js), as an installed bin runs; it is (re)built through nx
//   first when missing or older than the sources of the package or of its @g2d-ts/ deps
//   (build output goes to stderr, so stdout stays the command's own).
// usage: node tools/cli/run-bin.mjs <package folder name> [args...]
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const [pkgDir, ...args] = process.argv.slice(2);
if (!pkgDir || !fs.existsSync(path.join(root, 'packages', pkgDir, 'package.json'))) {
  process.stderr.write(`run-bin: no package "packages/${pkgDir ?? ''}"\n`);
  process.exit(2);
}

function readPkg(dir) {
  return JSON.parse(fs.readFileSync(path.join(root, 'packages', dir, 'package.json'), 'utf8'));
}

/** newest mtime under dir (ms), 0 when absent */
function newest(dir) {
  let t = 0;
  let entries;
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newest(p));
    else t = Math.max(t, fs.statSync(p).mtimeMs);
  }
  return t;
}

/** the package folder and its workspace dependencies' folders, transitively */
function closure(dir, seen = new Set()) {
  if (seen.has(dir)) return seen;
  seen.add(dir);
  const pj = readPkg(dir);
  for (const dep of Object.keys({ ...pj.dependencies })) {
    if (!dep.startsWith('@g2d-ts/')) continue;
    const d = dep.slice('@g2d-ts/'.length);
    if (fs.existsSync(path.join(root, 'packages', d, 'package.json'))) closure(d, seen);
  }
  return seen;
}

const pj = readPkg(pkgDir);
const binRel = Object.values(pj.bin ?? {})[0];
if (!binRel) {
  process.stderr.write(`run-bin: @g2d-ts/${pkgDir} has no bin\n`);
  process.exit(2);
}
const bin = path.join(root, 'packages', pkgDir, binRel);
const mtime = (f) => (fs.existsSync(f) ? fs.statSync(f).mtimeMs : 0);
// stale: a missing build, or sources newer than the build (of the package or of a dependency)
const stale = [...closure(pkgDir)].some((d) => {
  const built = mtime(d === pkgDir ? bin : path.join(root, 'packages', d, 'dist', 'index.js'));
  return !built || newest(path.join(root, 'packages', d, 'src')) > built;
});
if (stale) {
  const project = pj.nx?.name ?? pkgDir;
  process.stderr.write(`[g2d] building ${project} (dist missing or older than its sources)...\n`);
  const r = spawnSync('pnpm', ['exec', 'nx', 'run', `${project}:build`, '--outputStyle=stream'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    maxBuffer: 64 * 2 ** 20,
    env: { ...process.env, NX_DAEMON: process.env.NX_DAEMON ?? 'false' },
  });
  if (r.status !== 0) {
    process.stderr.write(`${r.stdout ?? ''}${r.stderr ?? ''}[g2d] build of ${project} failed (exit ${r.status})\n`);
    process.exit(r.status ?? 1);
  }
}

const cwd = process.env.INIT_CWD && fs.existsSync(process.env.INIT_CWD) ? process.env.INIT_CWD : process.cwd();
const child = spawn(process.execPath, [bin, ...args], { cwd, stdio: 'inherit' });
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => {
  if (signal) process.kill(process.pid, signal);
  else process.exit(code ?? 1);
});
