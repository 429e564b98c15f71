/**
 * Every bin a workspace package or app declares can be run from the repository as
 * `pnpm <bin> …` (a root script through tools/cli/run-bin.mjs, which runs the built JavaScript
 * in the caller's directory); `g2d-doctor` is `pnpm run doctor`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../../..');

function bins(): { bin: string; dir: string }[] {
  const out: { bin: string; dir: string }[] = [];
  for (const group of ['packages', 'apps']) {
    for (const name of fs.readdirSync(path.join(root, group))) {
      const file = path.join(root, group, name, 'package.json');
      if (!fs.existsSync(file)) continue;
      const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { bin?: Record<string, string> };
      for (const bin of Object.keys(pkg.bin ?? {})) out.push({ bin, dir: `${group}/${name}` });
    }
  }
  return out;
}

describe('workspace bins', () => {
  const scripts = (JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

  it('finds the bins (pretraining and the evaluation apps among them)', () => {
    const names = bins().map((b) => b.bin);
    expect(names).toEqual(expect.arrayContaining(['g2d-pretrain', 'g2d-data', 'g2d-text', 'g2d-eval-classification']));
  });

  it.each(bins().filter((b) => b.bin !== 'g2d-doctor'))('`pnpm $bin` runs $dir through run-bin', ({ bin, dir }) => {
    const script = scripts[bin];
    expect(script).toBeDefined();
    const target = dir.startsWith('packages/') ? dir.slice('packages/'.length) : `../${dir}`;
    expect(script).toBe(`node tools/cli/run-bin.mjs ${target}`);
  });

  it('g2d-doctor is `pnpm run doctor`', () => {
    expect(scripts.doctor).toBe('nx run core:doctor');
  });
});
