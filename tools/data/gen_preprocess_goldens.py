"""Goldens for the @g2d-ts/data image decoding + reference preprocessing tests
(packages/data/test/preprocess-parity.test.ts).

* decode: Pillow's decoding of a deterministic subset of the shared PNG/JPEG images
  (np.array(Image.open(f)), converted with .convert('L') when not grey), as sha256 of the
  row-major int32 little-endian values.
* preprocess: the reference G2D preprocessing (ext_data.py: crop to non-zero bbox, min-max
  x256, skimage bilinear resize, uint8 cast) on those images, on the `g2d-data convert` grey
  image of the chest DICOMs, and on small synthetic arrays stored inline.

Run:  .venv-ref/bin/python tools/data/gen_preprocess_goldens.py [shared_dir] [out_json]
"""
import glob
import hashlib
import json
import os
import sys

import numpy as np
import PIL
import skimage
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from refimpl import convert_png_values, read_dataset, reference_preprocess, stored_values  # noqa: E402


def h(a):
    return hashlib.sha256(np.ascontiguousarray(a, dtype="<i4").tobytes()).hexdigest()


def pil_grey(path):
    im = Image.open(path)
    if im.mode not in ("L", "I;16", "I"):
        im = im.convert("L")
    return np.array(im)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    shared = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "../../../shared")
    out_path = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "../../packages/data/test/fixtures/preprocess-goldens.json")
    data = os.path.join(shared, "data")
    rel = lambda p: os.path.relpath(p, data)  # noqa: E731
    images = sorted(glob.glob(os.path.join(data, "nih_cxr14_bbox/images/*.jpg")))[::40]
    images += sorted(glob.glob(os.path.join(data, "covid_chestxray_ieee8023/images/*")))[::40]
    images += sorted(glob.glob(os.path.join(data, "covid_figure1_agchung/images/*")))[::20]
    images += sorted(glob.glob(os.path.join(data, "nih_cxr14_txv_samples/*.png")))
    images += sorted(glob.glob(os.path.join(data, "tbx11k_txv_samples/imgs/*/*.png")))
    cases = []
    for p in images:
        a = pil_grey(p)
        ent = {"file": rel(p), "shape": list(a.shape), "decodeSha256": h(a), "mean": float(a.mean())}
        for n in (256, 224):
            ent[f"pre{n}"] = h(reference_preprocess(a, n))
        cases.append(ent)
    dicoms = []
    for p in sorted(glob.glob(os.path.join(data, "dicom_samples/chest/*.dcm"))):
        ds = read_dataset(p)
        arr, _ = stored_values(ds)
        g = convert_png_values(ds, arr)
        dicoms.append({"file": rel(p), "shape": list(g.shape), "convertSha256": h(g), "pre256": h(reference_preprocess(g, 256))})
    rng = np.random.default_rng(1234)
    synth = []
    a = rng.integers(1, 256, (20, 30)).astype(np.uint8)
    a[:3] = 0
    a[:, :2] = 0
    a[-1] = 0
    a[5, 7] = 0
    for n in (8, 64):
        synth.append({"name": f"u8_20x30_border_to{n}", "h": 20, "w": 30, "dtype": "uint8", "input": a.ravel().tolist(), "size": n, "output": reference_preprocess(a, n).ravel().tolist()})
    b = rng.integers(0, 4096, (7, 5)).astype(np.uint16)
    synth.append({"name": "u16_7x5_to16", "h": 7, "w": 5, "dtype": "uint16", "input": b.ravel().tolist(), "size": 16, "output": reference_preprocess(b, 16).ravel().tolist()})
    c = np.zeros((3, 9), np.uint8)
    c[1, 2:8] = [9, 50, 3, 200, 17, 4]
    synth.append({"name": "single_row_to5", "h": 3, "w": 9, "dtype": "uint8", "input": c.ravel().tolist(), "size": 5, "output": reference_preprocess(c, 5).ravel().tolist()})
    with np.errstate(all="ignore"):
        d = np.full((5, 5), 7, np.uint8)
        synth.append({"name": "constant_to4", "h": 5, "w": 5, "dtype": "uint8", "input": d.ravel().tolist(), "size": 4, "output": reference_preprocess(d, 4).ravel().tolist()})
    doc = {
        "meta": {"generator": "tools/data/gen_preprocess_goldens.py", "numpy": np.__version__, "skimage": skimage.__version__, "pillow": PIL.__version__,
                 "hash": "sha256 of row-major int32 little-endian values"},
        "images": cases, "dicom": dicoms, "synthetic": synth,
    }
    with open(out_path, "w") as fh:
        json.dump(doc, fh, separators=(",", ":"))
    print(f"wrote {out_path}: {len(cases)} images, {len(dicoms)} dicoms, {len(synth)} synthetic, {os.path.getsize(out_path)} bytes")


if __name__ == "__main__":
    main()
