#!/usr/bin/env node
// Builds the native addon of @tensorflow/tfjs-node (or -gpu) from source,
// against a libtensorflow taken from a package registry (PyPI wheel, pinned in
// versions.json) or from a directory given with --libtensorflow.
//
// tfjs-node's own install script downloads libtensorflow and a prebuilt addon
// from a host that is not reachable from air-gapped machines, so the package
// must be installed WITHOUT its install script and this script run afterwards.
//
// Only Node.js builtins are used. See README.md next to this file.

import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import os from 'node:os';
import crypto from 'node:crypto';
import https from 'node:https';
import zlib from 'node:zlib';
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { pipeline } from 'node:stream/promises';
import { Transform, PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const TAG = '[native-backend]';
const STAMP_NAME = '.g2d-native.json';
const STAMP_SCHEMA = 1;
const TFJS_NAMES = ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'];

class BuildError extends Error {
  constructor(message, hint) {
    super(message);
    this.hint = hint;
  }
}
class ChecksumError extends BuildError {}

const log = (...a) => console.log(TAG, ...a);
const warn = (...a) => console.warn(TAG, 'warning:', ...a);
const exists = (p) => fs.existsSync(p);
const mib = (n) => `${(n / 2 ** 20).toFixed(0)} MiB`;

const HELP = `Usage: node tools/native-backend/build.mjs [options]

Builds tfjs_binding.node for @tensorflow/tfjs-node from source against a
libtensorflow from PyPI (pinned in versions.json) and smoke-tests it.
A second run with everything in place only prints "already built".

Options:
  --tfjs-node <dir>       tfjs-node (or tfjs-node-gpu) package directory; may be
                          repeated. Default: resolve @tensorflow/tfjs-node from
                          the current directory, else every copy under
                          ./node_modules/.pnpm/
  --libtensorflow <dir>   use an existing libtensorflow instead of downloading:
                          a libtensorflow tarball extracted (lib/ + include/) or
                          the tensorflow/ directory of a TensorFlow wheel
                          (libtensorflow_cc.so.2 + include/). Libs are symlinked
                          from there (keep the directory) unless --copy.
  --gpu                   build @tensorflow/tfjs-node-gpu against a CUDA build:
                          the pinned TensorFlow GPU wheel and the NVIDIA runtime
                          wheels of its CUDA/cuDNN (PyPI, ~2 GB once, sha256 in
                          versions.json), or --libtensorflow <dir>. The smoke
                          test runs on the CPU when no CUDA device is visible and
                          says so ("no CUDA device visible: ...").
  --require-gpu           with --gpu: fail the smoke test unless TensorFlow sees
                          a GPU (use on the GPU machine)
  --copy                  copy the --libtensorflow files instead of symlinking
  --wheel <file>          use this local copy of the pinned wheel (checked
                          against the pinned sha256) instead of downloading it
  --cache-dir <dir>       download/extract cache (default $G2D_NATIVE_CACHE or
                          ~/.cache/g2d-native)
  --nodedir <dir>         Node.js headers (dir holding include/node/node_api.h)
  --node-gyp <file>       node-gyp's bin/node-gyp.js (default: the one bundled
                          with npm)
  --jobs <n>              parallel compile jobs (default: number of CPUs)
  --force                 rebuild even if already built
  --verify                when already built, still run the smoke test
  --no-smoke              skip the smoke test
  -h, --help              this text
`;

// ---------------------------------------------------------------- arguments

function parseArgs(argv) {
  const o = {
    tfjsNode: [], libtensorflow: null, gpu: false, copy: false, wheel: null,
    cacheDir: process.env.G2D_NATIVE_CACHE || path.join(os.homedir(), '.cache', 'g2d-native'),
    nodedir: null, nodeGyp: null, jobs: os.availableParallelism ? os.availableParallelism() : os.cpus().length,
    force: false, verify: false, smoke: true, help: false, requireGpu: false,
  };
  const takesValue = new Set(['--tfjs-node', '--libtensorflow', '--wheel', '--cache-dir', '--nodedir', '--node-gyp', '--jobs']);
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i];
    let val;
    const eq = a.indexOf('=');
    if (a.startsWith('--') && eq > 0) { val = a.slice(eq + 1); a = a.slice(0, eq); }
    if (takesValue.has(a) && val === undefined) {
      val = argv[++i];
      if (val === undefined) throw new BuildError(`option ${a} needs a value`, 'see --help');
    }
    switch (a) {
      case '--tfjs-node': o.tfjsNode.push(val); break;
      case '--libtensorflow': o.libtensorflow = val; break;
      case '--wheel': o.wheel = val; break;
      case '--cache-dir': o.cacheDir = val; break;
      case '--nodedir': o.nodedir = val; break;
      case '--node-gyp': o.nodeGyp = val; break;
      case '--jobs': o.jobs = Math.max(1, parseInt(val, 10) || 1); break;
      case '--gpu': o.gpu = true; break;
      case '--require-gpu': o.requireGpu = true; o.gpu = true; break;
      case '--copy': o.copy = true; break;
      case '--force': o.force = true; break;
      case '--verify': o.verify = true; break;
      case '--no-smoke': o.smoke = false; break;
      case '-h': case '--help': o.help = true; break;
      default: throw new BuildError(`unknown option: ${argv[i]}`, 'see --help');
    }
  }
  if (o.wheel && o.libtensorflow) throw new BuildError('--wheel and --libtensorflow exclude each other');
  return o;
}

// ---------------------------------------------------------------- helpers

function which(cmd) {
  if (cmd.includes('/')) return exists(cmd) ? cmd : null;
  for (const d of (process.env.PATH || '').split(path.delimiter)) {
    if (!d) continue;
    const p = path.join(d, cmd);
    try { fs.accessSync(p, fs.constants.X_OK); if (fs.statSync(p).isFile()) return p; } catch { /* next */ }
  }
  return null;
}

function run(cmd, args, opts = {}) {
  return spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 2 ** 20, ...opts });
}

async function sha256File(file) {
  const h = crypto.createHash('sha256');
  await pipeline(fs.createReadStream(file), new Transform({
    transform(chunk, _e, cb) { h.update(chunk); cb(); },
  }));
  return h.digest('hex');
}

function rmrf(p) { fs.rmSync(p, { recursive: true, force: true }); }

function removePath(p) {
  let st;
  try { st = fs.lstatSync(p); } catch { return; }
  if (st.isDirectory()) rmrf(p); else fs.unlinkSync(p);
}

function glibcVersion() {
  try { return process.report.getReport().header.glibcVersionRuntime || null; } catch { return null; }
}

function versionLess(a, b) {
  const pa = a.split('.').map(Number), pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] || 0, y = pb[i] || 0;
    if (x !== y) return x < y;
  }
  return false;
}

// ---------------------------------------------------------------- tfjs-node package

function readTfjsPackage(dir, versions) {
  const pj = path.join(dir, 'package.json');
  if (!exists(pj)) throw new BuildError(`no package.json in ${dir}`, 'pass --tfjs-node <dir of @tensorflow/tfjs-node>');
  const real = fs.realpathSync(dir);
  const pkg = JSON.parse(fs.readFileSync(path.join(real, 'package.json'), 'utf8'));
  if (!TFJS_NAMES.includes(pkg.name)) {
    throw new BuildError(`${real} holds ${pkg.name}, not ${TFJS_NAMES.join(' or ')}`);
  }
  if (!exists(path.join(real, 'binding.gyp')) || !exists(path.join(real, 'binding', 'tfjs_binding.cc'))) {
    throw new BuildError(`${real} has no binding.gyp / binding/*.cc: cannot build the addon from source`);
  }
  if (!versions.tfjsNode.testedVersions.includes(pkg.version)) {
    warn(`${pkg.name}@${pkg.version} was not tested with this script (tested: ${versions.tfjsNode.testedVersions.join(', ')})`);
  }
  return { dir: real, pkg };
}

function findTfjsPackages(opts, versions) {
  if (opts.tfjsNode.length) return opts.tfjsNode.map((d) => readTfjsPackage(path.resolve(d), versions));
  const req = createRequire(path.join(process.cwd(), '__g2d_native_build__.js'));
  const names = opts.gpu ? [...TFJS_NAMES].reverse() : TFJS_NAMES;
  for (const n of names) {
    try { return [readTfjsPackage(path.dirname(req.resolve(`${n}/package.json`)), versions)]; } catch (e) {
      if (e instanceof BuildError) throw e;
    }
  }
  // pnpm workspace root: the package is not hoisted, look in the virtual store.
  const store = path.join(process.cwd(), 'node_modules', '.pnpm');
  if (exists(store)) {
    const ents = fs.readdirSync(store).sort();
    for (const n of names) {
      const found = ents.filter((e) => e.startsWith(`${n.replace('/', '+')}@`))
        .map((e) => path.join(store, e, 'node_modules', n))
        .filter((d) => exists(path.join(d, 'package.json')))
        .map((d) => readTfjsPackage(d, versions));
      if (found.length) return found;
    }
  }
  throw new BuildError(
    `cannot find @tensorflow/tfjs-node from ${process.cwd()}`,
    'install it WITHOUT its install script (pnpm: allowBuilds {"@tensorflow/tfjs-node": false}; npm: --ignore-scripts), '
    + 'then run this from a package that depends on it, or pass --tfjs-node <dir>');
}

// Where @mapbox/node-pre-gyp (used by tfjs-node's dist/index.js) will look for the addon.
function addonTarget(tfjs) {
  const bin = tfjs.pkg.binary;
  if (!bin || !bin.module_name || !bin.module_path) {
    throw new BuildError(`${tfjs.pkg.name}/package.json has no "binary" {module_name, module_path}`);
  }
  const nodeNapi = Number(process.versions.napi || 0);
  const supported = (bin.napi_versions || []).filter((v) => v <= nodeNapi);
  if (!supported.length) {
    throw new BuildError(`Node ${process.version} has N-API ${nodeNapi}; ${tfjs.pkg.name} needs one of ${bin.napi_versions}`,
      'use a newer Node.js');
  }
  const napi = Math.max(...supported);
  const modulePath = path.resolve(tfjs.dir, bin.module_path.replace('{napi_build_version}', String(napi)));
  if (modulePath.includes('{')) throw new BuildError(`unsupported binary.module_path template: ${bin.module_path}`);
  const file = path.join(modulePath, `${bin.module_name}.node`);
  let preGypFile = null;
  try {
    const r = createRequire(path.join(tfjs.dir, 'package.json'));
    preGypFile = path.resolve(r('@mapbox/node-pre-gyp').find(path.join(tfjs.dir, 'package.json')));
  } catch (e) {
    warn(`could not ask @mapbox/node-pre-gyp where it loads the addon from (${e.message.split('\n')[0]}); using ${file}`);
  }
  const extra = preGypFile && preGypFile !== file ? [preGypFile] : [];
  return { napi, moduleName: bin.module_name, modulePath, file, extra };
}

// ---------------------------------------------------------------- toolchain checks

function findPython() {
  const cands = [process.env.PYTHON, process.env.npm_config_python, 'python3', 'python'].filter(Boolean);
  for (const c of cands) {
    const p = which(c);
    if (!p) continue;
    const r = run(p, ['-c', 'import sys; sys.exit(0 if sys.version_info >= (3, 6) else 1)']);
    if (r.status === 0) return p;
  }
  return null;
}

function findNodeGyp(opts, tfjsDirs) {
  const cands = [];
  if (opts.nodeGyp) cands.push(path.resolve(opts.nodeGyp));
  if (process.env.npm_config_node_gyp) cands.push(process.env.npm_config_node_gyp);
  const prefix = path.dirname(path.dirname(process.execPath));
  cands.push(path.join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  for (const base of [process.cwd(), HERE, ...tfjsDirs]) {
    try { cands.push(createRequire(path.join(base, 'x.js')).resolve('node-gyp/bin/node-gyp.js')); } catch { /* next */ }
  }
  const onPath = which('node-gyp');
  if (onPath) cands.push(fs.realpathSync(onPath));
  for (const c of cands) if (c && exists(c)) return c;
  if (opts.nodeGyp) throw new BuildError(`--node-gyp ${opts.nodeGyp} does not exist`);
  throw new BuildError('node-gyp not found (it normally ships with npm, under lib/node_modules/npm/node_modules/node-gyp)',
    'install npm, add node-gyp as a devDependency, or pass --node-gyp <path to node-gyp/bin/node-gyp.js>');
}

function findNodeHeaders(opts) {
  const tried = [];
  const ok = (d) => {
    tried.push(d);
    return exists(path.join(d, 'include', 'node', 'node_api.h')) && exists(path.join(d, 'include', 'node', 'common.gypi'));
  };
  if (opts.nodedir) {
    const d = path.resolve(opts.nodedir);
    if (ok(d)) return d;
    throw new BuildError(`--nodedir ${d} has no Node.js headers (need include/node/node_api.h and include/node/common.gypi)`);
  }
  const cands = [];
  if (process.env.npm_config_nodedir) cands.push(path.resolve(process.env.npm_config_nodedir));
  cands.push(path.dirname(path.dirname(process.execPath)));
  const v = process.version.slice(1);
  const devdirs = [process.env.npm_config_devdir, path.join(os.homedir(), '.cache', 'node-gyp'),
    path.join(os.homedir(), '.node-gyp')].filter(Boolean);
  for (const d of devdirs) cands.push(path.join(d, v));
  for (const d of cands) {
    if (!ok(d)) continue;
    const vh = path.join(d, 'include', 'node', 'node_version.h');
    if (exists(vh)) {
      const m = /#define NODE_MAJOR_VERSION (\d+)/.exec(fs.readFileSync(vh, 'utf8'));
      if (m && Number(m[1]) !== Number(process.versions.node.split('.')[0])) {
        warn(`headers in ${d} are for Node ${m[1]}, running Node ${process.version} (N-API is ABI-stable, continuing)`);
      }
    }
    return d;
  }
  throw new BuildError(
    `Node.js headers not found for Node ${process.version} (need include/node/node_api.h and include/node/common.gypi; looked in: ${tried.join(', ')})`,
    'node-gyp cannot download them without internet. Install them (NodeSource nodejs ships /usr/include/node; Debian: '
    + 'apt-get install libnode-dev) or pass --nodedir <dir containing include/node>');
}

function checkToolchain(opts, tfjsDirs) {
  const python = findPython();
  if (!python) {
    throw new BuildError('no Python 3 found (node-gyp runs gyp with Python 3; looked for $PYTHON, python3, python)',
      'apt-get install -y python3, or set PYTHON=/path/to/python3');
  }
  const cxxCands = [process.env.CXX, 'g++', 'c++', 'clang++'].filter(Boolean);
  let cxx = null;
  for (const c of cxxCands) { const p = which(c.split(/\s+/)[0]); if (p) { cxx = c; break; } }
  if (!cxx) {
    throw new BuildError(`no C++ compiler found (looked for ${cxxCands.join(', ')})`, 'apt-get install -y g++ make');
  }
  const probe = run(cxx.split(/\s+/)[0], [...cxx.split(/\s+/).slice(1), '-x', 'c++', '-', '-o', os.devNull],
    { input: '#include <string>\nint main() { std::string s("ok"); return (int)s.size() - 2; }\n' });
  if (probe.status !== 0) {
    throw new BuildError(`the C++ compiler "${cxx}" cannot build a trivial program:\n${(probe.stderr || probe.error || '').toString().trim()}`,
      'apt-get install -y g++ (or fix $CXX)');
  }
  const make = which('make') || which('gmake');
  if (!make) throw new BuildError('no "make" found (node-gyp generates Makefiles on Linux)', 'apt-get install -y make');
  if (!which('readelf') || !which('nm')) warn('binutils (readelf/nm) not found: skipping SONAME / C API symbol checks');
  return { python, cxx, make, nodeGyp: findNodeGyp(opts, tfjsDirs), nodedir: findNodeHeaders(opts) };
}

// ---------------------------------------------------------------- ELF inspection (binutils)

function elfSoname(file) {
  if (!which('readelf')) return null;
  const r = run('readelf', ['-d', file]);
  const m = /\(SONAME\)\s+Library soname: \[([^\]]+)\]/.exec(r.stdout || '');
  return m ? m[1] : null;
}

function dynamicSymbols(files, which_ = '--defined-only') {
  if (!which('nm')) return null;
  const out = new Set();
  for (const f of files) {
    const r = run('nm', ['-D', which_, f], { maxBuffer: 512 * 2 ** 20 });
    if (r.status !== 0) throw new BuildError(`nm -D failed on ${f}: ${(r.stderr || '').trim()}`, 'is it an ELF shared library?');
    for (const line of r.stdout.split('\n')) {
      const parts = line.trim().split(/\s+/);
      const name = parts[parts.length - 1];
      if (name) out.add(name.replace(/@.*$/, ''));
    }
  }
  return out;
}

// ---------------------------------------------------------------- download

function httpGet(url, redirects = 0) {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { headers: { 'user-agent': 'g2d-native-backend-build (node)' } }, (res) => {
      if ([301, 302, 303, 307, 308].includes(res.statusCode) && res.headers.location) {
        res.resume();
        if (redirects >= 5) { reject(new Error('too many redirects')); return; }
        resolve(httpGet(new URL(res.headers.location, url).toString(), redirects + 1));
        return;
      }
      if (res.statusCode !== 200) {
        res.resume();
        const err = new Error(`HTTP ${res.statusCode} from ${url}`);
        err.permanent = res.statusCode >= 400 && res.statusCode < 500;
        reject(err);
        return;
      }
      resolve(res);
    });
    req.setTimeout(60_000, () => req.destroy(new Error('no data for 60 s')));
    req.on('error', reject);
  });
}

async function downloadOnce(L, dest) {
  const tmp = `${dest}.part-${process.pid}`;
  const res = await httpGet(L.url);
  const total = Number(res.headers['content-length']) || L.size;
  const h = crypto.createHash('sha256');
  let got = 0, nextReport = 0.1;
  const t0 = Date.now();
  res.setTimeout(60_000, () => res.destroy(new Error('download stalled for 60 s')));
  try {
    await pipeline(res, new Transform({
      transform(chunk, _e, cb) {
        h.update(chunk);
        got += chunk.length;
        if (got / total >= nextReport) {
          log(`  ${Math.floor((got / total) * 100)}% of ${mib(total)} (${(got / 2 ** 20 / ((Date.now() - t0) / 1000 || 1)).toFixed(1)} MiB/s)`);
          nextReport += 0.1;
        }
        cb(null, chunk);
      },
    }), fs.createWriteStream(tmp));
  } catch (e) {
    removePath(tmp);
    throw e;
  }
  const sum = h.digest('hex');
  if (got !== L.size || sum !== L.sha256) {
    removePath(tmp);
    throw new ChecksumError(`checksum mismatch for ${L.filename} from ${L.url}: got ${got} bytes sha256 ${sum}, `
      + `pinned ${L.size} bytes sha256 ${L.sha256}`, 'refusing to use it; check the registry/proxy, or update versions.json deliberately');
  }
  fs.renameSync(tmp, dest);
}

async function pipDownload(L, cacheDir, cause) {
  const py = findPython();
  const why = `direct download of ${L.url} failed (${cause.message})`;
  if (!py) throw new BuildError(`${why}, and no python3 to retry with pip`, 'install python3 + pip, or download the file and pass --wheel <file>');
  if (run(py, ['-m', 'pip', '--version']).status !== 0) {
    throw new BuildError(`${why}, and "${py} -m pip" is not available for the fallback`,
      'install pip (apt-get install -y python3-pip), or download the file and pass --wheel <file>');
  }
  const tmpd = fs.mkdtempSync(path.join(cacheDir, 'pip-'));
  try {
    log(`${why}; retrying with: ${py} -m pip download ${L.pip.requirement}`);
    const r = spawnSync(py, ['-m', 'pip', 'download', '--no-deps', '--only-binary=:all:', ...L.pip.args, '-d', tmpd, L.pip.requirement],
      { stdio: 'inherit' });
    const f = path.join(tmpd, L.filename);
    if (r.status !== 0 || !exists(f)) throw new BuildError(`pip download ${L.pip.requirement} failed (exit ${r.status})`, 'see pip output above');
    const sum = await sha256File(f);
    if (sum !== L.sha256) throw new ChecksumError(`checksum mismatch for ${L.filename} from pip: sha256 ${sum}, pinned ${L.sha256}`);
    const dest = path.join(cacheDir, L.filename);
    fs.renameSync(f, dest);
    return dest;
  } finally {
    rmrf(tmpd);
  }
}

async function obtainWheel(opts, L) {
  if (opts.wheel) {
    const f = path.resolve(opts.wheel);
    if (!exists(f)) throw new BuildError(`--wheel ${f} does not exist`);
    const sum = await sha256File(f);
    if (sum !== L.sha256) throw new ChecksumError(`checksum mismatch for --wheel ${f}: sha256 ${sum}, pinned ${L.sha256} (${L.filename})`);
    return f;
  }
  const dest = path.join(opts.cacheDir, L.filename);
  if (exists(dest)) {
    const sum = await sha256File(dest);
    if (sum === L.sha256) { log(`cached ${dest} (sha256 ok)`); return dest; }
    warn(`cached ${dest} has sha256 ${sum}, pinned ${L.sha256}: downloading again`);
    removePath(dest);
  }
  log(`downloading ${L.package} ${L.version} (${mib(L.size)}) from ${new URL(L.url).host}`);
  let lastErr;
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      await downloadOnce(L, dest);
      log(`downloaded ${dest} (sha256 ok)`);
      return dest;
    } catch (e) {
      if (e instanceof ChecksumError) throw e;
      lastErr = e;
      if (e.permanent) break;
      if (attempt < 3) { warn(`download attempt ${attempt} failed: ${e.message}; retrying`); await new Promise((r) => setTimeout(r, 2000 * attempt)); }
    }
  }
  return pipDownload(L, opts.cacheDir, lastErr);
}

// ---------------------------------------------------------------- zip (wheel) reading

async function openZip(file) {
  const fh = await fsp.open(file, 'r');
  try {
    const { size } = await fh.stat();
    const tailLen = Math.min(size, 65557);
    const tail = Buffer.alloc(tailLen);
    await fh.read(tail, 0, tailLen, size - tailLen);
    let eocd = -1;
    for (let i = tailLen - 22; i >= 0; i--) if (tail.readUInt32LE(i) === 0x06054b50) { eocd = i; break; }
    if (eocd < 0) throw new BuildError(`${file} is not a zip/wheel (no end-of-central-directory record)`);
    let count = tail.readUInt16LE(eocd + 10);
    let cdSize = tail.readUInt32LE(eocd + 12);
    let cdOff = tail.readUInt32LE(eocd + 16);
    if (count === 0xffff || cdSize === 0xffffffff || cdOff === 0xffffffff) {
      const loc = eocd - 20;
      if (loc < 0 || tail.readUInt32LE(loc) !== 0x07064b50) throw new BuildError(`${file}: broken zip64 locator`);
      const z64off = Number(tail.readBigUInt64LE(loc + 8));
      const z = Buffer.alloc(56);
      await fh.read(z, 0, 56, z64off);
      if (z.readUInt32LE(0) !== 0x06064b50) throw new BuildError(`${file}: broken zip64 end record`);
      count = Number(z.readBigUInt64LE(32));
      cdSize = Number(z.readBigUInt64LE(40));
      cdOff = Number(z.readBigUInt64LE(48));
    }
    const cd = Buffer.alloc(cdSize);
    await fh.read(cd, 0, cdSize, cdOff);
    const entries = [];
    let p = 0;
    for (let n = 0; n < count; n++) {
      if (cd.readUInt32LE(p) !== 0x02014b50) throw new BuildError(`${file}: corrupt central directory`);
      const flags = cd.readUInt16LE(p + 8);
      const method = cd.readUInt16LE(p + 10);
      const crc = cd.readUInt32LE(p + 16);
      let csize = cd.readUInt32LE(p + 20);
      let usize = cd.readUInt32LE(p + 24);
      const nlen = cd.readUInt16LE(p + 28), xlen = cd.readUInt16LE(p + 30), clen = cd.readUInt16LE(p + 32);
      let off = cd.readUInt32LE(p + 42);
      const name = cd.toString('utf8', p + 46, p + 46 + nlen);
      let x = p + 46 + nlen;
      const xend = x + xlen;
      while (x + 4 <= xend) {
        const id = cd.readUInt16LE(x), len = cd.readUInt16LE(x + 2);
        if (id === 0x0001) {
          let q = x + 4;
          if (usize === 0xffffffff) { usize = Number(cd.readBigUInt64LE(q)); q += 8; }
          if (csize === 0xffffffff) { csize = Number(cd.readBigUInt64LE(q)); q += 8; }
          if (off === 0xffffffff) { off = Number(cd.readBigUInt64LE(q)); q += 8; }
        }
        x += 4 + len;
      }
      entries.push({ name, flags, method, crc, csize, usize, off });
      p = xend + clen;
    }
    return { file, entries };
  } finally {
    await fh.close();
  }
}

async function extractEntry(zip, e, dest, mode) {
  if (e.flags & 1) throw new BuildError(`${zip.file}: ${e.name} is encrypted`);
  if (e.method !== 0 && e.method !== 8) throw new BuildError(`${zip.file}: ${e.name} uses unsupported zip method ${e.method}`);
  const fh = await fsp.open(zip.file, 'r');
  const lh = Buffer.alloc(30);
  try { await fh.read(lh, 0, 30, e.off); } finally { await fh.close(); }
  if (lh.readUInt32LE(0) !== 0x04034b50) throw new BuildError(`${zip.file}: bad local header for ${e.name}`);
  const start = e.off + 30 + lh.readUInt16LE(26) + lh.readUInt16LE(28);
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  let written = 0;
  let crc = 0;
  const haveCrc = typeof zlib.crc32 === 'function';
  const counter = new Transform({
    transform(chunk, _e, cb) { written += chunk.length; if (haveCrc) crc = zlib.crc32(chunk, crc); cb(null, chunk); },
  });
  const src = e.csize > 0 ? fs.createReadStream(zip.file, { start, end: start + e.csize - 1 }) : fs.createReadStream(os.devNull);
  await pipeline(src, e.method === 8 ? zlib.createInflateRaw() : new PassThrough(), counter, fs.createWriteStream(dest, { mode }));
  if (written !== e.usize || (haveCrc && crc >>> 0 !== e.crc >>> 0)) {
    throw new BuildError(`${zip.file}: ${e.name} extracted to ${written} bytes / crc ${crc >>> 0}, expected ${e.usize} / ${e.crc}`);
  }
}

function safeJoin(root, rel) {
  const out = path.resolve(root, rel);
  if (!out.startsWith(path.resolve(root) + path.sep)) throw new BuildError(`refusing zip entry outside target: ${rel}`);
  return out;
}

// The pinned libtensorflow: the CPU wheel, or with --gpu the CUDA wheel plus the NVIDIA runtime
// wheels of its CUDA/cuDNN versions.
function pinnedSpec(opts, versions) {
  if (!opts.gpu) return versions.libtensorflow;
  if (!versions.libtensorflowGpu) throw new BuildError('versions.json has no "libtensorflowGpu" pin', 'pass --libtensorflow <dir> with a GPU libtensorflow');
  return versions.libtensorflowGpu;
}

// What the cache folder's .complete marker holds: every pinned artifact's sha256.
function pinnedMarker(L) {
  return [L.sha256, ...(L.runtimeWheels || []).map((w) => w.sha256)].join('\n');
}

const SHARED_LIB = /\.so(\.\d+)*$/;

// Extracts libs + C headers of the pinned wheel(s) into the cache (once).
async function pinnedLibtensorflow(opts, versions) {
  const L = pinnedSpec(opts, versions);
  const here = `${process.platform}-${process.arch}`;
  if (here !== L.platform) {
    throw new BuildError(`the pinned libtensorflow (${L.package} ${L.version}) is for ${L.platform}; this machine is ${here}`,
      'pass --libtensorflow <dir> with a libtensorflow built for this platform');
  }
  const glibc = glibcVersion();
  if (!glibc) throw new BuildError(`the pinned ${L.filename} needs glibc >= ${L.minGlibc}; this system has no glibc (musl/Alpine?)`,
    'use a glibc-based image (e.g. Debian) or --libtensorflow');
  if (versionLess(glibc, L.minGlibc)) throw new BuildError(`the pinned ${L.filename} needs glibc >= ${L.minGlibc}; this system has ${glibc}`);
  try {
    const cpu = fs.readFileSync('/proc/cpuinfo', 'utf8');
    if (/^flags\s*:/m.test(cpu) && !/^flags\s*:.*\bavx\b/m.test(cpu)) {
      throw new BuildError(`this CPU has no AVX; the ${L.package} ${L.version} wheel requires it (it would die with "Illegal instruction")`,
        'use --libtensorflow with a build for this CPU');
    }
  } catch (e) { if (e instanceof BuildError) throw e; }

  const runtime = L.runtimeWheels || [];
  // the CUDA libraries TensorFlow loads (not libOpenCL, libnvblas, libcufftw, libcusolverMg)
  const wanted = new RegExp(L.runtimeLibs || '.');
  fs.mkdirSync(opts.cacheDir, { recursive: true });
  const outDir = path.join(opts.cacheDir, `${L.id}-${L.sha256.slice(0, 12)}`);
  const marker = path.join(outDir, '.complete');
  if (exists(marker) && fs.readFileSync(marker, 'utf8').trim() === pinnedMarker(L)
      && Object.values(L.libs).every((l) => exists(path.join(outDir, 'lib', l.name)))) {
    log(`using extracted libtensorflow ${L.version}${runtime.length ? ` + CUDA ${L.cuda} / cuDNN ${L.cudnn} runtime` : ''} in ${outDir}`);
  } else {
    if (runtime.length) {
      const total = L.size + runtime.reduce((a, w) => a + w.size, 0);
      log(`GPU build: ${L.package} ${L.version} (CUDA ${L.cuda}, cuDNN ${L.cudnn}) and ${runtime.length} NVIDIA runtime wheels, ${mib(total)} to download once (cached in ${opts.cacheDir})`);
    }
    const wheel = await obtainWheel(opts, L);
    const runtimeFiles = [];
    for (const w of runtime) runtimeFiles.push([w, await obtainWheel({ ...opts, wheel: null }, w)]);
    log(`extracting libtensorflow + C headers from ${path.basename(wheel)}`);
    const tmp = `${outDir}.tmp-${process.pid}`;
    rmrf(tmp);
    try {
      const zip = await openZip(wheel);
      const jobs = [];
      for (const e of zip.entries) {
        if (e.name.endsWith('/')) continue;
        if (L.libs[e.name]) {
          jobs.push([e, path.join(tmp, 'lib', L.libs[e.name].name), 0o755, L.libs[e.name]]);
        } else if (e.name.startsWith(L.includeRoot)) {
          const rel = e.name.slice(L.includeRoot.length);
          if (L.includePrefixes.some((pre) => rel.startsWith(pre))) jobs.push([e, safeJoin(path.join(tmp, 'include'), rel), 0o644]);
        } else if (e.name === L.license) {
          jobs.push([e, path.join(tmp, 'LICENSE'), 0o644]);
        }
      }
      const have = new Set(jobs.map((j) => j[0].name));
      const missing = Object.keys(L.libs).filter((n) => !have.has(n));
      if (!have.has(`${L.includeRoot}tensorflow/c/c_api.h`)) missing.push(`${L.includeRoot}tensorflow/c/c_api.h`);
      if (missing.length) throw new BuildError(`${wheel} lacks ${missing.join(', ')}`, 'versions.json does not match the artifact');
      for (const [e, dest, mode, pin] of jobs) {
        await extractEntry(zip, e, dest, mode);
        if (pin && pin.sha256) {
          const sum = await sha256File(dest);
          if (sum !== pin.sha256) throw new ChecksumError(`checksum mismatch for ${e.name} extracted from ${wheel}: ${sum}, pinned ${pin.sha256}`);
        }
      }
      // the NVIDIA libraries go beside libtensorflow: its RUNPATH is $ORIGIN, so TensorFlow's
      // dlopen("libcudart.so.11.0") etc. finds them without LD_LIBRARY_PATH
      for (const [w, file] of runtimeFiles) {
        const z = await openZip(file);
        const libs = z.entries.filter((e) => e.name.startsWith(w.libDir) && !e.name.slice(w.libDir.length).includes('/') && SHARED_LIB.test(e.name)
          && wanted.test(path.basename(e.name)));
        if (!libs.length) throw new BuildError(`${file} has no shared libraries under ${w.libDir}`, 'versions.json does not match the artifact');
        log(`  ${w.package} ${w.version}: ${libs.map((e) => path.basename(e.name)).join(', ')}`);
        for (const e of libs) await extractEntry(z, e, path.join(tmp, 'lib', path.basename(e.name)), 0o755);
        const lic = z.entries.find((e) => /\.dist-info\/License\.txt$/i.test(e.name));
        if (lic) await extractEntry(z, lic, path.join(tmp, 'licenses', `${w.package}.txt`), 0o644);
      }
      fs.writeFileSync(path.join(tmp, '.complete'), `${pinnedMarker(L)}\n`);
      rmrf(outDir);
      fs.renameSync(tmp, outDir);
    } catch (e) {
      rmrf(tmp);
      throw e;
    }
  }
  const tfNames = new Set(Object.values(L.libs).map((l) => l.name));
  const extra = runtime.length ? fs.readdirSync(path.join(outDir, 'lib')).filter((n) => !tfNames.has(n) && wanted.test(n)).sort() : [];
  return {
    kind: 'pinned',
    libs: [...Object.values(L.libs).map((l) => l.name), ...extra].map((name) => ({ src: path.join(outDir, 'lib', name), name })),
    linkNames: L.linkNames,
    includeDir: path.join(outDir, 'include'),
    license: exists(path.join(outDir, 'LICENSE')) ? path.join(outDir, 'LICENSE') : null,
    label: `${L.package} ${L.version} (PyPI)${runtime.length ? ` + CUDA ${L.cuda} / cuDNN ${L.cudnn} runtime wheels (${extra.length} libraries)` : ''}`,
  };
}

// ---------------------------------------------------------------- --libtensorflow <dir>

function locateLocalLibtensorflow(dirArg) {
  const dir = path.resolve(dirArg);
  if (!exists(dir)) throw new BuildError(`--libtensorflow ${dir} does not exist`);
  const libDirs = [path.join(dir, 'lib'), dir, path.join(dir, 'lib64')];
  const pick = (names) => {
    for (const d of libDirs) for (const n of names) { const f = path.join(d, n); if (exists(f)) return f; }
    return null;
  };
  const main = pick(['libtensorflow.so.2', 'libtensorflow.so', 'libtensorflow_cc.so.2', 'libtensorflow_cc.so']);
  const fw = pick(['libtensorflow_framework.so.2', 'libtensorflow_framework.so']);
  if (!main) {
    throw new BuildError(`no libtensorflow.so[.2] or libtensorflow_cc.so[.2] in ${libDirs.join(', ')}`,
      'point --libtensorflow at an extracted libtensorflow tarball (lib/, include/) or a wheel\'s tensorflow/ directory');
  }
  if (!fw) throw new BuildError(`no libtensorflow_framework.so[.2] next to ${main}`, 'tfjs-node links against both libraries');
  const includeDir = [path.join(dir, 'include'), dir].find((d) => exists(path.join(d, 'tensorflow', 'c', 'c_api.h'))
    && exists(path.join(d, 'tensorflow', 'c', 'eager', 'c_api.h')));
  if (!includeDir) {
    throw new BuildError(`no C headers (include/tensorflow/c/c_api.h and include/tensorflow/c/eager/c_api.h) under ${dir}`,
      'use a libtensorflow tarball or wheel that ships include/');
  }
  const libs = [main, fw].map((f) => {
    const real = fs.realpathSync(f);
    return { src: real, name: elfSoname(real) || path.basename(f), st: fs.statSync(real) };
  });
  const license = [path.join(dir, 'LICENSE'), path.join(dir, 'THIRD_PARTY_TF_C_LICENSES')].find(exists) || null;
  return { dir, libs, includeDir, license };
}

function localLibtensorflow(loc, versions) {
  const syms = dynamicSymbols(loc.libs.map((l) => l.src));
  const undef = dynamicSymbols(loc.libs.map((l) => l.src), '--undefined-only');
  const py = undef ? [...undef].filter((n) => /^_?Py[A-Z_]/.test(n)) : [];
  if (py.length) {
    throw new BuildError(`${loc.libs[0].src} needs libpython symbols (${py.slice(0, 3).join(', ')}, ...): it is a Python extension module, `
      + 'which cannot be loaded by Node.js (dlopen fails with "undefined symbol: PyTuple_Type")',
    'use libtensorflow.so from a libtensorflow tarball, or libtensorflow_cc.so.2 from a TensorFlow >= 2.12 wheel');
  }
  if (syms) {
    const missing = versions.requiredSymbols.filter((s) => !syms.has(s));
    if (missing.length) {
      throw new BuildError(`${loc.libs[0].src} (+ framework) does not export ${missing.length} TensorFlow C API symbols tfjs-node needs, e.g. ${missing.slice(0, 6).join(', ')}`,
        'use a library that exports the C API (libtensorflow.so from a libtensorflow tarball, or libtensorflow_cc.so.2 from a TensorFlow >= 2.12 wheel); '
        + 'Python extension modules such as _pywrap_tensorflow_internal.so do not work (they need libpython at load time)');
    }
  }
  return {
    kind: 'local',
    libs: loc.libs.map(({ src, name }) => ({ src, name })),
    linkNames: { 'libtensorflow.so': loc.libs[0].name, 'libtensorflow_framework.so': loc.libs[1].name },
    includeDir: loc.includeDir,
    license: loc.license,
    label: `libtensorflow from ${loc.dir}`,
  };
}

// ---------------------------------------------------------------- install into deps/

function placeFile(src, dst, how) {
  removePath(dst);
  if (how === 'symlink') { fs.symlinkSync(src, dst); return 'symlink'; }
  if (how === 'link') {
    try { fs.linkSync(src, dst); return 'hardlink'; } catch { /* cross-device: copy */ }
  }
  fs.copyFileSync(src, dst);
  fs.chmodSync(dst, 0o755);
  return 'copy';
}

function installDeps(tfjsDir, lib, opts) {
  const deps = path.join(tfjsDir, 'deps');
  const libDir = path.join(deps, 'lib');
  const incDir = path.join(deps, 'include');
  fs.mkdirSync(deps, { recursive: true });
  removePath(libDir);
  removePath(incDir);
  fs.mkdirSync(libDir);
  const how = lib.kind === 'local' ? (opts.copy ? 'copy' : 'symlink') : 'link';
  const done = [];
  for (const l of lib.libs) done.push(placeFile(l.src, path.join(libDir, l.name), how));
  for (const [link, target] of Object.entries(lib.linkNames)) {
    if (link !== target) fs.symlinkSync(target, path.join(libDir, link));
  }
  if (lib.kind === 'local' && !opts.copy) fs.symlinkSync(lib.includeDir, incDir);
  else fs.cpSync(lib.includeDir, incDir, { recursive: true, dereference: true });
  if (lib.license) fs.copyFileSync(lib.license, path.join(deps, 'LICENSE.libtensorflow'));
  log(`deps/lib: ${lib.libs.map((l) => l.name).join(', ')} (${[...new Set(done)].join('/')}), deps/include ready`);
}

// ---------------------------------------------------------------- build

function buildAddon(tfjs, target, tools, opts) {
  const logFile = path.join(tfjs.dir, 'deps', 'g2d-native-build.log');
  const args = [tools.nodeGyp, 'rebuild', `--nodedir=${tools.nodedir}`, `--python=${tools.python}`,
    `--napi_build_version=${target.napi}`, `--module_name=${target.moduleName}`, `--module_path=${target.modulePath}`,
    `--jobs=${opts.jobs}`];
  log(`compiling ${target.moduleName}.node (N-API ${target.napi}) with node-gyp, CXX=${tools.cxx} (log: ${logFile})`);
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const out = fs.createWriteStream(logFile);
    out.write(`$ ${process.execPath} ${args.join(' ')}\n`);
    const child = spawn(process.execPath, args, { cwd: tfjs.dir, env: { ...process.env, CXX: tools.cxx } });
    let tail = '';
    const onData = (d) => { out.write(d); tail = (tail + d.toString()).slice(-6000); };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (e) => { out.end(); reject(new BuildError(`could not run node-gyp: ${e.message}`)); });
    child.on('close', (code) => {
      out.end();
      if (code !== 0) {
        const lines = tail.split('\n').filter((l) => /error|Error|ERR!|undefined reference|fatal/.test(l)).slice(-15);
        reject(new BuildError(`node-gyp failed (exit ${code}); see ${logFile}\n${(lines.length ? lines : tail.split('\n').slice(-20)).join('\n')}`));
        return;
      }
      if (!exists(target.file)) {
        const built = path.join(tfjs.dir, 'build', 'Release', `${target.moduleName}.node`);
        if (!exists(built)) { reject(new BuildError(`node-gyp succeeded but ${target.file} was not produced; see ${logFile}`)); return; }
        fs.mkdirSync(target.modulePath, { recursive: true });
        fs.copyFileSync(built, target.file);
      }
      for (const f of target.extra) { fs.mkdirSync(path.dirname(f), { recursive: true }); fs.copyFileSync(target.file, f); }
      log(`compiled in ${((Date.now() - t0) / 1000).toFixed(1)} s -> ${path.relative(process.cwd(), target.file) || target.file}`);
      resolve();
    });
  });
}

// ---------------------------------------------------------------- smoke test

const SMOKE = String.raw`
const dir = process.argv[1], requireGpu = process.argv[2] === 'require-gpu';
const t0 = Date.now();
const tf = require(dir);
const loadMs = Date.now() - t0;
if (tf.getBackend() !== 'tensorflow') throw new Error('default backend is ' + tf.getBackend() + ', expected tensorflow');
const be = tf.backend();
const info = { loadMs, tfjs: tf.version.tfjs, libtensorflow: be.binding.TF_Version, gpu: !!be.isUsingGpuDevice };
function rand(n, seed) { const a = new Float32Array(n); let x = seed; for (let i = 0; i < n; i++) { x = (x * 1103515245 + 12345) % 2147483648; a[i] = x / 2147483648 - 0.5; } return a; }
function step(name) {
  tf.setBackend(name);
  if (tf.getBackend() !== name) throw new Error('could not switch to backend ' + name);
  return tf.tidy(() => {
    const x = tf.tensor4d(rand(2 * 9 * 9 * 3, 1), [2, 9, 9, 3]);
    const y = tf.tensor4d(rand(2 * 9 * 9 * 4, 3), [2, 9, 9, 4]);
    const w = tf.tensor4d(rand(3 * 3 * 3 * 4, 2), [3, 3, 3, 4]);
    const loss = (k) => tf.losses.meanSquaredError(y, tf.relu(tf.conv2d(x, k, 1, 'same')));
    const { value, grad } = tf.valueAndGrad(loss)(w);
    const w1 = w.sub(grad.mul(0.1));
    return { out: Array.from(tf.conv2d(x, w, 1, 'same').dataSync()), grad: Array.from(grad.dataSync()),
      loss0: value.dataSync()[0], loss1: loss(w1).dataSync()[0] };
  });
}
const a = step('tensorflow'), b = step('cpu');
const diff = (p, q) => p.reduce((m, v, i) => Math.max(m, Math.abs(v - q[i])), 0);
info.maxDiffOut = diff(a.out, b.out);
info.maxDiffGrad = diff(a.grad, b.grad);
info.loss0 = a.loss0; info.loss1 = a.loss1;
if (!(info.maxDiffOut < 1e-4 && info.maxDiffGrad < 1e-4)) throw new Error('tensorflow and cpu backends disagree: ' + JSON.stringify(info));
if (!(a.loss1 < a.loss0)) throw new Error('one SGD step on conv2d did not lower the loss: ' + JSON.stringify(info));
if (requireGpu && !info.gpu) throw new Error('--require-gpu: built against a GPU libtensorflow but TensorFlow sees no GPU (CUDA/cuDNN libraries not found by the loader, no driver, or no GPU); ' + JSON.stringify(info));
console.log('G2D_SMOKE ' + JSON.stringify(info));
`;

function smokeTest(tfjs, opts) {
  const env = { ...process.env };
  if (env.TF_CPP_MIN_LOG_LEVEL === undefined) env.TF_CPP_MIN_LOG_LEVEL = '2';
  const r = run(process.execPath, ['-e', SMOKE, tfjs.dir, opts.requireGpu ? 'require-gpu' : opts.gpu ? 'gpu' : 'cpu'], { env, timeout: 300_000 });
  const m = /^G2D_SMOKE (.*)$/m.exec(r.stdout || '');
  if (r.status !== 0 || !m) {
    const outText = `${r.stdout || ''}${r.stderr || ''}`.trim().split('\n').slice(-25).join('\n');
    const sig = r.signal ? ` (killed by ${r.signal}${r.signal === 'SIGILL' ? ': CPU lacks instructions libtensorflow was built for' : ''})` : '';
    throw new BuildError(`smoke test failed: require('${tfjs.dir}') + conv2d/gradient check, exit ${r.status}${sig}\n${outText}`,
      'the addon is built but does not work; see the error above');
  }
  const i = JSON.parse(m[1]);
  log(`smoke test ok: backend=tensorflow, libtensorflow ${i.libtensorflow}, tfjs ${i.tfjs}, gpu=${i.gpu}, load ${i.loadMs} ms; `
    + `conv2d vs cpu max|diff| out=${i.maxDiffOut.toExponential(1)} grad=${i.maxDiffGrad.toExponential(1)}; `
    + `SGD step loss ${i.loss0.toFixed(5)} -> ${i.loss1.toFixed(5)}`);
  if (opts.gpu) {
    const d = gpuDiagnosis();
    if (i.gpu) log(`CUDA device visible: TensorFlow runs on the GPU${d.devices.length ? ` (${d.devices.join('; ')})` : ''}`);
    else {
      i.noGpuReason = d.reason ?? 'TensorFlow found no usable GPU (run with TF_CPP_MIN_LOG_LEVEL=0 to see its reason)';
      log(`no CUDA device visible: ${i.noGpuReason}; the GPU build loaded and passed the smoke test on the CPU`);
    }
  }
  return i;
}

// Why TensorFlow may see no GPU here (first reason found), and nvidia-smi's device list.
function gpuDiagnosis() {
  const devices = [];
  const smi = which('nvidia-smi') ? run('nvidia-smi', ['-L'], { timeout: 10_000 }) : null;
  if (smi && smi.status === 0) devices.push(...smi.stdout.split('\n').map((l) => l.trim()).filter(Boolean));
  const cvd = process.env.CUDA_VISIBLE_DEVICES;
  if (cvd !== undefined && (cvd.trim() === '' || cvd.trim() === '-1')) return { devices, reason: `CUDA_VISIBLE_DEVICES="${cvd}" hides every GPU` };
  let nodes = [];
  try { nodes = fs.readdirSync('/dev').filter((n) => /^nvidia\d+$/.test(n)); } catch { /* no /dev */ }
  if (!nodes.length) return { devices, reason: 'no NVIDIA GPU device nodes (/dev/nvidia0, ...): no GPU, or the container was started without one' };
  const ldc = which('ldconfig') || (exists('/sbin/ldconfig') ? '/sbin/ldconfig' : null);
  const cache = ldc ? run(ldc, ['-p']).stdout || '' : '';
  const dirs = ['/usr/lib/x86_64-linux-gnu', '/usr/lib64', '/usr/local/nvidia/lib64', '/usr/lib/wsl/lib', ...(process.env.LD_LIBRARY_PATH || '').split(':').filter(Boolean)];
  if (!/libcuda\.so\.1\b/.test(cache) && !dirs.some((d) => exists(path.join(d, 'libcuda.so.1')))) {
    return { devices, reason: `/dev/${nodes[0]} exists but the NVIDIA driver library libcuda.so.1 is not on the loader path (install the driver, >= 450.80.02 for CUDA 11.8)` };
  }
  return { devices, reason: null };
}

// ---------------------------------------------------------------- stamp

function sourceKey(opts, versions, localLoc) {
  if (!localLoc) {
    const L = pinnedSpec(opts, versions);
    // (the CPU key is unchanged from earlier builds, so they stay 'already built')
    return { kind: 'pinned', id: L.id, sha256: L.sha256, ...(L.runtimeWheels ? { runtime: L.runtimeWheels.map((w) => w.sha256) } : {}) };
  }
  return {
    kind: 'local', copy: opts.copy, includeDir: localLoc.includeDir,
    libs: localLoc.libs.map((l) => ({ src: l.src, name: l.name, size: l.st.size, mtimeMs: l.st.mtimeMs })),
  };
}

function stampKey(tfjs, target, source, opts) {
  return {
    schema: STAMP_SCHEMA, package: `${tfjs.pkg.name}@${tfjs.pkg.version}`, addon: target.file, napi: target.napi,
    platform: `${process.platform}-${process.arch}`, gpu: opts.gpu, source,
  };
}

function alreadyBuilt(tfjs, target, key) {
  const stampFile = path.join(tfjs.dir, 'deps', STAMP_NAME);
  if (!exists(stampFile)) return false;
  let stamp;
  try { stamp = JSON.parse(fs.readFileSync(stampFile, 'utf8')); } catch { return false; }
  if (JSON.stringify(stamp.key) !== JSON.stringify(key)) return false;
  const need = [target.file, ...target.extra, path.join(tfjs.dir, 'deps', 'include', 'tensorflow', 'c', 'c_api.h'),
    path.join(tfjs.dir, 'deps', 'lib', 'libtensorflow.so'), path.join(tfjs.dir, 'deps', 'lib', 'libtensorflow_framework.so')];
  return need.every((f) => exists(f)); // exists() follows symlinks
}

// ---------------------------------------------------------------- main

async function main() {
  const t0 = Date.now();
  const opts = parseArgs(process.argv.slice(2));
  if (opts.help) { process.stdout.write(HELP); return; }
  if (process.platform !== 'linux') {
    throw new BuildError(`only Linux is supported (this is ${process.platform})`, 'tfjs-node on macOS/Windows needs the official prebuilt binaries');
  }
  const versions = JSON.parse(fs.readFileSync(path.join(HERE, 'versions.json'), 'utf8'));
  const packages = findTfjsPackages(opts, versions);
  const localLoc = opts.libtensorflow ? locateLocalLibtensorflow(opts.libtensorflow) : null;
  const source = sourceKey(opts, versions, localLoc);

  const todo = [];
  for (const tfjs of packages) {
    const target = addonTarget(tfjs);
    const key = stampKey(tfjs, target, source, opts);
    if (!opts.force && alreadyBuilt(tfjs, target, key)) {
      log(`already built: ${tfjs.pkg.name}@${tfjs.pkg.version} at ${tfjs.dir} (${target.file})`);
      if (opts.verify) smokeTest(tfjs, opts);
      continue;
    }
    todo.push({ tfjs, target, key });
  }
  if (!todo.length) return;

  const tools = checkToolchain(opts, todo.map((t) => t.tfjs.dir));
  const lib = localLoc ? localLibtensorflow(localLoc, versions) : await pinnedLibtensorflow(opts, versions);
  for (const { tfjs, target, key } of todo) {
    log(`building ${tfjs.pkg.name}@${tfjs.pkg.version} in ${tfjs.dir} against ${lib.label}`);
    removePath(path.join(tfjs.dir, 'deps', STAMP_NAME));
    installDeps(tfjs.dir, lib, opts);
    await buildAddon(tfjs, target, tools, opts);
    const smoke = opts.smoke ? smokeTest(tfjs, opts) : null;
    if (!smoke) log('smoke test skipped (--no-smoke)');
    fs.writeFileSync(path.join(tfjs.dir, 'deps', STAMP_NAME),
      `${JSON.stringify({ key, builtAt: new Date().toISOString(), node: process.version, smoke }, null, 2)}\n`);
  }
  log(`done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

main().catch((e) => {
  if (e instanceof BuildError) {
    console.error(`${TAG} ERROR: ${e.message}`);
    if (e.hint) console.error(`${TAG} hint: ${e.hint}`);
  } else {
    console.error(`${TAG} ERROR (unexpected):`, e && e.stack ? e.stack : e);
  }
  process.exit(1);
});
