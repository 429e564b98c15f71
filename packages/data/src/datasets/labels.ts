/** The label vocabularies of the datasets, in the order of `ItemRef.labels`, and the uncertain-label policy. */

/** NIH ChestX-ray14's 14 findings ("No Finding" is all zeros). */
export const NIH_CLASSES = [
  'Atelectasis', 'Cardiomegaly', 'Effusion', 'Infiltration', 'Mass', 'Nodule', 'Pneumonia',
  'Pneumothorax', 'Consolidation', 'Edema', 'Emphysema', 'Fibrosis', 'Pleural_Thickening', 'Hernia',
] as const;

/** The CheXpert labeler's 14 observations, as in MIMIC-CXR-JPG's -chexpert.csv. */
export const MIMIC_CHEXPERT_14 = [
  'Atelectasis', 'Cardiomegaly', 'Consolidation', 'Edema', 'Enlarged Cardiomediastinum', 'Fracture', 'Lung Lesion',
  'Lung Opacity', 'No Finding', 'Pleural Effusion', 'Pleural Other', 'Pneumonia', 'Pneumothorax', 'Support Devices',
] as const;

/** The 5 CheXpert competition labels. */
export const CHEXPERT_5 = ['Atelectasis', 'Cardiomegaly', 'Consolidation', 'Edema', 'Pleural Effusion'] as const;

/** uncertain (-1) -> 1 for these (U-Ones), -> 0 for the others (U-Zeros): the MGCA/G2D protocol */
export const CHEXPERT_UNCERTAIN_ONES = ['Atelectasis', 'Edema', 'Pleural Effusion'];
