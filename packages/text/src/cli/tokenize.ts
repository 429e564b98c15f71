/**
 * `g2d-text tokenize --vocab <vocab.txt|tokenizer.json> [--lowercase] [--max-length N]`: reads
 * one text per line on stdin and prints one JSON array of ids per line (with [CLS]/[SEP], no
 * padding), so any pipeline can check or reuse the tokenization.
 */
import * as readline from 'node:readline';
import { UsageError, stringOption, type CliCommand } from '@g2d-ts/core';
import { BertTokenizer } from '../tokenizer/tokenizer';

export const tokenizeCommand: CliCommand = {
  summary: 'one text per line on stdin -> one JSON array of token ids per line ([CLS] ... [SEP], no padding)',
  usage: '--vocab <vocab.txt|tokenizer.json> [--lowercase] [--max-length N]',
  options: {
    vocab: { type: 'string', value: 'FILE', description: 'a BERT vocab.txt (WordPiece) or a Hugging Face tokenizer.json' },
    lowercase: { type: 'boolean', description: 'do_lower_case (vocab.txt only; default: cased, as Bio_ClinicalBERT\'s vocab)' },
    'max-length': { type: 'string', value: 'N', description: 'truncate to N ids, special tokens included (N >= 2)' },
  },
  details: 'example:\n  echo "No acute cardiopulmonary process." | g2d-text tokenize --vocab vocab.txt',
  async run({ values }, ctx) {
    const vocab = stringOption(values, 'vocab');
    if (!vocab) throw new UsageError('--vocab is required');
    const ml = values['max-length'];
    let maxLength: number | undefined;
    if (ml !== undefined) {
      maxLength = Number(ml);
      if (typeof ml !== 'string' || ml.trim() === '' || !Number.isInteger(maxLength) || maxLength < 2) {
        throw new UsageError(`--max-length must be an integer >= 2 (room for [CLS] and [SEP]), got "${String(ml)}"`);
      }
    }
    const file = ctx.resolvePath(vocab);
    const lowercase = !!values.lowercase;
    const tok = BertTokenizer.fromFile(file, file.toLowerCase().endsWith('.json') ? (lowercase ? { lowercase: true } : {}) : { lowercase });
    const rl = readline.createInterface({ input: ctx.stdin, crlfDelay: Infinity, terminal: false });
    try {
      for await (const line of rl) {
        if (ctx.stdoutClosed) break; // the reader went away (`| head`)
        await ctx.outAsync(JSON.stringify(tok.encode(line, maxLength !== undefined ? { maxLength } : {})) + '\n');
      }
    } finally {
      rl.close();
    }
    return 0;
  },
};
