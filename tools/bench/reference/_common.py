"""Shared helpers for the PyTorch reference baselines (reference tooling only)."""
import json
import os
import statistics
import sys
import time


def image_args(doc):
    """The arguments the ResNet baselines share (batch, size, iterations, threads)."""
    import argparse
    ap = argparse.ArgumentParser(description=doc)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=0)
    return ap.parse_args()


def setup_torch(threads=None):
    import torch
    n = threads or int(os.environ.get("G2D_BENCH_THREADS", "0")) or os.cpu_count() or 1
    torch.set_num_threads(n)
    torch.manual_seed(0)
    return torch, n


def peak_rss_mib():
    # VmHWM: the process's peak resident set size, the same figure the Node side reads
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return None


def time_it(fn, iters, warmup):
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(iters):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000.0)
    return out


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def summary(times):
    return {"medianMs": statistics.median(times), "minMs": min(times), "iters": len(times)}
