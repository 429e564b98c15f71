/**
 * A YOLOv3-style detection head (Redmon & Farhadi 2018) on frozen pyramid features, as the G2D
 * / MGCA detection protocol uses it on C3–C5 of the pretrained encoder:
 *
 * - one head per level (finest stride first), each a neck of 1×1/3×3/1×1 conv-BN-LeakyReLU(0.1)
 *   blocks and a 3×3 block + 1×1 prediction conv giving, per cell and anchor, (tx, ty, tw, th,
 *   objectness, class logits); YOLOv3's top-down route (the deeper neck, 1×1-reduced, upsampled
 *   ×2 and concatenated to the shallower level's input) is on by default (`topDown`);
 * - anchors per level in input pixels (YOLOv3's defaults scaled, or k-means on training boxes:
 *   `detection-anchors.ts`);
 * - decoding: x = (σ(tx) + cx)·stride, y = (σ(ty) + cy)·stride, w = a_w·exp(tw), h = a_h·exp(th);
 *   score of class k = σ(obj)·σ(cls_k) (independent logistic classes, as YOLOv3);
 * - target assignment: each ground-truth box goes to the single anchor (over all levels) with the
 *   best corner-aligned IoU of (w, h), in the cell holding its centre; a later box falling on the
 *   same cell and anchor replaces an earlier one (YOLOv3). Predictions that are not positives
 *   but overlap a ground-truth box of their image with IoU > `ignoreThreshold` are left out of
 *   the no-object term (YOLOv3's ignore rule);
 * - losses (summed, divided by the batch size, as darknet sums): objectness BCE, box loss GIoU
 *   (1 − GIoU, default) or YOLOv3's `xywh` (squared error on σ(tx), σ(ty), tw, th), both scaled
 *   by 2 − w·h/(W·H) of the target, and class BCE on the positives;
 * - inference: candidates above `scoreThreshold`, per-class greedy NMS at IoU 0.5, the
 *   `maxDetections` best, boxes clipped to the image.
 *
 * Tensors are NHWC. Boxes are `[x1, y1, x2, y2]` in the input image's pixels.
 */
import * as tf from '@tensorflow/tfjs';
import { G2DError, Rng } from '@g2d-ts/core';
import { BatchNorm, Conv2d, Module, ModuleList, resizeNearest, type ModuleOptions } from '@g2d-ts/nn';
import type { Anchor } from './detection-anchors';
import { iouXYXY, nonMaxSuppression, type BoxXYXY } from './detection-boxes';

export interface DetectionLossOptions {
  /** 'giou' (1 − GIoU of the decoded box, default) or 'xywh' (YOLOv3's squared errors) */
  box: 'giou' | 'xywh';
  boxWeight: number;
  /** weight of the objectness BCE at positives */
  objWeight: number;
  /** weight of the objectness BCE at negatives (not ignored) */
  noobjWeight: number;
  clsWeight: number;
  /** a non-positive prediction whose decoded box overlaps a ground-truth box by more than this is not a negative (YOLOv3: 0.5) */
  ignoreThreshold: number;
}

export const DEFAULT_DETECTION_LOSS: DetectionLossOptions = { box: 'giou', boxWeight: 1, objWeight: 1, noobjWeight: 1, clsWeight: 1, ignoreThreshold: 0.5 };

export interface DetectionHeadConfig {
  /** channels of the input feature maps, finest stride first (e.g. C3, C4, C5) */
  inChannels: number[];
  /** their strides in input pixels (e.g. 8, 16, 32) */
  strides: number[];
  /** anchors per level ([w, h] in input pixels), same order as the levels */
  anchors: Anchor[][];
  numClasses: number;
  /** class names (saved with the head; default class0..) */
  classNames?: string[];
  /** neck width per level (default: half the input channels, clamped to [32, 256]) */
  hidden?: number[];
  /** YOLOv3's top-down route from each deeper level (default true) */
  topDown?: boolean;
  /** prior probability the objectness bias is initialised to (default 0.01) */
  objPrior?: number;
  loss?: Partial<DetectionLossOptions>;
}

/** The resolved config (what is saved beside the weights). */
export interface ResolvedDetectionHeadConfig extends Required<Omit<DetectionHeadConfig, 'loss'>> {
  loss: DetectionLossOptions;
}

export interface DetectionTarget {
  /** ground-truth boxes of one image, xyxy in input pixels */
  boxes: BoxXYXY[];
  /** class index of each box */
  classes: number[];
}

export interface Detection {
  box: BoxXYXY;
  score: number;
  classIndex: number;
}

export interface DecodeOptions {
  /** input image size [height, width] in pixels (default: level 0's grid × its stride) */
  imageSize?: [number, number];
  /** keep candidates with σ(obj)·σ(cls) above this (default 0.01) */
  scoreThreshold?: number;
  /** NMS IoU threshold (default 0.5, the protocol's) */
  iouThreshold?: number;
  /** detections kept per image (default 100) */
  maxDetections?: number;
  /** candidates kept per class before NMS (default 1000) */
  preNmsTopK?: number;
}

export interface DetectionLossTerms {
  /** the total to minimise (owned by the caller) */
  loss: tf.Scalar;
  box: number;
  obj: number;
  cls: number;
  /** anchors assigned a ground-truth box */
  positives: number;
  /** non-positive predictions left out of the no-object term */
  ignored: number;
}

/** The positives of one level, from the ground truth (`buildTargets`). */
export interface LevelTargets {
  /** grid [H, W] */
  grid: [number, number];
  /** flat indices into [B, H, W, A] */
  index: number[];
  /** per positive: target box xyxy, target (σ(tx), σ(ty), tw, th), box-loss scale, class, image */
  box: BoxXYXY[];
  txywh: [number, number, number, number][];
  scale: number[];
  cls: number[];
  image: number[];
}

const LEAKY = 0.1;

class ConvBnLeaky extends Module {
  readonly conv: Conv2d;
  readonly bn: BatchNorm;
  constructor(inC: number, outC: number, k: number, opts: ModuleOptions) {
    super(opts);
    this.conv = this.addChild('conv', new Conv2d(inC, outC, k, { padding: (k - 1) / 2, bias: false, init: 'kaiming_uniform_fan_in', rng: this.rng }));
    this.bn = this.addChild('bn', new BatchNorm(outC, { rng: this.rng }));
  }
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => tf.leakyRelu(this.bn.forward(this.conv.forward(x)), LEAKY));
  }
}

class Sequence extends Module {
  readonly items: Module[] = [];
  constructor(mods: Module[], opts: ModuleOptions) {
    super(opts);
    mods.forEach((m, i) => this.items.push(this.addChild(String(i), m)));
  }
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => this.items.reduce((h, m) => (m as unknown as { forward(t: tf.Tensor4D): tf.Tensor4D }).forward(h), x));
  }
}

/** One level: neck, prediction and (deeper levels, top-down on) the route to the next finer level. */
class YoloLevel extends Module {
  readonly neck: Sequence;
  readonly head: Sequence;
  readonly route?: ConvBnLeaky;
  constructor(inC: number, hidden: number, outC: number, withRoute: boolean, opts: ModuleOptions) {
    super(opts);
    const rng = this.rng;
    this.neck = this.addChild(
      'neck',
      new Sequence([new ConvBnLeaky(inC, hidden, 1, { rng }), new ConvBnLeaky(hidden, hidden * 2, 3, { rng }), new ConvBnLeaky(hidden * 2, hidden, 1, { rng })], { rng }),
    );
    this.head = this.addChild('head', new Sequence([new ConvBnLeaky(hidden, hidden * 2, 3, { rng }), new Conv2d(hidden * 2, outC, 1, { rng })], { rng }));
    if (withRoute) this.route = this.addChild('route', new ConvBnLeaky(hidden, Math.max(1, hidden >> 1), 1, { rng }));
  }
}

function resolveConfig(c: DetectionHeadConfig): ResolvedDetectionHeadConfig {
  const where = 'YoloDetectionHead';
  if (!c || typeof c !== 'object') throw new G2DError(`${where}: config must be an object`);
  const L = c.inChannels?.length ?? 0;
  if (!Array.isArray(c.inChannels) || L < 1 || c.inChannels.some((v) => !Number.isInteger(v) || v < 1)) {
    throw new G2DError(`${where}: "inChannels" must be a non-empty list of positive integers, got ${JSON.stringify(c.inChannels)}`);
  }
  if (!Array.isArray(c.strides) || c.strides.length !== L || c.strides.some((v) => !Number.isInteger(v) || v < 1)) {
    throw new G2DError(`${where}: "strides" must list one positive integer per level (${L}), got ${JSON.stringify(c.strides)}`);
  }
  for (let i = 1; i < L; i++) if (!(c.strides[i]! > c.strides[i - 1]!)) throw new G2DError(`${where}: "strides" must increase (finest level first), got ${JSON.stringify(c.strides)}`);
  if (!Array.isArray(c.anchors) || c.anchors.length !== L) throw new G2DError(`${where}: "anchors" must have one list per level (${L}), got ${Array.isArray(c.anchors) ? c.anchors.length : typeof c.anchors}`);
  const A = c.anchors[0]?.length ?? 0;
  c.anchors.forEach((lvl, i) => {
    if (!Array.isArray(lvl) || lvl.length !== A || A < 1) throw new G2DError(`${where}: "anchors" must have the same number (≥ 1) of anchors on every level; level ${i} has ${Array.isArray(lvl) ? lvl.length : 'none'}`);
    lvl.forEach((a, j) => {
      if (!Array.isArray(a) || a.length !== 2 || !(a[0] > 0) || !(a[1] > 0) || !Number.isFinite(a[0]) || !Number.isFinite(a[1])) {
        throw new G2DError(`${where}: anchors[${i}][${j}] must be [w, h] with positive finite values, got ${JSON.stringify(a)}`);
      }
    });
  });
  if (!Number.isInteger(c.numClasses) || c.numClasses < 1) throw new G2DError(`${where}: "numClasses" must be a positive integer, got ${c.numClasses}`);
  const classNames = c.classNames ?? Array.from({ length: c.numClasses }, (_, i) => `class${i}`);
  if (!Array.isArray(classNames) || classNames.length !== c.numClasses) throw new G2DError(`${where}: "classNames" must have numClasses (${c.numClasses}) names, got ${JSON.stringify(c.classNames)}`);
  const hidden = c.hidden ?? c.inChannels.map((v) => Math.min(256, Math.max(32, v >> 1)));
  if (!Array.isArray(hidden) || hidden.length !== L || hidden.some((v) => !Number.isInteger(v) || v < 1)) {
    throw new G2DError(`${where}: "hidden" must list one positive integer per level (${L}), got ${JSON.stringify(c.hidden)}`);
  }
  const objPrior = c.objPrior ?? 0.01;
  if (!(objPrior > 0 && objPrior < 1)) throw new G2DError(`${where}: "objPrior" must be in (0, 1), got ${objPrior}`);
  const loss: DetectionLossOptions = { ...DEFAULT_DETECTION_LOSS, ...(c.loss ?? {}) };
  if (loss.box !== 'giou' && loss.box !== 'xywh') throw new G2DError(`${where}: "loss.box" must be "giou" or "xywh", got ${JSON.stringify(loss.box)}`);
  for (const k of ['boxWeight', 'objWeight', 'noobjWeight', 'clsWeight'] as const) {
    if (!(loss[k] >= 0) || !Number.isFinite(loss[k])) throw new G2DError(`${where}: "loss.${k}" must be a non-negative number, got ${loss[k]}`);
  }
  if (!(loss.ignoreThreshold > 0 && loss.ignoreThreshold <= 1)) throw new G2DError(`${where}: "loss.ignoreThreshold" must be in (0, 1], got ${loss.ignoreThreshold}`);
  return {
    inChannels: [...c.inChannels],
    strides: [...c.strides],
    anchors: c.anchors.map((l) => l.map((a) => [a[0], a[1]] as Anchor)),
    numClasses: c.numClasses,
    classNames: [...classNames],
    hidden: [...hidden],
    topDown: c.topDown ?? true,
    objPrior,
    loss,
  };
}

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));
const EXP_CLAMP = 8;

/** The YOLOv3-style head (see the file comment). */
export class YoloDetectionHead extends Module {
  readonly config: ResolvedDetectionHeadConfig;
  readonly levels: YoloLevel[] = [];
  /** anchors per level */
  readonly numAnchors: number;
  /** channels per anchor: 5 + classes */
  readonly perAnchor: number;

  constructor(config: DetectionHeadConfig, opts: { seed?: number | string } = {}) {
    super({ rng: new Rng(opts.seed ?? 0) });
    const c = (this.config = resolveConfig(config));
    const L = c.inChannels.length;
    this.numAnchors = c.anchors[0]!.length;
    this.perAnchor = 5 + c.numClasses;
    const list = this.addChild('levels', new ModuleList<YoloLevel>([], { rng: this.rng }));
    for (let i = 0; i < L; i++) {
      const routeIn = c.topDown && i < L - 1 ? Math.max(1, c.hidden[i + 1]! >> 1) : 0;
      this.levels.push(list.push(new YoloLevel(c.inChannels[i]! + routeIn, c.hidden[i]!, this.numAnchors * this.perAnchor, c.topDown && i > 0, { rng: this.rng })));
    }
    // objectness bias at the prior (few cells hold an object), box/class biases at 0
    const prior = Math.log(c.objPrior / (1 - c.objPrior));
    for (const lvl of this.levels) {
      const conv = lvl.head.items[1] as Conv2d;
      const b = new Float32Array(this.numAnchors * this.perAnchor);
      for (let a = 0; a < this.numAnchors; a++) b[a * this.perAnchor + 4] = prior;
      const t = tf.tensor1d(b);
      conv.bias!.assign(t);
      t.dispose();
    }
  }

  get numLevels(): number {
    return this.levels.length;
  }

  private checkFeatures(features: tf.Tensor4D[], fn: string): void {
    const c = this.config;
    if (!Array.isArray(features) || features.length !== c.inChannels.length) {
      throw new G2DError(`YoloDetectionHead.${fn}: expected ${c.inChannels.length} feature maps (finest first), got ${Array.isArray(features) ? features.length : typeof features}`);
    }
    features.forEach((f, i) => {
      if (!(f instanceof tf.Tensor) || f.rank !== 4 || f.shape[3] !== c.inChannels[i]) {
        throw new G2DError(`YoloDetectionHead.${fn}: features[${i}] must be [B, H, W, ${c.inChannels[i]}] (NHWC), got ${f instanceof tf.Tensor ? `[${f.shape.join(', ')}]` : typeof f}`);
      }
      if (f.shape[0] !== features[0]!.shape[0]) throw new G2DError(`YoloDetectionHead.${fn}: features[${i}] has batch ${f.shape[0]}, features[0] has ${features[0]!.shape[0]}`);
    });
  }

  /** Raw predictions per level, [B, H, W, A·(5 + classes)], finest level first. */
  forward(features: tf.Tensor4D[], opts: { training?: boolean } = {}): tf.Tensor4D[] {
    this.checkFeatures(features, 'forward');
    return this.withTraining(opts.training, () =>
      tf.tidy(() => {
        const L = this.levels.length;
        const outs: tf.Tensor4D[] = new Array<tf.Tensor4D>(L);
        let routed: tf.Tensor4D | undefined;
        for (let i = L - 1; i >= 0; i--) {
          const f = features[i]!;
          const x = routed ? tf.concat([f, resizeNearest(routed, [f.shape[1], f.shape[2]])], 3) : f;
          const lvl = this.levels[i]!;
          const n = lvl.neck.forward(x);
          outs[i] = lvl.head.forward(n);
          routed = lvl.route ? lvl.route.forward(n) : undefined;
        }
        return outs;
      }),
    );
  }

  /** Grid sizes [H, W] of raw outputs. */
  private grids(outputs: tf.Tensor4D[], fn: string): [number, number][] {
    if (!Array.isArray(outputs) || outputs.length !== this.levels.length) throw new G2DError(`YoloDetectionHead.${fn}: expected ${this.levels.length} output maps, got ${Array.isArray(outputs) ? outputs.length : typeof outputs}`);
    const C = this.numAnchors * this.perAnchor;
    return outputs.map((o, i) => {
      if (!(o instanceof tf.Tensor) || o.rank !== 4 || o.shape[3] !== C) throw new G2DError(`YoloDetectionHead.${fn}: outputs[${i}] must be [B, H, W, ${C}], got ${o instanceof tf.Tensor ? `[${o.shape.join(', ')}]` : typeof o}`);
      return [o.shape[1], o.shape[2]];
    });
  }

  private defaultImageSize(grids: [number, number][]): [number, number] {
    const s = this.config.strides[0]!;
    return [grids[0]![0] * s, grids[0]![1] * s];
  }

  /**
   * Assigns every ground-truth box to its best anchor (see the file comment). Boxes must lie in
   * the image (`imageSize` [H, W]) with positive width and height; classes in [0, numClasses).
   */
  buildTargets(targets: DetectionTarget[], grids: [number, number][], imageSize: [number, number]): LevelTargets[] {
    const c = this.config;
    const [H, W] = imageSize;
    const A = this.numAnchors;
    const per: LevelTargets[] = grids.map((grid) => ({ grid, index: [], box: [], txywh: [], scale: [], cls: [], image: [] }));
    const slot = grids.map(() => new Map<number, number>());
    targets.forEach((t, b) => {
      if (!t || !Array.isArray(t.boxes) || !Array.isArray(t.classes) || t.boxes.length !== t.classes.length) {
        throw new G2DError(`YoloDetectionHead: targets[${b}] must be { boxes, classes } of equal length`);
      }
      t.boxes.forEach((box, j) => {
        const [x1, y1, x2, y2] = box;
        if (![x1, y1, x2, y2].every(Number.isFinite) || !(x2 > x1) || !(y2 > y1)) {
          throw new G2DError(`YoloDetectionHead: targets[${b}].boxes[${j}] must be [x1, y1, x2, y2] with x2 > x1 and y2 > y1, got ${JSON.stringify(box)}`);
        }
        const k = t.classes[j]!;
        if (!Number.isInteger(k) || k < 0 || k >= c.numClasses) throw new G2DError(`YoloDetectionHead: targets[${b}].classes[${j}] must be an integer in [0, ${c.numClasses}), got ${k}`);
        const w = x2 - x1;
        const h = y2 - y1;
        const cx = (x1 + x2) / 2;
        const cy = (y1 + y2) / 2;
        // best anchor over every level, by corner-aligned IoU of the sizes
        let bl = 0;
        let ba = 0;
        let best = -1;
        c.anchors.forEach((lvl, l) =>
          lvl.forEach(([aw, ah], a) => {
            const inter = Math.min(w, aw) * Math.min(h, ah);
            const iou = inter / (w * h + aw * ah - inter);
            if (iou > best) {
              best = iou;
              bl = l;
              ba = a;
            }
          }),
        );
        const s = c.strides[bl]!;
        const [gh, gw] = grids[bl]!;
        const gx = Math.min(gw - 1, Math.max(0, Math.floor(cx / s)));
        const gy = Math.min(gh - 1, Math.max(0, Math.floor(cy / s)));
        const flat = ((b * gh + gy) * gw + gx) * A + ba;
        const [aw, ah] = c.anchors[bl]![ba]!;
        const entry = {
          box: [x1, y1, x2, y2] as BoxXYXY,
          txywh: [Math.min(1, Math.max(0, cx / s - gx)), Math.min(1, Math.max(0, cy / s - gy)), Math.log(w / aw), Math.log(h / ah)] as [number, number, number, number],
          scale: 2 - (w * h) / (W * H),
        };
        const lt = per[bl]!;
        const at = slot[bl]!.get(flat);
        if (at !== undefined) {
          lt.box[at] = entry.box;
          lt.txywh[at] = entry.txywh;
          lt.scale[at] = entry.scale;
          lt.cls[at] = k;
        } else {
          slot[bl]!.set(flat, lt.index.length);
          lt.index.push(flat);
          lt.box.push(entry.box);
          lt.txywh.push(entry.txywh);
          lt.scale.push(entry.scale);
          lt.cls.push(k);
          lt.image.push(b);
        }
      });
    });
    return per;
  }

  /** Decodes prediction `i` (flat index into [B, H, W, A]) of level `l` from raw values into `box` (unclipped). */
  private decodeOne(raw: ArrayLike<number>, i: number, l: number, W: number, H: number, box: BoxXYXY): void {
    const A = this.numAnchors;
    const a = i % A;
    const cell = (i - a) / A;
    const x = cell % W;
    const y = Math.floor(cell / W) % H;
    const o = i * this.perAnchor;
    const s = this.config.strides[l]!;
    const [aw, ah] = this.config.anchors[l]![a]!;
    const cx = (sigmoid(raw[o]!) + x) * s;
    const cy = (sigmoid(raw[o + 1]!) + y) * s;
    const hw = (aw * Math.exp(Math.min(raw[o + 2]!, EXP_CLAMP))) / 2;
    const hh = (ah * Math.exp(Math.min(raw[o + 3]!, EXP_CLAMP))) / 2;
    box[0] = cx - hw;
    box[1] = cy - hh;
    box[2] = cx + hw;
    box[3] = cy + hh;
  }

  /** Decoded xyxy boxes [np, 4] of gathered raw rows `pos` [np, P] at flat indices `index` of level `l` (gradients flow). */
  private decodePositives(pos: tf.Tensor2D, index: number[], l: number, H: number, W: number): tf.Tensor2D {
    return tf.tidy(() => {
      const A = this.numAnchors;
      const np = index.length;
      const s = this.config.strides[l]!;
      const gx = new Float32Array(np);
      const gy = new Float32Array(np);
      const aw = new Float32Array(np);
      const ah = new Float32Array(np);
      index.forEach((i, j) => {
        const a = i % A;
        const cell = (i - a) / A;
        gx[j] = cell % W;
        gy[j] = Math.floor(cell / W) % H;
        [aw[j], ah[j]] = this.config.anchors[l]![a]!;
      });
      const xy = tf.mul(tf.add(tf.sigmoid(tf.slice(pos, [0, 0], [np, 2])), tf.tensor2d(interleave(gx, gy), [np, 2])), s);
      const wh = tf.mul(tf.exp(tf.minimum(tf.slice(pos, [0, 2], [np, 2]), EXP_CLAMP)), tf.tensor2d(interleave(aw, ah), [np, 2]));
      const half = tf.div(wh, 2);
      return tf.concat([tf.sub(xy, half), tf.add(xy, half)], 1) as tf.Tensor2D;
    });
  }

  /** Decoded boxes of every anchor of one level as [B·H·W·A, 4] xyxy (a tensor; gradients flow). */
  decodeBoxesTensor(output: tf.Tensor4D, level: number): tf.Tensor2D {
    return tf.tidy(() => {
      const [B, H, W] = output.shape;
      const A = this.numAnchors;
      const s = this.config.strides[level]!;
      const p = tf.reshape(output, [B, H, W, A, this.perAnchor]);
      const gx = tf.reshape(tf.range(0, W, 1, 'float32'), [1, 1, W, 1]);
      const gy = tf.reshape(tf.range(0, H, 1, 'float32'), [1, H, 1, 1]);
      const an = this.config.anchors[level]!;
      const aw = tf.tensor1d(an.map((a) => a[0])).reshape([1, 1, 1, A]);
      const ah = tf.tensor1d(an.map((a) => a[1])).reshape([1, 1, 1, A]);
      const t = (k: number) => tf.squeeze(tf.slice(p, [0, 0, 0, 0, k], [B, H, W, A, 1]), [4]);
      const cx = tf.mul(tf.add(tf.sigmoid(t(0)), gx), s);
      const cy = tf.mul(tf.add(tf.sigmoid(t(1)), gy), s);
      const w = tf.mul(tf.exp(tf.minimum(t(2), EXP_CLAMP)), aw);
      const h = tf.mul(tf.exp(tf.minimum(t(3), EXP_CLAMP)), ah);
      const hw = tf.div(w, 2);
      const hh = tf.div(h, 2);
      const box = tf.stack([tf.sub(cx, hw), tf.sub(cy, hh), tf.add(cx, hw), tf.add(cy, hh)], 4);
      return tf.reshape(box, [B * H * W * A, 4]) as tf.Tensor2D;
    });
  }

  /**
   * The training loss on raw outputs (from `forward` in training mode) and the ground truth
   * of each image. Call it inside the gradient closure; the returned `loss` is the caller's.
   */
  loss(outputs: tf.Tensor4D[], targets: DetectionTarget[], opts: { imageSize?: [number, number] } = {}): DetectionLossTerms {
    const grids = this.grids(outputs, 'loss');
    const B = outputs[0]!.shape[0];
    if (!Array.isArray(targets) || targets.length !== B) throw new G2DError(`YoloDetectionHead.loss: expected ${B} targets (one per image), got ${Array.isArray(targets) ? targets.length : typeof targets}`);
    const imageSize = opts.imageSize ?? this.defaultImageSize(grids);
    const lt = this.buildTargets(targets, grids, imageSize);
    const L = this.config.loss;
    const A = this.numAnchors;
    const P = this.perAnchor;
    const K = this.config.numClasses;
    let boxSum = 0;
    let objSum = 0;
    let clsSum = 0;
    let positives = 0;
    let ignored = 0;
    const loss = tf.tidy(() => {
      const terms: tf.Scalar[] = [];
      outputs.forEach((out, l) => {
        const t = lt[l]!;
        const [H, W] = grids[l]!;
        const N = B * H * W * A;
        const flat = tf.reshape(out, [N, P]);
        // ignore rule: decoded boxes (values only) against the image's ground truth
        const weight = new Float32Array(N).fill(L.noobjWeight);
        const objT = new Float32Array(N);
        if (L.noobjWeight > 0 && targets.some((x) => x.boxes.length > 0)) {
          const raw = out.dataSync();
          const cellsPerImage = H * W * A;
          const pb: BoxXYXY = [0, 0, 0, 0];
          for (let b = 0; b < B; b++) {
            const gts = targets[b]!.boxes;
            if (!gts.length) continue;
            for (let i = b * cellsPerImage; i < (b + 1) * cellsPerImage; i++) {
              this.decodeOne(raw, i, l, W, H, pb);
              for (const g of gts) {
                if (iouXYXY(pb, g) > L.ignoreThreshold) {
                  weight[i] = 0;
                  break;
                }
              }
            }
          }
        }
        for (const i of t.index) {
          objT[i] = 1;
          weight[i] = L.objWeight;
        }
        for (let i = 0; i < N; i++) if (weight[i] === 0 && objT[i] === 0 && L.noobjWeight > 0) ignored++;
        const objLogit = tf.squeeze(tf.slice(flat, [0, 4], [N, 1]), [1]);
        const obj = tf.sum(tf.mul(bceWithLogits(objLogit, tf.tensor1d(objT)), tf.tensor1d(weight))) as tf.Scalar;
        terms.push(tf.div(obj, B) as tf.Scalar);
        objSum += obj.dataSync()[0]! / B;
        const np = t.index.length;
        positives += np;
        if (np === 0) return;
        const idx = tf.tensor1d(t.index, 'int32');
        const pos = tf.gather(flat, idx) as tf.Tensor2D; // [np, P]
        const scale = tf.tensor1d(t.scale);
        let boxLoss: tf.Tensor;
        if (L.box === 'giou') {
          const pb = this.decodePositives(pos, t.index, l, H, W);
          boxLoss = tf.sum(tf.mul(tf.sub(1, giouTensor(pb, tf.tensor2d(t.box, [np, 4]))), scale));
        } else {
          const xy = tf.sigmoid(tf.slice(pos, [0, 0], [np, 2]));
          const wh = tf.slice(pos, [0, 2], [np, 2]);
          const tt = tf.tensor2d(t.txywh, [np, 4]);
          const d = tf.concat([tf.sub(xy, tf.slice(tt, [0, 0], [np, 2])), tf.sub(wh, tf.slice(tt, [0, 2], [np, 2]))], 1);
          boxLoss = tf.sum(tf.mul(tf.sum(tf.square(d), 1), scale));
        }
        terms.push(tf.mul(tf.div(boxLoss, B), L.boxWeight) as tf.Scalar);
        boxSum += boxLoss.dataSync()[0]! / B;
        const onehot = new Float32Array(np * K);
        t.cls.forEach((k, i) => (onehot[i * K + k] = 1));
        const clsLoss = tf.sum(bceWithLogits(tf.slice(pos, [0, 5], [np, K]), tf.tensor2d(onehot, [np, K])));
        terms.push(tf.mul(tf.div(clsLoss, B), L.clsWeight) as tf.Scalar);
        clsSum += clsLoss.dataSync()[0]! / B;
      });
      // the objectness term carries its per-element weights; box and class terms are scaled above
      return tf.addN(terms) as tf.Scalar;
    });
    return { loss, box: boxSum, obj: objSum, cls: clsSum, positives, ignored };
  }

  /**
   * Detections per image from raw outputs: σ(obj)·σ(cls_k) above `scoreThreshold`, per-class
   * NMS at `iouThreshold` (0.5), the `maxDetections` best, boxes clipped to the image.
   */
  decode(outputs: tf.Tensor4D[], opts: DecodeOptions = {}): Detection[][] {
    const grids = this.grids(outputs, 'decode');
    const [Himg, Wimg] = opts.imageSize ?? this.defaultImageSize(grids);
    const thr = opts.scoreThreshold ?? 0.01;
    const iouThr = opts.iouThreshold ?? 0.5;
    const maxDet = opts.maxDetections ?? 100;
    const topK = opts.preNmsTopK ?? 1000;
    const B = outputs[0]!.shape[0];
    const A = this.numAnchors;
    const P = this.perAnchor;
    const K = this.config.numClasses;
    const cand: { box: BoxXYXY; score: number; k: number }[][][] = Array.from({ length: B }, () => Array.from({ length: K }, () => []));
    outputs.forEach((out, l) => {
      const v = out.dataSync();
      const [H, W] = grids[l]!;
      const raw: BoxXYXY = [0, 0, 0, 0];
      const n = B * H * W * A;
      for (let i = 0; i < n; i++) {
        const o = i * P;
        const obj = sigmoid(v[o + 4]!);
        if (obj <= thr) continue;
        const b = Math.floor(i / (H * W * A));
        this.decodeOne(v, i, l, W, H, raw);
        const box: BoxXYXY = [clamp(raw[0], 0, Wimg), clamp(raw[1], 0, Himg), clamp(raw[2], 0, Wimg), clamp(raw[3], 0, Himg)];
        if (!(box[2] > box[0] && box[3] > box[1])) continue;
        for (let k = 0; k < K; k++) {
          const score = obj * sigmoid(v[o + 5 + k]!);
          if (score > thr) cand[b]![k]!.push({ box, score, k });
        }
      }
    });
    return cand.map((perClass) => {
      const kept: Detection[] = [];
      for (const list of perClass) {
        list.sort((p, q) => q.score - p.score);
        const top = list.slice(0, topK);
        const keep = nonMaxSuppression(
          top.map((d) => d.box),
          top.map((d) => d.score),
          iouThr,
        );
        for (const i of keep) kept.push({ box: top[i]!.box, score: top[i]!.score, classIndex: top[i]!.k });
      }
      kept.sort((p, q) => q.score - p.score);
      return kept.slice(0, maxDet);
    });
  }

  /** forward (eval mode) + decode; the raw outputs are disposed. */
  detect(features: tf.Tensor4D[], opts: DecodeOptions = {}): Detection[][] {
    const outs = this.forward(features, { training: false });
    try {
      return this.decode(outs, opts);
    } finally {
      tf.dispose(outs);
    }
  }
}

function interleave(a: Float32Array, b: Float32Array): Float32Array {
  const r = new Float32Array(a.length * 2);
  for (let i = 0; i < a.length; i++) {
    r[2 * i] = a[i]!;
    r[2 * i + 1] = b[i]!;
  }
  return r;
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/** Numerically stable element-wise BCE with logits: max(x, 0) − x·z + log(1 + e^(−|x|)). */
export function bceWithLogits(logits: tf.Tensor, targets: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.add(tf.sub(tf.relu(logits), tf.mul(logits, targets)), tf.log1p(tf.exp(tf.neg(tf.abs(logits))))));
}

/** GIoU of matching rows of two [N, 4] xyxy tensors -> [N]. */
export function giouTensor(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const col = (t: tf.Tensor2D, k: number) => tf.squeeze(tf.slice(t, [0, k], [t.shape[0], 1]), [1]);
    const [ax1, ay1, ax2, ay2] = [0, 1, 2, 3].map((k) => col(a, k)) as [tf.Tensor1D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
    const [bx1, by1, bx2, by2] = [0, 1, 2, 3].map((k) => col(b, k)) as [tf.Tensor1D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
    const areaA = tf.mul(tf.relu(tf.sub(ax2, ax1)), tf.relu(tf.sub(ay2, ay1)));
    const areaB = tf.mul(tf.relu(tf.sub(bx2, bx1)), tf.relu(tf.sub(by2, by1)));
    const iw = tf.relu(tf.sub(tf.minimum(ax2, bx2), tf.maximum(ax1, bx1)));
    const ih = tf.relu(tf.sub(tf.minimum(ay2, by2), tf.maximum(ay1, by1)));
    const inter = tf.mul(iw, ih);
    const union = tf.add(tf.sub(tf.add(areaA, areaB), inter), 1e-9);
    const cw = tf.sub(tf.maximum(ax2, bx2), tf.minimum(ax1, bx1));
    const ch = tf.sub(tf.maximum(ay2, by2), tf.minimum(ay1, by1));
    const c = tf.add(tf.mul(cw, ch), 1e-9);
    return tf.sub(tf.div(inter, union), tf.div(tf.sub(c, union), c)) as tf.Tensor1D;
  });
}
