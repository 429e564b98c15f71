"""Parity goldens for @g2d-ts/model: the G2D reference model composition (CNN_AE in
cheliu-computation/G2D-NeurIPS24 PRETRAIN/models/cnn_ae.py), its losses and its pseudo-mask
step, rebuilt from the reference's description with the reference libraries themselves
(torch 1.13, segmentation-models-pytorch 0.3.3, transformers 4.36), seeded random weights, no
download. Reference tooling only (never in the product path).

  .venv-ref/bin/python tools/model/gen_reference_g2d.py --out tmp/goldens/model [--preset g2d-resnet18-tiny]

Writes into --out:
  ref_2_checkpoint.pth          {'epoch', 'model_state_dict', 'optimizer_state_dict'} as the reference saves it
  ref_2_encoder.pth             img_model.encoder.state_dict()
  ref_2_encoder_decoder.pth     img_model.state_dict()
  io.safetensors                inputs (images NCHW, input_ids, attention_mask) and outputs:
                                eval_* (model.eval()) and train_* (model.train(), dropout p=0):
                                pool_proj_img_emb, proj_text_emb (the [CLS] row), att_map (B,heads,h,w),
                                img_dec (B,1,H,W logits), pseudo_mask; grad_<param> of vla+ps (eval)
  meta.json                     config, loss terms (vla, ps, acc1, acc5) for eval and train
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import segmentation_models_pytorch as smp
from safetensors.torch import save_file
from transformers import BertConfig, BertModel

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools", "vision"))
# the same BatchNorm calibration and the same reference AttentionPool2d (cnn_ae.py lines 11-29) as the vision goldens
from gen_goldens import AttentionPool2d, randomize_bn  # noqa: E402

torch.set_num_threads(2)
torch.use_deterministic_algorithms(True)

PRESETS = {
    # the shapes of packages/model/configs/*.json (kept in sync by the parity test)
    "g2d-resnet18-tiny": dict(backbone="resnet18", image_size=128, heads=4, proj=128,
                              bert=dict(hidden_size=256, num_hidden_layers=4, num_attention_heads=4,
                                        intermediate_size=1024), free_layers=3),
    "g2d-resnet50": dict(backbone="resnet50", image_size=256, heads=4, proj=128,
                         bert=dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                                   intermediate_size=3072), free_layers=9),
}


class CNN_AE(nn.Module):
    """The reference composition (cnn_ae.py): module names as in its state dict."""

    def __init__(self, p):
        super().__init__()
        self.heads = p["heads"]
        self.img_model = smp.Unet(p["backbone"], in_channels=3, classes=1, encoder_weights=None)
        c = self.img_model.encoder.out_channels
        cfg = BertConfig(vocab_size=28996, max_position_embeddings=512, type_vocab_size=2, **p["bert"])
        self.lm_model = BertModel(cfg)  # AutoModel on a BERT checkpoint: pooler included (unused)
        self.attnpool = AttentionPool2d(p["image_size"] // 32, p["proj"], p["heads"], p["proj"])
        self.proj_v = nn.Sequential(nn.Conv2d(c[-1], p["proj"], 1, bias=False), nn.BatchNorm2d(p["proj"], affine=False),
                                    nn.ReLU(inplace=True), nn.Conv2d(p["proj"], p["proj"], 1, bias=False))
        self.pseudo_conv = nn.Conv2d(c[-2], p["proj"], 1, 1, 0)  # defined, never used
        h = p["bert"]["hidden_size"]
        self.proj_t = nn.Sequential(nn.Conv1d(h, p["proj"], 1, bias=False), nn.BatchNorm1d(p["proj"], affine=False),
                                    nn.ReLU(inplace=True), nn.Conv1d(p["proj"], p["proj"], 1, bias=False))

    def forward(self, img, input_ids, attention_mask):
        B, _, H, W = img.shape
        feats = self.img_model.encoder(img)
        proj_img_emb = self.proj_v(feats[-1])
        pool_proj_img_emb, att_map = self.attnpool(proj_img_emb)
        att_map = att_map[:, :, 1:].reshape(B, self.heads, H // 32, W // 32)
        img_dec = self.img_model.segmentation_head(self.img_model.decoder(*feats))
        text_emb = self.lm_model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        proj_text_emb = self.proj_t(text_emb.permute(0, 2, 1)).permute(0, 2, 1)
        proj_text_emb = F.normalize(proj_text_emb, dim=-1)
        return dict(pool_proj_img_emb=pool_proj_img_emb, proj_text_emb=proj_text_emb[:, 0], att_map=att_map, img_dec=img_dec)


def clip_loss(x, y, temperature=0.07):
    """loss.py clip_loss: symmetric CE on L2-normalised embeddings (a sum), top-k accuracies in %."""
    x = F.normalize(x, dim=-1)
    y = F.normalize(y, dim=-1)
    sim = x @ y.t() / temperature
    labels = torch.arange(x.shape[0])
    loss = F.cross_entropy(sim, labels) + F.cross_entropy(sim.t(), labels)

    def acc(logits, k):
        k = min(k, logits.shape[1])
        top = logits.topk(k, dim=1).indices
        return (top == labels[:, None]).any(dim=1).float().mean().item() * 100

    return loss, (acc(sim, 1) + acc(sim.t(), 1)) / 2, (acc(sim, 5) + acc(sim.t(), 5)) / 2


def bce_dice(pred, target, smooth=1e-5):
    """loss.py bceDiceLoss (train): dice on raw logits + 0.2 * BCE-with-logits."""
    n = pred.shape[0]
    pf, tf_ = pred.reshape(n, -1), target.reshape(n, -1)
    score = (2 * (pf * tf_).sum(1) + smooth) / (pf.sum(1) + tf_.sum(1) + smooth)
    return (1 - score.sum() / n) + 0.2 * F.binary_cross_entropy_with_logits(pred, target)


def att2label(att_map, size, heads, q=0.85):
    """trainer.py transform_att2label, num_pseudo_map 1: head mean, nearest resize, > per-image quantile."""
    a = att_map.detach().cpu().sum(dim=1) / heads
    a = F.interpolate(a[:, None], size=(size, size), mode="nearest")[:, 0].numpy()
    thr = np.quantile(a, q, axis=(1, 2))
    m = (a > thr[:, None, None]).astype(np.float32)
    return torch.tensor(m).reshape(a.shape[0], 1, size, size)


GRAD_PARAMS = ["attnpool.c_proj.weight", "attnpool.positional_embedding", "proj_v.0.weight", "proj_t.3.weight",
               "img_model.segmentation_head.0.weight", "img_model.decoder.blocks.0.conv1.0.weight",
               "img_model.encoder.conv1.weight", "lm_model.embeddings.word_embeddings.weight"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(ROOT, "tmp", "goldens", "model"))
    ap.add_argument("--preset", default="g2d-resnet18-tiny", choices=sorted(PRESETS))
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--length", type=int, default=24)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    p = PRESETS[a.preset]
    os.makedirs(a.out, exist_ok=True)
    torch.manual_seed(a.seed)
    m = CNN_AE(p)
    S = p["image_size"]
    randomize_bn(m, a.seed + 1, lambda x: m.proj_v(m.img_model.encoder(x)[-1]) + 0 * m.img_model.decoder(*m.img_model.encoder(x)).sum(),
                 (4, 3, S, S))
    for i in range(p["free_layers"]):  # main.py:61-64
        for q in m.lm_model.encoder.layer[i].parameters():
            q.requires_grad = False
    # one AdamW step, so the saved optimizer state is a real one (main.py:73-77)
    opt = torch.optim.AdamW(m.parameters(), lr=2e-5, weight_decay=1e-8)
    g = torch.Generator().manual_seed(a.seed + 2)
    B, L = a.batch, a.length
    ids = torch.randint(1000, 28000, (B, L), generator=g)
    lens = [L, L - 5, L // 2, 7][:B] + [L] * max(0, B - 4)
    mask = torch.zeros(B, L, dtype=torch.long)
    for b, n in enumerate(lens):
        mask[b, :n] = 1
        ids[b, 0] = 101
        ids[b, n - 1] = 102
        ids[b, n:] = 0
    m.train()
    out = m(torch.randn(B, 3, S, S, generator=g), ids, mask)
    clip_loss(out["pool_proj_img_emb"], out["proj_text_emb"])[0].backward()
    opt.step()
    opt.zero_grad()
    m.eval()
    name = "ref_2"
    torch.save({"epoch": 2, "model_state_dict": m.state_dict(), "optimizer_state_dict": opt.state_dict()},
               os.path.join(a.out, f"{name}_checkpoint.pth"))
    torch.save(m.img_model.encoder.state_dict(), os.path.join(a.out, f"{name}_encoder.pth"))
    torch.save(m.img_model.state_dict(), os.path.join(a.out, f"{name}_encoder_decoder.pth"))

    images = torch.randn(B, 3, S, S, generator=g)
    io = {"images": images, "input_ids": ids.to(torch.int32), "attention_mask": mask.to(torch.int32)}
    meta = {"preset": a.preset, "config": p, "batch": B, "length": L, "torch": torch.__version__,
            "smp": smp.__version__}
    params = dict(m.named_parameters())
    for mode in ("eval", "train"):
        if mode == "train":
            m.train()
            for mod in m.modules():
                if isinstance(mod, nn.Dropout):
                    mod.p = 0.0
        o = m(images, ids, mask)
        vla, acc1, acc5 = clip_loss(o["pool_proj_img_emb"], o["proj_text_emb"])
        pm = att2label(o["att_map"], S, p["heads"])
        ps = bce_dice(o["img_dec"], pm)
        for k, v in o.items():
            io[f"{mode}_{k}"] = v
        io[f"{mode}_pseudo_mask"] = pm
        meta[mode] = {"vla": vla.item(), "ps": ps.item(), "acc1": acc1, "acc5": acc5}
        if mode == "eval":
            # gradients of the post-warm-up total, and of each term alone (which parts each reaches)
            for term, loss in (("total", vla + ps), ("vla", vla), ("ps", ps)):
                m.zero_grad()
                loss.backward(retain_graph=True)
                reached = sorted({n.split(".")[0] + ("." + n.split(".")[1] if n.startswith("img_model") else "")
                                  for n, q in params.items() if q.grad is not None and q.grad.abs().sum() > 0})
                meta[f"grad_reach_{term}"] = reached
                if term == "total":
                    for n in GRAD_PARAMS:
                        io[f"grad_{n}"] = params[n].grad.clone()
                    meta["frozen_with_grad"] = [n for n, q in params.items() if not q.requires_grad and q.grad is not None]
            m.zero_grad()
    save_file({k: v.detach().contiguous().clone() for k, v in io.items()}, os.path.join(a.out, "io.safetensors"))
    with open(os.path.join(a.out, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
    print(f"[gen_reference_g2d] {a.preset}: wrote {a.out} (eval vla {meta['eval']['vla']:.5f} ps {meta['eval']['ps']:.5f})")


if __name__ == "__main__":
    main()
