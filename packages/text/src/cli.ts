#!/usr/bin/env node
import { runTextCli } from './cli/run';

runTextCli(process.argv.slice(2), { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr }).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`g2d-text: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
