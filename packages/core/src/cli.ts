#!/usr/bin/env node
import { doctor } from './doctor';

async function main(argv: string[]): Promise<number> {
  const [cmd = 'doctor', ...rest] = argv;
  if (cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write('usage: g2d-doctor [doctor] [--backend auto|tensorflow|wasm|cpu]\n' +
      'Prints JSON: backend in use, tfjs version, available backends (and why not), GPU devices, Node version.\n' +
      'G2D_BACKEND selects the backend as --backend does.\n');
    return 0;
  }
  if (cmd !== 'doctor') {
    process.stderr.write(`unknown command "${cmd}" (expected: doctor)\n`);
    return 2;
  }
  const i = rest.indexOf('--backend');
  const backend = i >= 0 ? rest[i + 1] : undefined;
  const report = await doctor({ backend });
  process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  return report.ok ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`g2d-doctor: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
