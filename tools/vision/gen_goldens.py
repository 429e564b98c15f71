"""Parity goldens for @g2d-ts/vision, produced by the reference libraries themselves
(torchvision 0.14.1 / torch 1.13.1 from Debian, segmentation-models-pytorch 0.3.3, timm 0.9.2).

  .venv-ref/bin/python tools/vision/gen_goldens.py --set small   # -> packages/vision/test/fixtures (committed, small)
  .venv-ref/bin/python tools/vision/gen_goldens.py --set large   # -> tmp/goldens/vision (gitignored, ~1.3 GB)

Every case saves its weights as .pth (torch.save) and .safetensors, and its inputs/outputs
(NCHW, float32) as <case>_io.safetensors. Weights are random (fixed seeds) with randomised
BatchNorm statistics so eval-mode BN is not the identity. Reference tooling only.
"""
import argparse
import json
import os
import shutil
import sys
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet
from safetensors.torch import save_file

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
torch.set_num_threads(2)
torch.use_deterministic_algorithms(True)


# ---------------------------------------------------------------- helpers
def randomize_bn(model, seed, forward=None, shape=None):
    """Random BatchNorm affine parameters, then running statistics calibrated on random
    inputs (like a trained network's): eval-mode BN is not the identity, and activations stay
    O(1) through deep nets, so float32 results are well-conditioned (uncalibrated random
    statistics let ResNet-101 activations reach 1e6, where torch's own float32 output differs
    from float64 by more than the parity tolerance)."""
    g = torch.Generator().manual_seed(seed)
    bns = [m for m in model.modules() if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d))]
    for m in bns:
        if m.affine:
            m.weight.data = torch.rand(m.num_features, generator=g) * 0.5 + 0.75
            m.bias.data = torch.randn(m.num_features, generator=g) * 0.1
        m.running_mean = torch.randn(m.num_features, generator=g) * 0.1
        m.running_var = torch.rand(m.num_features, generator=g) + 0.5
    # small gains on each residual branch's last BN (as trained ResNets have; cf. torchvision's
    # zero_init_residual): otherwise float32 rounding differences grow ~1.2x per block
    for m in model.modules():  # torchvision's and timm's blocks alike
        if hasattr(m, "downsample") and hasattr(m, "bn3"):
            m.bn3.weight.data *= 0.2
        elif hasattr(m, "downsample") and hasattr(m, "bn2"):
            m.bn2.weight.data *= 0.2
    if forward is not None:
        for m in bns:
            m.reset_running_stats()
            m.momentum = None  # cumulative average over the calibration batches
        model.train()
        with torch.no_grad():
            for _ in range(3):
                forward(torch.randn(*shape, generator=g))
        for m in bns:
            m.momentum = 0.1
        model.eval()
    for m in bns:
        m.num_batches_tracked.fill_(7)


def save_weights(out, name, sd):
    sd = OrderedDict((k, v.detach().clone().contiguous()) for k, v in sd.items())
    torch.save(sd, os.path.join(out, f"{name}.pth"))
    save_file(sd, os.path.join(out, f"{name}.safetensors"), metadata={"format": "pt"})


def save_io(out, name, tensors):
    save_file({k: v.detach().float().clone().contiguous() for k, v in tensors.items()},
              os.path.join(out, f"{name}_io.safetensors"))


def encoder_pyramid(m, x):
    """smp's ResNetEncoder.forward on a torchvision (or timm) ResNet: [x, stem, layer1..layer4]."""
    feats = [x]
    act = m.relu if hasattr(m, "relu") else m.act1  # timm calls it act1
    h = act(m.bn1(m.conv1(x)))
    feats.append(h)
    h = m.layer1(m.maxpool(h))
    feats.append(h)
    for layer in (m.layer2, m.layer3, m.layer4):
        h = layer(h)
        feats.append(h)
    return feats


class TinyResNet(ResNet):
    """torchvision's ResNet and blocks with narrower widths (fast, tiny fixtures)."""

    def __init__(self, block, layers, widths, stem):
        nn.Module.__init__(self)
        self._norm_layer = nn.BatchNorm2d
        self.inplanes = stem
        self.dilation = 1
        self.groups = 1
        self.base_width = 64
        self.conv1 = nn.Conv2d(3, stem, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(stem)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, widths[0], layers[0])
        self.layer2 = self._make_layer(block, widths[1], layers[1], stride=2)
        self.layer3 = self._make_layer(block, widths[2], layers[2], stride=2)
        self.layer4 = self._make_layer(block, widths[3], layers[3], stride=2)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        self.out_channels = [3, stem] + [w * block.expansion for w in widths]


class AttentionPool2d(nn.Module):
    """The G2D reference's attention pooling (CLIP style), written from its description."""

    def __init__(self, spacial_dim, embed_dim, num_heads, output_dim=None):
        super().__init__()
        self.positional_embedding = nn.Parameter(torch.randn(spacial_dim ** 2 + 1, embed_dim) / embed_dim ** 0.5)
        self.mhsa = nn.MultiheadAttention(embed_dim, num_heads)
        self.c_proj = nn.Linear(embed_dim, output_dim or embed_dim)
        self.num_heads = num_heads

    def forward(self, x):
        x = x.flatten(start_dim=2).permute(2, 0, 1)
        x = torch.cat([x.mean(dim=0, keepdim=True), x], dim=0)
        x = x + self.positional_embedding[:, None, :].to(x.dtype)
        x, att = self.mhsa(x[:1], x, x, average_attn_weights=False)
        return self.c_proj(x).squeeze(0), att.squeeze(2)


def proj_head(cin, hidden, out, conv=nn.Conv2d, bn=nn.BatchNorm2d):
    return nn.Sequential(conv(cin, hidden, 1, bias=False), bn(hidden, affine=False), nn.ReLU(inplace=True),
                         conv(hidden, out, 1, bias=False))


# ---------------------------------------------------------------- cases
def resnet_case(out, name, model, size, seed, train_grads=False):
    randomize_bn(model, seed + 1, lambda x: encoder_pyramid(model, x), (4, model.conv1.in_channels, *size))
    model.eval()
    save_weights(out, name, model.state_dict())
    g = torch.Generator().manual_seed(seed + 2)
    x = torch.randn(2, model.conv1.in_channels, *size, generator=g)
    io = {"input": x}
    with torch.no_grad():
        for i, f in enumerate(encoder_pyramid(model, x)):
            io[f"feat{i}"] = f
    if train_grads:
        # one train-mode forward/backward: BN batch statistics, running-stat updates, gradients
        model.train()
        w = torch.randn(*encoder_pyramid(model, x)[-1].shape, generator=g)
        # the probe forward above updated running stats: restore them from the saved copy
        model.load_state_dict(torch.load(os.path.join(out, f"{name}.pth")))
        model.train()
        model.zero_grad()
        feats = encoder_pyramid(model, x)
        loss = (feats[-1] * w).sum()
        loss.backward()
        io["train.weight"] = w
        io["train.feat5"] = feats[-1]
        io["train.loss"] = loss.reshape(1)
        for k, v in model.state_dict().items():
            if k.endswith("running_mean") or k.endswith("running_var"):
                io[f"train.state.{k}"] = v
        for k, p in model.named_parameters():
            io[f"train.grad.{k}"] = p.grad
        model.eval()
    save_io(out, name, io)


class TinyUnet(nn.Module):
    """smp.Unet's structure (encoder/decoder/segmentation_head) around a tiny torchvision ResNet."""

    def __init__(self, encoder, decoder_channels, classes):
        super().__init__()
        from segmentation_models_pytorch.base import SegmentationHead
        from segmentation_models_pytorch.decoders.unet.decoder import UnetDecoder
        self.encoder = encoder
        self.decoder = UnetDecoder(encoder.out_channels, decoder_channels, n_blocks=5, use_batchnorm=True)
        self.segmentation_head = SegmentationHead(decoder_channels[-1], classes, kernel_size=3)

    def forward(self, x):
        feats = encoder_pyramid(self.encoder, x)
        dec = self.decoder(*feats)
        return feats, dec, self.segmentation_head(dec)


def unet_case(out, name, unet, encoder, size, seed):
    randomize_bn(unet, seed + 1, lambda x: unet.decoder(*encoder_pyramid(encoder, x)), (4, 3, *size))
    unet.eval()
    save_weights(out, name, unet.state_dict())
    g = torch.Generator().manual_seed(seed + 2)
    x = torch.randn(2, 3, *size, generator=g)
    with torch.no_grad():
        feats = encoder_pyramid(encoder, x)
        dec = unet.decoder(*feats)
        logits = unet.segmentation_head(dec)
        if hasattr(unet, "predict"):  # a real smp.Unet: its own forward must agree
            assert torch.allclose(unet(x), logits)
    io = {"input": x, "decoder": dec, "logits": logits}
    io.update({f"feat{i}": f for i, f in enumerate(feats)})
    save_io(out, name, io)


class TinyG2D(nn.Module):
    """The reference CNN_AE's modules (img_model, attnpool, proj_v, proj_t, pseudo_conv, lm_model)."""

    def __init__(self):
        super().__init__()
        enc = TinyResNet(Bottleneck, [1, 1, 1, 1], [2, 2, 4, 4], 4)
        self.img_model = TinyUnet(enc, (8, 4, 4, 4, 4), 1)
        self.attnpool = AttentionPool2d(2, 8, 4, 8)
        self.lm_model = nn.Sequential(OrderedDict(embeddings=nn.Embedding(11, 6)))  # stands in for BERT
        self.proj_v = proj_head(enc.out_channels[-1], 8, 8)
        self.proj_t = proj_head(6, 8, 8, nn.Conv1d, nn.BatchNorm1d)
        self.pseudo_conv = nn.Conv2d(enc.out_channels[-2], 8, 1, 1, 0)


def g2d_case(out, seed):
    torch.manual_seed(seed)
    m = TinyG2D()
    randomize_bn(m, seed + 1)  # (proj_t's BatchNorm1d too)
    # reference checkpoints: full training state (after one AdamW step), encoder, encoder+decoder
    opt = torch.optim.AdamW(m.parameters(), lr=2e-5, weight_decay=1e-8)
    m.train()
    g = torch.Generator().manual_seed(seed + 2)
    xt = torch.randn(2, 3, 64, 64, generator=g)  # training batch (not saved)
    feats, dec, logits = m.img_model(xt)
    pooled, _ = m.attnpool(m.proj_v(feats[-1]))
    (logits.mean() + pooled.mean() + m.proj_t(m.lm_model.embeddings(torch.tensor([[1, 2]])).permute(0, 2, 1)).mean()).backward()
    opt.step()
    m.eval()
    torch.save({"epoch": 2, "model_state_dict": m.state_dict(), "optimizer_state_dict": opt.state_dict()},
               os.path.join(out, "g2d_tiny_2_checkpoint.pth"))
    torch.save(m.img_model.encoder.state_dict(), os.path.join(out, "g2d_tiny_2_encoder.pth"))
    torch.save(m.img_model.state_dict(), os.path.join(out, "g2d_tiny_2_encoder_decoder.pth"))
    x = torch.randn(1, 3, 64, 64, generator=g)
    with torch.no_grad():
        feats, dec, logits = m.img_model(x)
        proj = m.proj_v(feats[-1])
        pooled, att = m.attnpool(proj)
        tokens = torch.randn(2, 6, 5, generator=g)  # [B, C, L] as the reference feeds proj_t
        proj_t = m.proj_t(tokens)
    io = {"input": x, "logits": logits, "proj": proj, "pooled": pooled, "att_map": att, "feat5": feats[-1],
          "proj_t_in": tokens, "proj_t_out": proj_t}
    save_io(out, "g2d_tiny", io)


def vit_case(out, name, model, size, seed):
    model.eval()
    save_weights(out, name, model.state_dict())
    g = torch.Generator().manual_seed(seed + 2)
    x = torch.randn(2, 3, size, size, generator=g)
    with torch.no_grad():
        if isinstance(model, torchvision.models.VisionTransformer):
            t = model._process_input(x)
            t = torch.cat([model.class_token.expand(x.shape[0], -1, -1), t], dim=1)
            tokens = model.encoder(t)
        else:  # timm
            tokens = model.forward_features(x)
    save_io(out, name, {"input": x, "tokens": tokens})


def small(out):
    torch.manual_seed(10)
    resnet_case(out, "tiny_bottleneck", TinyResNet(Bottleneck, [2, 1, 1, 1], [4, 8, 8, 16], 8), (33, 37), 10, train_grads=True)
    torch.manual_seed(20)
    resnet_case(out, "tiny_basic", TinyResNet(BasicBlock, [1, 2, 1, 1], [4, 8, 8, 16], 8), (40, 48), 20, train_grads=True)
    torch.manual_seed(30)
    enc = TinyResNet(Bottleneck, [1, 1, 1, 1], [4, 4, 8, 8], 8)
    unet_case(out, "tiny_unet", TinyUnet(enc, (16, 8, 8, 4, 4), 2), enc, (32, 32), 30)
    g2d_case(out, 40)
    torch.manual_seed(50)
    vit_case(out, "tiny_vit", torchvision.models.VisionTransformer(32, 16, 2, 2, 16, 32, num_classes=5), 32, 50)
    import timm
    torch.manual_seed(60)
    tm = timm.models.vision_transformer.VisionTransformer(img_size=32, patch_size=16, embed_dim=16, depth=2, num_heads=2,
                                                          mlp_ratio=2.0, num_classes=5)
    vit_case(out, "tiny_vit_timm", tm, 32, 60)
    # key names and shapes of the full-size ViT-B/16 (to check our registered config)
    shapes = {k: list(v.shape) for k, v in torchvision.models.vit_b_16().state_dict().items()}
    with open(os.path.join(out, "vit_b_16_shapes.json"), "w") as f:
        json.dump(shapes, f)
    import segmentation_models_pytorch as smp
    for enc in ("resnet18", "resnet50"):
        u = smp.Unet(enc, encoder_weights=None, classes=1)
        with open(os.path.join(out, f"smp_unet_{enc}_shapes.json"), "w") as f:
            json.dump({k: list(v.shape) for k, v in u.state_dict().items()}, f)


def large(out):
    for i, (name, fn) in enumerate([("resnet18", torchvision.models.resnet18), ("resnet34", torchvision.models.resnet34),
                                    ("resnet50", torchvision.models.resnet50), ("resnet101", torchvision.models.resnet101)]):
        torch.manual_seed(100 + i)
        resnet_case(out, name, fn(), (64, 64), 100 + i)
    import timm
    torch.manual_seed(150)
    resnet_case(out, "timm_resnet50", timm.create_model("resnet50", pretrained=False), (64, 64), 150)
    import segmentation_models_pytorch as smp
    torch.manual_seed(200)
    u = smp.Unet("resnet50", encoder_weights=None, classes=1)
    unet_case(out, "smp_unet_resnet50", u, u.encoder, (64, 64), 200)
    torch.manual_seed(300)
    vit_case(out, "vit_b_16_32px", torchvision.models.VisionTransformer(32, 16, 12, 12, 768, 3072), 32, 300)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--set", choices=["small", "large"], required=True)
    ap.add_argument("--out")
    a = ap.parse_args()
    out = a.out or (os.path.join(ROOT, "packages", "vision", "test", "fixtures") if a.set == "small"
                    else os.path.join(ROOT, "tmp", "goldens", "vision"))
    tmp = out + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    (small if a.set == "small" else large)(tmp)
    with open(os.path.join(tmp, "MANIFEST.json"), "w") as f:
        json.dump({"set": a.set, "torch": torch.__version__, "torchvision": torchvision.__version__,
                   "files": sorted(os.listdir(tmp))}, f, indent=1)
    shutil.rmtree(out, ignore_errors=True)
    os.rename(tmp, out)
    print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
