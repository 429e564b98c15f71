"""BertModel parity fixture for @g2d-ts/text from the pinned transformers (requirements-text.txt).

A Hugging Face BertModel with a fixed seed (and every parameter perturbed, so LayerNorm
weights and biases are not the trivial 1/0 init) is saved as pytorch_model.bin (torch zip) and
model.safetensors with its config.json, and run in eval mode on a padded batch. Also the G2D
text projection head proj_t (Conv1d k=1 no bias, BatchNorm1d(affine=False), ReLU, Conv1d k=1
no bias) on the last hidden state, in train mode (batch statistics; running stats updated)
and then in eval mode.

  --size tiny   (default) vocab 99, hidden 32, 2 layers, 4 heads, intermediate 37, 64 positions,
                projection 32 -> 16 -> 16; written to packages/text/test/fixtures/tiny-bert
  --size base   bert-base (vocab 28996, hidden 768, 12 layers, 12 heads, 3072), projection
                768 -> 128 -> 128; safetensors only (generated at test time into --out)

Files: config.json, model.safetensors, [pytorch_model.bin], proj_t.safetensors, expected.json
({inputs: input_ids/attention_mask/token_type_ids, last_hidden_state, pooler_output,
proj_train, proj_eval, proj_running_mean, proj_running_var}, tensors as {shape, data}).

Usage: .venv-ref/bin/python tools/text/gen_bert_fixture.py [--size tiny|base] [--out DIR] [--seed 1234]
"""
import argparse
import json
import os
import shutil
import tempfile

import torch
import transformers
from safetensors.torch import save_file
from transformers import BertConfig, BertModel

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def t2j(t):
    t = t.detach().to(torch.float32).contiguous()
    return {'shape': list(t.shape), 'data': [float(x) for x in t.reshape(-1).tolist()]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--size', choices=['tiny', 'base'], default='tiny')
    ap.add_argument('--out', default=None)
    ap.add_argument('--seed', type=int, default=1234)
    a = ap.parse_args()
    out = a.out or os.path.join(ROOT, 'packages', 'text', 'test', 'fixtures', f'{a.size}-bert')
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(a.seed)
    if a.size == 'tiny':
        cfg = BertConfig(vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                         intermediate_size=37, max_position_embeddings=64, type_vocab_size=2)
        proj_hidden, proj_out = 16, 16
        lengths, L = [11, 7, 4], 11
    else:
        cfg = BertConfig(vocab_size=28996)
        proj_hidden, proj_out = 128, 128
        lengths, L = [12, 5], 12
    model = BertModel(cfg)
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.add_(torch.randn_like(p) * 0.05)
    model.eval()

    B = len(lengths)
    ids = torch.randint(1, cfg.vocab_size, (B, L))
    mask = torch.zeros(B, L, dtype=torch.long)
    tt = torch.zeros(B, L, dtype=torch.long)
    for b, n in enumerate(lengths):
        mask[b, :n] = 1
        ids[b, n:] = cfg.pad_token_id
        tt[b, n // 2:n] = 1 if b % 2 == 0 else 0
    ids[:, 0] = 2  # a fixed "CLS" id
    with torch.no_grad():
        o = model(input_ids=ids, attention_mask=mask, token_type_ids=tt)

    proj = torch.nn.Sequential(
        torch.nn.Conv1d(cfg.hidden_size, proj_hidden, kernel_size=1, stride=1, padding=0, bias=False),
        torch.nn.BatchNorm1d(proj_hidden, affine=False),
        torch.nn.ReLU(inplace=True),
        torch.nn.Conv1d(proj_hidden, proj_out, kernel_size=1, stride=1, padding=0, bias=False),
    )
    h = o.last_hidden_state.detach()
    proj_state0 = {f'proj_t.{k}': v.clone() for k, v in proj.state_dict().items()}
    proj.train()
    with torch.no_grad():
        p_train = proj(h.permute(0, 2, 1).contiguous()).permute(0, 2, 1)
    proj.eval()
    with torch.no_grad():
        p_eval = proj(h.permute(0, 2, 1).contiguous()).permute(0, 2, 1)

    # weights: safetensors (+ torch zip for tiny) via save_pretrained, in temp dirs so neither deletes the other
    with tempfile.TemporaryDirectory() as tmp:
        model.save_pretrained(os.path.join(tmp, 's'), safe_serialization=True)
        shutil.copy(os.path.join(tmp, 's', 'model.safetensors'), os.path.join(out, 'model.safetensors'))
        shutil.copy(os.path.join(tmp, 's', 'config.json'), os.path.join(out, 'config.json'))
        if a.size == 'tiny':
            model.save_pretrained(os.path.join(tmp, 'b'), safe_serialization=False)
            shutil.copy(os.path.join(tmp, 'b', 'pytorch_model.bin'), os.path.join(out, 'pytorch_model.bin'))
    save_file({k: v.contiguous() for k, v in proj_state0.items()}, os.path.join(out, 'proj_t.safetensors'))

    rs = proj.state_dict()
    expected = {
        'meta': {'generator': 'tools/text/gen_bert_fixture.py', 'size': a.size, 'seed': a.seed,
                 'transformers': transformers.__version__, 'torch': torch.__version__,
                 'proj': [cfg.hidden_size, proj_hidden, proj_out]},
        'inputs': {'input_ids': ids.tolist(), 'attention_mask': mask.tolist(), 'token_type_ids': tt.tolist()},
        'last_hidden_state': t2j(o.last_hidden_state),
        'pooler_output': t2j(o.pooler_output),
        'proj_train': t2j(p_train),
        'proj_eval': t2j(p_eval),
        'proj_running_mean': t2j(rs['1.running_mean']),
        'proj_running_var': t2j(rs['1.running_var']),
    }
    with open(os.path.join(out, 'expected.json'), 'w') as f:
        json.dump(expected, f)
    print(f'wrote {out}: ' + ', '.join(f'{n} {os.path.getsize(os.path.join(out, n))} B' for n in sorted(os.listdir(out))))


if __name__ == '__main__':
    main()
