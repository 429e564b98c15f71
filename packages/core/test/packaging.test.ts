/** What users meet when they install the packages: only apps pick (and install) a backend. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { backendSearchPaths, resolveBackendPackage } from '../src';

const root = path.resolve(__dirname, '../../..');
const readJson = (p: string) => JSON.parse(fs.readFileSync(path.join(root, p), 'utf8'));
const BACKENDS = ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-backend-wasm'];

describe('packaging', () => {
  it('no library package depends on a tfjs backend (npm i @g2d-ts/losses must not pull tfjs-node-gpu); every app does, optionally', () => {
    const libs = fs.readdirSync(path.join(root, 'packages')).filter((d) => fs.existsSync(path.join(root, 'packages', d, 'package.json')));
    expect(libs).toContain('core');
    for (const d of libs) {
      const pj = readJson(`packages/${d}/package.json`);
      for (const field of ['dependencies', 'optionalDependencies', 'peerDependencies']) {
        for (const b of BACKENDS) expect({ pkg: pj.name, field, dep: b, has: b in (pj[field] ?? {}) }).toEqual({ pkg: pj.name, field, dep: b, has: false });
      }
    }
    const apps = fs.readdirSync(path.join(root, 'apps')).filter((d) => fs.existsSync(path.join(root, 'apps', d, 'package.json')));
    expect(apps.length).toBeGreaterThan(0);
    for (const d of apps) {
      const pj = readJson(`apps/${d}/package.json`);
      for (const b of BACKENDS) expect({ app: pj.name, dep: b, v: pj.optionalDependencies?.[b] }).toEqual({ app: pj.name, dep: b, v: '4.22.0' });
    }
  });

  it('the packed @g2d-ts/core declares no script that needs tsx or the sources; core:doctor runs the built bin', () => {
    const pj = readJson('packages/core/package.json');
    for (const [name, cmd] of Object.entries<string>(pj.scripts ?? {})) {
      if (['build', 'test', 'lint', 'typecheck'].includes(name)) continue;
      expect({ name, cmd, needsSource: /\btsx\b|src\//.test(cmd) }).toEqual({ name, cmd, needsSource: false });
    }
    expect(pj.scripts?.doctor).toBeUndefined();
    expect(pj.nx.targets.doctor.command).toBe('node dist/cli.js');
    expect(pj.bin['g2d-doctor']).toBe('./dist/cli.js');
    expect(readJson('package.json').scripts.doctor).toBe('nx run core:doctor');
  });

  it('backend packages resolve from the program, the working directory (workspace root) or core, and report where from', () => {
    const paths = backendSearchPaths();
    expect(paths).toContain(process.cwd());
    expect(resolveBackendPackage('@tensorflow/tfjs-node', [path.join(root, '..', 'definitely-not-here')])).toBeUndefined();
    const found = resolveBackendPackage('@tensorflow/tfjs-backend-wasm', [root]);
    // installed in the workspace by pnpm install (the root's devDependencies)
    expect(found?.dir).toMatch(/tfjs-backend-wasm$/);
    expect(fs.existsSync(path.join(found!.dir, 'package.json'))).toBe(true);
  });
});
