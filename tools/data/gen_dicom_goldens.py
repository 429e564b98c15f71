"""Golden pixels for the @g2d-ts/data DICOM parity test (packages/data/test/dicom-parity.test.ts).

For every file in ../shared/data/dicom_samples (manifest.csv) this decodes the pixels with
pydicom 2.4 + the pylibjpeg codecs (tools/python/requirements-data.txt) and records, per file:
  stored:  the stored values (pixel_array, BitsStored masking/sign extension, YBR JPEG -> RGB)
  convert: the uint16 values `g2d-data convert` must write (Modality LUT, VOI, MONOCHROME1)
each as sha256 of the row-major int32 little-endian buffer + shape + min/max/mean, and for
lossy transfer syntaxes a strided sample of at most 2048 values (exact hashes cannot be
expected from a different codec build). Files pydicom cannot decode are recorded with its error.

Run:  .venv-ref/bin/python tools/data/gen_dicom_goldens.py [shared_dir] [out_json]
"""
import csv
import hashlib
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from refimpl import convert_png_values, read_dataset, stored_values  # noqa: E402

LOSSY = {"1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.81",
         "1.2.840.10008.1.2.4.91", "1.2.840.10008.1.2.4.93"}
MAX_SAMPLE = 2048


def summary(a, lossy):
    flat = np.ascontiguousarray(a, dtype="<i4").ravel()
    out = {
        "shape": list(a.shape),
        "sha256": hashlib.sha256(flat.tobytes()).hexdigest(),
        "min": int(flat.min()), "max": int(flat.max()), "mean": float(flat.mean()),
    }
    if lossy:
        stride = max(1, -(-flat.size // MAX_SAMPLE))
        out["sampleStride"] = stride
        out["sample"] = flat[::stride].tolist()
    return out


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    shared = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "../../../shared")
    out_path = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "../../packages/data/test/fixtures/dicom-goldens.json")
    root = os.path.join(shared, "data/dicom_samples")
    import pydicom
    import pylibjpeg
    files = {}
    with open(os.path.join(root, "manifest.csv")) as fh:
        for row in csv.DictReader(fh):
            name = row["file"]
            ent = {"transferSyntax": row["transfer_syntax_uid"] or None}
            try:
                ds = read_dataset(os.path.join(root, name))
                ts = str(ds.file_meta.TransferSyntaxUID)
                lossy = ts in LOSSY
                arr, note = stored_values(ds)
                ent.update({"status": "ok", "lossy": lossy, "photometric": str(ds.PhotometricInterpretation),
                            "stored": summary(arr, lossy)})
                if note:
                    ent["note"] = note
                frame0 = arr[0] if int(ds.get("NumberOfFrames", 1) or 1) > 1 else arr
                try:
                    ent["convert"] = summary(convert_png_values(ds, frame0, pi="RGB" if note else None), lossy)
                except ValueError as e:
                    ent["convert"] = {"error": str(e)}
            except Exception as e:  # noqa: BLE001 - the error is the golden
                ent.update({"status": "error", "error": f"{type(e).__name__}: {str(e)[:200]}"})
            files[name] = ent
    doc = {
        "meta": {
            "generator": "tools/data/gen_dicom_goldens.py",
            "pydicom": pydicom.__version__, "pylibjpeg": pylibjpeg.__version__, "numpy": np.__version__,
            "hash": "sha256 of the row-major int32 little-endian values (all frames; convert: frame 0)",
        },
        "files": files,
    }
    with open(out_path, "w") as fh:
        json.dump(doc, fh, separators=(",", ":"))
    print(f"wrote {out_path}: {len(files)} files, {os.path.getsize(out_path)} bytes")


if __name__ == "__main__":
    main()
