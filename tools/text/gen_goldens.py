"""Tokenizer goldens for @g2d-ts/text from the pinned Hugging Face transformers/tokenizers
(tools/python/requirements-text.txt).

Writes packages/text/test/fixtures/tokenizer-goldens.json:
  meta       versions, vocab sha256s, how the report text is built
  reports    the first N IU X-ray reports (reports.csv rows, in file order, whose findings or
             impression is non-empty); text = findings + " " + impression (each stripped, an
             empty part left out). For each: uid and the ids of BertTokenizerFast
             - cased:        bert-base-cased vocab (Bio_ClinicalBERT's), do_lower_case=False (all N)
             - cased_lower:  the same vocab with do_lower_case=True (first 50; what
                             AutoTokenizer gives for Bio_ClinicalBERT, which ships no tokenizer_config)
             - uncased:      bert-base-uncased vocab, do_lower_case=True (first 50)
  edge       hand-picked strings (control/format characters, Unicode whitespace, accents, CJK
             in and outside the BMP, new emoji, punctuation of many scripts, special tokens in
             the text, very long words) with the ids in all three settings
  hf_tokenizer_json  the backend tokenizer.json transformers builds for each setting, with
             model.vocab left out (the structure our vocab.txt -> tokenizer.json must reproduce)
  batch      batch_encode_plus(truncation=True, max_length=16, padding='max_length') and
             padding='longest' on a few made-up report-like texts (cased)

Usage: .venv-ref/bin/python tools/text/gen_goldens.py [--shared ../shared] [--n 500]
"""
import argparse
import csv
import hashlib
import json
import os

import tokenizers
import transformers
from transformers import BertTokenizer, BertTokenizerFast

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, 'packages', 'text', 'test', 'fixtures', 'tokenizer-goldens.json')

EDGE = [
    '',
    '   ',
    'Hello world!',
    'No acute cardiopulmonary abnormality.\nStable   cardiomegaly,\tno effusion.\r\n',
    'café résumé naïve Ångström Øresund ŒUVRE straße İstanbul ΣΟΦΟΣ Ολος',
    'x\u0000y\u0001z\u007f\u0085\u00ad\u200b\u200c\u200d\u2060\ufeff\ufffd end',
    'a\u00a0b\u1680c\u2003d\u2028e\u2029f\u202fg\u205fh\u3000i\u000bj\u000ck',
    '肺部 清晰 无 异常 𠀀𪛖𫠠𫤠 𬺰 中文English混合',
    '한국어 흉부 엑스레이 日本語のテキスト',
    'emoji 😀 🥰 🫠 🧑‍⚕️ 👍🏽 done',
    '«quoted» „German“ ‘single’ — dash – en … ellipsis ¿Qué? ¡Sí! § ¶ · • ‰ ′ ″',
    '۔ ، ؛ ؟ ٪ । ॥ ၊ ။ ። ፣ ៖ ៗ ᠂ ᠃ ⸮ ⹂ 〃 〜 ・ ･ ⁂ ⁓ ⸺',
    '$100 + 5% = <x> ^ `y` | ~z & @home #tag {a} [b] (c) "d" \'e\' _f_ \\g/',
    'see [CLS] and [SEP] and [MASK] and [PAD] and [UNK] in text, [cls] lower',
    'x' * 100 + ' ' + 'y' * 101 + ' ' + 'pneumo' * 20,
    '1.5 cm nodule at T12-L1; 3x4mm; 45°; 10^3/µL; ±2; ½ inch; ²³',
    'ﬁnding ﬀ ｆｕｌｌｗｉｄｔｈ Ⅻ ① ™ ℃ Å K',
    'Dives Akuru \U00011938 vowel; Devanagari क़ि; Thai ภาษาไทย; Hebrew שָׁלוֹם; Arabic مَرْحَبًا',
    'unassigned \U0003ffff \U000e0100 private \ue000 \U000f0000 tags \U000e0041',
    'ᲐᲑᲒ Georgian Mtavruli ᲜᲝ and Cherokee ᏣᎳᎩ ꭰꭱ and Glagolitic Ⰰⰰ',
]


def sha256(path):
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


def report_texts(csv_path, n):
    out = []
    with open(csv_path, newline='', encoding='utf-8') as f:
        for row in csv.DictReader(f):
            parts = [(row.get('findings') or '').strip(), (row.get('impression') or '').strip()]
            text = ' '.join(p for p in parts if p)
            if not text:
                continue
            out.append((row['uid'], text))
            if len(out) == n:
                break
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--shared', default=os.path.join(ROOT, '..', 'shared'))
    ap.add_argument('--n', type=int, default=500)
    ap.add_argument('--out', default=OUT)
    a = ap.parse_args()
    data = os.path.join(a.shared, 'data')
    cased_vocab = os.path.join(data, 'tokenizers', 'bert-base-cased', 'vocab.txt')
    uncased_vocab = os.path.join(data, 'tokenizers', 'bert-base-uncased', 'vocab.txt')
    csv_path = os.path.join(data, 'iu_xray_reports_text_only', 'reports.csv')

    tok = {
        'cased': BertTokenizerFast(cased_vocab, do_lower_case=False),
        'cased_lower': BertTokenizerFast(cased_vocab, do_lower_case=True),
        'uncased': BertTokenizerFast(uncased_vocab, do_lower_case=True),
    }
    slow = BertTokenizer(cased_vocab, do_lower_case=False)

    reports = report_texts(csv_path, a.n)
    rep = []
    slow_mismatch = 0
    for i, (uid, text) in enumerate(reports):
        r = {'uid': uid, 'cased': tok['cased'](text)['input_ids']}
        if slow(text)['input_ids'] != r['cased']:
            slow_mismatch += 1
        if i < 50:
            r['cased_lower'] = tok['cased_lower'](text)['input_ids']
            r['uncased'] = tok['uncased'](text)['input_ids']
        rep.append(r)

    edge = []
    for text in EDGE:
        edge.append({'text': text, **{k: t(text)['input_ids'] for k, t in tok.items()}})

    # made-up report-like texts (no shared data in the committed file)
    batch_texts = [
        'The heart size is normal. The lungs are clear without focal consolidation, effusion or pneumothorax.',
        'Stable mild cardiomegaly; left basilar atelectasis. No acute osseous abnormality.',
        'Interval placement of a right-sided PICC line with tip at the cavoatrial junction.',
        'No acute cardiopulmonary process.',
        'Short.',
    ]
    t = tok['cased']
    b_max = t(batch_texts, truncation=True, max_length=16, padding='max_length')
    b_long = t(batch_texts, padding='longest')
    b_trunc_long = t(batch_texts, truncation=True, max_length=40, padding='longest')
    batch = {
        'texts': batch_texts,
        'max_length_16': {k: b_max[k] for k in ('input_ids', 'attention_mask', 'token_type_ids')},
        'longest': {k: b_long[k] for k in ('input_ids', 'attention_mask', 'token_type_ids')},
        'longest_truncated_40': {k: b_trunc_long[k] for k in ('input_ids', 'attention_mask', 'token_type_ids')},
    }

    hf_json = {}
    fresh = {  # new instances: batch calls above leave truncation/padding set on the backend
        'cased': BertTokenizerFast(cased_vocab, do_lower_case=False),
        'cased_lower': BertTokenizerFast(cased_vocab, do_lower_case=True),
        'uncased': BertTokenizerFast(uncased_vocab, do_lower_case=True),
    }
    for k, t in fresh.items():
        j = json.loads(t.backend_tokenizer.to_str())
        j['model'].pop('vocab')
        hf_json[k] = j

    meta = {
        'generator': 'tools/text/gen_goldens.py',
        'transformers': transformers.__version__,
        'tokenizers': tokenizers.__version__,
        'cased_vocab_sha256': sha256(cased_vocab),
        'uncased_vocab_sha256': sha256(uncased_vocab),
        'reports': f'first {len(rep)} rows of iu_xray_reports_text_only/reports.csv with findings or impression; '
                   'text = findings + " " + impression (stripped, empty parts left out)',
        'slow_vs_fast_mismatches': slow_mismatch,
    }
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    with open(a.out, 'w', encoding='utf-8') as f:
        f.write('{"meta": ' + json.dumps(meta, ensure_ascii=False) + ',\n"batch": ' + json.dumps(batch, ensure_ascii=False)
                + ',\n"hf_tokenizer_json": ' + json.dumps(hf_json)
                + ',\n"edge": [\n' + ',\n'.join(json.dumps(e, ensure_ascii=False) for e in edge)
                + '],\n"reports": [\n' + ',\n'.join(json.dumps(r, separators=(',', ':')) for r in rep) + ']}\n')
    print(f'wrote {a.out}: {len(rep)} reports, {len(edge)} edge strings, slow/fast mismatches {slow_mismatch}')


if __name__ == '__main__':
    main()
