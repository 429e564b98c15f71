import * as tf from '@tensorflow/tfjs';
import { G2DError } from '@g2d-ts/core';
import { describeBackends, expectNoLeakedTensors } from '@g2d-ts/core/testing';
import { defaultAnchors, kmeansAnchors, whIou, YOLOV3_ANCHORS, type Anchor } from '../src/detection-anchors';
import { giouXYXY, iouXYXY, nonMaxSuppression, type BoxXYXY } from '../src/detection-boxes';
import { bceWithLogits, giouTensor, YoloDetectionHead, type DetectionHeadConfig } from '../src/detection';

// a 64x64 input with strides 8/16/32: grids 8x8, 4x4, 2x2
const ANCHORS: Anchor[][] = [
  [
    [6, 6],
    [10, 14],
  ],
  [
    [20, 20],
    [24, 36],
  ],
  [
    [40, 40],
    [60, 50],
  ],
];
const CFG: DetectionHeadConfig = { inChannels: [4, 6, 8], strides: [8, 16, 32], anchors: ANCHORS, numClasses: 2, hidden: [8, 8, 8] };

function features(B: number, seed = 1): tf.Tensor4D[] {
  return [
    tf.randomNormal([B, 8, 8, 4], 0, 1, 'float32', seed) as tf.Tensor4D,
    tf.randomNormal([B, 4, 4, 6], 0, 1, 'float32', seed + 1) as tf.Tensor4D,
    tf.randomNormal([B, 2, 2, 8], 0, 1, 'float32', seed + 2) as tf.Tensor4D,
  ];
}

describe('anchors', () => {
  it('scales the YOLOv3 defaults to the input size', () => {
    const a = defaultAnchors(208);
    expect(a).toHaveLength(3);
    expect(a[0]![0]).toEqual([5, 6.5]);
    expect(a[2]![2]).toEqual([373 / 2, 163]);
    expect(YOLOV3_ANCHORS[1]![1]).toEqual([62, 45]);
    expect(() => defaultAnchors(0)).toThrow(G2DError);
  });

  it('whIou is the IoU of corner-aligned boxes', () => {
    expect(whIou([10, 10], [10, 10])).toBe(1);
    expect(whIou([10, 10], [5, 10])).toBeCloseTo(0.5, 12);
    expect(whIou([4, 1], [1, 4])).toBeCloseTo(1 / 7, 12);
  });

  it('k-means recovers three well-separated size clusters, sorted by area, deterministically', () => {
    const sizes: [number, number][] = [];
    for (let i = 0; i < 20; i++) {
      const j = (i % 5) - 2;
      sizes.push([10 + j * 0.2, 12 + j * 0.1], [40 + j, 30 - j * 0.5], [90 + j, 120 + j]);
    }
    const r = kmeansAnchors(sizes, { k: 3, levels: 3, seed: 7 });
    expect(r.anchors.map((l) => l.length)).toEqual([1, 1, 1]);
    expect(r.anchors[0]![0]![0]).toBeCloseTo(10, 5);
    expect(r.anchors[0]![0]![1]).toBeCloseTo(12, 5);
    expect(r.anchors[1]![0]).toEqual([40, 30]);
    expect(r.anchors[2]![0]).toEqual([90, 120]);
    expect(r.meanIou).toBeGreaterThan(0.95);
    expect(kmeansAnchors(sizes, { k: 3, levels: 3, seed: 7 })).toEqual(r);
  });

  it('k-means rejects too few boxes and bad sizes by name', () => {
    expect(() => kmeansAnchors([[1, 1]], { k: 9 })).toThrow(/cannot give 9 anchors/);
    expect(() => kmeansAnchors([[1, -1], [2, 2]], { k: 1, levels: 1 })).toThrow(/sizes\[0\]/);
    expect(() => kmeansAnchors([[1, 1]], { k: 4, levels: 3 })).toThrow(/must divide/);
  });
});

describe('box helpers', () => {
  it('IoU and GIoU by hand', () => {
    const a: BoxXYXY = [0, 0, 2, 2];
    const b: BoxXYXY = [1, 1, 3, 3];
    expect(iouXYXY(a, b)).toBeCloseTo(1 / 7, 12);
    // enclosing box 3x3 = 9, union 7: giou = 1/7 - 2/9
    expect(giouXYXY(a, b)).toBeCloseTo(1 / 7 - 2 / 9, 12);
    // disjoint: iou 0, enclosing [0,0,4,1]=4, union 2 -> -0.5
    expect(giouXYXY([0, 0, 1, 1], [3, 0, 4, 1])).toBeCloseTo(-0.5, 12);
    expect(giouXYXY(a, a)).toBe(1);
  });

  it('NMS keeps the best of overlapping boxes and separate ones', () => {
    const boxes: BoxXYXY[] = [
      [0, 0, 10, 10],
      [1, 1, 11, 11], // IoU with 0: 81/119 = 0.68 -> suppressed
      [20, 20, 30, 30],
      [0, 0, 10, 5], // IoU with 0: 0.5 exactly -> kept (suppression is > 0.5)
    ];
    expect(nonMaxSuppression(boxes, [0.9, 0.95, 0.5, 0.3], 0.5)).toEqual([1, 2, 3]);
    expect(nonMaxSuppression(boxes, [0.9, 0.8, 0.5, 0.3], 0.5)).toEqual([0, 2, 3]);
    expect(nonMaxSuppression(boxes, [0.9, 0.8, 0.5, 0.3], 0.5, 2)).toEqual([0, 2]);
    expect(() => nonMaxSuppression(boxes, [1], 0.5)).toThrow(G2DError);
  });
});

describeBackends('YoloDetectionHead', ({ rtol, atol }) => {
  it('maps C3..C5 to per-level raw predictions and names its parameters', async () => {
    const head = new YoloDetectionHead(CFG, { seed: 3 });
    const feats = features(2);
    const outs = await expectNoLeakedTensors(() => head.forward(feats), 3);
    expect(outs.map((o) => o.shape)).toEqual([
      [2, 8, 8, 14],
      [2, 4, 4, 14],
      [2, 2, 2, 14],
    ]);
    const names = [...head.namedVariables().keys()];
    expect(names).toContain('levels.0.neck.0.conv.weight');
    expect(names).toContain('levels.2.head.1.bias');
    expect(names).toContain('levels.1.route.conv.weight');
    expect(names.some((n) => n.startsWith('levels.0.route'))).toBe(false);
    // objectness biases start at the prior
    const bias = head.levels[0]!.head.items[1] as unknown as { bias: tf.Variable };
    const b = bias.bias.dataSync();
    expect(b[4]).toBeCloseTo(Math.log(0.01 / 0.99), 5);
    expect(b[7 + 4]).toBeCloseTo(Math.log(0.01 / 0.99), 5);
    expect(b[0]).toBe(0);
    tf.dispose([...outs, ...feats]);
    head.dispose();
  });

  it('assigns each box to its best anchor, level and cell', () => {
    const head = new YoloDetectionHead(CFG);
    const grids: [number, number][] = [
      [8, 8],
      [4, 4],
      [2, 2],
    ];
    // 10x14 box centred at (20, 36): anchor level 0 / index 1, cell (2, 4)
    // 58x50 box centred at (33, 30): level 2 / index 1, cell (1, 0)
    const t = head.buildTargets(
      [
        { boxes: [], classes: [] },
        {
          boxes: [
            [15, 29, 25, 43],
            [4, 5, 62, 55],
          ],
          classes: [1, 0],
        },
      ],
      grids,
      [64, 64],
    );
    expect(t[0]!.index).toEqual([((1 * 8 + 4) * 8 + 2) * 2 + 1]);
    expect(t[0]!.cls).toEqual([1]);
    expect(t[0]!.image).toEqual([1]);
    expect(t[0]!.txywh[0]![0]).toBeCloseTo(20 / 8 - 2, 12);
    expect(t[0]!.txywh[0]![1]).toBeCloseTo(36 / 8 - 4, 12);
    expect(t[0]!.txywh[0]![2]).toBeCloseTo(0, 12);
    expect(t[0]!.txywh[0]![3]).toBeCloseTo(0, 12);
    expect(t[0]!.scale[0]).toBeCloseTo(2 - 140 / 4096, 12);
    expect(t[1]!.index).toEqual([]);
    expect(t[2]!.index).toEqual([((1 * 2 + 0) * 2 + 1) * 2 + 1]);
    expect(t[2]!.txywh[0]![2]).toBeCloseTo(Math.log(58 / 60), 12);
    expect(() => head.buildTargets([{ boxes: [[5, 5, 4, 9]], classes: [0] }], grids, [64, 64])).toThrow(/targets\[0\]\.boxes\[0\]/);
    expect(() => head.buildTargets([{ boxes: [[1, 1, 4, 9]], classes: [2] }], grids, [64, 64])).toThrow(/classes\[0\]/);
    head.dispose();
  });

  it('decodes an encoded box back exactly and applies NMS', () => {
    const head = new YoloDetectionHead(CFG);
    const A = 2;
    const P = 7;
    // level 1 (stride 16, grid 4x4): a box of anchor 1 (24x36) at cell (x 2, y 1), offsets (0.25, 0.75), scale e^0.5
    const big = -20; // σ ≈ 0: other anchors stay below any threshold
    const mk = (H: number) => {
      const v = new Float32Array(1 * H * H * A * P);
      for (let i = 0; i < v.length / P; i++) v[i * P + 4] = big;
      return v;
    };
    const l1 = mk(4);
    const o = ((1 * 4 + 2) * A + 1) * P;
    const logit = (p: number) => Math.log(p / (1 - p));
    l1.set([logit(0.25), logit(0.75), 0.5, 0.5, logit(0.9), logit(0.8), logit(0.1)], o);
    // a second, weaker prediction of the same class at the neighbouring anchor overlapping it strongly
    const o2 = ((1 * 4 + 2) * A + 0) * P;
    l1.set([logit(0.25), logit(0.75), Math.log((24 * Math.exp(0.5)) / 20), Math.log((36 * Math.exp(0.5)) / 20), logit(0.5), logit(0.8), logit(0.1)], o2);
    const outs = [tf.tensor4d(mk(8), [1, 8, 8, A * P]), tf.tensor4d(l1, [1, 4, 4, A * P]), tf.tensor4d(mk(2), [1, 2, 2, A * P])];
    const dets = head.decode(outs, { scoreThreshold: 0.05, imageSize: [64, 64] })[0]!;
    const cx = (2 + 0.25) * 16;
    const cy = (1 + 0.75) * 16;
    const w = 24 * Math.exp(0.5);
    const h = 36 * Math.exp(0.5);
    const expected = [Math.max(0, cx - w / 2), Math.max(0, cy - h / 2), Math.min(64, cx + w / 2), Math.min(64, cy + h / 2)];
    // class 0: the strong box (0.72) suppresses the weak copy (0.4); class 1: 0.09 and 0.05 (below/near threshold)
    const c0 = dets.filter((d) => d.classIndex === 0);
    expect(c0).toHaveLength(1);
    expect(c0[0]!.score).toBeCloseTo(0.9 * 0.8, 5);
    c0[0]!.box.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 3));
    const c1 = dets.filter((d) => d.classIndex === 1);
    expect(c1).toHaveLength(1);
    expect(c1[0]!.score).toBeCloseTo(0.09, 5);
    // the tensor decoder agrees with the JS decoder
    const tb = head.decodeBoxesTensor(outs[1]!, 1);
    const row = tb.slice([(1 * 4 + 2) * A + 1, 0], [1, 4]).dataSync();
    const raw = [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2];
    Array.from(row).forEach((v, i) => expect(Math.abs(v - raw[i]!)).toBeLessThanOrEqual(atol + rtol * Math.abs(raw[i]!) + 1e-3));
    tf.dispose([...outs, tb]);
    head.dispose();
  });

  it('GIoU and BCE tensors match the scalar definitions', () => {
    const a = tf.tensor2d([[0, 0, 2, 2], [0, 0, 1, 1]]);
    const b = tf.tensor2d([[1, 1, 3, 3], [3, 0, 4, 1]]);
    const g = giouTensor(a, b).dataSync();
    expect(g[0]).toBeCloseTo(1 / 7 - 2 / 9, 5);
    expect(g[1]).toBeCloseTo(-0.5, 5);
    const l = bceWithLogits(tf.tensor1d([0, 2, -30]), tf.tensor1d([1, 0, 0])).dataSync();
    expect(l[0]).toBeCloseTo(Math.log(2), 5);
    expect(l[1]).toBeCloseTo(2 + Math.log1p(Math.exp(-2)), 5);
    expect(l[2]).toBeCloseTo(0, 5);
    tf.dispose([a, b]);
  });

  it('has positives, ignores overlapping negatives and learns to find the boxes (loss falls, IoU > 0.5)', async () => {
    // giou: trained until the boxes are found; xywh: the loss falls (fewer steps: the machine is small)
    for (const [box, steps] of [
      ['giou', 80],
      ['xywh', 25],
    ] as const) {
      const head = new YoloDetectionHead({ ...CFG, loss: { box } }, { seed: 1 });
      const feats = features(4, 11);
      const targets = [
        { boxes: [[8, 10, 26, 30]] as BoxXYXY[], classes: [0] },
        { boxes: [[30, 20, 50, 60]] as BoxXYXY[], classes: [1] },
        { boxes: [] as BoxXYXY[], classes: [] as number[] },
        {
          boxes: [
            [2, 2, 12, 12],
            [20, 4, 60, 60],
          ] as BoxXYXY[],
          classes: [0, 1],
        },
      ];
      const opt = tf.train.adam(0.02);
      const vars = head.trainableVariables();
      let first = NaN;
      let last = NaN;
      for (let step = 0; step < steps; step++) {
        const { value, grads } = tf.variableGrads(() => {
          const outs = head.forward(feats, { training: true });
          const terms = head.loss(outs, targets, { imageSize: [64, 64] });
          if (step === 0) expect(terms.positives).toBe(4);
          return terms.loss;
        }, vars);
        const v = value.dataSync()[0]!;
        if (step === 0) first = v;
        last = v;
        opt.applyGradients(grads as unknown as Parameters<typeof opt.applyGradients>[0]);
        tf.dispose([value, ...Object.values(grads)]);
      }
      expect(Number.isFinite(last)).toBe(true);
      expect(last).toBeLessThan(first * (box === 'giou' ? 0.2 : 0.6));
      if (box === 'xywh') {
        opt.dispose();
        tf.dispose(feats);
        head.dispose();
        continue;
      }
      head.eval();
      const dets = head.detect(feats, { imageSize: [64, 64], scoreThreshold: 0.3 });
      for (let b = 0; b < 4; b++) {
        for (let j = 0; j < targets[b]!.boxes.length; j++) {
          const gt = targets[b]!.boxes[j]!;
          const k = targets[b]!.classes[j]!;
          const best = Math.max(0, ...dets[b]!.filter((d) => d.classIndex === k).map((d) => iouXYXY(d.box, gt)));
          expect(best).toBeGreaterThan(0.5);
        }
      }
      expect(dets[2]!.length).toBe(0);
      opt.dispose();
      tf.dispose(feats);
      head.dispose();
    }
  });

  it('loss does not leak tensors and leaves overlapping negatives out (ignore rule)', async () => {
    const run = async (ignoreThreshold: number) => {
      const head = new YoloDetectionHead({ ...CFG, loss: { ignoreThreshold } }, { seed: 2 });
      // zero prediction weights: every raw output is its bias, so decoded boxes are the anchors at the cell centres
      for (const lvl of head.levels) {
        const conv = lvl.head.items[1] as unknown as { weight: tf.Variable };
        conv.weight.assign(tf.zerosLike(conv.weight));
      }
      const feats = features(1, 5);
      // 36x36 box: positive = level 2 anchor 0 at cell (0, 0); the level-1 24x36 anchor at cell (1, 1)
      // overlaps it with IoU 0.5 and the level-2 60x50 anchor at cell (0, 0) with IoU 0.43
      const t = [{ boxes: [[0, 0, 36, 36]] as BoxXYXY[], classes: [0] }];
      const outs = head.forward(feats, { training: false });
      const terms = await expectNoLeakedTensors(() => head.loss(outs, t, { imageSize: [64, 64] }), 1);
      expect(terms.positives).toBe(1);
      expect(terms.box).toBeGreaterThan(0);
      terms.loss.dispose();
      expect(() => head.loss(outs, [], {})).toThrow(/expected 1 targets/);
      tf.dispose([...outs, ...feats]);
      head.dispose();
      return terms;
    };
    const none = await run(1);
    const some = await run(0.3);
    expect(none.ignored).toBe(0);
    expect(some.ignored).toBeGreaterThanOrEqual(2);
    // fewer negatives in the objectness term
    expect(some.obj).toBeLessThan(none.obj);
    expect(some.box).toBeCloseTo(none.box, 5);
  });

  it('rejects bad configs and inputs by name', () => {
    expect(() => new YoloDetectionHead({ ...CFG, strides: [8, 16] })).toThrow(/"strides"/);
    expect(() => new YoloDetectionHead({ ...CFG, anchors: [ANCHORS[0]!, ANCHORS[1]!, [[1, 1]]] })).toThrow(/same number/);
    expect(() => new YoloDetectionHead({ ...CFG, numClasses: 0 })).toThrow(/numClasses/);
    expect(() => new YoloDetectionHead({ ...CFG, loss: { box: 'l1' as 'giou' } })).toThrow(/loss\.box/);
    const head = new YoloDetectionHead(CFG);
    const f = features(1);
    expect(() => head.forward(f.slice(0, 2))).toThrow(/expected 3 feature maps/);
    expect(() => head.forward([f[0]!, f[0]!, f[2]!])).toThrow(/features\[1\] must be \[B, H, W, 6\]/);
    tf.dispose(f);
    head.dispose();
  });

  it('round-trips through its state dict', () => {
    const a = new YoloDetectionHead(CFG, { seed: 1 });
    const b = new YoloDetectionHead(CFG, { seed: 2 });
    b.loadStateDict(a.stateDict());
    const f = features(1);
    a.eval();
    b.eval();
    const oa = a.forward(f);
    const ob = b.forward(f);
    expect(Array.from(ob[2]!.dataSync())).toEqual(Array.from(oa[2]!.dataSync()));
    tf.dispose([...oa, ...ob, ...f]);
    a.dispose();
    b.dispose();
  });
  // wasm has no UnsortedSegmentSum kernel (the gather gradient the target assignment uses): cpu and native only
}, { only: ['cpu', 'tensorflow'] });
