/**
 * `g2d-text` command line: `tokenize --vocab <vocab.txt|tokenizer.json> [--lowercase] [--max-length N]`
 * reads one text per line on stdin and prints one JSON array of ids per line
 * (with [CLS]/[SEP], no padding), so any pipeline can check or reuse the tokenization.
 */
import * as readline from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { G2DError } from '@g2d-ts/core';
import { BertTokenizer } from '../tokenizer/tokenizer';

export const USAGE = `usage: g2d-text tokenize --vocab <vocab.txt|tokenizer.json> [--lowercase] [--max-length N]

  Reads one text per line on stdin; prints one JSON array of token ids per line
  ([CLS] ... [SEP], no padding), e.g.
    echo "No acute cardiopulmonary process." | g2d-text tokenize --vocab vocab.txt

  --vocab FILE      a BERT vocab.txt (WordPiece) or a Hugging Face tokenizer.json
  --lowercase       do_lower_case (vocab.txt only; default: cased, as Bio_ClinicalBERT's vocab)
  --max-length N    truncate to N ids, special tokens included
`;

export interface CliIO {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
}

interface TokenizeArgs {
  vocab: string;
  lowercase: boolean;
  maxLength?: number;
}

function parseTokenizeArgs(args: string[]): TokenizeArgs {
  let vocab: string | undefined;
  let lowercase = false;
  let maxLength: number | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = (): string => {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : args[++i];
      if (v === undefined || v === '') throw new UsageError(`${a.split('=')[0]} needs a value`);
      return v;
    };
    if (a === '--vocab' || a.startsWith('--vocab=')) vocab = value();
    else if (a === '--lowercase') lowercase = true;
    else if (a === '--max-length' || a.startsWith('--max-length=')) {
      const v = value();
      const n = Number(v);
      if (!Number.isInteger(n) || n < 2) throw new UsageError(`--max-length must be an integer >= 2 (room for [CLS] and [SEP]), got "${v}"`);
      maxLength = n;
    } else throw new UsageError(`unknown option "${a}"`);
  }
  if (!vocab) throw new UsageError('--vocab is required');
  return { vocab, lowercase, maxLength };
}

class UsageError extends Error {}

/** Runs the CLI; resolves to the exit code (0 ok, 1 bad input, 2 usage). */
export async function runTextCli(argv: string[], io: CliIO): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    (cmd ? io.stdout : io.stderr).write(USAGE);
    return cmd ? 0 : 2;
  }
  try {
    if (cmd !== 'tokenize') throw new UsageError(`unknown command "${cmd}" (expected: tokenize)`);
    if (rest.includes('--help') || rest.includes('-h')) {
      io.stdout.write(USAGE);
      return 0;
    }
    const args = parseTokenizeArgs(rest);
    const tok = BertTokenizer.fromFile(args.vocab, args.vocab.toLowerCase().endsWith('.json') ? (args.lowercase ? { lowercase: true } : {}) : { lowercase: args.lowercase });
    const rl = readline.createInterface({ input: io.stdin, crlfDelay: Infinity, terminal: false });
    for await (const line of rl) {
      const ids = tok.encode(line, args.maxLength !== undefined ? { maxLength: args.maxLength } : {});
      if (!io.stdout.write(JSON.stringify(ids) + '\n')) await new Promise((r) => io.stdout.once('drain', r));
    }
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(`g2d-text: ${e.message}\n\n${USAGE}`);
      return 2;
    }
    io.stderr.write(`g2d-text: ${e instanceof G2DError || e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}
