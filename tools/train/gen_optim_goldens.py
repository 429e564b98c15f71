"""Parity goldens for @g2d-ts/train: torch.optim.AdamW, the LR schedulers and
torch.nn.utils.clip_grad_norm_ on a seeded toy problem, step by step. Reference tooling only.

  .venv-ref/bin/python tools/train/gen_optim_goldens.py            # -> packages/train/test/fixtures/optim-goldens.json
  .venv-ref/bin/python tools/train/gen_optim_goldens.py --check    # regenerate in memory, compare with the committed file (rel. 1e-6)

Toy problem: loss = mean((tanh(x @ W + b) @ F - y)^2) with a frozen F (requires_grad=False)
and a parameter U that never enters the loss (its .grad stays None, so torch skips it).
Inputs are multiples of 1/64 (exactly representable in float32 and short in JSON). Every
case records, per optimizer step: the learning rate the step used, each micro-batch's
(x, y), the (accumulated, pre-clipping) gradients torch computed, the total gradient norm
when clipping, and the parameters after the step. Floats are the shortest strings that
round-trip to the same float32.

Schedulers: torch's CosineAnnealingWarmRestarts (stepped once per iteration, after
optimizer.step(), as the G2D reference does); transformers' get_cosine_schedule_with_warmup
and get_constant_schedule_with_warmup (LambdaLR) for warm-up cosine and warm-up constant;
no scheduler for a constant LR. `lr_sequences` holds longer LR-only runs of each.
"""
import argparse
import json
import math
import os
import sys

import numpy as np
import torch
import transformers
from torch.optim.lr_scheduler import CosineAnnealingWarmRestarts
from transformers import get_constant_schedule_with_warmup, get_cosine_schedule_with_warmup

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, 'packages', 'train', 'test', 'fixtures', 'optim-goldens.json')
torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

D_IN, D_HID, D_OUT, BATCH = 4, 3, 2, 4


def f32(values):
    """float32 values as the shortest decimal strings that round-trip (parsed as numbers in JS)."""
    arr = np.asarray(values, dtype=np.float32).reshape(-1)
    return [float(repr(np.float32(v)).replace('np.float32(', '').rstrip(')')) for v in arr]


def grid(gen, shape, scale=1.0):
    """randn rounded to multiples of 1/64: exact in float32, short in JSON."""
    return torch.round(torch.randn(*shape, generator=gen) * scale * 64) / 64


def make_params(seed):
    g = torch.Generator().manual_seed(seed)
    return {
        'W': torch.nn.Parameter(grid(g, (D_IN, D_HID), 0.5)),
        'b': torch.nn.Parameter(grid(g, (D_HID,), 0.1)),
        'F': torch.nn.Parameter(grid(g, (D_HID, D_OUT), 0.7), requires_grad=False),
        'U': torch.nn.Parameter(grid(g, (2,), 1.0)),
    }


def loss_fn(p, x, y):
    return ((torch.tanh(x @ p['W'] + p['b']) @ p['F'] - y) ** 2).mean()


def make_scheduler(opt, spec):
    if spec is None:
        return None
    kind = spec['kind']
    if kind == 'cosine-warm-restarts':
        return CosineAnnealingWarmRestarts(opt, T_0=spec['T_0'], T_mult=spec['T_mult'], eta_min=spec['eta_min'])
    if kind == 'warmup-cosine':
        return get_cosine_schedule_with_warmup(opt, spec['warmup_steps'], spec['total_steps'])
    if kind == 'warmup-constant':
        return get_constant_schedule_with_warmup(opt, spec['warmup_steps'])
    raise ValueError(kind)


def run_case(case):
    p = make_params(case['seed'])
    init = {k: f32(v.detach()) for k, v in p.items()}
    opt = torch.optim.AdamW(
        [p['W'], p['b'], p['F'], p['U']],  # F is frozen: AdamW must leave it alone
        lr=case['lr'], betas=tuple(case['betas']), eps=case['eps'], weight_decay=case['weight_decay'],
    )
    sched = make_scheduler(opt, case.get('scheduler'))
    g = torch.Generator().manual_seed(case['seed'] + 1000)
    acc = case.get('accumulate', 1)
    clip = case.get('clip')
    steps = []
    for _ in range(case['steps']):
        lr = opt.param_groups[0]['lr']
        opt.zero_grad(set_to_none=True)
        micro = []
        for _ in range(acc):
            x = grid(g, (BATCH, D_IN))
            y = grid(g, (BATCH, D_OUT), 0.5)
            (loss_fn(p, x, y) / acc).backward()
            micro.append({'x': f32(x), 'y': f32(y)})
        rec = {'lr': lr, 'micro': micro, 'grads': {k: f32(p[k].grad) for k in ('W', 'b')}}
        assert p['U'].grad is None and p['F'].grad is None
        if clip is not None:
            norm_type = math.inf if clip['norm_type'] == 'inf' else float(clip['norm_type'])
            norm = torch.nn.utils.clip_grad_norm_([p['W'], p['b']], clip['max_norm'], norm_type=norm_type)
            rec['total_norm'] = f32(norm)[0]
        opt.step()
        if sched is not None:
            sched.step()
        rec['params'] = {k: f32(p[k].detach()) for k in ('W', 'b')}
        assert f32(p['F'].detach()) == init['F'] and f32(p['U'].detach()) == init['U']
        steps.append(rec)
    return {**case, 'shapes': {k: list(v.shape) for k, v in p.items()}, 'init': init, 'steps': steps}


def lr_sequence(base_lr, spec, n):
    dummy = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.AdamW([dummy], lr=base_lr)
    sched = make_scheduler(opt, spec)
    out = []
    for _ in range(n):
        out.append(opt.param_groups[0]['lr'])
        opt.step()
        sched.step()
    return {'base_lr': base_lr, 'scheduler': spec, 'lrs': out}


BASE = {'betas': [0.9, 0.999], 'eps': 1e-8, 'steps': 20}
CASES = [
    # constant LR, strong decoupled weight decay
    {**BASE, 'name': 'constant', 'seed': 1, 'lr': 1e-2, 'weight_decay': 0.1},
    # warm restarts with T_mult=2: restarts after 4 and 4+8 iterations
    {**BASE, 'name': 'warm-restarts-tmult2', 'seed': 2, 'lr': 1e-2, 'weight_decay': 0.05,
     'scheduler': {'kind': 'cosine-warm-restarts', 'T_0': 4, 'T_mult': 2, 'eta_min': 1e-4}},
    # the reference recipe's optimizer and scheduler shape (T_0=200 scaled down to 7), other betas/eps
    {**BASE, 'name': 'reference-like', 'seed': 3, 'lr': 2e-5, 'weight_decay': 1e-8, 'betas': [0.8, 0.99], 'eps': 1e-6,
     'scheduler': {'kind': 'cosine-warm-restarts', 'T_0': 7, 'T_mult': 1, 'eta_min': 1e-8}},
    {**BASE, 'name': 'warmup-cosine', 'seed': 4, 'lr': 1e-2, 'weight_decay': 0.01,
     'scheduler': {'kind': 'warmup-cosine', 'warmup_steps': 5, 'total_steps': 20}},
    {**BASE, 'name': 'warmup-constant', 'seed': 5, 'lr': 5e-3, 'weight_decay': 0.01,
     'scheduler': {'kind': 'warmup-constant', 'warmup_steps': 3}},
    # 3 micro-batches per step (loss / 3 each) and L2 clipping that bites on most steps
    {**BASE, 'name': 'accumulate-clip-l2', 'seed': 6, 'lr': 1e-2, 'weight_decay': 0.01, 'accumulate': 3,
     'clip': {'max_norm': 0.05, 'norm_type': 2.0},
     'scheduler': {'kind': 'cosine-warm-restarts', 'T_0': 5, 'T_mult': 1, 'eta_min': 0.0}},
    # infinity-norm clipping
    {**BASE, 'name': 'clip-inf', 'seed': 7, 'lr': 1e-2, 'weight_decay': 0.0,
     'clip': {'max_norm': 0.03, 'norm_type': 'inf'}},
]
LR_SEQUENCES = [
    (2e-5, {'kind': 'cosine-warm-restarts', 'T_0': 10, 'T_mult': 1, 'eta_min': 1e-8}, 35),
    (1e-3, {'kind': 'cosine-warm-restarts', 'T_0': 3, 'T_mult': 3, 'eta_min': 1e-5}, 45),
    (1e-3, {'kind': 'warmup-cosine', 'warmup_steps': 7, 'total_steps': 30}, 30),
    (1e-3, {'kind': 'warmup-constant', 'warmup_steps': 4}, 12),
]


def build():
    return {
        'meta': {
            'generator': 'tools/train/gen_optim_goldens.py',
            'torch': torch.__version__,
            'transformers': transformers.__version__,
            'problem': 'loss = mean((tanh(x @ W + b) @ F - y)^2); F frozen (requires_grad=False), U unused (grad None); '
                       'per micro-batch loss / accumulate; clip_grad_norm_ on [W, b] before optimizer.step(); '
                       'scheduler.step() after optimizer.step()',
        },
        'cases': [run_case(c) for c in CASES],
        'lr_sequences': [lr_sequence(b, s, n) for b, s, n in LR_SEQUENCES],
    }


def compare(a, b, path='$'):
    """Largest relative difference between two JSON trees of the same structure (inf if the structure differs)."""
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return math.inf
        return max([compare(a[k], b[k], f'{path}.{k}') for k in a] or [0.0])
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return math.inf
        return max([compare(x, y, path) for x, y in zip(a, b)] or [0.0])
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return abs(a - b) / max(abs(a), abs(b), 1e-30) if a != b else 0.0
    return 0.0 if a == b else math.inf


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', default=OUT)
    ap.add_argument('--check', action='store_true', help='compare with the existing file instead of writing')
    args = ap.parse_args()
    fresh = build()
    text = json.dumps(fresh, separators=(',', ':')) + '\n'
    if args.check:
        with open(args.out) as f:
            committed = json.load(f)
        worst = compare(committed, fresh)
        ok = worst <= 1e-6
        print(f'[train goldens] {args.out}: '
              + (f'matches a fresh generation (max relative difference {worst:.1e})' if ok
                 else f'DIFFERS from a fresh generation (max relative difference {worst:.1e})'))
        sys.exit(0 if ok else 1)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    tmp = args.out + '.tmp'
    with open(tmp, 'w') as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, args.out)
    print(f'[train goldens] wrote {args.out} ({len(text)} bytes, {len(CASES)} cases, {len(LR_SEQUENCES)} LR sequences)')


if __name__ == '__main__':
    main()
