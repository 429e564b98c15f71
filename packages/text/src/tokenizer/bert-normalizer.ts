/**
 * BERT normalizer and pre-tokenizer with the exact character classes of the Rust
 * `tokenizers` crate (measured from it by tools/text/gen_unicode_tables.py).
 *
 * Why not the ones in `@huggingface/tokenizers`: its BertNormalizer does not drop the
 * characters the Rust crate treats as control/format/private-use the same way (it tests
 * Cc|Cf|Co|Cs with Node's Unicode version), pads CJK characters only inside the BMP (and
 * one range the Rust crate does not pad), lowercases whole strings (final-sigma rule) and
 * strips accents after lowercasing; its BertPreTokenizer uses Node's `\p{P}` and `\s`.
 * These differ from the reference on rare characters only, but tokenization must match
 * the reference id for id, so both stages are replaced by the implementations here.
 */
import { CHINESE, CONTROL, LOWER_EXCEPTIONS, NONSPACING, PUNCTUATION, WHITESPACE } from './unicode-tables';

/** Membership test over flat inclusive [start, end, ...] ranges (binary search). */
export function inRanges(ranges: readonly number[], cp: number): boolean {
  let lo = 0;
  let hi = ranges.length / 2 - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const start = ranges[2 * mid]!;
    const end = ranges[2 * mid + 1]!;
    if (cp < start) hi = mid - 1;
    else if (cp > end) lo = mid + 1;
    else return true;
  }
  return false;
}

const ASCII_CONTROL = new Uint8Array(128);
const ASCII_WHITE = new Uint8Array(128);
const ASCII_PUNCT = new Uint8Array(128);
for (let cp = 0; cp < 128; cp++) {
  ASCII_CONTROL[cp] = inRanges(CONTROL, cp) ? 1 : 0;
  ASCII_WHITE[cp] = inRanges(WHITESPACE, cp) ? 1 : 0;
  ASCII_PUNCT[cp] = inRanges(PUNCTUATION, cp) ? 1 : 0;
}

export const isControl = (cp: number): boolean => (cp < 128 ? ASCII_CONTROL[cp] === 1 : inRanges(CONTROL, cp));
export const isWhitespace = (cp: number): boolean => (cp < 128 ? ASCII_WHITE[cp] === 1 : inRanges(WHITESPACE, cp));
export const isPunctuation = (cp: number): boolean => (cp < 128 ? ASCII_PUNCT[cp] === 1 : inRanges(PUNCTUATION, cp));
export const isChinese = (cp: number): boolean => cp >= 0x3400 && inRanges(CHINESE, cp);
export const isNonspacingMark = (cp: number): boolean => cp >= 0x300 && inRanges(NONSPACING, cp);

const LOWER = new Map<number, string>(LOWER_EXCEPTIONS.map(([cp, s]) => [cp, s]));

export interface BertNormalizerOptions {
  cleanText: boolean;
  handleChineseChars: boolean;
  /** null: follow `lowercase` (as the reference does). */
  stripAccents: boolean | null;
  lowercase: boolean;
}

/** Reference-exact BertNormalizer: clean text, pad CJK, strip accents, then lowercase. */
export function normalizeBert(text: string, o: BertNormalizerOptions): string {
  let out = text;
  // fast path: printable ASCII only needs the lowercase step
  const ascii = /^[\x20-\x7e]*$/.test(out);
  if (!ascii && (o.cleanText || o.handleChineseChars)) {
    let s = '';
    for (const ch of out) {
      const cp = ch.codePointAt(0)!;
      if (o.cleanText) {
        if (isControl(cp)) continue; // NUL and U+FFFD are in CONTROL too
        if (isWhitespace(cp)) {
          s += ' ';
          continue;
        }
      }
      if (o.handleChineseChars && isChinese(cp)) s += ` ${ch} `;
      else s += ch;
    }
    out = s;
  }
  const strip = o.stripAccents ?? o.lowercase;
  if (strip && !ascii) {
    let s = '';
    for (const ch of out.normalize('NFD')) {
      if (!isNonspacingMark(ch.codePointAt(0)!)) s += ch;
    }
    out = s;
  }
  if (o.lowercase) {
    if (ascii) out = out.toLowerCase();
    else {
      // char by char (no context-dependent rules such as the final sigma), as Rust's char::to_lowercase
      let s = '';
      for (const ch of out) s += LOWER.get(ch.codePointAt(0)!) ?? ch.toLowerCase();
      out = s;
    }
  }
  return out;
}

/** Reference-exact BertPreTokenizer: split on whitespace, isolate every punctuation character. */
export function preTokenizeBert(text: string): string[] {
  const words: string[] = [];
  let cur = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (isWhitespace(cp)) {
      if (cur) words.push(cur);
      cur = '';
    } else if (isPunctuation(cp)) {
      if (cur) words.push(cur);
      words.push(ch);
      cur = '';
    } else cur += ch;
  }
  if (cur) words.push(cur);
  return words;
}
