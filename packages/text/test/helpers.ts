import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';

export const FIXTURES = path.join(__dirname, 'fixtures');
export const REPO_ROOT = path.resolve(__dirname, '../../..');

export interface TokenizerGoldens {
  meta: Record<string, unknown>;
  batch: { texts: string[] } & Record<string, { input_ids: number[][]; attention_mask: number[][]; token_type_ids: number[][] }>;
  hf_tokenizer_json: Record<string, Record<string, unknown>>;
  edge: Array<{ text: string; cased: number[]; cased_lower: number[]; uncased: number[] }>;
  reports: Array<{ uid: string; cased: number[]; cased_lower?: number[]; uncased?: number[] }>;
}

let goldens: TokenizerGoldens | undefined;
export function tokenizerGoldens(): TokenizerGoldens {
  goldens ??= JSON.parse(fs.readFileSync(path.join(FIXTURES, 'tokenizer-goldens.json'), 'utf8')) as TokenizerGoldens;
  return goldens;
}

/** RFC 4180 CSV (quoted fields, doubled quotes, newlines inside quotes). */
export function parseCsv(text: string): Record<string, string>[] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let q = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (q) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else q = false;
      } else field += c;
    } else if (c === '"') q = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length) {
    row.push(field);
    rows.push(row);
  }
  const [header, ...body] = rows;
  return body.map((r) => Object.fromEntries(header!.map((h, i) => [h, r[i] ?? ''])));
}

/**
 * The report text used for the tokenizer goldens (tools/text/gen_goldens.py): findings + " " +
 * impression, each stripped (Python str.strip), empty parts left out.
 */
export function reportText(row: Record<string, string>): string {
  return [row.findings ?? '', row.impression ?? ''].map(pyStrip).filter(Boolean).join(' ');
}

/** Python's str.strip() (Unicode whitespace incl. \x1c-\x1f and \x85). */
export function pyStrip(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/^[\s\x1c-\x1f\x85]+|[\s\x1c-\x1f\x85]+$/g, '');
}

export interface Tensor {
  shape: number[];
  data: number[];
}

/** The reference interpreter when it has transformers (null otherwise, with the reason). */
export function refPython(): { python: string } | { skip: string } {
  const python = path.join(REPO_ROOT, '.venv-ref', 'bin', 'python');
  if (!fs.existsSync(python)) return { skip: `${python} absent (run bash tools/python/venv.sh)` };
  const r = spawnSync(python, ['-c', 'import torch, transformers, safetensors'], { encoding: 'utf8' });
  if (r.status !== 0) return { skip: `transformers not importable in .venv-ref (run bash tools/python/venv.sh): ${r.stderr.trim().split('\n').pop()}` };
  return { python };
}
