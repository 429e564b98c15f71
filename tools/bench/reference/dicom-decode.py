"""dicom-decode benchmark, reference side: pydicom (+ pylibjpeg / Pillow codecs) + numpy +
skimage doing the same work as @g2d-ts/data per image: read + decode the DICOM, Modality LUT, VOI,
MONOCHROME1 inversion, quantise to the stored range (tools/data/refimpl.py: convert_png_values),
the reference G2D preprocessing to N x N uint8 (ext_data.py), then a float32 [1, N, N, 1] tensor
in 0..1 (torch.from_numpy). Prints one JSON object on its last line.

usage: dicom-decode.py --size 256 --iters 5 file1.dcm [file2.dcm ...]
"""
import argparse
import json
import os
import statistics
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../data"))
from refimpl import convert_png_values, read_dataset, reference_preprocess, stored_values  # noqa: E402


def one(path, size):
    ds = read_dataset(path)
    arr, note = stored_values(ds)
    g = convert_png_values(ds, arr, pi="RGB" if note else None)
    u8 = reference_preprocess(g, size)
    t = torch.from_numpy(u8.astype(np.float32) / 255.0).reshape(1, size, size, 1)
    return t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    torch.set_num_threads(1)
    for f in a.files:  # warm-up (imports, codec plugins)
        one(f, a.size)
    per_pass = []
    for _ in range(a.iters):
        t0 = time.perf_counter()
        for f in a.files:
            one(f, a.size)
        per_pass.append((time.perf_counter() - t0) * 1000)
    ms = statistics.median(per_pass) / len(a.files)
    import pydicom
    print(json.dumps({"msPerImage": ms, "imagesPerSec": 1000 / ms, "files": len(a.files), "iters": a.iters, "pydicom": pydicom.__version__, "numpy": np.__version__}))


if __name__ == "__main__":
    main()
