/** Adapters on the real files in ../shared/data, and on synthetic layouts for the datasets not present. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describeShared, sharedPath } from '@g2d-ts/core/testing';
import { G2DError } from '@g2d-ts/core';
import {
  CHEXPERT_5, NIH_CLASSES, chexpert, covidChestXray, covidx, encodeGrayPng, iuXray, loadItem, mimicCxr, nihChestXray14, objectCxr, rsnaPneumonia, siimAcr,
} from '../src';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'g2d-adapters-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const quiet = { log: () => undefined };

function png(file: string, w = 8, h = 6, v = 1): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, encodeGrayPng({ width: w, height: h, data: Uint8Array.from({ length: w * h }, (_, i) => (i * v) % 256), maxValue: 255 }));
}
function write(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
}

describeShared('NIH ChestX-ray14 (real data_entry.csv + bbox.csv)', 'data/nih_cxr14_bbox', (root) => {
  it('labels, boxes and patients', async () => {
    const d = nihChestXray14({ root });
    expect(d.items).toHaveLength(660);
    expect(new Set(d.items.map((i) => i.patientId)).size).toBe(538);
    expect(d.items.reduce((a, i) => a + (i.boxes?.length ?? 0), 0)).toBe(742);
    const first = d.items.find((i) => i.id === '00000032_037.png')!;
    expect(first.labels).toEqual(NIH_CLASSES.map((c) => (['Cardiomegaly', 'Edema', 'Infiltration'].includes(c) ? 1 : 0)));
    // every box label is one of the 8 box classes, mapped to the 14-class names
    for (const i of d.items) for (const b of i.boxes ?? []) expect(NIH_CLASSES).toContain(b.label);
    const withBox = d.items.find((i) => i.boxes?.length)!;
    const it = await loadItem(withBox);
    expect(it.image.width).toBe(512);
    expect(it.mask!.data.reduce((a, v) => a + v, 0)).toBeGreaterThan(0);
  });
  it('the official Data_Entry + BBox_List tables parse too (label_tables)', () => {
    const lt = sharedPath('data/label_tables');
    if (!lt) return;
    const d = nihChestXray14({ root, dataEntry: path.join(lt, 'Data_Entry_2017_v2020.csv.gz'), bboxList: path.join(lt, 'BBox_List_2017.csv.gz') });
    expect(d.items).toHaveLength(112120);
    expect(d.items.reduce((a, i) => a + (i.boxes?.length ?? 0), 0)).toBe(984);
  });
  it('a malformed row is an error naming file:line, or skipped and reported', () => {
    const dir = path.join(tmp, 'nih-bad');
    const text = fs.readFileSync(path.join(root, 'data_entry.csv'), 'utf8').split('\n');
    text.splice(3, 0, 'images/x.jpg,512');
    write(path.join(dir, 'data_entry.csv'), text.join('\n'));
    expect(() => nihChestXray14({ root: dir })).toThrow(/data_entry\.csv:4: row has 2 field\(s\)/);
    text.splice(3, 1);
    text[3] = text[3]!.replace(/Cardiomegaly|No Finding|Effusion|Atelectasis|Infiltration|Mass|Nodule/, 'Unicorn');
    write(path.join(dir, 'data_entry.csv'), text.join('\n'));
    const d = nihChestXray14({ root: dir, onError: 'skip', ...quiet });
    expect(d.skipped).toHaveLength(1);
    expect(d.skipped[0]!.reason).toMatch(/unknown finding label\(s\) Unicorn/);
    expect(d.items).toHaveLength(659);
  });
});

describeShared('ieee8023 COVID collection (real metadata, masks, notes, boxes)', 'data/covid_chestxray_ieee8023', (root) => {
  it('items, notes, masks and boxes', async () => {
    const d = covidChestXray({ root });
    expect(d.items).toHaveLength(431);
    expect(new Set(d.items.map((i) => i.patientId)).size).toBe(238);
    expect(d.items.filter((i) => i.text).length).toBe(365);
    expect(d.items.filter((i) => i.mask).length).toBe(330);
    expect(covidChestXray({ root, masks: 'lungvae' }).items.filter((i) => i.mask).length).toBe(150);
    expect(d.items.reduce((a, i) => a + (i.boxes?.length ?? 0), 0)).toBe(236);
    expect(d.classes).toContain('COVID-19');
    const withMask = d.items.find((i) => i.mask)!;
    const it = await loadItem(withMask);
    const ones = it.mask!.data.reduce((a, v) => a + v, 0);
    expect(ones).toBeGreaterThan(0);
    expect(ones).toBeLessThan(it.mask!.data.length);
  });
});

describeShared('COVID Figure1 (same adapter, notes column)', 'data/covid_figure1_agchung', (root) => {
  it('55 images with notes', () => {
    const d = covidChestXray({ root });
    expect(d.items).toHaveLength(55);
    expect(d.items.filter((i) => i.text).length).toBe(49);
  });
});

describeShared('SIIM-ACR (real RLE row + DICOM)', 'data/dicom_samples/chest', (dir) => {
  it('the empty-mask case decodes to a 1024x1024 image with an all-zero mask', async () => {
    const d = siimAcr({ root: dir, rleCsv: path.join(dir, 'siim_train_rle_rows.csv'), imagesDir: dir });
    const it = d.items.find((i) => i.id === '1.2.276.0.7230010.3.1.4.8323329.6904.1517875201.850819')!;
    expect(it.labels).toEqual([0]);
    expect(it.image).toContain('siim_1.2.276');
    const loaded = await loadItem(it);
    expect([loaded.image.width, loaded.image.height]).toEqual([1024, 1024]);
    expect(loaded.mask!.data.every((v) => v === 0)).toBe(true);
  });
  it('a positive row from the real table, on a synthetic layout', async () => {
    const lt = sharedPath('data/label_tables/siim-pneumothorax-train-rle.csv.gz');
    if (!lt) return;
    const root = path.join(tmp, 'siim');
    const id = '1.2.276.0.7230010.3.1.4.8323329.13666.1517875247.117800';
    const series = path.join(root, 'dicom-images-train', '1.2.3', '1.2.3.4');
    fs.mkdirSync(series, { recursive: true });
    fs.copyFileSync(path.join(dir, 'siim_1.2.276.0.7230010.3.1.4.8323329.6904.1517875201.850819.dcm'), path.join(series, `${id}.dcm`));
    fs.copyFileSync(lt, path.join(root, 'train-rle.csv.gz'));
    const d = siimAcr({ root });
    expect(d.items).toHaveLength(1);
    expect(d.items[0]!.labels).toEqual([1]);
    const m = (await loadItem(d.items[0]!)).mask!;
    expect(m.data.reduce((a, v) => a + v, 0)).toBeGreaterThan(100);
  });
});

describeShared('RSNA Pneumonia (real box table, synthetic image folder)', 'data/label_tables/kaggle_stage_2_train_labels.csv.zip', (table) => {
  it('boxes per patient, targets, boxes -> masks', async () => {
    const root = path.join(tmp, 'rsna');
    const imgs = path.join(root, 'stage_2_train_images');
    fs.mkdirSync(imgs, { recursive: true });
    const all = rsnaPneumonia({ root, labels: table, keepMissingImages: true });
    expect(all.items).toHaveLength(26684);
    expect(all.items.filter((i) => i.labels![0] === 1)).toHaveLength(6012);
    expect(all.items.reduce((a, i) => a + i.boxes!.length, 0)).toBe(9555);
    const pos = all.items.find((i) => i.boxes!.length === 2)!;
    const neg = all.items.find((i) => i.labels![0] === 0)!;
    const src = sharedPath('data/dicom_samples/chest/nih_dx_1.3.6.1.4.1.11129.5.5.110503645592756492463169821050252582267888.dcm')!;
    for (const i of [pos, neg]) fs.copyFileSync(src, path.join(imgs, `${i.id}.dcm`));
    const d = rsnaPneumonia({ root, labels: table });
    expect(d.items.map((i) => i.id).sort()).toEqual([pos.id, neg.id].sort());
    const lp = await loadItem(d.items.find((i) => i.id === pos.id)!);
    const area = pos.boxes!.reduce((a, b) => a + Math.round(b.w) * Math.round(b.h), 0);
    expect(Math.abs(lp.mask!.data.reduce((a, v) => a + v, 0) - area)).toBeLessThan(area * 0.05 + 2048);
    expect((await loadItem(d.items.find((i) => i.id === neg.id)!)).mask!.data.every((v) => v === 0)).toBe(true);
  });
});

describeShared('IU X-ray (real reports)', 'data/iu_xray_reports_text_only', (root) => {
  it('one item per OpenI image id, text cleaned as the reference', () => {
    const d = iuXray({ root, onError: 'skip', ...quiet });
    expect(d.skipped).toHaveLength(3955 - 3927);
    expect(d.items.length).toBeGreaterThan(3927);
    expect(d.items.find((i) => i.id === 'CXR1_1_IM-0001-3001')!.text).toBe(
      'Normal chest x-XXXX. The cardiac silhouette and mediastinum size are within normal limits. There is no pulmonary edema. There is no focal consolidation. There are no XXXX of a pleural effusion. There is no evidence of pneumothorax. ',
    );
    expect(() => iuXray({ root })).toThrow(/neither findings nor impression/);
  });
});

describe('synthetic layouts (datasets not in ../shared)', () => {
  it('MIMIC-CXR-JPG with reports, views, splits and CheXpert labels', async () => {
    const root = path.join(tmp, 'mimic');
    const rows = [
      ['d1', '10000032', '50414267', 'PA'],
      ['d2', '10000032', '50414267', 'LATERAL'],
      ['d3', '10000764', '57375967', 'AP'],
      ['d4', '10000898', '50771383', 'PA'],
    ];
    write(path.join(root, 'mimic-cxr-2.0.0-metadata.csv'), 'dicom_id,subject_id,study_id,ViewPosition\n' + rows.map((r) => r.join(',')).join('\n'));
    write(path.join(root, 'mimic-cxr-2.0.0-split.csv'), 'dicom_id,study_id,subject_id,split\nd1,50414267,10000032,train\nd2,50414267,10000032,train\nd3,57375967,10000764,validate\nd4,50771383,10000898,train\n');
    write(path.join(root, 'mimic-cxr-2.0.0-chexpert.csv'), 'subject_id,study_id,Atelectasis,Cardiomegaly,Consolidation,Edema,Enlarged Cardiomediastinum,Fracture,Lung Lesion,Lung Opacity,No Finding,Pleural Effusion,Pleural Other,Pneumonia,Pneumothorax,Support Devices\n10000032,50414267,-1.0,-1.0,,,,,,,,1.0,,,,\n');
    for (const [d, s, st] of rows) png(path.join(root, 'files', `p${s!.slice(0, 2)}`, `p${s}`, `s${st}`, `${d}.jpg`.replace('.jpg', '.jpg')));
    // our synthetic "jpg" files are PNG bytes: the loader sniffs content, not extensions
    write(path.join(root, 'files/p10/p10000032/s50414267.txt'), ' FINAL REPORT\n FINDINGS: Lungs clear.\n\n IMPRESSION: No acute process.\n');
    write(path.join(root, 'files/p10/p10000764/s57375967.txt'), ' IMPRESSION: Stable.\n');
    const d = mimicCxr({ root });
    expect(d.items.map((i) => i.id)).toEqual(['d1', 'd3']); // LATERAL dropped; d4 has no report
    expect(d.items[0]!.text).toBe('No acute process. Lungs clear. ');
    expect(d.items[0]!.labels!.slice(0, 2)).toEqual([1, 0]); // U-Ones for Atelectasis, U-Zeros for Cardiomegaly
    expect(mimicCxr({ root, split: 'validate' }).items.map((i) => i.id)).toEqual(['d3']);
    expect((await loadItem(d.items[0]!)).image.width).toBe(8);
  });
  it('CheXpert 5-label protocol with uncertain-label mapping', () => {
    const root = path.join(tmp, 'CheXpert-v1.0-small');
    const hdr = 'Path,Sex,Age,Frontal/Lateral,AP/PA,No Finding,Enlarged Cardiomediastinum,Cardiomegaly,Lung Opacity,Lung Lesion,Edema,Consolidation,Pneumonia,Atelectasis,Pneumothorax,Pleural Effusion,Pleural Other,Fracture,Support Devices';
    write(path.join(root, 'train.csv'), [
      hdr,
      'CheXpert-v1.0-small/train/patient00001/study1/view1_frontal.jpg,Female,68,Frontal,AP,,,-1.0,,,-1.0,-1.0,,-1.0,,-1.0,,,',
      'CheXpert-v1.0-small/train/patient00001/study1/view2_lateral.jpg,Female,68,Lateral,,,,1.0,,,,,,,,,,,',
      'CheXpert-v1.0-small/train/patient00002/study1/view1_frontal.jpg,Male,50,Frontal,PA,1.0,,0.0,,,1.0,,,,,,,,',
    ].join('\n'));
    const d = chexpert({ root });
    expect(d.classes).toEqual([...CHEXPERT_5]);
    expect(d.items).toHaveLength(2);
    // Atelectasis, Cardiomegaly, Consolidation, Edema, Pleural Effusion: -1 -> 1,0,0,1,1
    expect(d.items[0]!.labels).toEqual([1, 0, 0, 1, 1]);
    expect(d.items[1]!.labels).toEqual([0, 0, 0, 1, 0]);
    expect(d.items.map((i) => i.patientId)).toEqual(['00001', '00002']);
    write(path.join(root, 'bad.csv'), [hdr, 'CheXpert-v1.0-small/train/patient00003/study1/view1_frontal.jpg,F,1,Frontal,AP,,,2.0,,,,,,,,,,,'].join('\n'));
    expect(() => chexpert({ root, csv: 'bad.csv' })).toThrow(/bad\.csv:2: label "Cardiomegaly" has value "2\.0"/);
  });
  it('COVIDx split list', () => {
    const root = path.join(tmp, 'covidx');
    write(path.join(root, 'train.txt'), 'p1 a.png positive rsna\np1 b.png positive rsna\np2 c.png negative sirm\nbroken-line\n');
    for (const f of ['a', 'b', 'c']) png(path.join(root, 'train', `${f}.png`));
    expect(() => covidx({ root })).toThrow(/train\.txt:4: expected "patient_id filename label/);
    const d = covidx({ root, onError: 'skip', ...quiet });
    expect(d.classes).toEqual(['negative', 'positive']);
    expect(d.items.map((i) => [i.patientId, i.labels])).toEqual([['p1', [0, 1]], ['p1', [0, 1]], ['p2', [1, 0]]]);
    expect(d.skipped).toHaveLength(1);
  });
  it('Object-CXR annotations -> boxes', () => {
    const root = path.join(tmp, 'object-cxr');
    write(path.join(root, 'train.csv'), 'image_name,annotation\n00001.jpg,0 10 20 30 60;2 5 5 15 5 10 25\n00002.jpg,\n00003.jpg,7 1 2\n');
    expect(() => objectCxr({ root })).toThrow(/train\.csv:4: malformed annotation object "7 1 2"/);
    const d = objectCxr({ root, onError: 'skip', ...quiet });
    expect(d.items[0]!.boxes).toEqual([{ x: 10, y: 20, w: 20, h: 40, label: 'rectangle' }, { x: 5, y: 5, w: 10, h: 20, label: 'polygon' }]);
    expect(d.items[1]!.labels).toEqual([0]);
  });
  it('missing dataset files are named errors', () => {
    expect(() => nihChestXray14({ root: path.join(tmp, 'none') })).toThrow(G2DError);
    expect(() => rsnaPneumonia({ root: path.join(tmp, 'none') })).toThrow(/RSNA label table not found/);
  });
});
