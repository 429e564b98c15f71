/**
 * Synthetic radiographs: determinism (byte-identical folders), anatomy of the masks, report
 * wording against what was drawn, normal studies. Generation is plain JS (no tfjs backend).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { G2DError } from '@g2d-ts/core';
import { tempDirs } from '@g2d-ts/core/testing';
import {
  NORMAL_IMPRESSIONS, SYNTH_FINDINGS, SYNTH_TERMS, LUNG_FINDINGS, generateSynthetic, synthPatientId, synthSplit, syntheticLayout, writeSyntheticDataset,
  type SynthSample,
} from '../src/synth';

const SIZE = 128;

function listFiles(dir: string, base = dir): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? listFiles(path.join(dir, e.name), base) : [path.relative(base, path.join(dir, e.name))]))
    .sort();
}

/** Sentences of a report (split after a period followed by white space, or by a capital: a dropped space). */
function sentences(report: string): string[] {
  return report
    .replace(/^[A-Z]+:\s*/gm, '')
    .split(/(?<=\.)\s+|(?<=[a-z]\.)(?=[A-Z])|\n/)
    .map((s) => s.trim())
    .filter(Boolean);
}

const tmpDir = tempDirs('g2d-synth');

describe('synthetic dataset files', () => {
  it('same seed -> byte-identical folders wherever they are written; another seed -> different images', () => {
    const a = path.join(tmpDir('a'), 'deep', 'out-a');
    const b = tmpDir('b');
    const c = tmpDir('c');
    const ra = writeSyntheticDataset({ out: a, count: 6, seed: 11, size: SIZE });
    const rb = writeSyntheticDataset({ out: b, count: 6, seed: 11, size: SIZE });
    writeSyntheticDataset({ out: c, count: 6, seed: 12, size: SIZE });
    const fa = listFiles(a);
    expect(fa).toEqual(listFiles(b));
    expect(fa).toEqual(expect.arrayContaining(['README.txt', 'boxes.csv', 'metadata.csv', 'images/synth-000000.png', 'images/synth-000005.png']));
    expect(fa.filter((f) => f.startsWith('masks/')).length).toBeGreaterThan(0);
    for (const f of fa) expect(Buffer.compare(fs.readFileSync(path.join(a, f)), fs.readFileSync(path.join(b, f)))).toBe(0);
    expect(ra.perFinding).toEqual(rb.perFinding);
    // no paths, host names or dates in any text file
    for (const f of ['README.txt', 'boxes.csv', 'metadata.csv']) {
      const t = fs.readFileSync(path.join(a, f), 'utf8');
      expect(t).not.toContain(a);
      expect(t).not.toContain(os.tmpdir());
      expect(t).not.toContain(os.hostname());
      expect(t).not.toMatch(/\b20\d\d-\d\d-\d\d\b/);
    }
    expect(fs.readFileSync(path.join(a, 'README.txt'), 'utf8')).toMatch(/SYNTHETIC/);
    // another seed: every image differs
    for (let k = 0; k < 6; k++) {
      const f = `images/synth-00000${k}.png`;
      expect(Buffer.compare(fs.readFileSync(path.join(a, f)), fs.readFileSync(path.join(c, f)))).not.toBe(0);
    }
    // no temporary files left behind (atomic writes renamed them)
    expect(fa.filter((f) => /\.tmp/.test(f))).toEqual([]);
  });

  it('CSV files follow the documented layout and agree with the masks', () => {
    const out = tmpDir('csv');
    writeSyntheticDataset({ out, count: 8, seed: 3, size: SIZE });
    const meta = fs.readFileSync(path.join(out, 'metadata.csv'), 'utf8');
    expect(meta.split('\n')[0]).toBe('image,findings,report,split,patient');
    const boxes = fs.readFileSync(path.join(out, 'boxes.csv'), 'utf8').trim().split('\n');
    expect(boxes[0]).toBe('image,finding,x1,y1,x2,y2,side,zone,severity');
    for (const line of boxes.slice(1)) {
      const [img, finding, x1, y1, x2, y2] = line.split(',');
      expect(SYNTH_FINDINGS).toContain(finding);
      const id = path.basename(img!, '.png');
      expect(fs.existsSync(path.join(out, 'masks', finding!, `${id}.png`))).toBe(true);
      expect(Number(x2)).toBeGreaterThan(Number(x1));
      expect(Number(y2)).toBeGreaterThan(Number(y1));
      expect(Number(x2)).toBeLessThanOrEqual(SIZE);
    }
  });

  it('rejects bad options with a G2DError naming them', () => {
    expect(() => generateSynthetic(0, { size: 10 })).toThrow(/"size"/);
    expect(() => generateSynthetic(0, { normalShare: 2 })).toThrow(/"normalShare"/);
    expect(() => generateSynthetic(-1)).toThrow(G2DError);
    expect(() => writeSyntheticDataset({ out: tmpDir('bad'), count: 0 })).toThrow(/"count"/);
    const file = path.join(tmpDir('file'), 'f');
    fs.writeFileSync(file, 'x');
    expect(() => writeSyntheticDataset({ out: file, count: 1 })).toThrow(/not a folder/);
  });
});

describe('synthetic studies: what is drawn and what is written', () => {
  const samples: SynthSample[] = [];
  beforeAll(() => {
    for (let k = 0; k < 48; k++) samples.push(generateSynthetic(k, { seed: 21, size: SIZE }));
  });

  it('is deterministic per (seed, index) and the layout-only path agrees with the full one', () => {
    const again = generateSynthetic(5, { seed: 21, size: SIZE });
    expect(Buffer.compare(Buffer.from(again.image), Buffer.from(samples[5]!.image))).toBe(0);
    expect(again.report).toBe(samples[5]!.report);
    for (const k of [0, 7, 13]) {
      const l = syntheticLayout(k, { seed: 21, size: SIZE });
      expect(l.report).toBe(samples[k]!.report);
      expect(l.labels).toEqual(samples[k]!.labels);
      expect(l.findings.map((f) => f.box)).toEqual(samples[k]!.findings.map((f) => f.box));
    }
  });

  it('draws every finding somewhere in the sample', () => {
    const names = new Set(samples.flatMap((s) => s.findings.map((f) => f.name)));
    expect([...names].sort()).toEqual([...SYNTH_FINDINGS].sort());
  });

  it('body and lung masks describe the image: body brighter than the background, lungs darker than the rest of the body', () => {
    for (const s of samples) {
      let bodySum = 0, bodyN = 0, lungSum = 0, lungN = 0, outSum = 0, outN = 0;
      for (let i = 0; i < s.image.length; i++) {
        const v = s.image[i]!;
        if (s.anatomy.lungs[i]) {
          lungSum += v;
          lungN++;
        } else if (s.anatomy.body[i]) {
          bodySum += v;
          bodyN++;
        } else {
          outSum += v;
          outN++;
        }
      }
      expect(lungN).toBeGreaterThan(s.image.length * 0.1);
      expect(lungSum / lungN).toBeLessThan(bodySum / bodyN);
      expect(outSum / Math.max(1, outN)).toBeLessThan(bodySum / bodyN);
    }
  });

  it('every mask lies inside the body, lung findings inside the lung field; boxes are the masks\' bounds', () => {
    let checked = 0;
    for (const s of samples) {
      for (const f of s.findings) {
        const lung = LUNG_FINDINGS.includes(f.name);
        let n = 0, outsideBody = 0, outsideLungs = 0, x1 = Infinity, y1 = Infinity, x2 = -1, y2 = -1;
        for (let i = 0; i < f.mask.length; i++) {
          if (!f.mask[i]) continue;
          n++;
          if (!s.anatomy.body[i]) outsideBody++;
          if (lung && !s.anatomy.lungs[i]) outsideLungs++;
          const x = i % s.size, y = Math.floor(i / s.size);
          x1 = Math.min(x1, x);
          y1 = Math.min(y1, y);
          x2 = Math.max(x2, x);
          y2 = Math.max(y2, y);
        }
        expect({ id: s.id, finding: f.name, outsideBody, outsideLungs }).toEqual({ id: s.id, finding: f.name, outsideBody: 0, outsideLungs: 0 });
        expect(n).toBeGreaterThan(0);
        expect(f.box).toEqual([x1, y1, x2 + 1, y2 + 1]);
        // the patient's right is on the image's left
        if (lung && (f.side === 'right' || f.side === 'left')) {
          const cx = (x1 + x2 + 1) / 2;
          if (f.side === 'right') expect(cx).toBeLessThan(s.size / 2);
          else expect(cx).toBeGreaterThan(s.size / 2);
        }
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(30);
  });

  it('cardiomegaly is exactly the studies whose drawn cardiothoracic ratio exceeds 0.5', () => {
    for (const s of samples) {
      const cm = s.findings.find((f) => f.name === 'cardiomegaly');
      expect({ id: s.id, cardiomegaly: !!cm }).toEqual({ id: s.id, cardiomegaly: s.anatomy.ctr > 0.5 });
      if (cm) expect(cm.detail.ctr).toBe(s.anatomy.ctr);
    }
  });

  it('the report names each present finding with its side', () => {
    for (const s of samples) {
      const sents = sentences(s.report);
      for (const f of s.findings) {
        const named = sents.filter((t) => SYNTH_TERMS[f.name].test(t) && !/^(no|there is no)\b/i.test(t));
        expect({ id: s.id, finding: f.name, named: named.length > 0 }).toEqual({ id: s.id, finding: f.name, named: true });
        if (f.side === 'right' || f.side === 'left') {
          const withSide = named.filter((t) => new RegExp(`\\b${f.side}\\b`, 'i').test(t));
          expect({ id: s.id, finding: f.name, side: f.side, found: withSide.length > 0 }).toEqual({ id: s.id, finding: f.name, side: f.side, found: true });
        } else if (f.side === 'bilateral') {
          expect(named.some((t) => /\b(bilateral(ly)?|both)\b/i.test(t))).toBe(true);
        }
      }
    }
  });

  it('reports negate absent findings and never describe them', () => {
    const negated = (t: string) => /^(no|there is no)\b|\bwithout\b|\bno (significant )?(pleural effusion|pneumothorax|focal|suspicious|evidence)/i.test(t);
    for (const s of samples) {
      const present = new Set(s.findings.map((f) => f.name));
      for (const t of sentences(s.report)) {
        const named = SYNTH_FINDINGS.filter((n) => SYNTH_TERMS[n].test(t));
        if (!named.length || negated(t)) continue;
        // a positive sentence describes at least one finding that was drawn (words like "opacity" are shared)
        expect({ id: s.id, sentence: t, drawn: named.some((n) => present.has(n)) }).toEqual({ id: s.id, sentence: t, drawn: true });
      }
      for (const name of SYNTH_FINDINGS) {
        if (present.has(name)) continue;
        // an absent finding appears only in sentences about drawn findings or in negations
        for (const t of sentences(s.report)) if (SYNTH_TERMS[name].test(t) && !negated(t)) expect(SYNTH_FINDINGS.some((n) => present.has(n) && SYNTH_TERMS[n].test(t))).toBe(true);
      }
    }
  });

  it('normal studies get a normal report; about 30 % are normal by default', () => {
    const normals = samples.filter((s) => s.findings.length === 0);
    expect(normals.length).toBeGreaterThan(0);
    for (const s of normals) {
      expect(s.labels.every((l) => l === 0)).toBe(true);
      expect(NORMAL_IMPRESSIONS.map((x) => x.toLowerCase())).toContain(s.reportSections.impression.toLowerCase());
    }
    let normal = 0;
    for (let k = 0; k < 120; k++) normal += syntheticLayout(k, { seed: 4, size: 64 }).findings.length === 0 ? 1 : 0;
    expect(normal / 120).toBeGreaterThan(0.2);
    expect(normal / 120).toBeLessThan(0.4);
    let none = 0;
    for (let k = 0; k < 10; k++) none += syntheticLayout(k, { seed: 4, size: 64, normalShare: 1 }).findings.length === 0 ? 1 : 0;
    expect(none).toBe(10);
  });

  it('report noise is configurable', () => {
    const noisy = (rate: number) => {
      let n = 0;
      for (let k = 0; k < 30; k++) n += /___|COMPARISON|compared|\b(\w+) \1\b|[A-Z]{6,} [A-Z]{4,} [A-Z]{4,}|\.[A-Z]/.test(syntheticLayout(k, { seed: 8, size: 64, reportNoise: rate }).report) ? 1 : 0;
      return n;
    };
    expect(noisy(0)).toBeLessThan(3);
    expect(noisy(1)).toBeGreaterThan(21);
  });

  it('two studies of a patient share the split; the splits are roughly 80/10/10', () => {
    for (let k = 0; k < 12; k += 2) {
      const a = syntheticLayout(k, { seed: 2, size: 64 });
      const b = syntheticLayout(k + 1, { seed: 2, size: 64 });
      expect(a.patientId).toBe(b.patientId);
      expect(a.split).toBe(b.split);
      expect(a.split).toBe(synthSplit(2, a.patientId, { train: 0.8, val: 0.1, test: 0.1 }));
    }
    const parts = { train: 0, val: 0, test: 0 };
    for (let k = 0; k < 2000; k += 2) parts[synthSplit(2, synthPatientId(k), { train: 0.8, val: 0.1, test: 0.1 })]++;
    expect(parts.train / 1000).toBeGreaterThan(0.75);
    expect(parts.train / 1000).toBeLessThan(0.85);
    expect(parts.val / 1000).toBeGreaterThan(0.07);
    expect(parts.test / 1000).toBeGreaterThan(0.07);
  });
});
