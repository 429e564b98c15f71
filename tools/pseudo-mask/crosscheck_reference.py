"""Cross-check fixture for @g2d-ts/pseudo-mask (reference tooling, never in the product path).

Runs the reference G2D pseudo-label steps (Trainer.transform_att2label of
cheliu-computation/G2D-NeurIPS24 @ 30364bd: torch sum over heads / 4 or per-head maps,
torchvision Resize NEAREST, per-map numpy quantile / mean / median, `> threshold`) on
inputs chosen to stress exactness: sizes that are not multiples of the map, downsampling,
many quantiles, all-equal maps, few distinct values (ties at the quantile), ulp-adjacent
values (float32 rounding of the median / mean), wide-magnitude values (numpy's float32
pairwise summation order in the mean) and values above 1 (the reference's two-step
`map[map > t] = 1; map[map <= t] = 0` clears the ones again when t >= 1).

Writes packages/pseudo-mask/test/fixtures/crosscheck.json: {meta, inputs: {name: {shape, f32le_base64}},
cases: [{name, input, batch, num_maps, threshold, quantile, size,
mask: {shape, zlib_packbits_base64}}]} where a case uses the first `batch` images of
`inputs[input]` (float32 little-endian, row-major) and the mask is numpy.packbits output
(MSB first), zlib-compressed.

Run (from the repository root): .venv-ref/bin/python tools/pseudo-mask/crosscheck_reference.py
"""
import base64
import json
import os
import zlib

import numpy as np
import torch
import torchvision as tv
from PIL import Image


def reference_att2label(att_map, num_pseudo_map, merge_threshold, quantil, size):
    """The reference steps, on a float32 torch tensor B x heads x h x w."""
    resize = tv.transforms.Resize((size, size), interpolation=Image.NEAREST)
    pseudo_map = att_map.detach().cpu()
    if num_pseudo_map == 1:
        pseudo_map = torch.sum(pseudo_map, dim=1) / 4
        pseudo_map = resize(pseudo_map).numpy()
        axes = (1, 2)
    else:
        pseudo_map = resize(pseudo_map).numpy()
        axes = (2, 3)
    if merge_threshold == 'mean':
        threshold = np.mean(pseudo_map, axis=axes, keepdims=True)
    elif merge_threshold == 'median':
        threshold = np.median(pseudo_map, axis=axes, keepdims=True)
    elif merge_threshold == 'quantil':
        threshold = np.quantile(pseudo_map, quantil, axis=axes, keepdims=True)
    else:
        raise ValueError(merge_threshold)
    pseudo_map[pseudo_map > threshold] = 1
    pseudo_map[pseudo_map <= threshold] = 0
    if num_pseudo_map == 1:
        pseudo_map = pseudo_map.reshape(pseudo_map.shape[0], 1, pseudo_map.shape[1], pseudo_map.shape[2])
    return pseudo_map


def pack(mask):
    bits = np.packbits(mask.astype(np.uint8).ravel())
    return {'shape': list(mask.shape), 'zlib_packbits_base64': base64.b64encode(zlib.compress(bits.tobytes(), 9)).decode()}


def softmax_maps(rng, b, heads, h, w, temp):
    logits = rng.standard_normal((b, heads, h * w)) * temp
    e = np.exp(logits - logits.max(-1, keepdims=True))
    return (e / e.sum(-1, keepdims=True)).reshape(b, heads, h, w).astype(np.float32)


def main():
    rng = np.random.default_rng(20240607)
    cases = []
    inputs = {}

    def register(name, att):
        att = np.ascontiguousarray(att, dtype='<f4')
        inputs[name] = {'shape': list(att.shape), 'f32le_base64': base64.b64encode(att.tobytes()).decode()}
        return att

    def add(name, att, num_maps, threshold, size, quantile=0.85):
        key, batch = att
        arr = np.frombuffer(base64.b64decode(inputs[key]['f32le_base64']), '<f4').reshape(inputs[key]['shape'])[:batch]
        mask = reference_att2label(torch.from_numpy(arr.astype(np.float32)), num_maps, threshold, quantile, size)
        cases.append({
            'name': name, 'input': key, 'batch': batch,
            'num_maps': num_maps, 'threshold': threshold, 'quantile': quantile, 'size': size,
            'mask': pack(mask),
        })

    register('soft', softmax_maps(rng, 6, 4, 8, 8, 2.0))
    for maps in (1, 4):
        for thr in ('quantil', 'mean', 'median'):
            add(f'softmax_maps{maps}_{thr}_256', ('soft', 6), maps, thr, 256)
    # 82, 94: sizes where floor(dst * float32(8 / size)) differs from the exact floor(dst * 8 / size)
    for size in (224, 100, 94, 82, 37, 13, 5):
        for thr in ('quantil', 'mean', 'median'):
            add(f'softmax_maps1_{thr}_{size}', ('soft', 3), 1, thr, size)
    add('softmax_maps4_quantil_37', ('soft', 2), 4, 'quantil', 37)
    for q in (0.0, 0.1, 0.5, 0.75, 0.9, 0.99, 1.0):
        add(f'softmax_maps1_q{q}_64', ('soft', 3), 1, 'quantil', 64, q)
        add(f'softmax_maps1_q{q}_100', ('soft', 2), 1, 'quantil', 100, q)
    # all-equal maps: ties at the quantile; the float32 mean of 0.3 is not 0.3
    register('equal', np.stack([np.full((4, 8, 8), v, np.float32) for v in (1 / 64, 0.3, 0.1, 1e-3, 0.7)]))
    for maps in (1, 4):
        for thr in ('quantil', 'mean', 'median'):
            add(f'equal_maps{maps}_{thr}_256', ('equal', 5), maps, thr, 256)
            add(f'equal_maps{maps}_{thr}_100', ('equal', 5), maps, thr, 100)
    # few distinct values: ties at the quantile boundary
    register('few', rng.choice(np.array([0.01, 0.02, 0.03], np.float32), size=(6, 4, 8, 8)))
    for thr in ('quantil', 'mean', 'median'):
        add(f'few_maps1_{thr}_256', ('few', 6), 1, thr, 256)
        add(f'few_maps4_{thr}_256', ('few', 6), 4, thr, 256)
        add(f'few_maps1_{thr}_100', ('few', 6), 1, thr, 100)
    for q in (0.5, 0.75, 0.9):
        add(f'few_maps4_q{q}_64', ('few', 6), 4, 'quantil', 64, q)
    # ulp-adjacent values: half the blocks v, half nextafter(v) (median of two neighbours)
    ulp = []
    # 0.3f has an even last mantissa bit, its successor an odd one: fround(a + b) rounds
    # half-to-even down for the first and up for the second (median = a, resp. = b)
    for v in (0.3, 0.30000004172325134, 0.015625, 0.123456, 7.0):
        a = np.float32(v)
        bnext = np.nextafter(a, np.float32(np.inf), dtype=np.float32)
        m = np.where(rng.random((4, 8, 8)) < 0.5, a, bnext).astype(np.float32)
        m[:, :4, :] = a
        m[:, 4:, :] = bnext
        ulp.append(m)
    register('ulp', np.stack(ulp))
    for maps in (1, 4):
        for thr in ('quantil', 'mean', 'median'):
            add(f'ulp_maps{maps}_{thr}_256', ('ulp', 5), maps, thr, 256)
    # wide magnitudes: the float32 summation order of numpy's mean matters
    register('wide', (rng.random((4, 4, 8, 8)) * 10.0 ** rng.integers(-6, 1, (4, 4, 8, 8))).astype(np.float32))
    for maps in (1, 4):
        for size in (256, 224, 300):
            add(f'wide_maps{maps}_mean_{size}', ('wide', 4), maps, 'mean', size)
        add(f'wide_maps{maps}_median_256', ('wide', 4), maps, 'median', 256)
        add(f'wide_maps{maps}_quantil_300', ('wide', 4), maps, 'quantil', 300)
    # values around 1: the reference writes 1 where v > thr, then 0 where the map is <= thr,
    # so a threshold >= 1 also clears the ones (empty mask)
    register('large', (rng.random((4, 4, 8, 8)) * np.array([0.9, 1.5, 3.0, 30.0])[:, None, None, None]).astype(np.float32))
    for maps in (1, 4):
        for thr in ('quantil', 'mean', 'median'):
            add(f'large_maps{maps}_{thr}_64', ('large', 4), maps, thr, 64)
    # 7x7 maps (scale 7/size not exact in float32) and 16x16 maps
    register('seven', softmax_maps(rng, 3, 4, 7, 7, 2.0))
    for size in (256, 224, 97, 287):
        for thr in ('quantil', 'mean', 'median'):
            add(f'seven_maps1_{thr}_{size}', ('seven', 3), 1, thr, size)
    register('sixteen', softmax_maps(rng, 2, 4, 16, 16, 2.0))
    for thr in ('quantil', 'mean', 'median'):
        add(f'sixteen_maps4_{thr}_256', ('sixteen', 2), 4, thr, 256)
        add(f'sixteen_maps1_{thr}_50', ('sixteen', 2), 1, thr, 50)

    out = {
        'meta': {
            'produced_by': 'tools/pseudo-mask/crosscheck_reference.py (reference transform_att2label steps)',
            'torch': torch.__version__, 'torchvision': tv.__version__, 'numpy': np.__version__,
        },
        'inputs': inputs,
        'cases': cases,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'packages', 'pseudo-mask', 'test', 'fixtures', 'crosscheck.json')
    with open(path, 'w') as f:
        json.dump(out, f, separators=(',', ':'))
    print(json.dumps({'cases': len(cases), 'bytes': os.path.getsize(path)}))


if __name__ == '__main__':
    main()
