"""Shared helpers for the PyTorch reference baselines (reference tooling only)."""
import argparse
import json
import os
import statistics
import sys
import time


REQUIRED = object()  # a default that makes the flag required (a string)


def parse_args(doc=None, **defaults):
    """The flags `--<name>`, in this order, with these defaults and their types (int, float or
    str; REQUIRED for a required string); `doc` is the --help description."""
    ap = argparse.ArgumentParser(description=doc)
    for name, default in defaults.items():
        if default is REQUIRED:
            ap.add_argument("--" + name, required=True)
        else:
            ap.add_argument("--" + name, type=type(default), default=default)
    return ap.parse_args()


def image_args(doc):
    """The arguments the ResNet baselines share (batch, size, iterations, threads)."""
    return parse_args(doc, batch=8, size=256, iters=10, warmup=2, threads=0)


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
