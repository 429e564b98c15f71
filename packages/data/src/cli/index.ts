#!/usr/bin/env node
/**
 * g2d-data: radiograph I/O and dataset caches. One entry per subcommand in `DATA_COMMANDS`
 * (add a command by adding its entry); parsing, `--help`, `--version`, exit codes (0 ok,
 * 1 bad input or data, 2 usage) and EPIPE come from @g2d-ts/core's `runCli`.
 */
import { packageVersion, runBin, runCli, type CliCommand, type CliIO, type CliSpec } from '@g2d-ts/core';
import { convertCommand } from './convert';
import { inspectCommand } from './inspect';
import { prepareCommand } from './prepare';
import { synthCommand } from '../synth/cli';

export const DATA_COMMANDS: Record<string, CliCommand> = {
  convert: convertCommand,
  inspect: inspectCommand,
  prepare: prepareCommand,
  synth: synthCommand,
};

export const DATA_CLI: CliSpec = {
  name: 'g2d-data',
  version: packageVersion(__dirname, '@g2d-ts/data'),
  summary: 'radiograph I/O for G2D (DICOM, PNG, JPEG) and dataset caches',
  commands: DATA_COMMANDS,
  footer: 'Relative paths resolve against the current directory.',
};

/** Runs `g2d-data argv` with the given streams (tests) and resolves to the exit code. */
export function main(argv: string[], io: CliIO = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  return runCli(DATA_CLI, argv, io);
}

// run when executed as the bin (not when a test imports the table)
if (typeof require !== 'undefined' && require.main === module) runBin(DATA_CLI);
