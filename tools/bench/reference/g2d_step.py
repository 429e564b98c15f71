"""PyTorch baseline for `g2d-step`: one full G2D training step of the reference composition
(CNN_AE: smp U-Net, the reference AttentionPool2d, transformers BertModel with the first
layers frozen, proj_v / proj_t) as tools/model/gen_reference_g2d.py rebuilds it: forward,
clip loss (VLA), the pseudo mask of the detached attention map (q 0.85), the BCE + Dice loss
(PS), backward, torch.optim.AdamW (lr 2e-5, wd 1e-8). Random weights and inputs; token
lengths as the TypeScript side draws them. Median ms per step, the pseudo-mask step's share,
peak RSS."""
import os
import sys
import time

from _common import emit, parse_args, peak_rss_mib, setup_torch, summary

a = parse_args(__doc__, preset="g2d-resnet50", batch=8, iters=3, warmup=1, threads=0)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
sys.path.insert(0, os.path.join(ROOT, "tools", "model"))
import torch  # noqa: E402
from gen_reference_g2d import PRESETS, CNN_AE, att2label, bce_dice, clip_loss  # noqa: E402

# the golden generator forces deterministic kernels and 2 threads: restore the defaults
torch.use_deterministic_algorithms(False)
torch, threads = setup_torch(a.threads)

p = PRESETS[a.preset]
S = p["image_size"]
L = {"g2d-resnet50": 256, "g2d-resnet18-tiny": 128}[a.preset]  # text.maxLength of the preset
B = a.batch
model = CNN_AE(p)
for i in range(p["free_layers"]):  # main.py: the first layers of BERT frozen
    for q in model.lm_model.encoder.layer[i].parameters():
        q.requires_grad = False
model.train()
opt = torch.optim.AdamW([q for q in model.parameters() if q.requires_grad], lr=2e-5, weight_decay=1e-8)

g = torch.Generator().manual_seed(0)
images = torch.randn(B, 3, S, S, generator=g)
ids = torch.randint(1000, 28000, (B, L), generator=g)
mask = torch.zeros(B, L, dtype=torch.long)
for b in range(B):
    n = int(L * (0.3 + 0.6 * b / max(1, B - 1)))  # report lengths 30 %..90 % of max_length (as g2d-step.ts)
    mask[b, :n] = 1
    ids[b, 0], ids[b, n - 1] = 101, 102
    ids[b, n:] = 0

pm_ms = []


def step():
    opt.zero_grad(set_to_none=True)
    out = model(images, ids, mask)
    vla, _, _ = clip_loss(out["pool_proj_img_emb"], out["proj_text_emb"])
    t0 = time.perf_counter()
    pm = att2label(out["att_map"], S, p["heads"], 0.85)
    pm_ms.append((time.perf_counter() - t0) * 1000.0)
    ps = bce_dice(out["img_dec"], pm)
    (vla + ps).backward()
    opt.step()


for _ in range(a.warmup):
    step()
pm_ms.clear()
times = []
for _ in range(a.iters):
    t0 = time.perf_counter()
    step()
    times.append((time.perf_counter() - t0) * 1000.0)
s = summary(times)
pm = sorted(pm_ms)[len(pm_ms) // 2]
emit({"torch": torch.__version__, "threads": threads, "preset": a.preset, "batch": B, "size": S, "length": L, **s,
      "pseudoMaskMs": pm, "pseudoMaskShare": pm / s["medianMs"], "peakRssMiB": peak_rss_mib()})
