#!/usr/bin/env node
/** g2d-doctor: the environment report (backend in use, what else is available and why not). */
import { doctor } from './doctor';
import { BACKEND_CHOICES } from './backend';
import { choiceOption, packageVersion, runBin, type CliSpec } from './cli-args';

export const DOCTOR_CLI: CliSpec = {
  name: 'g2d-doctor',
  version: packageVersion(__dirname, '@g2d-ts/core'),
  summary: 'environment report',
  defaultCommand: 'doctor',
  commands: {
    doctor: {
      summary:
        'Prints JSON: the backend in use (and the package and folder it was loaded from), tfjs version,\n' +
        'every backend candidate with why it is or is not usable, GPU devices, Node version.\n' +
        'Exits 1 when the requested backend is unavailable (saying what to install) or does not compute.',
      usage: '[doctor] [--backend auto|tensorflow|wasm|cpu]',
      options: {
        backend: { type: 'string', value: 'NAME', description: `${BACKEND_CHOICES.join('|')} (default: $G2D_BACKEND, else auto)` },
      },
      details:
        'The backend packages (@tensorflow/tfjs-node-gpu, @tensorflow/tfjs-node, @tensorflow/tfjs-backend-wasm)\n' +
        'are optional dependencies of the apps, not of @g2d-ts/core: they are looked up from the running\n' +
        'program, the current directory and its parents (a workspace root), then @g2d-ts/core itself.',
      async run({ values }, ctx) {
        const backend = values.backend === undefined ? undefined : choiceOption(values, 'backend', BACKEND_CHOICES, 'auto');
        const report = await doctor({ backend });
        ctx.out(JSON.stringify(report, null, 2) + '\n');
        return report.ok ? 0 : 1;
      },
    },
  },
};

// run when executed as the bin (not when a test imports the spec)
if (typeof require !== 'undefined' && require.main === module) runBin(DOCTOR_CLI);
