/**
 * The workspace's module boundaries are enforced by eslint (@nx/enforce-module-boundaries):
 * apps may import packages, packages may never import apps, and layers import only downward
 * (foundation: core, nn -> component: data, text, vision, losses, pseudo-mask, metrics ->
 * composition: model, heads, train -> app). This lints fixture code as if it
 * sat inside a package and inside an app, so a broken constraint fails the test suite.
 */
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';

const root = path.resolve(__dirname, '../../..');

// eslint runs as a child process (its flat config is ESM, which jest's VM cannot import)
async function lint(code: string, file: string) {
  const bin = path.join(root, 'node_modules/eslint/bin/eslint.js');
  const r = spawnSync(process.execPath, [bin, '--format', 'json', '--stdin', '--stdin-filename', path.join(root, file)], {
    cwd: root,
    input: code,
    encoding: 'utf8',
    env: { ...process.env, NX_DAEMON: 'false' },
  });
  if (!r.stdout) throw new Error(`eslint produced no output: ${r.stderr}`);
  const [res] = JSON.parse(r.stdout) as { messages: { ruleId: string | null; severity: number; message: string }[] }[];
  return res!.messages.filter((m) => m.ruleId === '@nx/enforce-module-boundaries');
}

describe('module boundaries', () => {
  // the rule is skipped without a cached project graph: compute it first
  beforeAll(() => {
    const r = spawnSync(process.execPath, [path.join(root, 'node_modules/nx/dist/bin/nx.js'), 'show', 'projects'], {
      cwd: root, encoding: 'utf8', env: { ...process.env, NX_DAEMON: 'false' },
    });
    if (r.status !== 0) throw new Error(`nx show projects failed: ${r.stderr}`);
  });
  it('a package importing an app fails lint', async () => {
    // (heads: a library no app of this fixture depends on, so nx reports the tag rule, not a cycle)
    const msgs = await lint("import '@g2d-ts/app-pretrain';\nexport const x = 1;\n", 'packages/heads/src/__boundary_fixture__.ts');
    expect(msgs).toHaveLength(1);
    expect(msgs[0]!.severity).toBe(2);
    expect(msgs[0]!.message).toMatch(/tagged with "type:lib" can only depend on libs tagged with "type:lib"/);
  });
  it('an app importing a package passes', async () => {
    const msgs = await lint("import { Rng } from '@g2d-ts/core';\nexport const r = new Rng(1);\n", 'apps/pretrain/src/__boundary_fixture__.ts');
    expect(msgs).toEqual([]);
  });
  it('an app importing another app fails lint', async () => {
    const msgs = await lint("import '@g2d-ts/app-eval-zeroshot';\nexport const x = 1;\n", 'apps/pretrain/src/__boundary_fixture__.ts');
    expect(msgs.length).toBeGreaterThan(0);
  });

  // layers import only downward: foundation (core, nn) -> component -> composition -> app.
  // (A fixture pair must not already depend the other way: nx then reports the cycle instead.)
  it('a component importing a composition package fails lint', async () => {
    const msgs = await lint("import '@g2d-ts/heads';\nexport const x = 1;\n", 'packages/pseudo-mask/src/__boundary_fixture__.ts');
    expect(msgs).toHaveLength(1);
    expect(msgs[0]!.severity).toBe(2);
    expect(msgs[0]!.message).toMatch(/tagged with "layer:component" can only depend on libs tagged with "layer:foundation", "layer:component"/);
  });
  it('a foundation package importing a component fails lint', async () => {
    const msgs = await lint("import '@g2d-ts/metrics';\nexport const x = 1;\n", 'packages/nn/src/__boundary_fixture__.ts');
    expect(msgs).toHaveLength(1);
    expect(msgs[0]!.message).toMatch(/tagged with "layer:foundation" can only depend on libs tagged with "layer:foundation"/);
  });
  it('imports downward and sideways within a layer pass', async () => {
    const fixtures: [string, string][] = [
      ["import { Module } from '@g2d-ts/nn';\nimport { Rng } from '@g2d-ts/core';\nexport const x = [Module, Rng];\n", 'packages/vision/src/__boundary_fixture__.ts'],
      ["import { Rng } from '@g2d-ts/core';\nexport const x = Rng;\n", 'packages/nn/src/__boundary_fixture__.ts'],
      ["import { clipLoss } from '@g2d-ts/losses';\nimport { BertModel } from '@g2d-ts/text';\nexport const x = [clipLoss, BertModel];\n", 'packages/model/src/__boundary_fixture__.ts'],
      ["import { BertModel } from '@g2d-ts/text';\nexport const x = BertModel;\n", 'packages/vision/src/__boundary_fixture__.ts'],
    ];
    for (const [code, file] of fixtures) expect({ file, msgs: await lint(code, file) }).toEqual({ file, msgs: [] });
  });
});
