#!/usr/bin/env python3
"""Golden values for @g2d-ts/metrics, computed with scikit-learn / numpy on seeded random inputs.

Writes packages/metrics/test/fixtures/metrics-goldens.json; packages/metrics/test/goldens.test.ts
checks rocAuc, bestF1, dice, maskIou, boxIou, averagePrecision, meanAveragePrecision and
pointingHit against it to 1e-6.

References:
- rocAuc               sklearn.metrics.roc_auc_score
- bestF1               sklearn.metrics.precision_recall_curve (max F1 = 2PR/(P+R), its threshold: the
                       smallest one reaching the max, predictions = score >= threshold) and
                       sklearn.metrics.accuracy_score at that threshold (MedKLIP's zero-shot F1/ACC)
- dice / maskIou       sklearn.metrics.f1_score / jaccard_score on the flattened binarised masks
                       (prediction > 0.5, target > 0.5; both empty -> 1 via zero_division=1)
- boxIou               numpy, [x1, y1, x2, y2] without the +1 pixel convention (pycocotools' bbox IoU)
- averagePrecision     numpy: pycocotools' matching (detections by descending score, each to the
                       unmatched ground truth of highest IoU >= t) with all-point interpolation of the
                       precision envelope (VOC2010+); NOT pycocotools' 101-point sampling, which is not
                       the definition @g2d-ts/metrics implements, so pycocotools is not needed here
- meanAveragePrecision mean of the above over IoU 0.4, 0.45, ..., 0.75 (the RSNA protocol)
- pointingHit          numpy argmax (first maximum) inside the target mask

Inputs are rounded to 6 decimals before computing, and stored as used.

    .venv-ref/bin/python tools/metrics/gen_goldens.py            # (re)write the fixture
    .venv-ref/bin/python tools/metrics/gen_goldens.py --check    # compare a fresh run with the committed file
"""
import argparse
import json
import os
import sys

import numpy as np
import sklearn
from sklearn.metrics import accuracy_score, f1_score, jaccard_score, precision_recall_curve, roc_auc_score

SEED = 20261129
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "packages", "metrics", "test", "fixtures", "metrics-goldens.json")


def r6(a):
    return np.round(np.asarray(a, dtype=np.float64), 6)


def auc_cases(rng):
    cases = []
    for k, (n, pos_rate, tie_round) in enumerate([(50, 0.3, None), (200, 0.1, None), (120, 0.5, 1), (80, 0.25, 2), (33, 0.6, None), (400, 0.05, 3)]):
        labels = (rng.random(n) < pos_rate).astype(int)
        labels[0], labels[1] = 1, 0  # both classes present
        scores = r6(rng.normal(loc=labels * 0.8, scale=1.0))
        if tie_round is not None:
            scores = np.round(scores, tie_round)
        cases.append({"name": f"auc-{k}", "scores": scores.tolist(), "labels": labels.tolist(), "auc": float(roc_auc_score(labels, scores))})
    # one class only: undefined (sklearn raises; we return NaN -> null)
    cases.append({"name": "auc-one-class", "scores": r6(rng.random(10)).tolist(), "labels": [1] * 10, "auc": None})
    return cases


def best_f1(scores, labels):
    p, r, t = precision_recall_curve(labels, scores)
    with np.errstate(divide="ignore", invalid="ignore"):
        f1 = np.nan_to_num(2 * p * r / (p + r))
    f1 = f1[:-1]  # the last point (P=1, R=0) has no threshold
    k = int(np.argmax(f1))
    thr = float(t[k])
    acc = float(accuracy_score(labels, (scores >= thr).astype(int)))
    return {"f1": float(f1[k]), "threshold": thr, "accuracy": acc}


def f1_cases(rng):
    cases = []
    for k, (n, pos_rate, tie_round) in enumerate([(60, 0.3, None), (150, 0.1, None), (90, 0.5, 1), (40, 0.2, None)]):
        labels = (rng.random(n) < pos_rate).astype(int)
        labels[0] = 1
        scores = r6(rng.normal(loc=labels * 1.0, scale=1.0))
        if tie_round is not None:
            scores = np.round(scores, tie_round)
        cases.append({"name": f"f1-{k}", "scores": scores.tolist(), "labels": labels.tolist(), **best_f1(scores, labels)})
    return cases


def mask_cases(rng):
    cases = []
    for k, (h, w, p_t) in enumerate([(16, 16, 0.3), (24, 20, 0.05), (8, 8, 0.0), (32, 32, 0.5)]):
        target = (rng.random((h, w)) < p_t).astype(float)
        pred = r6(np.clip(target * 0.45 + rng.random((h, w)) * 0.6, 0, 1))
        if k == 2:
            pred = r6(rng.random((h, w)) * 0.4)  # empty prediction on an empty target -> 1
        pb, tb = (pred > 0.5).ravel().astype(int), (target > 0.5).ravel().astype(int)
        cases.append({
            "name": f"mask-{k}",
            "pred": pred.ravel().tolist(),
            "target": target.ravel().tolist(),
            "dice": float(f1_score(tb, pb, zero_division=1)),
            "iou": float(jaccard_score(tb, pb, zero_division=1)),
        })
    return cases


def iou(a, b):
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = max(0.0, a[2] - a[0]) * max(0.0, a[3] - a[1]) + max(0.0, b[2] - b[0]) * max(0.0, b[3] - b[1]) - inter
    return 0.0 if union <= 0 else inter / union


def rand_box(rng, size=256.0):
    x1, y1 = rng.random(2) * size * 0.8
    w, h = 10 + rng.random(2) * size * 0.3
    return r6([x1, y1, x1 + w, y1 + h]).tolist()


def jitter(rng, b, s):
    d = rng.normal(scale=s, size=4)
    x1, y1, x2, y2 = np.asarray(b) + d
    return r6([min(x1, x2 - 1), min(y1, y2 - 1), max(x2, x1 + 1), max(y2, y1 + 1)]).tolist()


def average_precision(images, thr):
    dets = []
    n_gt = 0
    for i, im in enumerate(images):
        for b, s in zip(im["boxes"], im["scores"]):
            dets.append((s, i, b))
        n_gt += len(im["gt"])
    if n_gt == 0:
        return None
    order = sorted(range(len(dets)), key=lambda k: -dets[k][0])  # stable: ties keep input order
    used = [np.zeros(len(im["gt"]), dtype=bool) for im in images]
    tp = []
    for k in order:
        _, i, b = dets[k]
        best, best_iou = -1, thr
        for j, g in enumerate(images[i]["gt"]):
            if used[i][j]:
                continue
            o = iou(b, g)
            if o >= best_iou:
                best_iou, best = o, j
        if best >= 0:
            used[i][best] = True
            tp.append(1)
        else:
            tp.append(0)
    tp = np.asarray(tp, dtype=np.float64)
    ctp = np.cumsum(tp)
    prec = ctp / np.arange(1, len(tp) + 1)
    rec = ctp / n_gt
    # all-point interpolation: precision envelope, area under the step curve
    mprec = np.concatenate([prec, [0.0]])
    for k in range(len(mprec) - 2, -1, -1):
        mprec[k] = max(mprec[k], mprec[k + 1])
    mrec = np.concatenate([[0.0], rec])
    return float(np.sum((mrec[1:] - mrec[:-1]) * mprec[:-1])) if len(tp) else 0.0


def det_cases(rng):
    cases = []
    thresholds = [round(0.4 + 0.05 * k, 3) for k in range(8)]
    for k, (n_img, max_gt, noise) in enumerate([(6, 3, 4.0), (10, 2, 12.0), (5, 4, 25.0), (8, 1, 6.0)]):
        images = []
        for _ in range(n_img):
            gt = [rand_box(rng) for _ in range(int(rng.integers(0, max_gt + 1)))]
            boxes, scores = [], []
            for g in gt:
                for _ in range(int(rng.integers(0, 3))):
                    boxes.append(jitter(rng, g, noise))
                    scores.append(float(r6(rng.random())))
            for _ in range(int(rng.integers(0, 3))):
                boxes.append(rand_box(rng))
                scores.append(float(r6(rng.random() * 0.7)))
            images.append({"boxes": boxes, "scores": scores, "gt": gt})
        aps = {str(t): average_precision(images, t) for t in thresholds}
        vals = [v for v in aps.values()]
        cases.append({
            "name": f"det-{k}",
            "images": images,
            "ap": aps,
            "ap50": average_precision(images, 0.5),
            "map": None if any(v is None for v in vals) else float(np.mean(vals)),
        })
    pairs = [(rand_box(rng), rand_box(rng)) for _ in range(20)]
    pairs += [(b, jitter(rng, b, 5.0)) for b in [rand_box(rng) for _ in range(10)]]
    box_iou = [{"a": a, "b": b, "iou": iou(a, b)} for a, b in pairs]
    return cases, box_iou


def pointing_cases(rng):
    cases = []
    for k in range(8):
        h, w = 12, 10
        heat = r6(rng.random((h, w)))
        mask = np.zeros((h, w))
        y, x = rng.integers(0, h - 4), rng.integers(0, w - 4)
        mask[y:y + 4, x:x + 4] = 1
        if k % 2 == 0:  # put the maximum inside
            heat[y + 1, x + 1] = 2.0
        flat = heat.ravel()
        cases.append({"name": f"point-{k}", "heatmap": flat.tolist(), "mask": mask.ravel().tolist(), "hit": float(mask.ravel()[int(np.argmax(flat))] > 0.5)})
    return cases


def generate():
    rng = np.random.default_rng(SEED)
    det, box_iou = det_cases(rng)
    return {
        "format": "g2d-metrics-goldens-v1",
        "generator": "tools/metrics/gen_goldens.py",
        "seed": SEED,
        "versions": {"numpy": np.__version__, "sklearn": sklearn.__version__, "python": sys.version.split()[0]},
        "auc": auc_cases(rng),
        "bestF1": f1_cases(rng),
        "masks": mask_cases(rng),
        "boxIou": box_iou,
        "detection": det,
        "pointing": pointing_cases(rng),
    }


def close(a, b, tol=1e-9):
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(close(a[k], b[k], tol) for k in a if k != "versions")
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(close(x, y, tol) for x, y in zip(a, b))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return abs(a - b) <= tol
    return a == b


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="compare with the committed fixture instead of writing it")
    args = ap.parse_args()
    data = generate()
    if args.check:
        with open(OUT) as f:
            old = json.load(f)
        if not close(data, old):
            print(f"MISMATCH: {OUT} differs from a fresh run", file=sys.stderr)
            return 1
        print(f"ok: {OUT} matches a fresh run")
        return 0
    tmp = OUT + ".tmp"
    with open(tmp, "w") as f:
        json.dump(data, f, separators=(",", ":"))
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, OUT)
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
