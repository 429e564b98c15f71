/**
 * BERT WordPiece tokenizer on top of `@huggingface/tokenizers` (Tokenizers.js).
 *
 * A tokenizer comes from a `tokenizer.json` (the Hugging Face fast-tokenizer format) or from a
 * BERT `vocab.txt` + `do_lower_case`, from which the equivalent `tokenizer.json` is built
 * (BertNormalizer, BertPreTokenizer, WordPiece `##`/100 chars, `[CLS] $A [SEP]`, WordPiece
 * decoder) exactly as `transformers` converts a slow BertTokenizer. Tokenizers.js runs the
 * pipeline (special-token splitting, WordPiece, template, decoding); its BertNormalizer and
 * BertPreTokenizer are swapped for the reference-exact ones in ./bert-normalizer.
 * Truncation and padding follow `transformers` (`truncation=True`, `padding='max_length'` or
 * `'longest'`, right side, `[PAD]`).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Tokenizer } from '@huggingface/tokenizers';
import { G2DError, resolvePretrained, type PretrainedOptions } from '@g2d-ts/core';
import { normalizeBert, preTokenizeBert, type BertNormalizerOptions } from './bert-normalizer';

/** The special tokens of a BERT vocabulary. */
export interface SpecialTokens {
  pad: string;
  unk: string;
  cls: string;
  sep: string;
  mask: string;
}

export const BERT_SPECIAL_TOKENS: SpecialTokens = {
  pad: '[PAD]',
  unk: '[UNK]',
  cls: '[CLS]',
  sep: '[SEP]',
  mask: '[MASK]',
};

export interface VocabOptions {
  /** `do_lower_case`: lowercase and strip accents (false for cased vocabularies such as Bio_ClinicalBERT's). */
  lowercase?: boolean;
  /** `strip_accents`; null (default) follows `lowercase`, as in transformers. */
  stripAccents?: boolean | null;
  /** `tokenize_chinese_chars` (default true). */
  handleChineseChars?: boolean;
  specialTokens?: Partial<SpecialTokens>;
  /** Only for error messages. */
  source?: string;
}

export interface EncodeOptions {
  /** Add [CLS]/[SEP] (default true). */
  addSpecialTokens?: boolean;
  /** Truncate to this many ids, special tokens included (needs `truncation`, default on when set). */
  maxLength?: number;
  truncation?: boolean;
}

export interface BatchEncodeOptions extends EncodeOptions {
  /** 'max_length' (training: pad to `maxLength`), 'longest' (eval: pad to the longest in the batch) or false. */
  padding?: 'max_length' | 'longest' | false;
}

export interface BatchEncoding {
  inputIds: number[][];
  attentionMask: number[][];
  tokenTypeIds: number[][];
}

export interface TensorEncoding {
  inputIds: tf.Tensor2D;
  attentionMask: tf.Tensor2D;
  tokenTypeIds: tf.Tensor2D;
}

/** tokenizer.json as far as this module reads it. */
export interface TokenizerJson {
  version?: string;
  added_tokens: Array<{ id: number; content: string; single_word?: boolean; lstrip?: boolean; rstrip?: boolean; normalized?: boolean; special?: boolean }>;
  normalizer: ({ type: string } & Record<string, unknown>) | null;
  pre_tokenizer: ({ type: string } & Record<string, unknown>) | null;
  post_processor: ({ type: string } & Record<string, unknown>) | null;
  decoder: ({ type: string } & Record<string, unknown>) | null;
  model: { type: string; vocab?: Record<string, number> | unknown; unk_token?: string; continuing_subword_prefix?: string; max_input_chars_per_word?: number } & Record<string, unknown>;
  [k: string]: unknown;
}

type Callable<A extends unknown[], R> = ((...args: A) => R) & Record<string, unknown>;

/** Read a BERT vocab.txt like transformers' `load_vocab`: one token per line, later duplicates win. */
export function readVocabFile(file: string): Map<string, number> {
  if (!fs.existsSync(file)) throw new G2DError('vocab file not found', { source: file });
  const st = fs.statSync(file);
  if (!st.isFile()) throw new G2DError('vocab path is not a file', { source: file });
  return parseVocab(fs.readFileSync(file, 'utf8'), file);
}

/** Parse vocab.txt text (one token per line, ids = line numbers). */
export function parseVocab(text: string, source = 'vocab.txt'): Map<string, number> {
  const lines = text.split('\n');
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  if (lines.length === 0) throw new G2DError('vocab is empty', { source });
  const vocab = new Map<string, number>();
  lines.forEach((tok, i) => vocab.set(tok, i));
  return vocab;
}

/** The tokenizer.json `transformers` builds for a BertTokenizerFast from vocab.txt. */
export function bertTokenizerJson(vocab: Map<string, number> | string[], opts: VocabOptions = {}): TokenizerJson {
  const source = opts.source ?? 'vocab';
  const v = Array.isArray(vocab) ? new Map(vocab.map((t, i) => [t, i] as [string, number])) : vocab;
  const sp = { ...BERT_SPECIAL_TOKENS, ...opts.specialTokens };
  const missing = (['pad', 'unk', 'cls', 'sep', 'mask'] as const).filter((k) => !v.has(sp[k])).map((k) => sp[k]);
  if (missing.length) {
    throw new G2DError(`vocab lacks the special token(s) ${missing.join(', ')} (is this a BERT WordPiece vocab.txt?)`, { source });
  }
  // transformers adds the special tokens as (unnormalized) special added tokens, ordered by id
  const specials = [...new Set([sp.pad, sp.unk, sp.cls, sp.sep, sp.mask])]
    .map((content) => ({ id: v.get(content)!, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }))
    .sort((a, b) => a.id - b.id);
  const cls = v.get(sp.cls)!;
  const sep = v.get(sp.sep)!;
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials,
    normalizer: {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: opts.handleChineseChars ?? true,
      strip_accents: opts.stripAccents ?? null,
      lowercase: opts.lowercase ?? false,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: sp.cls, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: sp.sep, type_id: 0 } }],
      pair: [
        { SpecialToken: { id: sp.cls, type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: sp.sep, type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: sp.sep, type_id: 1 } },
      ],
      special_tokens: {
        [sp.cls]: { id: sp.cls, ids: [cls], tokens: [sp.cls] },
        [sp.sep]: { id: sp.sep, ids: [sep], tokens: [sp.sep] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: sp.unk,
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(v),
    },
  };
}

const SUPPORTED_MODELS = ['WordPiece'];

export class BertTokenizer {
  /** The tokenizer.json this tokenizer runs. */
  readonly json: TokenizerJson;
  readonly specialTokens: SpecialTokens;
  readonly source: string;
  private readonly tok: Tokenizer;
  private readonly numSpecial: number;

  constructor(json: TokenizerJson, opts: { source?: string; specialTokens?: Partial<SpecialTokens> } = {}) {
    const source = opts.source ?? 'tokenizer.json';
    this.source = source;
    json = validateTokenizerJson(json, source);
    this.json = json;
    this.specialTokens = { ...BERT_SPECIAL_TOKENS, ...opts.specialTokens };
    try {
      this.tok = new Tokenizer(json, {});
    } catch (e) {
      throw new G2DError(`cannot build the tokenizer: ${e instanceof Error ? e.message : String(e)}`, { source, cause: e });
    }
    // reference-exact BERT normalizer / pre-tokenizer (see bert-normalizer.ts)
    const n = json.normalizer;
    if (n && n.type === 'BertNormalizer') {
      const o: BertNormalizerOptions = {
        cleanText: n.clean_text !== false,
        handleChineseChars: n.handle_chinese_chars !== false,
        stripAccents: typeof n.strip_accents === 'boolean' ? n.strip_accents : null,
        lowercase: n.lowercase !== false,
      };
      const fn = ((t: string) => normalizeBert(t, o)) as Callable<[string], string>;
      fn.normalize = fn;
      (this.tok as unknown as { normalizer: unknown }).normalizer = fn;
    }
    if (json.pre_tokenizer && json.pre_tokenizer.type === 'BertPreTokenizer') {
      const fn = ((t: string | string[]) => (Array.isArray(t) ? t.flatMap(preTokenizeBert) : preTokenizeBert(t))) as Callable<[string | string[]], string[]>;
      fn.pre_tokenize = fn;
      (this.tok as unknown as { pre_tokenizer: unknown }).pre_tokenizer = fn;
    }
    const sp = this.specialTokens;
    const absent = [sp.pad, sp.unk, sp.cls, sp.sep].filter((t) => this.tok.token_to_id(t) === undefined);
    if (absent.length) throw new G2DError(`the vocabulary lacks the special token(s) ${absent.join(', ')}`, { source });
    try {
      // also proves the post_processor usable: a malformed one fails inside the library here
      this.numSpecial = this.postProcess([]).length;
    } catch (e) {
      throw new G2DError(`post_processor is malformed: ${e instanceof Error ? e.message : String(e)}`, { source, cause: e });
    }
  }

  /** Build from a BERT vocab.txt (file path) or from its tokens in id order. */
  static fromVocab(vocab: string | string[] | Map<string, number>, opts: VocabOptions = {}): BertTokenizer {
    const source = opts.source ?? (typeof vocab === 'string' ? vocab : 'vocab');
    const v = typeof vocab === 'string' ? readVocabFile(vocab) : vocab;
    return new BertTokenizer(bertTokenizerJson(v, { ...opts, source }), { source, specialTokens: opts.specialTokens });
  }

  /** Load a tokenizer.json (path or parsed object). */
  static fromTokenizerJson(json: string | TokenizerJson, opts: { source?: string; specialTokens?: Partial<SpecialTokens> } = {}): BertTokenizer {
    if (typeof json === 'string') {
      const file = json;
      if (!fs.existsSync(file)) throw new G2DError('tokenizer.json not found', { source: file });
      let parsed: TokenizerJson;
      try {
        parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as TokenizerJson;
      } catch (e) {
        throw new G2DError(`not valid JSON: ${e instanceof Error ? e.message : String(e)}`, { source: file, cause: e });
      }
      return new BertTokenizer(parsed, { ...opts, source: opts.source ?? file });
    }
    return new BertTokenizer(json, opts);
  }

  /**
   * Load `file`: a `*.json` file is a tokenizer.json, anything else a vocab.txt
   * (`lowercase` applies to vocab.txt only; a tokenizer.json carries its own normalizer).
   */
  static fromFile(file: string, opts: VocabOptions = {}): BertTokenizer {
    if (file.toLowerCase().endsWith('.json')) {
      const tok = BertTokenizer.fromTokenizerJson(file, { specialTokens: opts.specialTokens });
      const n = tok.json.normalizer;
      if (opts.lowercase !== undefined && n?.type === 'BertNormalizer' && (n.lowercase !== false) !== opts.lowercase) {
        throw new G2DError(
          `normalizer.lowercase is ${n.lowercase !== false} in this tokenizer.json, but lowercase=${opts.lowercase} was asked for (only vocab.txt takes a lowercase option)`,
          { source: file },
        );
      }
      return tok;
    }
    return BertTokenizer.fromVocab(file, opts);
  }

  /**
   * Load the tokenizer of a Hugging Face model directory: tokenizer.json if present, else
   * vocab.txt with `do_lower_case` from tokenizer_config.json (transformers' default, true,
   * when that file is absent, as for emilyalsentzer/Bio_ClinicalBERT), unless `lowercase` is given.
   */
  static fromDirectory(dir: string, opts: VocabOptions = {}): BertTokenizer {
    const tj = path.join(dir, 'tokenizer.json');
    const vt = path.join(dir, 'vocab.txt');
    const cfgFile = path.join(dir, 'tokenizer_config.json');
    let cfg: Record<string, unknown> = {};
    if (fs.existsSync(cfgFile)) {
      try {
        cfg = JSON.parse(fs.readFileSync(cfgFile, 'utf8')) as Record<string, unknown>;
      } catch (e) {
        throw new G2DError(`not valid JSON: ${e instanceof Error ? e.message : String(e)}`, { source: cfgFile, cause: e });
      }
    }
    if (fs.existsSync(tj) && opts.lowercase === undefined) return BertTokenizer.fromTokenizerJson(tj, { specialTokens: opts.specialTokens });
    if (!fs.existsSync(vt)) {
      if (fs.existsSync(tj)) return BertTokenizer.fromTokenizerJson(tj, { specialTokens: opts.specialTokens });
      throw new G2DError('neither tokenizer.json nor vocab.txt found', { source: dir });
    }
    const lowercase = opts.lowercase ?? (typeof cfg.do_lower_case === 'boolean' ? cfg.do_lower_case : true);
    const stripAccents = opts.stripAccents !== undefined ? opts.stripAccents : typeof cfg.strip_accents === 'boolean' ? cfg.strip_accents : null;
    const handleChineseChars = opts.handleChineseChars ?? (typeof cfg.tokenize_chinese_chars === 'boolean' ? cfg.tokenize_chinese_chars : true);
    return BertTokenizer.fromVocab(vt, { ...opts, lowercase, stripAccents, handleChineseChars });
  }

  /**
   * The tokenizer of a Hugging Face model: a local directory or a hub id found in the
   * Hugging Face cache (downloaded into it when online); see fromDirectory for the rules.
   */
  static async fromPretrained(pathOrHubId: string, opts: VocabOptions & PretrainedOptions = {}): Promise<BertTokenizer> {
    const r = await resolvePretrained(
      pathOrHubId,
      [{ anyOf: opts.lowercase === undefined ? ['tokenizer.json', 'vocab.txt'] : ['vocab.txt', 'tokenizer.json'] }, { anyOf: ['tokenizer_config.json'], optional: true }],
      opts,
    );
    return BertTokenizer.fromDirectory(r.dir, opts);
  }

  get vocabSize(): number {
    return this.tok.get_vocab(true).size;
  }
  get padTokenId(): number {
    return this.tokenToId(this.specialTokens.pad)!;
  }
  get clsTokenId(): number {
    return this.tokenToId(this.specialTokens.cls)!;
  }
  get sepTokenId(): number {
    return this.tokenToId(this.specialTokens.sep)!;
  }
  get unkTokenId(): number {
    return this.tokenToId(this.specialTokens.unk)!;
  }

  tokenToId(token: string): number | undefined {
    return this.tok.token_to_id(token);
  }
  idToToken(id: number): string | undefined {
    return this.tok.id_to_token(id);
  }

  /** WordPiece tokens of `text`, without special tokens. */
  tokenize(text: string): string[] {
    return this.tok.tokenize(text, { add_special_tokens: false });
  }

  private postProcess(tokens: string[]): string[] {
    const pp = this.tok.post_processor as unknown as ((t: string[], p: null, add: boolean) => { tokens: string[] }) | null;
    return pp ? pp(tokens, null, true).tokens : tokens;
  }

  private toIds(tokens: string[]): number[] {
    const unk = this.unkTokenId;
    return tokens.map((t) => this.tok.token_to_id(t) ?? unk);
  }

  /** Ids of `text` (with [CLS]/[SEP] by default), truncated to `maxLength` when given. */
  encode(text: string, opts: EncodeOptions = {}): number[] {
    if (typeof text !== 'string') throw new G2DError(`encode expects a string, got ${text === null ? 'null' : typeof text}`, { source: this.source });
    const add = opts.addSpecialTokens ?? true;
    let tokens = this.tokenize(text);
    const truncation = opts.truncation ?? opts.maxLength !== undefined;
    if (truncation && opts.maxLength !== undefined) {
      const room = opts.maxLength - (add ? this.numSpecial : 0);
      if (!Number.isInteger(opts.maxLength) || room < 0) {
        throw new G2DError(`maxLength ${opts.maxLength} leaves no room for the ${this.numSpecial} special tokens`, { source: this.source });
      }
      if (tokens.length > room) tokens = tokens.slice(0, room);
    }
    return this.toIds(add ? this.postProcess(tokens) : tokens);
  }

  /** Encode a batch with truncation and padding (right side, [PAD], attention mask 1/0). */
  encodeBatch(texts: string[], opts: BatchEncodeOptions = {}): BatchEncoding {
    const padding = opts.padding ?? false;
    if (padding === 'max_length' && opts.maxLength === undefined) {
      throw new G2DError("padding 'max_length' needs maxLength", { source: this.source });
    }
    const ids = texts.map((t, i) => {
      if (typeof t !== 'string') throw new G2DError(`text ${i} is ${t === null ? 'null' : typeof t}, not a string`, { source: this.source });
      return this.encode(t, opts);
    });
    const target = padding === 'max_length' ? opts.maxLength! : padding === 'longest' ? Math.max(0, ...ids.map((x) => x.length)) : 0;
    const pad = this.padTokenId;
    const inputIds: number[][] = [];
    const attentionMask: number[][] = [];
    const tokenTypeIds: number[][] = [];
    for (const x of ids) {
      const n = Math.max(target, x.length);
      const row = x.slice();
      const mask = new Array<number>(n).fill(0).fill(1, 0, x.length);
      while (row.length < n) row.push(pad);
      inputIds.push(row);
      attentionMask.push(mask);
      tokenTypeIds.push(new Array<number>(n).fill(0));
    }
    return { inputIds, attentionMask, tokenTypeIds };
  }

  /** `encodeBatch` as int32 tensors [B, L]; needs a padding mode so rows are equally long. */
  encodeBatchTensors(texts: string[], opts: BatchEncodeOptions & { padding: 'max_length' | 'longest' }): TensorEncoding {
    const b = this.encodeBatch(texts, opts);
    const shape: [number, number] = [b.inputIds.length, b.inputIds[0]?.length ?? 0];
    return {
      inputIds: tf.tensor2d(b.inputIds.flat(), shape, 'int32'),
      attentionMask: tf.tensor2d(b.attentionMask.flat(), shape, 'int32'),
      tokenTypeIds: tf.tensor2d(b.tokenTypeIds.flat(), shape, 'int32'),
    };
  }

  /** Text of `ids` (WordPiece decoder, transformers' clean-up of spaces). */
  decode(ids: number[], opts: { skipSpecialTokens?: boolean } = {}): string {
    if (ids.length === 0) return '';
    return this.tok.decode(ids, { skip_special_tokens: opts.skipSpecialTokens ?? false });
  }
}

function validateTokenizerJson(json: TokenizerJson, source: string): TokenizerJson {
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new G2DError('tokenizer.json must hold a JSON object', { source });
  const model = json.model as TokenizerJson['model'] | undefined;
  if (!model || typeof model !== 'object') throw new G2DError('missing key "model"', { source });
  if (!SUPPORTED_MODELS.includes(model.type)) {
    throw new G2DError(
      `model.type "${String(model.type)}" is not supported (supported: ${SUPPORTED_MODELS.join(', ')}; this package tokenizes for BERT encoders)`,
      { source },
    );
  }
  if (!model.vocab || typeof model.vocab !== 'object' || Array.isArray(model.vocab)) {
    throw new G2DError('model.vocab must be an object of token -> id', { source });
  }
  const out: TokenizerJson = { ...json };
  for (const k of ['normalizer', 'pre_tokenizer', 'post_processor', 'decoder'] as const) {
    if (!(k in out)) out[k] = null;
  }
  if (!Array.isArray(out.added_tokens)) out.added_tokens = [];
  return out;
}
