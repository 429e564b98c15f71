"""Generate packages/text/src/tokenizer/unicode-tables.ts from the pinned Hugging Face
`tokenizers` (see tools/python/requirements-text.txt).

The Rust BertNormalizer / BertPreTokenizer classify characters with the `unicode_categories`
crate (an older Unicode version than Node's ICU), so the character classes that decide how a
text is cleaned, split and stripped of accents are measured here, code point by code point,
from the reference implementation itself, and written as sorted [start, end] ranges:

  CONTROL      removed by clean_text (NUL, U+FFFD and `is_control`)
  WHITESPACE   mapped to ' ' by clean_text (Rust `is_whitespace`, incl. \\t \\n \\r)
  PUNCTUATION  isolated by BertPreTokenizer (`is_ascii_punctuation || is_punctuation`)
  NONSPACING   dropped after NFD by strip_accents (`is_mark_nonspacing`)
  CHINESE      padded with spaces by handle_chinese_chars
  LOWER        code points whose char-wise Rust `to_lowercase` differs from Node's
               `toLowerCase` (explicit pairs; Node is run to compare, so run this with the
               Node version the project uses)

Usage: .venv-ref/bin/python tools/text/gen_unicode_tables.py
"""
import json
import os
import subprocess
import sys
import tempfile
import unicodedata

import tokenizers
from tokenizers import normalizers, pre_tokenizers

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, 'packages', 'text', 'src', 'tokenizer', 'unicode-tables.ts')


def code_points():
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        yield cp


def ranges(cps):
    out = []
    for cp in sorted(cps):
        if out and out[-1][1] == cp - 1:
            out[-1][1] = cp
        else:
            out.append([cp, cp])
    return out


NODE_LOWER = '''
const out = {};
for (let cp = 0; cp < 0x110000; cp++) {
  if (cp >= 0xd800 && cp <= 0xdfff) continue;
  const c = String.fromCodePoint(cp);
  const l = c.toLowerCase();
  if (l !== c) out[cp] = l;
}
require('fs').writeFileSync(process.argv[1], JSON.stringify(out));
'''


def node_lower_map():
    """{code point: lowercase} where Node's String#toLowerCase changes a single character."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, 'lower.json')
        subprocess.run(['node', '-e', NODE_LOWER, out], check=True)
        with open(out) as f:
            return {int(k): v for k, v in json.load(f).items()}


def main():
    clean = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=False, strip_accents=False, lowercase=False)
    chinese = normalizers.BertNormalizer(clean_text=False, handle_chinese_chars=True, strip_accents=False, lowercase=False)
    strip = normalizers.BertNormalizer(clean_text=False, handle_chinese_chars=False, strip_accents=True, lowercase=False)
    lower = normalizers.BertNormalizer(clean_text=False, handle_chinese_chars=False, strip_accents=False, lowercase=True)
    pre = pre_tokenizers.BertPreTokenizer()

    control, white, punct, nonspacing, chin = [], [], [], [], []
    lower_map = {}
    for cp in code_points():
        c = chr(cp)
        r = clean.normalize_str(c)
        if r == '':
            control.append(cp)
        elif r == ' ':
            white.append(cp)
        elif r != c:
            raise SystemExit(f'clean_text maps U+{cp:04X} to {r!r}: unexpected')
        if chinese.normalize_str(c) == f' {c} ':
            chin.append(cp)
        pieces = [p for p, _ in pre.pre_tokenize_str('a' + c + 'a')]
        if pieces == ['a', c, 'a']:
            punct.append(cp)
        elif pieces == ['a', 'a']:
            if cp not in white and c != ' ':
                # whitespace for the pre-tokenizer but not for clean_text
                white.append(cp)
        elif pieces != ['a' + c + 'a']:
            raise SystemExit(f'BertPreTokenizer splits U+{cp:04X} as {pieces!r}: unexpected')
        nfd = unicodedata.normalize('NFD', c)
        s = strip.normalize_str(c)
        if nfd == c and s == '':
            nonspacing.append(cp)
        lw = lower.normalize_str(c)
        if lw != c:
            lower_map[cp] = lw

    # strip_accents check: NFD (Python's) then drop NONSPACING reproduces the reference
    ns = set(nonspacing)
    bad = [cp for cp in code_points()
           if ''.join(x for x in unicodedata.normalize('NFD', chr(cp)) if ord(x) not in ns) != strip.normalize_str(chr(cp))]
    if bad:
        print(f'note: {len(bad)} code points where Python\'s NFD (unicodedata {unicodedata.unidata_version}) + NONSPACING '
              'differs from the reference (Node\'s NFD is what runs; the edge-case goldens check it), e.g. '
              + ', '.join(f'U+{b:04X}' for b in bad[:10]), file=sys.stderr)

    exceptions = {}
    js = node_lower_map()
    for cp in code_points():
        py = lower_map.get(cp, chr(cp))
        j = js.get(cp, chr(cp))
        if py != j:
            exceptions[cp] = py
    print(f'{len(exceptions)} lowercase exceptions vs Node', file=sys.stderr)

    def fmt(name, doc, rs):
        flat = ','.join(f'{a},{b}' for a, b in rs)
        return f'/** {doc} ({len(rs)} ranges) */\nexport const {name}: readonly number[] = [{flat}];\n'

    with open(OUT, 'w') as f:
        f.write('// GENERATED by tools/text/gen_unicode_tables.py from Hugging Face tokenizers '
                f'{tokenizers.__version__}; do not edit.\n')
        f.write('// Flat [start, end, start, end, ...] inclusive code point ranges, sorted.\n\n')
        f.write(fmt('CONTROL', 'Removed by BertNormalizer clean_text', ranges(control)))
        f.write(fmt('WHITESPACE', 'Turned into a space by clean_text / split on by BertPreTokenizer', ranges(white)))
        f.write(fmt('PUNCTUATION', 'Isolated by BertPreTokenizer', ranges(punct)))
        f.write(fmt('NONSPACING', 'Dropped after NFD by strip_accents', ranges(nonspacing)))
        f.write(fmt('CHINESE', 'Padded with spaces by handle_chinese_chars', ranges(chin)))
        pairs = ','.join(f'[{cp},{json.dumps(v)}]' for cp, v in sorted(exceptions.items()))
        f.write('/** Code points whose reference char-wise lowercase differs from JS toLowerCase */\n'
                f'export const LOWER_EXCEPTIONS: ReadonlyArray<readonly [number, string]> = [{pairs}];\n')
    print(f'wrote {OUT}: control {len(control)}, whitespace {len(white)}, punctuation {len(punct)}, '
          f'nonspacing {len(nonspacing)}, chinese {len(chin)}, lower exceptions {len(exceptions)}')


if __name__ == '__main__':
    main()
