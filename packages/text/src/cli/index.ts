#!/usr/bin/env node
/**
 * g2d-text: the tokenizer on the command line. One entry per subcommand in `TEXT_COMMANDS`;
 * parsing, `--help`, `--version`, exit codes (0 ok, 1 bad input, 2 usage) and EPIPE come from
 * @g2d-ts/core's `runCli`.
 */
import { packageVersion, runBin, runCli, type CliCommand, type CliIO, type CliSpec } from '@g2d-ts/core';
import { tokenizeCommand } from './tokenize';

export const TEXT_COMMANDS: Record<string, CliCommand> = {
  tokenize: tokenizeCommand,
};

export const TEXT_CLI: CliSpec = {
  name: 'g2d-text',
  version: packageVersion(__dirname, '@g2d-ts/text'),
  summary: 'BERT WordPiece tokenization for G2D',
  commands: TEXT_COMMANDS,
  footer: 'Relative paths resolve against the current directory.',
};

/** Runs `g2d-text argv` with the given streams (tests) and resolves to the exit code. */
export function runTextCli(argv: string[], io: CliIO): Promise<number> {
  return runCli(TEXT_CLI, argv, io);
}

// run when executed as the bin (not when a test imports it)
if (typeof require !== 'undefined' && require.main === module) runBin(TEXT_CLI);
