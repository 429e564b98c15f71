/**
 * explorer:e2e — drives the BUILT explorer (apps/explorer/dist) in Debian's headless chromium
 * with puppeteer-core, served by a bounded static server on 127.0.0.1:
 *
 * - a small G2D checkpoint saved at test time (random weights; the tiny preset's image tower —
 *   ResNet-18 U-Net, 128², 4 attention heads — with a smaller BERT) is opened with the file
 *   picker, the shared BERT vocabulary is served as from the repository, and a chest DICOM from
 *   ../shared/data/dicom_samples/chest/ is dropped on the page;
 * - the attention the page computes equals the one Node computes for the same weights and
 *   image, and the canvas changes where that attention is high (and hardly where it is low);
 * - pseudo mask, decoder and grounding overlays change the canvas; the zero-shot bars appear,
 *   sorted; a report shows beside the image with its retrieval score (equal to Node's);
 * - malformed files (an image, a checkpoint) show an error message in the page, which keeps
 *   working;
 * - the page's DICOM decoder (@g2d-ts/data/browser, WebAssembly codecs) gives the same pixels as
 *   Node's for every codec sample;
 * - time from dropping a 2,000² DICOM to the first overlay is measured and printed.
 *
 * SKIPs visibly without chromium or the shared data. Screenshots go to $G2D_EXPLORER_SCREENSHOTS
 * (the README's come from `G2D_EXPLORER_SCREENSHOTS=apps/explorer/docs`), else a temp folder.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { initBackend } from '@g2d-ts/core';
import { sharedDir, sharedPath } from '@g2d-ts/core/testing';
import { decodeImage, loadImage, resizeBilinear } from '@g2d-ts/data';
import { writeDicom } from '@g2d-ts/data/testing';
import { defaultPrompts } from '@g2d-ts/heads';
import { createModel, createModelWithWeights, saveG2DModel, type G2DModel } from '@g2d-ts/model';
import { attentionMaps, imageEmbedding, prepareImage, retrievalScore } from '../src/analysis';
import { tokenizerFromVocab } from '../src/checkpoint';
import { repoAssets } from '../vite/repo-assets';
import { chromiumPath, launchChromium } from './browser';
import { startStaticServer, type StaticServer } from './static-server';

const DIST = path.join(__dirname, '..', 'dist');
const CHEST = 'data/dicom_samples/chest';
const SIIM = 'siim_1.2.276.0.7230010.3.1.4.8323329.6904.1517875201.850819.dcm';
const NIH = 'nih_dx_1.3.6.1.4.1.11129.5.5.110503645592756492463169821050252582267888.dcm';
const VOCAB = 'data/tokenizers/bert-base-cased/vocab.txt';
/** the tiny preset's image tower; a smaller BERT keeps the checkpoint small (the vocabulary stays Bio_ClinicalBERT's) */
const TEST_OVERRIDES = { text: { numHiddenLayers: 1, hiddenSize: 64, numAttentionHeads: 2, intermediateSize: 128, freezeLayers: 0 } };

const chromium = chromiumPath();
const chestDir = sharedPath(CHEST);
const vocabFile = sharedPath(VOCAB);
const codecsDir = sharedPath('data/dicom_samples/codecs');
const ready = !!(chromium && chestDir && vocabFile);
if (!chromium) process.stderr.write('[g2d] SKIP: explorer e2e: chromium not installed (bash tools/setup.sh installs Debian\'s chromium; or set G2D_CHROMIUM)\n');
const describeE2E = ready ? describe : describe.skip;

/** Drops files the static server serves (by URL path) on the page, as a user's drag and drop. */
async function dropServed(page: Page, files: { url: string; name: string }[]): Promise<void> {
  await page.evaluate(async (list) => {
    const dt = new DataTransfer();
    for (const f of list) {
      const r = await fetch(f.url);
      dt.items.add(new File([await r.blob()], f.name));
    }
    document.getElementById('drop')!.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, files);
}

const pageLog: string[] = [];

async function idle(page: Page, what: string, timeout = 240000): Promise<void> {
  await page.waitForFunction(() => window.g2dExplorer?.ready && window.g2dExplorer.busy === 0, { timeout, polling: 100 }).catch(async (e) => {
    const status = await page.evaluate(() => document.getElementById('status')?.textContent).catch(() => '?');
    throw new Error(`${what}: the page did not finish (${(e as Error).message}); status "${status}"; page log:\n${pageLog.slice(-20).join('\n')}`);
  });
}

/** RGB of canvas pixels at display coordinates. */
async function pixels(page: Page, pts: [number, number][]): Promise<number[][]> {
  return page.evaluate((ps) => {
    const c = document.getElementById('view') as HTMLCanvasElement;
    const ctx = c.getContext('2d')!;
    return ps.map(([x, y]) => Array.from(ctx.getImageData(Math.floor(x), Math.floor(y), 1, 1).data.slice(0, 3)));
  }, pts);
}

async function canvasHash(page: Page): Promise<number> {
  return page.evaluate(() => {
    const c = document.getElementById('view') as HTMLCanvasElement;
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let h = 0;
    for (let i = 0; i < d.length; i += 7) h = (h * 31 + d[i]!) >>> 0;
    return h;
  });
}

/** A screenshot of the page from its top (the README's come from here). */
async function screenshot(page: Page, file: string): Promise<void> {
  await page.evaluate(() => window.scrollTo(0, 0));
  // 0.7 device pixels per CSS pixel: a small PNG for the README, the same layout
  const vp = page.viewport()!;
  await page.setViewport({ ...vp, deviceScaleFactor: 0.7 });
  await page.screenshot({ path: file as `${string}.png` });
  await page.setViewport(vp);
  process.stdout.write(`[explorer e2e] screenshot: ${file}\n`);
}

const dist = (a: number[], b: number[]) => a.reduce((s, v, i) => s + Math.abs(v - b[i]!), 0);

describeE2E('explorer in headless chromium (built page)', () => {
  let tmp: string;
  let ckpt: string;
  let model: G2DModel;
  let server: StaticServer;
  let browser: Browser;
  let page: Page;
  let shots: string;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    if (!fs.existsSync(path.join(DIST, 'index.html'))) {
      throw new Error(`${DIST}/index.html is missing: build the page first (pnpm nx run explorer:build; explorer:e2e and explorer:test depend on it)`);
    }
    await initBackend();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'g2d-explorer-e2e-'));
    shots = process.env.G2D_EXPLORER_SCREENSHOTS ? path.resolve(process.env.G2D_EXPLORER_SCREENSHOTS) : path.join(tmp, 'screenshots');
    fs.mkdirSync(shots, { recursive: true });
    if (process.env.G2D_EXPLORER_E2E_CHECKPOINT) {
      // a trained checkpoint (e.g. runs/pretrain-demo/final) for README screenshots
      ckpt = path.resolve(process.env.G2D_EXPLORER_E2E_CHECKPOINT);
      model = (await createModelWithWeights(undefined, ckpt)).model.eval();
    } else {
      ckpt = path.join(tmp, 'final');
      model = createModel('g2d-resnet18-tiny', { seed: 7, overrides: TEST_OVERRIDES }).eval();
      await saveG2DModel(model, ckpt);
    }
    fs.writeFileSync(path.join(tmp, 'broken.dcm'), Uint8Array.from({ length: 4000 }, (_, i) => (i * 7919) % 251));
    fs.writeFileSync(path.join(tmp, 'model.safetensors'), fs.readFileSync(path.join(ckpt, 'model.safetensors')).subarray(0, 100000));
    // a 2000 x 2000, 12-bit DICOM: the NIH DX radiograph upsampled
    const nih = (await loadImage(path.join(chestDir!, NIH))).image;
    const up = resizeBilinear(nih.data, nih.height, nih.width, 2000, 2000);
    const px = new Uint16Array(2000 * 2000);
    for (let i = 0; i < px.length; i++) px[i] = Math.max(0, Math.min(4095, Math.round((up[i]! / nih.maxValue) * 4095)));
    fs.writeFileSync(
      path.join(tmp, 'large-2000.dcm'),
      writeDicom({ rows: 2000, cols: 2000, bitsAllocated: 16, bitsStored: 12, modality: 'DX', sopClass: '1.2.840.10008.5.1.4.1.1.1.1', pixels: new Uint8Array(px.buffer) }),
    );
    const extra: Record<string, string> = {
      'test/siim.dcm': path.join(chestDir!, SIIM),
      'test/broken.dcm': path.join(tmp, 'broken.dcm'),
      'test/large-2000.dcm': path.join(tmp, 'large-2000.dcm'),
    };
    server = await startStaticServer(DIST, { assets: repoAssets({ checkpointDir: null, sharedDir: sharedDir() }), extra });
    browser = await launchChromium(chromium!);
    page = await browser.newPage();
    page.on('pageerror', (e) => {
      const msg = e instanceof Error ? e.message : String(e);
      pageErrors.push(msg);
      pageLog.push(`pageerror: ${msg}`);
    });
    page.on('console', (m) => pageLog.push(`${m.type()}: ${m.text()}`));
    await page.goto(server.url, { waitUntil: 'load' });
    await idle(page, 'page start');
  }, 600000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    model?.dispose();
    // the temp folder goes, except the screenshots when they were written into it
    if (tmp) for (const f of fs.readdirSync(tmp)) if (path.join(tmp, f) !== shots) fs.rmSync(path.join(tmp, f), { recursive: true, force: true });
  });

  it('starts on a backend and offers the served vocabulary', async () => {
    const info = await page.evaluate(() => ({ backend: window.g2dExplorer.backend, vocab: document.getElementById('vocab-info')!.textContent }));
    process.stdout.write(`[explorer e2e] backend: ${info.backend}\n`);
    expect(['webgpu', 'webgl', 'wasm', 'cpu']).toContain(info.backend);
    expect(info.vocab).toMatch(/28996 tokens/);
  });

  it('opens a checkpoint with the file picker and draws the attention where it is high', async () => {
    const input = await page.$('input#ckpt-files');
    await input!.uploadFile(path.join(ckpt, 'model.safetensors'), path.join(ckpt, 'config.json'));
    await idle(page, 'checkpoint');
    const c = model.config;
    expect(await page.$eval('#ckpt-info', (e) => e.textContent)).toContain(`${c.backbone} U-Net, ${c.imageSize}² input, ${c.attentionHeads} attention heads`);

    await dropServed(page, [{ url: 'test/siim.dcm', name: SIIM }]);
    await idle(page, 'dropped DICOM');
    const hook = await page.evaluate(() => ({ att: window.g2dExplorer.attention!, roi: window.g2dExplorer.roi!, t: window.g2dExplorer.timings, errors: window.g2dExplorer.errors }));
    expect(hook.errors).toEqual([]);
    const cells = model.config.imageSize / 32;
    expect([hook.att.h, hook.att.w]).toEqual([cells, cells]);

    // Node computes the same attention for the same weights and image
    const bytes = new Uint8Array(fs.readFileSync(path.join(chestDir!, SIIM)));
    const { image } = await decodeImage(bytes, SIIM);
    const prepared = prepareImage(image, model, SIIM);
    const expected = await attentionMaps(model, prepared);
    const diff = Math.max(...hook.att.mean.map((v, i) => Math.abs(v - expected.mean[i]!)));
    expect(diff).toBeLessThan(1e-4);

    // the overlay changes the canvas at the most-attended cell, hardly at the least-attended one
    const mean = Array.from(expected.mean);
    const hi = mean.indexOf(Math.max(...mean));
    const lo = mean.indexOf(Math.min(...mean));
    const centre = (k: number): [number, number] => [hook.roi.x + ((k % cells) + 0.5) * (hook.roi.w / cells), hook.roi.y + (Math.floor(k / cells) + 0.5) * (hook.roi.h / cells)];
    const withOverlay = await pixels(page, [centre(hi), centre(lo)]);
    await page.click('#ov-attention');
    await idle(page, 'attention off');
    expect(await page.$eval('#view', (c) => (c as HTMLCanvasElement).dataset.layers)).toBe('0');
    const without = await pixels(page, [centre(hi), centre(lo)]);
    const dHi = dist(withOverlay[0]!, without[0]!);
    const dLo = dist(withOverlay[1]!, without[1]!);
    process.stdout.write(`[explorer e2e] attention overlay: |ΔRGB| ${dHi} at the most-attended cell, ${dLo} at the least-attended one\n`);
    expect(dHi).toBeGreaterThan(60);
    expect(dLo).toBeLessThan(dHi / 4);
    await page.click('#ov-attention');
    await idle(page, 'attention on');
    prepared.input.dispose();
    await screenshot(page, path.join(shots, 'explorer-attention.png'));
  });

  it('draws the pseudo mask, the decoder output and a grounding map, each changing the canvas', async () => {
    let before = await canvasHash(page);
    for (const id of ['#ov-mask', '#ov-decoder']) {
      await page.click(id);
      await idle(page, id);
      const after = await canvasHash(page);
      expect({ id, changed: after !== before }).toEqual({ id, changed: true });
      before = after;
    }
    await page.select('#ov-mask-mode', 'paper');
    await idle(page, 'paper mode');
    expect(await canvasHash(page)).not.toBe(before);
    await page.$eval('#ov-quantile', (e) => {
      const i = e as HTMLInputElement;
      i.value = '0.6';
      i.dispatchEvent(new Event('input'));
      i.dispatchEvent(new Event('change'));
    });
    await idle(page, 'quantile');
    before = await canvasHash(page);
    await page.click('#ov-ground');
    await idle(page, 'grounding');
    expect(await canvasHash(page)).not.toBe(before);
    const caption = await page.$eval('#caption', (e) => e.textContent ?? '');
    expect(caption).toMatch(/pseudo mask \(paper mode, quantile 0\.6\)/);
    expect(caption).toMatch(/grounding "pleural effusion" \(cosine/);
    expect(await page.evaluate(() => window.g2dExplorer.errors)).toEqual([]);
  });

  it('shows the zero-shot scores as sorted bars, and a report beside the image with its retrieval score', async () => {
    const zs = await page.evaluate(() => window.g2dExplorer.zeroShot!);
    const set = await page.$eval('#zs-set', (e) => (e as HTMLSelectElement).value);
    const classes = Object.keys(defaultPrompts().sets[set]!);
    expect(zs.map((s) => s.label).sort()).toEqual([...classes].sort());
    for (let i = 1; i < zs.length; i++) expect(zs[i]!.p).toBeLessThanOrEqual(zs[i - 1]!.p);
    const bars = await page.$$eval('#zs-chart svg text', (ts) => ts.map((t) => t.textContent ?? ''));
    for (const s of zs) expect(bars).toContain(s.label);

    const report = 'Small left pleural effusion. No pneumothorax. Heart size is normal.';
    await page.type('#report', report);
    await page.waitForFunction(() => window.g2dExplorer.retrieval !== undefined && window.g2dExplorer.busy === 0, { timeout: 120000 });
    const shown = await page.evaluate(() => ({
      hidden: (document.getElementById('report-view') as HTMLElement).hidden,
      text: document.getElementById('report-text')!.textContent,
      score: window.g2dExplorer.retrieval!,
    }));
    expect(shown.hidden).toBe(false);
    expect(shown.text).toBe(report);
    // Node's retrieval score for the same weights, vocabulary and image
    const tok = tokenizerFromVocab({ name: 'vocab.txt', text: fs.readFileSync(vocabFile!, 'utf8') }, model.config);
    const { image } = await decodeImage(new Uint8Array(fs.readFileSync(path.join(chestDir!, SIIM))), SIIM);
    const prepared = prepareImage(image, model, SIIM);
    const emb = imageEmbedding(model, prepared);
    const expected = await retrievalScore(model, tok, emb, report);
    emb.dispose();
    prepared.input.dispose();
    expect(Math.abs(shown.score - expected)).toBeLessThan(1e-4);
    // the README's second picture: pseudo mask and grounding, report beside the image
    await page.click('#ov-attention');
    await page.click('#ov-decoder');
    await idle(page, 'overlays for the screenshot');
    await screenshot(page, path.join(shots, 'explorer-overlays.png'));
    await page.click('#ov-attention');
    await idle(page, 'attention back on');
  });

  it('shows an error message in the page for a malformed image and a malformed checkpoint, and keeps working', async () => {
    const before = await canvasHash(page);
    await dropServed(page, [{ url: 'test/broken.dcm', name: 'broken.dcm' }]);
    await idle(page, 'broken image');
    const err = await page.$eval('#error', (e) => ({ hidden: (e as HTMLElement).hidden, text: e.textContent ?? '' }));
    expect(err.hidden).toBe(false);
    expect(err.text).toMatch(/broken\.dcm/);
    expect(await canvasHash(page)).toBe(before); // the previous image is still shown

    const input = await page.$('input#ckpt-files');
    await input!.uploadFile(path.join(tmp, 'model.safetensors'), path.join(ckpt, 'config.json'));
    await idle(page, 'broken checkpoint');
    const err2 = await page.$eval('#error', (e) => e.textContent ?? '');
    expect(err2).toMatch(/model\.safetensors/);
    expect(err2).toMatch(/past the data section|truncated/);
    // the loaded model is still in use: a new image still gets its overlay
    await dropServed(page, [{ url: 'test/siim.dcm', name: 'again.dcm' }]);
    await idle(page, 'image after errors');
    expect(await page.evaluate(() => window.g2dExplorer.timings.firstOverlayMs)).toBeGreaterThan(0);
    expect(pageErrors).toEqual([]);
  });

  (codecsDir ? it : it.skip)('decodes every DICOM codec sample in the page exactly as Node does', async () => {
    const names = [
      ...fs.readdirSync(chestDir!).filter((f) => f.endsWith('.dcm')).map((f) => path.join(chestDir!, f)),
      ...['fodicom_CR-ModalitySequenceLUT.dcm', 'pydicom_MR_small_jpeg_ls_lossless.dcm', 'pydicom_MR_small_jp2klossless.dcm', 'pydicom_JPEG2000.dcm', 'pydicom_MR_small_RLE.dcm', 'pydicom_MR_small_bigendian.dcm', 'pydicom_image_dfl.dcm', 'pydicom_SC_rgb_jpeg_dcmtk.dcm']
        .map((f) => path.join(codecsDir!, f))
        .filter((f) => fs.existsSync(f)),
    ];
    for (const file of names) {
      const bytes = new Uint8Array(fs.readFileSync(file));
      const name = path.basename(file);
      let node: { width: number; height: number; maxValue: number; sum: number } | { error: string };
      try {
        const { image } = await decodeImage(bytes, name);
        let sum = 0;
        for (let i = 0; i < image.data.length; i++) sum += image.data[i]!;
        node = { width: image.width, height: image.height, maxValue: image.maxValue, sum };
      } catch (e) {
        node = { error: (e as Error).message };
      }
      const browserSide = await page.evaluate(async (b64, n) => {
        const b = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        try {
          return await window.g2dExplorer.decode(b, n);
        } catch (e) {
          return { error: (e as Error).message };
        }
      }, Buffer.from(bytes).toString('base64'), name);
      expect({ name, browser: browserSide }).toEqual({ name, browser: node });
    }
  });

  it('times the first overlay after dropping a 2,000² DICOM', async () => {
    const runs: number[] = [];
    for (let k = 0; k < 3; k++) {
      await dropServed(page, [{ url: 'test/large-2000.dcm', name: `large-2000-${k}.dcm` }]);
      await idle(page, '2000² DICOM');
      const t = await page.evaluate(() => window.g2dExplorer.timings);
      runs.push(t.firstOverlayMs!);
      const parts = (['waitMs', 'readMs', 'decodeMs', 'preprocessMs', 'attentionMs', 'drawMs'] as const).map((k2) => `${k2.replace('Ms', '')} ${Math.round(t[k2] ?? NaN)}`);
      process.stdout.write(`[explorer e2e] 2000² DICOM, run ${k + 1}: first overlay ${Math.round(t.firstOverlayMs!)} ms after the drop (ms: ${parts.join(', ')})\n`);
    }
    expect(await page.$eval('#image-info', (e) => e.textContent)).toMatch(/2000×2000/);
    // a loose bound: a shared 2-core machine; the README records measured numbers
    expect(Math.min(...runs)).toBeLessThan(30000);
  });
});

if (!ready) {
  describe('explorer in headless chromium', () => {
    it.skip(`SKIPPED: ${!chromium ? 'chromium is not installed' : 'the shared data (dicom samples, vocabulary) is absent'}`, () => undefined);
  });
}
