"""Small PyTorch/safetensors files for @g2d-ts/core's checkpoint reader tests.

Run: /work/main/.venv-ref/bin/python tools/vision/gen_checkpoint_fixtures.py
Writes packages/core/test/checkpoint-fixtures/ (a few KB, committed). Reference tooling only.
Re-running rewrites dtypes_legacy.pth (legacy storage keys are memory addresses) and
dtypes.safetensors (metadata key order) with different bytes but the same content.
"""
import argparse
import io
import json
import os
import zipfile
from collections import OrderedDict

import numpy as np
import torch
from safetensors.torch import save_file

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "packages", "core", "test", "checkpoint-fixtures")


def tensors():
    torch.manual_seed(0)
    base = torch.arange(20, dtype=torch.float32).view(4, 5)
    sd = OrderedDict()
    sd["f32"] = torch.randn(2, 3)
    sd["f16"] = torch.tensor([0.5, -2.25, 65504.0, 6e-8, 1e-3], dtype=torch.float16)
    sd["bf16"] = torch.tensor([1.0, -3.140625, 1e30, -1e-20], dtype=torch.bfloat16)
    sd["f64"] = torch.tensor([[1.0 / 3, -2e200]], dtype=torch.float64)
    sd["i64"] = torch.tensor([0, -1, 2**40, -(2**50)], dtype=torch.int64)
    sd["i32"] = torch.tensor([7, -8, 2**31 - 1], dtype=torch.int32)
    sd["i16"] = torch.tensor([-300, 300], dtype=torch.int16)
    sd["i8"] = torch.tensor([-128, 127, 0], dtype=torch.int8)
    sd["u8"] = torch.tensor([0, 255, 17], dtype=torch.uint8)
    sd["bool"] = torch.tensor([True, False, True])
    sd["scalar"] = torch.tensor(3.5)
    sd["empty"] = torch.zeros(0, 4)
    sd["transposed"] = base.t()  # non-contiguous view (stride 1, 5)
    sd["slice"] = base[1:3, 1:4]  # view with a storage offset, shares storage with transposed
    sd["param"] = torch.nn.Parameter(torch.randn(3))
    return sd


def expected(sd):
    out = {}
    for k, v in sd.items():
        v = v.detach()
        out[k] = {
            "dtype": str(v.dtype).replace("torch.", ""),
            "shape": list(v.shape),
            "values": v.double().reshape(-1).tolist() if v.dtype != torch.int64 else [str(x) for x in v.reshape(-1).tolist()],
        }
    return out


class Evil:
    def __init__(self, fn, arg):
        self.fn, self.arg = fn, arg

    def __reduce__(self):
        return (self.fn, (self.arg,))


def main():
    os.makedirs(OUT, exist_ok=True)
    sd = tensors()
    exp = expected(sd)
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(exp, f, indent=1)
    torch.save(sd, os.path.join(OUT, "dtypes.pth"))
    torch.save(sd, os.path.join(OUT, "dtypes_legacy.pth"), _use_new_zipfile_serialization=False)
    # safetensors needs contiguous, unshared tensors
    save_file({k: v.detach().contiguous().clone() for k, v in sd.items()}, os.path.join(OUT, "dtypes.safetensors"),
              metadata={"format": "pt", "note": "fixture"})

    # same archive with every record deflated (torch never compresses; other zip writers may)
    with zipfile.ZipFile(os.path.join(OUT, "dtypes.pth")) as zin, \
            zipfile.ZipFile(os.path.join(OUT, "dtypes_deflated.pth"), "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zi = zipfile.ZipInfo(info.filename, date_time=(2024, 1, 1, 0, 0, 0))
            zout.writestr(zi, zin.read(info.filename), compress_type=zipfile.ZIP_DEFLATED)

    # a training checkpoint: wrapped, DataParallel prefixes, optimizer state, argparse args
    torch.manual_seed(1)
    net = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3), torch.nn.BatchNorm2d(3))
    opt = torch.optim.AdamW(net.parameters(), lr=2e-5, weight_decay=1e-8)
    net(torch.randn(2, 2, 5, 5)).sum().backward()
    opt.step()
    state = OrderedDict(("module." + k, v) for k, v in net.state_dict().items())
    torch.save({"epoch": 6, "model_state_dict": state, "optimizer_state_dict": opt.state_dict(),
                "args": argparse.Namespace(lr=2e-5, name="g2d"), "best": 0.25},
               os.path.join(OUT, "wrapped.pth"))
    with open(os.path.join(OUT, "wrapped_expected.json"), "w") as f:
        json.dump({k: {"shape": list(v.shape), "values": v.double().reshape(-1).tolist()}
                   for k, v in net.state_dict().items()}, f)

    # hostile / unsupported globals: must be refused by name, never executed
    torch.save({"w": torch.ones(1), "x": Evil(os.system, "echo pwned > /tmp/g2d-pwned")},
               os.path.join(OUT, "malicious_os_system.pth"))
    torch.save({"w": torch.ones(1), "x": Evil(eval, "__import__('os').getcwd()")},
               os.path.join(OUT, "malicious_eval.pth"))
    torch.save({"w": torch.ones(1), "best": np.float64(0.5)}, os.path.join(OUT, "numpy_scalar.pth"))
    torch.save({"c": torch.ones(2, dtype=torch.complex64)}, os.path.join(OUT, "complex.pth"))


if __name__ == "__main__":
    main()
