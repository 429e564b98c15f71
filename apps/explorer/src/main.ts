/**
 * The explorer page: wires files, the model and the overlays together. All computing is in
 * analysis.ts (the packages' own functions), drawing in render.ts; this file keeps the state,
 * reacts to the controls and shows every error in the page.
 *
 * Automation hook (the e2e test reads it; harmless for users): `window.g2dExplorer` holds the
 * backend, the timings of the last image, the last attention maps and the model's region in
 * canvas pixels, and `decode(bytes, name)` (the page's own decoder, for codec checks).
 */
import * as tf from '@tensorflow/tfjs';
import { G2DError } from '@g2d-ts/core';
import { decodeImage, type GrayImage, type ImageMeta } from '@g2d-ts/data/browser';
import { defaultPrompts, promptsFor, type PromptFile, type ZeroShotClassifier } from '@g2d-ts/heads';
import { G2DModel, buildConfig, builtInTokenizer, isBuiltInVocab } from '@g2d-ts/model';
import { parseVocab, type BertTokenizer } from '@g2d-ts/text';
import { barChart } from '@g2d-ts/viz';
import {
  attentionMaps, decoderMap, disposePrepared, grounding, imageEmbedding, prepareImage, pseudoMask, retrievalScore, zeroShotClassifier, zeroShotScores,
  type AttentionMaps, type Grounding, type PreparedImage,
} from './analysis';
import { chooseBackend } from './backend';
import { loadCheckpoint, tokenizerFromVocab, type LoadedCheckpoint, type NamedBytes, type NamedText } from './checkpoint';
import { setUpCodecs } from './codecs';
import { droppedFiles, sortFiles } from './files';
import { baseLayer, compose, displayRoi, heatLayer, maskLayer, type BaseLayer, type Layer } from './render';

// ------------------------------------------------------------------ elements

/**
 * The page's elements by key: each is looked up by its id (the key in kebab case: `ckptDir` ->
 * `#ckpt-dir`) and checked to be of the given class, so a renamed id or a changed tag fails at
 * start-up naming the id.
 */
function elements<S extends Record<string, new () => HTMLElement>>(spec: S): { [K in keyof S]: InstanceType<S[K]> } {
  const out: Record<string, HTMLElement> = {};
  for (const [key, cls] of Object.entries(spec)) {
    const id = key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    const e = document.getElementById(id);
    if (!e) throw new Error(`page is missing #${id}`);
    const tag = e.tagName.toLowerCase();
    if (!(e instanceof cls)) throw new Error(`#${id} is a <${tag}>, expected ${cls.name}`);
    out[key] = e;
  }
  return out as { [K in keyof S]: InstanceType<S[K]> };
}
const el = elements({
  status: HTMLElement,
  error: HTMLElement,
  drop: HTMLElement,
  ckptDir: HTMLInputElement, ckptFiles: HTMLInputElement, ckptDemo: HTMLButtonElement, ckptRandom: HTMLButtonElement,
  preset: HTMLSelectElement,
  ckptInfo: HTMLElement,
  vocabFile: HTMLInputElement, vocabInfo: HTMLElement,
  imageFile: HTMLInputElement, imageInfo: HTMLElement,
  view: HTMLCanvasElement,
  caption: HTMLElement,
  reportView: HTMLElement, reportScore: HTMLElement, reportText: HTMLElement,
  controls: HTMLFieldSetElement,
  ovAttention: HTMLInputElement, ovHead: HTMLSelectElement, ovMask: HTMLInputElement, ovMaskMode: HTMLSelectElement, ovQuantile: HTMLInputElement, ovQuantileValue: HTMLOutputElement, ovDecoder: HTMLInputElement, ovGround: HTMLInputElement, ovGroundText: HTMLInputElement, ovOpacity: HTMLInputElement,
  timings: HTMLElement,
  zsSet: HTMLSelectElement, zsChart: HTMLElement,
  report: HTMLTextAreaElement,
  backend: HTMLElement,
});

// ------------------------------------------------------------------ state

interface ModelState extends LoadedCheckpoint {
  label: string;
}
interface ImageState {
  name: string;
  img: GrayImage;
  meta: ImageMeta;
  base: BaseLayer;
  prepared?: PreparedImage;
  embedding?: tf.Tensor2D;
  attention?: AttentionMaps;
  mask?: { key: string; data: Uint8Array };
  decoder?: Float32Array;
  ground?: { text: string; g: Grounding };
}

const state: {
  backend: string;
  model?: ModelState;
  tok?: BertTokenizer;
  vocab?: NamedText & { tokens: number };
  image?: ImageState;
  prompts: PromptFile;
  zs: Map<string, ZeroShotClassifier>;
} = { backend: '', prompts: defaultPrompts(), zs: new Map() };

interface Timings {
  /** from the drop (or pick) to the start of this image's work (earlier work still running) */
  waitMs?: number;
  /** reading the file's bytes */
  readMs?: number;
  decodeMs?: number;
  preprocessMs?: number;
  attentionMs?: number;
  /** drawing the image and the overlay, until the next frame */
  drawMs?: number;
  firstOverlayMs?: number;
  warmupMs?: number;
  modelLoadMs?: number;
}

declare global {
  interface Window {
    g2dExplorer: {
      ready: boolean;
      backend: string;
      busy: number;
      timings: Timings;
      images: number;
      errors: string[];
      attention?: { mean: number[]; h: number; w: number };
      /** the model's region on the canvas (canvas pixels) */
      roi?: { x: number; y: number; w: number; h: number };
      zeroShot?: { label: string; p: number }[];
      retrieval?: number;
      decode(bytes: Uint8Array, name: string): Promise<{ width: number; height: number; maxValue: number; sum: number }>;
    };
  }
}

const hook: Window['g2dExplorer'] = {
  ready: false,
  backend: '',
  busy: 0,
  timings: {},
  images: 0,
  errors: [],
  async decode(bytes, name) {
    const { image } = await decodeImage(bytes, name);
    let sum = 0;
    for (let i = 0; i < image.data.length; i++) sum += image.data[i]!;
    return { width: image.width, height: image.height, maxValue: image.maxValue, sum };
  },
};
window.g2dExplorer = hook;

// ------------------------------------------------------------------ messages

function setStatus(text: string): void {
  el.status.textContent = text;
}

function showError(e: unknown): void {
  const msg = e instanceof Error ? e.message : String(e);
  hook.errors.push(msg);
  el.error.hidden = false;
  el.error.textContent = '';
  const b = document.createElement('strong');
  b.textContent = e instanceof G2DError ? 'Cannot use this input: ' : 'Error: ';
  const close = document.createElement('button');
  close.type = 'button';
  close.textContent = '×';
  close.title = 'dismiss';
  close.addEventListener('click', () => (el.error.hidden = true));
  el.error.append(b, document.createTextNode(msg), close);
  console.error(e);
}

function clearError(): void {
  el.error.hidden = true;
}

window.addEventListener('error', (ev) => showError(ev.error ?? ev.message));
window.addEventListener('unhandledrejection', (ev) => showError(ev.reason));

/** Runs tensor work one job at a time; errors are shown, never thrown out of event handlers. */
let queue: Promise<void> = Promise.resolve();
function serial(what: string, fn: () => Promise<void>): Promise<void> {
  hook.busy++;
  const run = async () => {
    try {
      await fn();
    } catch (e) {
      showError(e);
      setStatus(`${what} failed`);
    } finally {
      hook.busy--;
    }
  };
  queue = queue.then(run, run);
  return queue;
}

const nextFrame = () => new Promise<void>((r) => requestAnimationFrame(() => r()));
const ms = (t: number) => `${Math.round(t)} ms`;

// ------------------------------------------------------------------ checkpoint and vocabulary

async function bytesOf(f: File | Blob): Promise<Uint8Array> {
  return new Uint8Array(await f.arrayBuffer());
}

function setModel(m: ModelState): void {
  state.model?.model.dispose();
  for (const c of state.zs.values()) c.dispose();
  state.zs.clear();
  state.model = m;
  // a model on the built-in synthetic vocabulary (the demo checkpoint) uses it whatever vocab.txt is loaded
  state.tok = builtInTokenizer(m.config.text);
  if (!state.tok && state.vocab) {
    try {
      state.tok = tokenizerFromVocab(state.vocab, m.config);
    } catch (e) {
      state.tok = undefined;
      showError(e);
    }
  }
  const H = m.config.attentionHeads;
  el.ovHead.replaceChildren(new Option('mean of heads', 'mean'), ...Array.from({ length: H }, (_, k) => new Option(`head ${k + 1}`, String(k))));
  el.ovQuantile.value = String(m.config.pseudoMask.quantile);
  el.ovQuantileValue.value = String(m.config.pseudoMask.quantile);
  el.ovMaskMode.value = m.config.pseudoMask.mode;
  const c = m.config;
  el.ckptInfo.textContent = `${m.label}: ${c.backbone} U-Net, ${c.imageSize}² input, ${c.attentionHeads} attention heads, BERT ${c.text.numHiddenLayers}×${c.text.hiddenSize}; ${(m.parameters / 1e6).toFixed(1)} M parameters (config from ${m.configSource})`;
  updateVocabInfo();
}

/** Compiles the backend's kernels on a blank image so the first real image is fast. */
async function warmUp(model: G2DModel): Promise<void> {
  const t0 = performance.now();
  const S = model.config.imageSize;
  const x = tf.zeros([1, S, S, 3]) as tf.Tensor4D;
  try {
    const outs = [model.attentionMap(x), model.segment(x), model.patchEmbeddings(x), model.encodeImage(x)];
    await Promise.all(outs.map((o) => o.data()));
    outs.forEach((o) => o.dispose());
  } finally {
    x.dispose();
  }
  hook.timings.warmupMs = performance.now() - t0;
}

async function useCheckpoint(label: string, weights: NamedBytes, config?: NamedText): Promise<void> {
  const t0 = performance.now();
  setStatus(`loading ${label}…`);
  await nextFrame();
  const loaded = loadCheckpoint({ weights, config, preset: el.preset.value });
  setModel({ ...loaded, label });
  setStatus(`compiling kernels for ${label}…`);
  await warmUp(loaded.model);
  hook.timings.modelLoadMs = performance.now() - t0;
  setStatus(`${label} ready (${ms(hook.timings.modelLoadMs)}, warm-up ${ms(hook.timings.warmupMs ?? 0)})`);
  clearError();
  if (state.image) await analyse(state.image, performance.now());
}

async function useRandom(): Promise<void> {
  const preset = el.preset.value;
  setStatus(`building ${preset} with random weights…`);
  await nextFrame();
  const t0 = performance.now();
  const config = buildConfig(preset);
  const model = new G2DModel(config, { seed: 0 }).eval();
  setModel({ model, config, configSource: `preset ${preset}`, tensors: 0, parameters: model.numParams(), label: `${preset} with RANDOM weights (not a trained model)` });
  await warmUp(model);
  hook.timings.modelLoadMs = performance.now() - t0;
  setStatus(`random ${preset} ready: the overlays show an untrained model`);
  if (state.image) await analyse(state.image, performance.now());
}

function updateVocabInfo(): void {
  if (state.tok && state.model && isBuiltInVocab(state.model.config.text.vocab)) {
    el.vocabInfo.textContent = `the built-in synthetic vocabulary (the model's text.vocab): ${state.tok.vocabSize} tokens${state.model.config.text.lowercase ? ' (lowercased)' : ''}`;
  } else if (!state.vocab) {
    el.vocabInfo.textContent = 'no vocabulary: text features (grounding, zero-shot, report) need the model\'s vocab.txt';
  } else if (state.tok) {
    el.vocabInfo.textContent = `${state.vocab.name}: ${state.tok.vocabSize} tokens${state.model?.config.text.lowercase ? ' (lowercased)' : ''}`;
  } else {
    el.vocabInfo.textContent = `${state.vocab.name}: ${state.vocab.tokens} tokens (checked against the model once a checkpoint is loaded)`;
  }
}

function useVocab(v: NamedText): void {
  state.vocab = { ...v, tokens: parseVocab(v.text, v.name).size };
  state.tok = undefined;
  for (const c of state.zs.values()) c.dispose();
  state.zs.clear();
  if (state.model) state.tok = builtInTokenizer(state.model.config.text) ?? tokenizerFromVocab(v, state.model.config);
  updateVocabInfo();
}

// ------------------------------------------------------------------ images and overlays

async function useImage(file: File | NamedBytes, t0: number): Promise<void> {
  const name = file.name;
  const tr = performance.now();
  setStatus(`decoding ${name}…`);
  const bytes = file instanceof File ? await bytesOf(file) : file.bytes;
  if (bytes.length === 0) throw new G2DError('file is empty', { source: name });
  const td = performance.now();
  const { image, meta } = await decodeImage(bytes, name);
  hook.timings = { ...hook.timings, waitMs: tr - t0, readMs: td - tr, decodeMs: performance.now() - td, preprocessMs: undefined, attentionMs: undefined, drawMs: undefined, firstOverlayMs: undefined };
  const prev = state.image;
  const base = baseLayer(image);
  const next: ImageState = { name, img: image, meta, base };
  if (prev) {
    disposePrepared(prev.prepared);
    prev.embedding?.dispose();
  }
  state.image = next;
  hook.images++;
  const dicom = meta.dicom ? `, DICOM ${meta.dicom.photometricInterpretation ?? ''} ${meta.bitDepth}-bit` : `, ${meta.format.toUpperCase()} ${meta.bitDepth}-bit`;
  el.imageInfo.textContent = `${name}: ${image.width}×${image.height}${dicom}`;
  el.caption.textContent = name;
  await analyse(next, t0);
}

/** The first overlay as fast as possible, then everything else. */
async function analyse(im: ImageState, t0: number): Promise<void> {
  const m = state.model;
  if (!m) {
    compose(el.view, im.base, { x: 0, y: 0, w: 0, h: 0 }, []);
    setStatus('image shown; load a checkpoint to see what the model sees');
    return;
  }
  disposePrepared(im.prepared);
  im.embedding?.dispose();
  im.embedding = undefined;
  im.attention = im.mask = im.decoder = im.ground = undefined;
  const tp = performance.now();
  im.prepared = prepareImage(im.img, m.model, im.name);
  hook.timings.preprocessMs = performance.now() - tp;
  const ta = performance.now();
  im.attention = await attentionMaps(m.model, im.prepared);
  hook.timings.attentionMs = performance.now() - ta;
  hook.attention = { mean: Array.from(im.attention.mean), h: im.attention.h, w: im.attention.w };
  const tw = performance.now();
  await redraw();
  await nextFrame();
  const done = performance.now();
  hook.timings.drawMs = done - tw;
  hook.timings.firstOverlayMs = done - t0;
  el.controls.disabled = false;
  showTimings();
  setStatus(`${im.name}: first overlay ${ms(hook.timings.firstOverlayMs)} after the drop`);
  await ensureOverlays();
  await redraw();
  await textFeatures();
}

function showTimings(): void {
  const t = hook.timings;
  const parts = [
    t.waitMs !== undefined && t.waitMs >= 1 && `wait ${ms(t.waitMs)}`,
    t.readMs !== undefined && `read ${ms(t.readMs)}`,
    t.decodeMs !== undefined && `decode ${ms(t.decodeMs)}`,
    t.preprocessMs !== undefined && `preprocess ${ms(t.preprocessMs)}`,
    t.attentionMs !== undefined && `attention ${ms(t.attentionMs)}`,
    t.drawMs !== undefined && `draw ${ms(t.drawMs)}`,
    t.firstOverlayMs !== undefined && `first overlay ${ms(t.firstOverlayMs)} after the drop`,
    `backend ${state.backend}`,
  ].filter(Boolean);
  el.timings.textContent = parts.join(' · ');
}

/** Computes the overlays that are switched on and not yet computed. */
async function ensureOverlays(): Promise<void> {
  const m = state.model;
  const im = state.image;
  if (!m || !im?.prepared) return;
  if (el.ovMask.checked) {
    const key = `${el.ovMaskMode.value}/${el.ovQuantile.value}`;
    if (im.mask?.key !== key) {
      im.mask = { key, data: await pseudoMask(m.model, im.prepared, { mode: el.ovMaskMode.value as 'code' | 'paper', quantile: Number(el.ovQuantile.value) }) };
    }
  }
  if (el.ovDecoder.checked && !im.decoder) im.decoder = await decoderMap(m.model, im.prepared);
  if (el.ovGround.checked) {
    const text = el.ovGroundText.value.trim();
    if (!state.tok) throw new G2DError('grounding needs the vocabulary (vocab.txt) of the model');
    if (text && im.ground?.text !== text) im.ground = { text, g: await grounding(m.model, state.tok, im.prepared, text) };
  }
}

async function redraw(): Promise<void> {
  const im = state.image;
  if (!im) return;
  const p = im.prepared;
  if (!p) {
    compose(el.view, im.base, { x: 0, y: 0, w: 0, h: 0 }, []);
    return;
  }
  const alpha = Number(el.ovOpacity.value);
  const layers: Layer[] = [];
  const notes: string[] = [];
  if (el.ovAttention.checked && im.attention) {
    const a = im.attention;
    const head = el.ovHead.value;
    const map = head === 'mean' ? a.mean : a.heads[Number(head)] ?? a.mean;
    layers.push({ canvas: heatLayer(map, a.w, a.h, { alpha }), smooth: true });
    notes.push(`attention (${head === 'mean' ? 'mean of heads' : `head ${Number(head) + 1}`}, ${a.h}×${a.w} cells)`);
  }
  if (el.ovDecoder.checked && im.decoder) {
    layers.push({ canvas: heatLayer(im.decoder, p.size, p.size, { alpha, range: [0, 1], colormap: 'inferno' }), smooth: true });
    notes.push('decoder output (sigmoid)');
  }
  if (el.ovGround.checked && im.ground) {
    const g = im.ground.g;
    layers.push({ canvas: heatLayer(g.map, g.w, g.h, { alpha, colormap: 'viridis' }), smooth: true });
    notes.push(`grounding "${im.ground.text}" (cosine ${g.min.toFixed(3)}…${g.max.toFixed(3)})`);
  }
  if (el.ovMask.checked && im.mask) {
    const r = displayRoi(im.base, p.roi);
    layers.push({ canvas: maskLayer(im.mask.data, p.size, r.w, r.h), smooth: false });
    notes.push(`pseudo mask (${el.ovMaskMode.value} mode, quantile ${el.ovQuantile.value})`);
  }
  compose(el.view, im.base, p.roi, layers);
  const r = displayRoi(im.base, p.roi);
  hook.roi = r;
  el.view.dataset.roi = [r.x, r.y, r.w, r.h].map((v) => v.toFixed(2)).join(',');
  el.view.dataset.layers = String(layers.length);
  el.caption.textContent = `${im.name}${notes.length ? ' — ' + notes.join(' · ') : ''}`;
}

// ------------------------------------------------------------------ text features

function fillPromptSets(preferred?: string): void {
  const sets = Object.keys(state.prompts.sets);
  const current = el.zsSet.value;
  el.zsSet.replaceChildren(...sets.map((s) => new Option(`${s} (${Object.keys(state.prompts.sets[s]!).length} classes)`, s)));
  el.zsSet.value = preferred && sets.includes(preferred) ? preferred : current && sets.includes(current) ? current : sets.includes('chexpert') ? 'chexpert' : sets[0]!;
}

async function textFeatures(): Promise<void> {
  const m = state.model;
  const im = state.image;
  if (!m || !im?.prepared) return;
  if (!state.tok) {
    el.zsChart.innerHTML = '<p class="info">zero-shot scores need the vocabulary (vocab.txt) of the model</p>';
    hook.zeroShot = undefined;
    updateReport();
    return;
  }
  im.embedding ??= imageEmbedding(m.model, im.prepared);
  const set = el.zsSet.value;
  let clf = state.zs.get(set);
  if (!clf) {
    const prompts = promptsFor(set, Object.keys(state.prompts.sets[set]!), state.prompts, '@g2d-ts/heads prompts');
    clf = zeroShotClassifier(m.model, state.tok, prompts);
    state.zs.set(set, clf);
  }
  const scores = await zeroShotScores(clf, im.embedding);
  hook.zeroShot = scores;
  el.zsChart.innerHTML = barChart({
    bars: scores.map((s) => ({ label: s.label, value: s.p })),
    sorted: 'desc',
    horizontal: true,
    domain: [0, 1],
    digits: 3,
    reference: { value: 0.5 },
    valueLabel: 'p(finding)',
    title: `${set} prompts`,
    width: 420,
  }) + '<p class="info">p = softmax over cos(image, positive prompts) and cos(image, negative prompts), the prompt pairs of @g2d-ts/heads (as the zero-shot app)</p>';
  await updateReport();
}

async function updateReport(): Promise<void> {
  const text = el.report.value.trim();
  el.reportView.hidden = !text;
  el.reportText.textContent = text;
  hook.retrieval = undefined;
  if (!text) return;
  const m = state.model;
  const im = state.image;
  if (!m || !im?.prepared) {
    el.reportScore.textContent = 'retrieval score: needs a checkpoint and an image';
    return;
  }
  if (!state.tok) {
    el.reportScore.textContent = 'retrieval score: needs the vocabulary (vocab.txt)';
    return;
  }
  im.embedding ??= imageEmbedding(m.model, im.prepared);
  const s = await retrievalScore(m.model, state.tok, im.embedding, text);
  hook.retrieval = s;
  el.reportScore.textContent = `retrieval score (cosine of image and report embeddings): ${s.toFixed(4)}`;
}

// ------------------------------------------------------------------ inputs

async function handleFiles(files: File[], t0: number): Promise<void> {
  const s = sortFiles(files);
  if (s.vocab) useVocab({ name: s.vocab.name, text: await s.vocab.text() });
  if (s.weights) {
    await useCheckpoint(s.weights.webkitRelativePath ? s.weights.webkitRelativePath.replace(/\/[^/]*$/, '') || s.weights.name : s.weights.name, { name: s.weights.name, bytes: await bytesOf(s.weights) }, s.config ? { name: s.config.name, text: await s.config.text() } : undefined);
  } else if (s.config) {
    throw new G2DError('a config.json without model.safetensors: drop both (the final/ folder holds them)', { source: s.config.name });
  }
  if (s.images.length) {
    if (s.images.length > 1) setStatus(`${s.images.length} images dropped: showing ${s.images[0]!.name}`);
    await useImage(s.images[0]!, t0);
  } else if (state.image && (s.weights || s.vocab)) {
    await textFeatures();
  }
  if (!s.weights && !s.vocab && !s.images.length) {
    throw new G2DError(`nothing to open here (${s.ignored.join(', ') || 'no files'}): drop an image, or a checkpoint folder`);
  }
}

function onPick(input: HTMLInputElement): void {
  input.addEventListener('change', () => {
    const t0 = performance.now();
    const files = [...(input.files ?? [])];
    input.value = '';
    if (files.length) void serial('opening files', () => handleFiles(files, t0));
  });
}

function wireInputs(): void {
  onPick(el.ckptDir);
  onPick(el.ckptFiles);
  onPick(el.vocabFile);
  onPick(el.imageFile);
  el.ckptRandom.addEventListener('click', () => void serial('random model', useRandom));
  const over = (ev: DragEvent) => {
    ev.preventDefault();
    document.body.classList.add('dragging');
  };
  document.addEventListener('dragover', over);
  document.addEventListener('dragenter', over);
  document.addEventListener('dragleave', (ev) => {
    if (ev.target === document.documentElement || ev.relatedTarget === null) document.body.classList.remove('dragging');
  });
  document.addEventListener('drop', (ev) => {
    ev.preventDefault();
    document.body.classList.remove('dragging');
    // the drop's own time stamp: "first overlay after the drop" counts from here
    const t0 = ev.timeStamp || performance.now();
    const dt = ev.dataTransfer;
    if (!dt) return;
    void serial('opening dropped files', async () => handleFiles(await droppedFiles(dt), t0));
  });
  const rerender = () => void serial('overlay', async () => {
    await ensureOverlays();
    await redraw();
  });
  for (const c of [el.ovAttention, el.ovHead, el.ovMask, el.ovMaskMode, el.ovDecoder, el.ovGround]) c.addEventListener('change', rerender);
  el.ovQuantile.addEventListener('input', () => (el.ovQuantileValue.value = el.ovQuantile.value));
  el.ovQuantile.addEventListener('change', rerender);
  el.ovOpacity.addEventListener('input', () => void redraw());
  el.ovGroundText.addEventListener('change', () => {
    el.ovGround.checked = true;
    rerender();
  });
  el.zsSet.addEventListener('change', () => void serial('zero-shot', textFeatures));
  let timer: ReturnType<typeof setTimeout> | undefined;
  el.report.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => void serial('report', updateReport), 400);
  });
}

/** When served from the repository (dev server, e2e), the demo checkpoint and the shared vocabulary. */
async function repoAssets(): Promise<void> {
  let manifest: { demo?: { label: string; config: string; weights: string }; vocab?: { label: string; url: string } };
  try {
    const r = await fetch('g2d-assets/manifest.json', { cache: 'no-store' });
    if (!r.ok || !(r.headers.get('content-type') ?? '').includes('json')) return;
    manifest = await r.json();
  } catch {
    return; // a plain static host: the user picks files
  }
  if (manifest.vocab) {
    const r = await fetch(manifest.vocab.url);
    if (r.ok) useVocab({ name: 'vocab.txt', text: await r.text() });
    el.vocabInfo.textContent += ` — served from ${manifest.vocab.label}`;
  }
  const demo = manifest.demo;
  if (demo) {
    el.ckptDemo.hidden = false;
    const load = async () => {
      const [c, w] = await Promise.all([fetch(demo.config), fetch(demo.weights)]);
      if (!c.ok || !w.ok) throw new G2DError(`the server did not send the demo checkpoint (${c.status}/${w.status})`, { source: demo.label });
      await useCheckpoint(`demo checkpoint (${demo.label})`, { name: 'model.safetensors', bytes: new Uint8Array(await w.arrayBuffer()) }, { name: 'config.json', text: await c.text() });
      fillPromptSets('synthetic');
    };
    el.ckptDemo.addEventListener('click', () => void serial('demo checkpoint', load));
    await serial('demo checkpoint', load);
  }
}

async function main(): Promise<void> {
  wireInputs();
  fillPromptSets();
  setUpCodecs();
  const requested = new URLSearchParams(location.search).get('backend');
  const b = await chooseBackend(requested);
  state.backend = b.name;
  hook.backend = b.name;
  el.backend.textContent = `tfjs ${tf.version.tfjs}, backend ${b.name}${b.notes.length ? ` (${b.notes.join('; ')})` : ''}`;
  setStatus(`backend ${b.name}; drop a checkpoint folder and an image`);
  await repoAssets();
  await queue;
  hook.ready = true;
}

main().catch((e) => {
  showError(e);
  hook.ready = true;
});
