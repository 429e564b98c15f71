"""numpy baseline for `pseudo-mask`: the reference's pseudo-label steps (G2D
Trainer.transform_att2label, code mode) on a batch of attention maps:
sum of the 4 heads / 4, nearest resize 8x8 -> size x size (PyTorch's floor(dst * in / out)
source index), np.quantile(0.85) per image, then the reference's two in-place assignments
(map[map > t] = 1; map[map <= t] = 0). Reads the B x 4 x 8 x 8 float32 input written by the
TS side (--input), so both sides threshold the same maps; prints timings and the mask's
number of ones (to check agreement) as one JSON line."""
import os

import numpy as np

from _common import REQUIRED, emit, parse_args, peak_rss_mib, summary, time_it

a = parse_args(input=REQUIRED, batch=64, heads=4, grid=8, size=256, quantile=0.85, iters=30, warmup=3)

att = np.fromfile(a.input, dtype="<f4").reshape(a.batch, a.heads, a.grid, a.grid).astype(np.float32)
scale = np.float32(a.grid / a.size)
idx = np.minimum(np.floor(np.arange(a.size, dtype=np.float32) * scale).astype(np.int64), a.grid - 1)


def run():
    m = att.sum(axis=1, dtype=np.float32) / np.float32(4)
    up = m[:, idx][:, :, idx]  # nearest resize, B x size x size
    thr = np.quantile(up, a.quantile, axis=(1, 2), keepdims=True)
    up[up > thr] = 1
    up[up <= thr] = 0
    return up


times = time_it(run, a.iters, a.warmup)
ones = int(run().sum())
emit({"numpy": np.__version__, "threads": int(os.environ.get("OMP_NUM_THREADS", "0") or 0), "batch": a.batch,
      "size": a.size, **summary(times), "maskOnes": ones, "peakRssMiB": peak_rss_mib()})
