// @ts-check
/**
 * nx plugin: evaluation grids as separate, cached nx tasks.
 *
 * For every `apps/<app>/eval-grid.json` (schema: GridSpecSchema in packages/eval/src/grid.ts)
 * it adds to that app's project:
 *
 * - one target per cell, `grid-<dataset>-<pct>-s<seed>` (e.g. `grid-covid-10pct-s1`): runs
 *   `node apps/<app>/<bin> <args> <dataset args> --fraction F --seed S --out <out>/<cell>` from
 *   the workspace root; cached (inputs: the app's and its dependencies' sources, the grid file,
 *   a fingerprint of the spec's `dataInputs` (data folders, checkpoints outside git), and
 *   G2D_BACKEND; output: the cell's folder), so finished cells are restored from the cache and
 *   cells can be spread over agents;
 * - `grid`: depends on every cell and runs `<bin> aggregate --grid <file>` (mean ± std over
 *   seeds into <out>/results.md and <out>/grid-results.json).
 *
 * Registered in nx.json: { "plugins": ["./tools/nx-eval-grid/index.js"] }.
 */
const fs = require('node:fs');
const path = require('node:path');

const PATTERN = 'apps/*/eval-grid.json';

/** @param {number} f */
function fractionId(f) {
  const p = f * 100;
  const s = String(Number.isInteger(p) ? p : Number(p.toPrecision(3)));
  return `${s.replace('.', 'p')}pct`;
}

/** POSIX shell quoting of one argument. @param {string} a */
function quote(a) {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

/**
 * @param {string} file
 * @param {string} root
 */
function readSpec(file, root) {
  const abs = path.join(root, file);
  let spec;
  try {
    spec = JSON.parse(fs.readFileSync(abs, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: not valid JSON: ${/** @type {Error} */ (e).message}`);
  }
  const bad = (/** @type {string} */ what) => new Error(`${file}: ${what} (see packages/eval/src/grid.ts GridSpecSchema)`);
  if (!spec || typeof spec !== 'object') throw bad('must be an object');
  if (typeof spec.out !== 'string' || !spec.out) throw bad('"out" must be a folder relative to the workspace root');
  if (!spec.datasets || typeof spec.datasets !== 'object' || !Object.keys(spec.datasets).length) throw bad('"datasets" must map names to argument lists');
  for (const [k, v] of Object.entries(spec.datasets)) {
    if (!/^[a-z0-9][a-z0-9_-]*$/i.test(k)) throw bad(`dataset name "${k}" must be letters, digits, - and _`);
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw bad(`datasets.${k} must be a list of strings`);
  }
  if (!Array.isArray(spec.fractions) || !spec.fractions.length || spec.fractions.some((/** @type {unknown} */ f) => typeof f !== 'number' || !(f > 0 && f <= 1))) throw bad('"fractions" must be numbers in (0, 1]');
  if (!Array.isArray(spec.seeds) || !spec.seeds.length || spec.seeds.some((/** @type {unknown} */ s) => !Number.isInteger(s) || /** @type {number} */ (s) < 0)) throw bad('"seeds" must be integers >= 0');
  if (spec.args !== undefined && (!Array.isArray(spec.args) || spec.args.some((/** @type {unknown} */ x) => typeof x !== 'string'))) throw bad('"args" must be a list of strings');
  return spec;
}

/** @type {import('nx/src/project-graph/plugins').CreateNodesFunction} */
async function createNodesFn(files, _options, context) {
  const results = [];
  for (const file of files) {
    const spec = readSpec(file, context.workspaceRoot);
    const projectRoot = path.posix.dirname(file);
    const bin = path.posix.join(projectRoot, spec.bin ?? 'dist/main.js');
    const dataInputs = Array.isArray(spec.dataInputs) ? spec.dataInputs : [];
    const inputs = [
      'production',
      '^production',
      `{projectRoot}/eval-grid.json`,
      { env: 'G2D_BACKEND' },
      ...(dataInputs.length ? [{ runtime: `node tools/nx-eval-grid/fingerprint.js ${dataInputs.map(quote).join(' ')}` }] : []),
    ];
    /** @type {Record<string, any>} */
    const targets = {};
    const cells = [];
    for (const [dataset, dargs] of Object.entries(spec.datasets)) {
      for (const fraction of spec.fractions) {
        for (const seed of spec.seeds) {
          const id = `${dataset}-${fractionId(fraction)}-s${seed}`;
          const out = path.posix.join(spec.out, id);
          const args = [...(spec.args ?? []), ...dargs, '--fraction', String(fraction), '--seed', String(seed), '--out', out];
          const name = `grid-${id}`;
          targets[name] = {
            executor: 'nx:run-commands',
            options: { command: `node ${bin} ${args.map(quote).join(' ')}` },
            cache: true,
            dependsOn: ['build'],
            inputs,
            outputs: [`{workspaceRoot}/${out}`],
            metadata: { description: `grid cell ${id}: ${dataset}, ${fraction * 100}% labels, seed ${seed}`, technologies: ['g2d-eval-grid'] },
          };
          cells.push(name);
        }
      }
    }
    targets.grid = {
      executor: 'nx:run-commands',
      options: { command: `node ${bin} aggregate --grid ${quote(file)}` },
      cache: true,
      dependsOn: ['build', ...cells],
      inputs: [...inputs, { dependentTasksOutputFiles: '**/results.json', transitive: false }],
      outputs: [`{workspaceRoot}/${spec.out}/results.md`, `{workspaceRoot}/${spec.out}/grid-results.json`],
      metadata: { description: `aggregate ${cells.length} grid cells (mean ± std over seeds) into ${spec.out}/results.md`, technologies: ['g2d-eval-grid'] },
    };
    results.push(/** @type {const} */ ([file, { projects: { [projectRoot]: { targets } } }]));
  }
  return results;
}

module.exports = {
  name: 'g2d-eval-grid',
  createNodes: [PATTERN, createNodesFn],
  createNodesV2: [PATTERN, createNodesFn],
  fractionId,
  quote,
};
