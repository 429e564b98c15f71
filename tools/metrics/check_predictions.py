#!/usr/bin/env python3
"""Recompute an evaluation run's AUCs from its predictions.csv with scikit-learn and compare them
with its results.json (metrics.auc.perClass / metrics.auc.mean): they must be the same numbers.

    .venv-ref/bin/python tools/metrics/check_predictions.py runs/eval-classification/<run> [--tol 1e-12]

Prints one JSON object ({"ok", "maxAbsDiff", "classes": {name: {"results": ..., "sklearn": ...}}, ...})
and exits 1 when a class differs by more than --tol (or is defined in one and not the other).
"""
import argparse
import csv
import json
import math
import os
import sys

import numpy as np
from sklearn.metrics import roc_auc_score


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("run", help="folder with results.json and predictions.csv")
    ap.add_argument("--tol", type=float, default=1e-12)
    args = ap.parse_args()
    with open(os.path.join(args.run, "results.json")) as f:
        res = json.load(f)
    with open(os.path.join(args.run, "predictions.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    classes = res["data"]["classes"]
    per = res["metrics"]["auc"]["perClass"]
    out = {"ok": True, "maxAbsDiff": 0.0, "rows": len(rows), "classes": {}}
    ours = []
    for c in classes:
        s = np.array([float(r[f"{c}_score"]) for r in rows], dtype=np.float64)
        y = np.array([int(r[f"{c}_label"]) for r in rows], dtype=np.int64)
        if set(np.unique(y).tolist()) - {0, 1}:
            out["ok"] = False
            out.setdefault("errors", []).append(f"{c}: labels other than 0/1")
            continue
        sk = float(roc_auc_score(y, s)) if 0 < y.sum() < len(y) else None
        r = per.get(c)
        out["classes"][c] = {"results": r, "sklearn": sk}
        if (sk is None) != (r is None):
            out["ok"] = False
        elif sk is not None:
            d = abs(sk - r)
            out["maxAbsDiff"] = max(out["maxAbsDiff"], d)
            if d > args.tol:
                out["ok"] = False
            ours.append(sk)
    mean = float(np.mean(ours)) if ours else None
    rm = res["metrics"]["auc"]["mean"]
    out["mean"] = {"results": rm, "sklearn": mean}
    if (mean is None) != (rm is None) or (mean is not None and abs(mean - rm) > args.tol):
        out["ok"] = False
    if mean is not None and rm is not None:
        out["maxAbsDiff"] = max(out["maxAbsDiff"], abs(mean - rm))
    print(json.dumps(out))
    return 0 if out["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
