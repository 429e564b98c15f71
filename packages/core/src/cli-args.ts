/**
 * One command-line convention for every `g2d-*` bin, on Node's strict `util.parseArgs`:
 *
 * - a table of subcommands (one entry each: summary, positionals, options, run), or a single
 *   default command;
 * - unknown options and stray arguments are usage errors that name them (with a "did you
 *   mean" for a near miss);
 * - `--help` / `-h` per subcommand, `<bin> help <command>`, `--version` / `-V`;
 * - exit codes: 0 ok, 1 bad input or data (a `G2DError`, a file that cannot be read), 2 usage;
 * - stdout closed early by the reader (`| head`: EPIPE) ends the run quietly with 0;
 * - relative paths resolve against `ctx.cwd` (the caller's directory).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import type { Readable, Writable } from 'node:stream';
import { G2DError } from './errors';

export const EXIT_OK = 0;
/** bad input or data: a file that is missing, corrupt or inconsistent; a run that produced nothing */
export const EXIT_DATA = 1;
/** the command line itself is wrong: unknown option, stray or missing argument, bad option value */
export const EXIT_USAGE = 2;

/** A command-line mistake (exit 2); data problems are `G2DError`s (exit 1). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface CliOption {
  type: 'string' | 'boolean';
  short?: string;
  /** repeatable (values collected in an array) */
  multiple?: boolean;
  /** placeholder shown in the help, e.g. `N`, `DIR` (string options) */
  value?: string;
  description: string;
}

export interface CliPositional {
  name: string;
  optional?: boolean;
  /** takes every remaining argument (last positional only) */
  variadic?: boolean;
}

export type CliValues = Record<string, string | boolean | string[] | undefined>;

export interface CliArgs {
  values: CliValues;
  /** positionals by name (a variadic one holds them joined by NUL; use `rest`) */
  positionals: Record<string, string | undefined>;
  /** the arguments a variadic positional took */
  rest: string[];
}

export interface CliIO {
  stdout: Writable;
  stderr: Writable;
  stdin?: Readable;
  /** where relative paths resolve (default process.cwd()) */
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

export interface CliContext {
  readonly bin: string;
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly stdin: Readable;
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** write to stdout (dropped once the reader has gone away) */
  out(text: string): void;
  /** write to stderr */
  err(text: string): void;
  /** write to stdout and wait for the pipe to drain (for long outputs) */
  outAsync(text: string): Promise<void>;
  /** path.resolve(cwd, p) */
  resolvePath(p: string): string;
  /** true once stdout reported EPIPE (the reader closed it, e.g. `| head`) */
  readonly stdoutClosed: boolean;
}

export interface CliCommand {
  /** one line, shown in the command list */
  summary: string;
  positionals?: CliPositional[];
  options?: Record<string, CliOption>;
  /** the usage line after `<bin> <command>` (default: built from positionals and options) */
  usage?: string;
  /** text shown after the options in `--help` (a function: computed when asked) */
  details?: string | (() => string);
  /** resolves to the exit code (default 0) */
  run(args: CliArgs, ctx: CliContext): Promise<number | void> | number | void;
}

export interface CliSpec {
  /** the bin's name, e.g. `g2d-data` */
  name: string;
  version: string;
  summary: string;
  commands: Record<string, CliCommand>;
  /** the command run when the first argument is not a command name (single-command bins) */
  defaultCommand?: string;
  /** text at the end of the top-level help */
  footer?: string;
}

const HELP_OPTION: CliOption = { type: 'boolean', short: 'h', description: 'show this help' };

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0]!;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const t = d[j]!;
      d[j] = Math.min(d[j]! + 1, d[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = t;
    }
  }
  return d[b.length]!;
}

function suggest(word: string, candidates: string[]): string {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const dd = distance(word, c);
    if (dd < bestD) {
      bestD = dd;
      best = c;
    }
  }
  return best !== undefined && bestD <= Math.max(1, Math.floor(word.length / 3)) ? best : '';
}

function usageLine(spec: CliSpec, name: string, cmd: CliCommand): string {
  const prefix = name === spec.defaultCommand && Object.keys(spec.commands).length === 1 ? spec.name : `${spec.name} ${name}`;
  if (cmd.usage) return `${prefix} ${cmd.usage}`;
  const pos = (cmd.positionals ?? []).map((p) => {
    const s = `<${p.name}>${p.variadic ? '...' : ''}`;
    return p.optional ? `[${s}]` : s;
  });
  return [prefix, ...pos, Object.keys(cmd.options ?? {}).length ? '[options]' : ''].filter(Boolean).join(' ');
}

function optionRows(options: Record<string, CliOption>): string {
  const rows = Object.entries(options).map(([k, o]) => {
    const left = `${o.short ? `-${o.short}, ` : '    '}--${k}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`;
    return { left, right: o.description + (o.multiple ? ' (repeatable)' : '') };
  });
  const w = Math.min(30, Math.max(...rows.map((r) => r.left.length)) + 2);
  return rows
    .map((r) => {
      const lines = r.right.split('\n');
      const first = r.left.length + 2 > w ? `  ${r.left}\n  ${' '.repeat(w)}${lines[0]}` : `  ${r.left.padEnd(w)}${lines[0]}`;
      return [first, ...lines.slice(1).map((l) => `  ${' '.repeat(w)}${l}`)].join('\n');
    })
    .join('\n');
}

/** The `--help` text of one command. */
export function commandHelp(spec: CliSpec, name: string): string {
  const cmd = spec.commands[name];
  if (!cmd) throw new UsageError(`unknown command "${name}"`);
  const details = typeof cmd.details === 'function' ? cmd.details() : cmd.details;
  return (
    `usage: ${usageLine(spec, name, cmd)}\n\n${cmd.summary}\n\noptions:\n${optionRows({ ...(cmd.options ?? {}), help: HELP_OPTION })}\n` +
    (details ? `\n${details.replace(/\n*$/, '\n')}` : '')
  );
}

/** The top-level `--help` text. */
export function topHelp(spec: CliSpec): string {
  const names = Object.keys(spec.commands);
  const single = spec.defaultCommand !== undefined && names.length === 1;
  if (single) return commandHelp(spec, spec.defaultCommand!) + versionLine(spec);
  const w = Math.max(...names.map((n) => n.length)) + 2;
  return (
    `${spec.name}: ${spec.summary}\n\nusage:\n` +
    names.map((n) => `  ${usageLine(spec, n, spec.commands[n]!)}`).join('\n') +
    `\n  ${spec.name} <command> --help\n  ${spec.name} --version\n\ncommands:\n` +
    names.map((n) => `  ${n.padEnd(w)}${spec.commands[n]!.summary}`).join('\n') +
    '\n' +
    (spec.footer ? `\n${spec.footer.replace(/\n*$/, '\n')}` : '') +
    `\nexit codes: 0 ok, 1 bad input or data, 2 usage error\n`
  );
}

function versionLine(spec: CliSpec): string {
  return `\n${spec.name} ${spec.version}; exit codes: 0 ok, 1 bad input or data, 2 usage error\n`;
}

/** Rewrites util.parseArgs' messages into ours (naming the option, with a suggestion). */
function parseError(e: unknown, options: Record<string, CliOption>): UsageError {
  const code = (e as { code?: string }).code;
  const msg = e instanceof Error ? e.message : String(e);
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const opt = /'([^']+)'/.exec(msg)?.[1] ?? msg;
    const bare = opt.replace(/^-+/, '').split('=')[0]!;
    const s = suggest(bare, Object.keys(options));
    return new UsageError(`unknown option ${opt}${s ? ` (did you mean --${s}?)` : ''}`);
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const quoted = /'([^']+)'/.exec(msg)?.[1] ?? '';
    const opt = /--[\w-]+/.exec(quoted)?.[0] ?? /-\w/.exec(quoted)?.[0] ?? quoted;
    if (/argument missing/.test(msg)) return new UsageError(`option ${opt} needs a value`);
    if (/ambiguous/.test(msg)) return new UsageError(`option ${opt} needs a value (got the next option instead; write ${opt}=VALUE for a value that starts with "-")`);
    if (/does not take an argument/.test(msg)) return new UsageError(`option ${opt} does not take a value`);
    return new UsageError(msg.split('\n')[0]!);
  }
  return new UsageError(msg.split('\n')[0]!);
}

function parseCommand(cmdName: string, cmd: CliCommand, argv: string[]): CliArgs {
  const options = cmd.options ?? {};
  const pOptions: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const [k, o] of Object.entries(options)) {
    pOptions[k] = { type: o.type };
    if (o.short !== undefined) pOptions[k]!.short = o.short;
    if (o.multiple) pOptions[k]!.multiple = true;
  }
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args: argv, options: pOptions, allowPositionals: true, strict: true });
  } catch (e) {
    // a bad option table is a bug in the bin, not the user's mistake
    if (!String((e as { code?: string }).code).startsWith('ERR_PARSE_ARGS')) throw e;
    throw parseError(e, options);
  }
  const decl = cmd.positionals ?? [];
  const got = parsed.positionals;
  const positionals: Record<string, string | undefined> = {};
  let rest: string[] = [];
  for (let i = 0; i < decl.length; i++) {
    const p = decl[i]!;
    if (p.variadic) {
      rest = got.slice(i);
      if (!p.optional && rest.length === 0) throw new UsageError(`missing argument <${p.name}>`);
      positionals[p.name] = rest[0];
      break;
    }
    const v = got[i];
    if (v === undefined && !p.optional) throw new UsageError(`missing argument <${p.name}>`);
    positionals[p.name] = v;
  }
  const takesAll = decl.some((p) => p.variadic);
  if (!takesAll && got.length > decl.length) {
    const extra = got.slice(decl.length);
    throw new UsageError(`unexpected argument${extra.length > 1 ? 's' : ''} ${extra.map((x) => JSON.stringify(x)).join(' ')} (${cmdName} takes ${decl.length ? decl.map((p) => `<${p.name}>`).join(' ') : 'no positional arguments'})`);
  }
  return { values: parsed.values as CliValues, positionals, rest };
}

function wantsHelp(argv: string[]): boolean {
  for (const a of argv) {
    if (a === '--') return false;
    if (a === '--help' || a === '-h') return true;
  }
  return false;
}

function makeContext(spec: CliSpec, io: CliIO): CliContext & { closed: Promise<void> } {
  let stdoutClosed = false;
  let onClosed: (() => void) | undefined;
  const closed = new Promise<void>((r) => (onClosed = r));
  const onError = (e: NodeJS.ErrnoException) => {
    // the reader went away (`| head`): stop quietly; anything else after that is moot too
    if (e?.code === 'EPIPE' || e?.code === 'ERR_STREAM_DESTROYED' || stdoutClosed) {
      stdoutClosed = true;
      onClosed?.();
      return;
    }
    stdoutClosed = true;
    onClosed?.();
    try {
      io.stderr.write(`${spec.name}: cannot write the output: ${e?.message ?? e}\n`);
    } catch {
      /* nothing left to tell */
    }
  };
  io.stdout.on('error', onError);
  const cwd = io.cwd ?? process.cwd();
  const ctx = {
    bin: spec.name,
    stdout: io.stdout,
    stderr: io.stderr,
    stdin: io.stdin ?? process.stdin,
    cwd,
    env: io.env ?? process.env,
    closed,
    get stdoutClosed() {
      return stdoutClosed;
    },
    out(text: string) {
      if (!stdoutClosed && !io.stdout.destroyed) io.stdout.write(text);
    },
    err(text: string) {
      io.stderr.write(text);
    },
    async outAsync(text: string) {
      if (stdoutClosed || io.stdout.destroyed) return;
      if (!io.stdout.write(text)) {
        await new Promise<void>((r) => {
          const done = () => {
            io.stdout.off('drain', done);
            r();
          };
          io.stdout.on('drain', done);
          void closed.then(done);
        });
      }
    },
    resolvePath: (p: string) => path.resolve(cwd, p),
  };
  return ctx;
}

function describeError(spec: CliSpec, e: unknown): { code: number; text: string } {
  if (e instanceof UsageError) return { code: EXIT_USAGE, text: `${spec.name}: ${e.message}\n` };
  if (e instanceof G2DError) return { code: EXIT_DATA, text: `${spec.name}: ${e.message}\n` };
  const sys = e as NodeJS.ErrnoException;
  if (sys && typeof sys.code === 'string' && typeof sys.syscall === 'string') {
    // an fs error that escaped a reader: still the input's fault, and its message names the path
    return { code: EXIT_DATA, text: `${spec.name}: ${sys.message}\n` };
  }
  const detail = e instanceof Error ? (e.stack ?? e.message) : String(e);
  return { code: EXIT_DATA, text: `${spec.name}: internal error (please report it): ${detail}\n` };
}

/**
 * Parses `argv` against the spec, runs the command and resolves to the exit code. Never
 * throws: every error is printed to `io.stderr` as one line naming the problem.
 */
export async function runCli(spec: CliSpec, argv: string[], io: CliIO): Promise<number> {
  const ctx = makeContext(spec, io);
  const names = Object.keys(spec.commands);
  try {
    const first = argv[0];
    let rest = argv.slice(1);
    if (first === '--version' || first === '-V') {
      ctx.out(`${spec.name} ${spec.version}\n`);
      return EXIT_OK;
    }
    if (first === 'help') {
      if (rest.length === 0) {
        ctx.out(topHelp(spec));
        return EXIT_OK;
      }
      if (rest.length > 1) throw new UsageError(`help takes one command name, got ${rest.length} arguments`);
      if (!spec.commands[rest[0]!]) throw unknownCommand(spec, rest[0]!);
      ctx.out(commandHelp(spec, rest[0]!));
      return EXIT_OK;
    }
    let name: string;
    if (first !== undefined && spec.commands[first]) name = first;
    else if (spec.defaultCommand) {
      name = spec.defaultCommand;
      rest = argv;
    } else if (first === undefined) {
      ctx.err(topHelp(spec));
      return EXIT_USAGE;
    } else if (first === '--help' || first === '-h') {
      ctx.out(topHelp(spec));
      return EXIT_OK;
    } else throw unknownCommand(spec, first);
    const cmd = spec.commands[name]!;
    if (wantsHelp(rest)) {
      ctx.out(spec.defaultCommand === name && names.length === 1 ? topHelp(spec) : commandHelp(spec, name));
      return EXIT_OK;
    }
    const args = parseCommand(name, cmd, rest);
    const run = Promise.resolve()
      .then(() => cmd.run(args, ctx))
      .then(
        (c) => ({ code: c ?? EXIT_OK }),
        (error: unknown) => ({ error }),
      );
    // the reader closing stdout ends the run (what it would still print goes nowhere)
    const r: { code?: number; error?: unknown } = await Promise.race([run, ctx.closed.then(() => ({ code: EXIT_OK }))]);
    if ('error' in r) throw r.error;
    return r.code ?? EXIT_OK;
  } catch (e) {
    if (ctx.stdoutClosed) return EXIT_OK;
    const { code, text } = describeError(spec, e);
    ctx.err(text + (code === EXIT_USAGE ? `(${spec.name} ${argv[0] && spec.commands[argv[0]] ? `${argv[0]} ` : ''}--help for usage)\n` : ''));
    return code;
  }
}

function unknownCommand(spec: CliSpec, name: string): UsageError {
  const names = Object.keys(spec.commands);
  const s = name.startsWith('-') ? '' : suggest(name, names);
  const what = name.startsWith('-') ? `unknown option ${name} before the command` : `unknown command "${name}"`;
  return new UsageError(`${what}${s ? ` (did you mean "${s}"?)` : ''}; commands: ${names.join(', ')}`);
}

/**
 * Runs the CLI as the process's bin: real stdio, the exit code as the process's, EPIPE on
 * stdout ending the process quietly. The process exits once stdout has been flushed (a
 * loaded backend or codec may otherwise keep it alive).
 */
export function runBin(spec: CliSpec, argv: string[] = process.argv.slice(2)): void {
  runCli(spec, argv, { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin }).then(
    (code) => {
      process.exitCode = code;
      if (process.stdout.destroyed || process.stdout.writableEnded) process.exit(code);
      process.stdout.write('', () => process.exit(code));
    },
    (e: unknown) => {
      process.stderr.write(`${spec.name}: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(EXIT_DATA);
    },
  );
}

/** `--name` as an integer in [min, max] (usage error naming the option otherwise). */
export function intOption(values: CliValues, name: string, def: number, range?: { min?: number; max?: number }): number;
export function intOption(values: CliValues, name: string, def: undefined, range?: { min?: number; max?: number }): number | undefined;
export function intOption(values: CliValues, name: string, def: number | undefined, range: { min?: number; max?: number } = {}): number | undefined {
  const v = values[name];
  if (v === undefined) return def;
  if (typeof v !== 'string') throw new UsageError(`option --${name} needs a value`);
  const n = Number(v.trim());
  const min = range.min ?? Number.MIN_SAFE_INTEGER;
  const max = range.max ?? Number.MAX_SAFE_INTEGER;
  if (v.trim() === '' || !Number.isSafeInteger(n) || n < min || n > max) {
    const bounds = range.max !== undefined ? `${min}..${max}` : `>= ${min}`;
    throw new UsageError(`option --${name} must be an integer ${bounds}, got "${v}"`);
  }
  return n;
}

/** `--name` as one of `choices` (usage error listing them otherwise). */
export function choiceOption<T extends string>(values: CliValues, name: string, choices: readonly T[], def: T): T {
  const v = values[name];
  if (v === undefined) return def;
  if (typeof v !== 'string' || !(choices as readonly string[]).includes(v)) {
    throw new UsageError(`option --${name} must be one of ${choices.join(', ')}, got "${String(v)}"`);
  }
  return v as T;
}

/** `--name` as a string (undefined when absent). */
export function stringOption(values: CliValues, name: string): string | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new UsageError(`option --${name} needs a value`);
  if (v === '') throw new UsageError(`option --${name} needs a non-empty value`);
  return v;
}

/**
 * The `version` of the package named `name`, from the first package.json of that name found
 * walking up from `fromDir` (the built bin sits in dist/, the source in src/ or src/cli/).
 */
export function packageVersion(fromDir: string, name: string): string {
  let dir = fromDir;
  for (let i = 0; i < 5; i++) {
    const pj = path.join(dir, 'package.json');
    try {
      const p = JSON.parse(fs.readFileSync(pj, 'utf8')) as { name?: string; version?: string };
      if (p.name === name && p.version) return p.version;
    } catch {
      /* not here */
    }
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return 'unknown';
}
