/** The dataset registry: every adapter by name, with a one-line description of the layout it reads. */
import { createRegistry, type Registry } from '@g2d-ts/core';
import type { AdapterOptions, DatasetIndex } from './types';
import { chexpert, type ChexpertOptions } from './chexpert';
import { covidChestXray, type CovidOptions } from './covid-chestxray';
import { covidx, type CovidxOptions } from './covidx';
import { iuXray, type IuOptions } from './iu-xray';
import { mimicCxr, type MimicOptions } from './mimic-cxr';
import { nihChestXray14, type NihOptions } from './nih-cxr14';
import { objectCxr, type ObjectCxrOptions } from './object-cxr';
import { rsnaPneumonia, type RsnaOptions } from './rsna-pneumonia';
import { siimAcr, type SiimOptions } from './siim-acr';
import { syntheticDataset, type SyntheticAdapterOptions } from '../synth/adapter';

/** Every adapter by name (`datasets.create('nih-cxr14', { root })`); unknown names list the valid ones. */
export const datasets: Registry<AdapterOptions & Record<string, unknown>, DatasetIndex> = createRegistry<AdapterOptions & Record<string, unknown>, DatasetIndex>('dataset');
datasets.register('mimic-cxr', (o) => mimicCxr(o as MimicOptions), { layout: 'MIMIC-CXR-JPG 2.0 + reports' });
datasets.register('chexpert', (o) => chexpert(o as ChexpertOptions), { layout: 'CheXpert-v1.0(-small) train.csv / valid.csv' });
datasets.register('rsna-pneumonia', (o) => rsnaPneumonia(o as RsnaOptions), { layout: 'stage_2_train_images/*.dcm + stage_2_train_labels.csv' });
datasets.register('siim-acr', (o) => siimAcr(o as SiimOptions), { layout: 'dicom-images-train/**/<ImageId>.dcm + train-rle.csv' });
datasets.register('covidx', (o) => covidx(o as CovidxOptions), { layout: '<split>.txt + <split>/ images' });
datasets.register('nih-cxr14', (o) => nihChestXray14(o as NihOptions), { layout: 'Data_Entry_2017(_v2020).csv + BBox_List_2017.csv + images*/' });
datasets.register('object-cxr', (o) => objectCxr(o as ObjectCxrOptions), { layout: 'train.csv / dev.csv + train/ dev/' });
datasets.register('iu-xray', (o) => iuXray(o as IuOptions), { layout: 'NLMCXR_reports.tgz or reports.csv (+ NLMCXR_png)' });
datasets.register('covid-chestxray', (o) => covidChestXray(o as CovidOptions), { layout: 'ieee8023 metadata.csv + images/ (+ masks, lung_bboxes.csv)' });
datasets.register('synthetic', (o) => syntheticDataset(o as SyntheticAdapterOptions), { layout: 'generated on the fly (count, size, seed; no root), or a folder written by g2d-data synth: metadata.csv + boxes.csv + images/ + masks/<finding>/' });
