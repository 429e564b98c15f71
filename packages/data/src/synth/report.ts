/**
 * Radiology-style reports (FINDINGS / IMPRESSION) for the synthetic studies. Every positive
 * statement comes from what was drawn: the finding, its side, the zone its mask lies in and
 * its measured size (effusion height, pneumothorax rim, nodule diameter, CTR, ETT tip to
 * carina). Absent findings are negated; wording, order and structure vary; a configurable
 * share of reports carries noise (comparison sentences, dictation artefacts).
 */
import type { Rng } from '@g2d-ts/core';
import type { SynthFinding, SynthFindingName } from './findings';

/** Terms a report uses for each finding (case-insensitive), e.g. to check or mine reports. */
export const SYNTH_TERMS: Record<SynthFindingName, RegExp> = {
  opacity: /\b(opacit(y|ies)|consolidation|airspace disease|pneumonia)\b/i,
  effusion: /\b(effusions?|costophrenic angle)\b/i,
  pneumothorax: /\bpneumothora(x|ces)\b/i,
  cardiomegaly: /\b(cardiomegaly|heart is (mildly |moderately |markedly |severely )?enlarged|cardiac silhouette is (mildly |moderately |markedly |severely )?enlarged|enlarged cardiac silhouette|enlargement of the cardiac silhouette)\b/i,
  nodule: /\b(nodules?|nodular|mass|granuloma)\b/i,
  atelectasis: /\b(atelectasis|atelectatic|collapse)\b/i,
  edema: /\b(edema|vascular congestion)\b/i,
  support_device: /\b(tube|catheter|line|pacemaker|pacer|leads)\b/i,
};

/** Phrases only a normal study gets as its impression. */
export const NORMAL_IMPRESSIONS = [
  'No acute cardiopulmonary process.',
  'No acute cardiopulmonary abnormality.',
  'No acute intrathoracic process.',
  'Normal chest radiograph.',
  'No radiographic evidence of acute disease.',
];

export interface ReportContext {
  findings: SynthFinding[];
  view: 'PA' | 'AP';
  /** a "PORTABLE" marker is burnt into the image */
  portable: boolean;
  inspiration: number;
  rotation: number;
  /** probability of noise (comparison sentences, dictation artefacts) */
  noise: number;
}

export interface SynthReport {
  text: string;
  findings: string;
  impression: string;
}

/** Effusion height (share of the hemithorax at the lateral meniscus) below which it is small / moderate. */
const EFFUSION_CUTS: [number, number] = [0.15, 0.35];

const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
const article = (w: string) => (/^[aeiou]/i.test(w) && !/^(one|u[bcfhjkqrst][aeiou])/i.test(w) ? 'an' : 'a');

function lungPlace(r: Rng, side: string, zone: string): string {
  switch (zone) {
    case 'upper':
      return r.choice([`${side} upper lobe`, `${side} upper lung`, `${side} upper lung zone`]);
    case 'middle':
      return side === 'right' ? r.choice(['right middle lobe', 'right mid lung', 'right mid lung zone']) : r.choice(['left mid lung', 'left mid lung zone', 'lingula of the left upper lobe']);
    case 'apical':
      return r.choice([`${side} apex`, `${side} apical region`]);
    default:
      return r.choice([`${side} lower lobe`, `${side} lung base`, `${side} lower lung zone`]);
  }
}

function sizeWord(x: number, cuts: [number, number], words: [string[], string[], string[]], r: Rng): string {
  return r.choice(x < cuts[0] ? words[0] : x < cuts[1] ? words[1] : words[2]);
}

type Line = { group: 'devices' | 'lungs' | 'pleura' | 'heart' | 'other'; text: string };

function describe(f: SynthFinding, r: Rng): { finding: string; impression: string; group: Line['group'] } {
  const side = f.side;
  switch (f.name) {
    case 'opacity': {
      const ext = f.detail.extent ?? 0;
      const adj = sizeWord(ext, [0.05, 0.14], [['small', 'subtle', 'small focal', 'faint'], ['patchy', 'focal', 'moderate'], ['large', 'extensive', 'dense', 'confluent']], r);
      const noun = r.choice(['opacity', 'airspace opacity', 'consolidation', 'airspace disease']);
      const place = lungPlace(r, side, f.zone);
      const finding = r.choice([
        `${cap(adj)} ${noun} in the ${place}.`,
        `There is ${article(adj)} ${adj} ${noun} in the ${place}, ${r.choice(['concerning for pneumonia', 'which may represent pneumonia in the appropriate clinical setting', 'compatible with infection', 'likely pneumonia'])}.`,
        `${cap(adj)} ${noun} is seen in the ${place}.`,
      ]);
      const impression = r.choice([`${cap(place)} ${r.choice(['pneumonia', 'consolidation', 'opacity'])}.`, `${cap(adj)} ${place} opacity, ${r.choice(['likely pneumonia', 'possibly infection', 'concerning for pneumonia'])}.`]);
      return { finding, impression, group: 'lungs' };
    }
    case 'effusion': {
      const h = f.detail.height ?? 0;
      const size = sizeWord(h, EFFUSION_CUTS, [['small', 'trace to small'], ['moderate', 'moderate-sized'], ['large']], r);
      const small = h < EFFUSION_CUTS[0];
      const finding = r.choice([
        `${cap(size)} ${side} pleural effusion.`,
        `There is ${article(size)} ${size} ${side}-sided pleural effusion.`,
        small ? `Blunting of the ${side} costophrenic angle, consistent with a small pleural effusion.` : `${cap(size)} ${side} pleural effusion with a meniscus along the ${side} lateral chest wall.`,
      ]);
      return { finding, impression: `${cap(size)} ${side} pleural effusion.`, group: 'pleura' };
    }
    case 'pneumothorax': {
      const mm = f.detail.sizeMm ?? 0;
      const size = sizeWord(mm, [15, 30], [['small', 'tiny'], ['moderate', 'moderate-sized'], ['large']], r);
      const apical = f.zone === 'apical' ? ' apical' : '';
      const finding = r.choice([
        `${cap(size)} ${side}${apical} pneumothorax.`,
        `There is ${article(size)} ${size} ${side}${apical} pneumothorax.`,
        `A ${side}${apical} pleural line is seen with no lung markings peripheral to it, consistent with ${article(size)} ${size} pneumothorax.`,
        `${cap(side)}-sided pneumothorax, ${size}, measuring approximately ${Math.max(0.5, Math.round(mm / 5) / 2)} cm${apical ? ' at the apex' : ''}.`,
      ]);
      return { finding, impression: `${cap(size)} ${side} pneumothorax.`, group: 'pleura' };
    }
    case 'cardiomegaly': {
      const ctr = f.detail.ctr ?? 0.55;
      const deg = ctr < 0.56 ? 'mild' : ctr < 0.62 ? 'moderate' : r.choice(['severe', 'marked']);
      const adv = deg === 'mild' ? 'mildly' : deg === 'moderate' ? 'moderately' : deg === 'severe' ? 'severely' : 'markedly';
      const finding = r.choice([
        `The heart is ${adv} enlarged.`,
        `${cap(deg)} cardiomegaly.`,
        `The cardiac silhouette is ${adv} enlarged, with a cardiothoracic ratio of approximately ${ctr.toFixed(2)}.`,
        `${cap(deg)} enlargement of the cardiac silhouette.`,
      ]);
      return { finding, impression: `${cap(deg)} cardiomegaly.`, group: 'heart' };
    }
    case 'nodule': {
      const mm = f.detail.sizeMm ?? 10;
      const place = lungPlace(r, side, f.zone);
      if (f.detail.kind === 'mass') {
        const cm = (Math.round(mm / 5) / 2).toFixed(1);
        const finding = r.choice([`${cm} cm mass in the ${place}.`, `There is a ${cm} cm mass in the ${place}, concerning for malignancy.`, `A ${cm} cm rounded mass projects over the ${place}.`]);
        return { finding, impression: `${cap(place)} mass, ${r.choice(['recommend CT for further evaluation', 'concerning for malignancy', 'further evaluation with chest CT is recommended'])}.`, group: 'lungs' };
      }
      if (f.detail.kind === 'calcified') {
        const finding = r.choice([`${mm} mm calcified nodule in the ${place}, likely a granuloma.`, `A densely calcified ${mm} mm nodule projects over the ${place}, consistent with a granuloma.`]);
        return { finding, impression: `Calcified ${place} nodule, likely granuloma.`, group: 'lungs' };
      }
      const finding = r.choice([`${mm} mm nodule in the ${place}.`, `There is a ${mm} mm nodular opacity in the ${place}.`, `A ${mm} mm pulmonary nodule projects over the ${place}.`]);
      return { finding, impression: `${mm} mm ${place} nodule; ${r.choice(['recommend chest CT for further evaluation', 'CT is recommended for further characterization', 'consider follow-up CT'])}.`, group: 'lungs' };
    }
    case 'atelectasis': {
      if (f.detail.kind === 'lobar') {
        const finding = r.choice([
          `${cap(side)} lower lobe collapse with elevation of the ${side} hemidiaphragm.`,
          `Triangular opacity in the ${side} lower lobe with volume loss, consistent with atelectasis.`,
          side === 'left' ? `Retrocardiac opacity with volume loss, consistent with left lower lobe atelectasis.` : `Opacity at the right base along the heart border with volume loss, consistent with right lower lobe atelectasis.`,
        ]);
        return { finding, impression: `${cap(side)} lower lobe atelectasis.`, group: 'lungs' };
      }
      const place = lungPlace(r, side, f.zone);
      const finding = r.choice([
        `Plate-like atelectasis in the ${place}.`,
        `Linear opacity in the ${place}, likely subsegmental atelectasis.`,
        `${cap(f.severity < 0.4 ? 'minimal' : 'mild')} discoid atelectasis in the ${place}.`,
      ]);
      return { finding, impression: `${cap(place)} atelectasis.`, group: 'lungs' };
    }
    case 'edema': {
      const deg = f.severity < 0.35 ? 'mild' : f.severity < 0.7 ? 'moderate' : 'severe';
      const finding =
        deg === 'mild'
          ? r.choice(['Mild bilateral perihilar haziness compatible with interstitial pulmonary edema.', 'Mild pulmonary vascular congestion and interstitial edema bilaterally.', 'There is mild interstitial edema in both lungs.'])
          : deg === 'moderate'
            ? r.choice(['Moderate bilateral pulmonary edema.', 'Bilateral perihilar airspace opacities consistent with moderate pulmonary edema.', 'There is moderate pulmonary edema, bilateral and perihilar.'])
            : r.choice(['Severe bilateral alveolar pulmonary edema.', 'Extensive bilateral perihilar airspace opacities consistent with severe pulmonary edema.']);
      const septal = f.severity > 0.15 && r.bernoulli(0.5) ? ` ${r.choice(['Septal lines are seen at both lung bases.', 'Kerley B lines at the bases bilaterally.'])}` : '';
      return { finding: finding + septal, impression: `${cap(deg)} pulmonary edema.`, group: 'lungs' };
    }
    case 'support_device': {
      const d = f.detail;
      switch (d.device) {
        case 'ett': {
          const cm = (d.sizeMm ?? 40) / 10;
          const low = cm < 2;
          const finding = r.choice([`Endotracheal tube terminates ${cm} cm above the carina.`, `The endotracheal tube tip is ${cm} cm above the carina.`, `ET tube tip lies ${cm} cm above the carina.`]);
          return { finding: low ? `${finding.slice(0, -1)}, and could be withdrawn by 1 to 2 cm.` : finding, impression: low ? 'Low-lying endotracheal tube.' : 'Endotracheal tube in standard position.', group: 'devices' };
        }
        case 'enteric':
          return d.tipInStomach
            ? { finding: r.choice(['Enteric tube courses below the diaphragm with the tip in the stomach.', 'Nasogastric tube tip is in the stomach.', 'An orogastric tube terminates in the stomach.']), impression: 'Enteric tube in the stomach.', group: 'devices' }
            : { finding: 'Enteric tube tip terminates in the distal esophagus; recommend advancing.', impression: 'Enteric tube tip in the distal esophagus, recommend advancing.', group: 'devices' };
        case 'cvc_ij':
          return { finding: r.choice([`${cap(side)} internal jugular central venous catheter terminates ${d.tip}.`, `${cap(side)} IJ line with the tip ${d.tip}.`]), impression: `${cap(side)} internal jugular line ${d.tip}.`, group: 'devices' };
        case 'cvc_subclavian':
          return { finding: r.choice([`${cap(side)} subclavian central venous catheter terminates ${d.tip}.`, `${cap(side)} subclavian line tip projects ${d.tip}.`]), impression: `${cap(side)} subclavian line ${d.tip}.`, group: 'devices' };
        case 'pacemaker':
          return { finding: r.choice([`${cap(side)}-sided pacemaker with leads in the ${d.tip}.`, `${cap(side)} chest wall pacemaker with leads terminating in the ${d.tip}.`]), impression: `${cap(side)}-sided pacemaker in place.`, group: 'devices' };
        default:
          return { finding: r.choice(['EKG leads overlie the chest.', 'Monitoring leads project over the chest.', 'External cardiac monitoring leads are present.']), impression: '', group: 'devices' };
      }
    }
  }
}

const NOISE: ((r: Rng) => { where: 'head' | 'findings' | 'impression' | 'tail'; text: string })[] = [
  (r) => ({ where: 'head', text: `COMPARISON: ${r.choice(['___.', 'None.', 'Chest radiograph from ___.', 'Prior study of ___.'])}` }),
  (r) => ({ where: 'findings', text: r.choice(['Comparison is made to the prior study from ___.', 'Compared to the prior study, there is no significant interval change.', 'As compared to the previous radiograph, the findings are similar.']) }),
  (r) => ({ where: 'tail', text: r.choice(['Dr. ___ was notified of the findings by telephone at ___.', 'Findings discussed with Dr. ___ at ___ on ___.', 'NOTIFICATION: The findings were communicated to the referring team by ___.']) }),
  (r) => ({ where: 'head', text: `INDICATION: ${r.choice(['___-year-old with shortness of breath.', '___ with cough and fever, evaluate for pneumonia.', 'History: ___. Evaluate for interval change.', 'Chest pain.'])}` }),
];

/** Dictation artefacts applied to the text: doubled words, dropped spaces after a period, all caps. */
function garble(text: string, r: Rng): string {
  const k = r.int(3);
  if (k === 0) return text.replace(/\b(the|is|in|of)\b/i, (w) => `${w} ${w}`);
  if (k === 1) return text.replace(/\. (?=[A-Z])/, '.');
  return text.toUpperCase();
}

export function writeReport(ctx: ReportContext, r: Rng): SynthReport {
  const lines: Line[] = [];
  const imps: string[] = [];
  const present = new Set(ctx.findings.map((f) => f.name));
  // effusions on both sides are reported together
  const eff = ctx.findings.filter((f) => f.name === 'effusion');
  for (const f of ctx.findings) {
    if (f.name === 'effusion' && eff.length === 2) continue;
    const d = describe(f, r);
    lines.push({ group: d.group, text: d.finding });
    if (d.impression) imps.push(d.impression);
  }
  if (eff.length === 2) {
    const w = eff.map((f) => ((f.detail.height ?? 0) < EFFUSION_CUTS[0] ? 'small' : (f.detail.height ?? 0) < EFFUSION_CUTS[1] ? 'moderate' : 'large'));
    const [rt, lt] = eff[0]!.side === 'right' ? [w[0]!, w[1]!] : [w[1]!, w[0]!];
    lines.push({ group: 'pleura', text: rt === lt ? r.choice([`${cap(rt)} bilateral pleural effusions, on the right and on the left.`, `${cap(rt)} right and left pleural effusions.`]) : r.choice([`${cap(rt)} right and ${lt} left pleural effusions.`, `Bilateral pleural effusions, ${rt} on the right and ${lt} on the left.`]) });
    imps.push(`Bilateral pleural effusions (${rt} right, ${lt} left).`);
  }
  // negations and normal statements for what is absent
  const neg: Line[] = [];
  const noPleural = !present.has('pneumothorax') && !present.has('effusion');
  if (noPleural) neg.push({ group: 'pleura', text: r.choice(['No pneumothorax or pleural effusion.', 'No pleural effusion or pneumothorax.', 'There is no pleural effusion or pneumothorax.', 'No effusion or pneumothorax is seen.']) });
  else if (!present.has('pneumothorax')) neg.push({ group: 'pleura', text: r.choice(['No pneumothorax.', 'There is no pneumothorax.']) });
  else if (!present.has('effusion') && r.bernoulli(0.7)) neg.push({ group: 'pleura', text: r.choice(['No pleural effusion.', 'No significant pleural effusion.']) });
  const lungFindings = ['opacity', 'nodule', 'atelectasis', 'edema'].filter((n) => present.has(n as SynthFindingName));
  if (lungFindings.length === 0 && !present.has('effusion') && !present.has('pneumothorax')) neg.push({ group: 'lungs', text: r.choice(['The lungs are clear.', 'Lungs are clear without focal consolidation.', 'The lungs are well aerated and clear.']) });
  else if (!present.has('opacity')) neg.push({ group: 'lungs', text: r.choice(['No focal consolidation.', 'No focal airspace opacity.', 'No consolidation to suggest pneumonia.']) });
  if (!present.has('edema') && r.bernoulli(0.7)) neg.push({ group: 'lungs', text: r.choice(['No pulmonary edema.', 'No evidence of pulmonary edema.', 'Pulmonary vascularity is within normal limits.']) });
  if (!present.has('nodule') && r.bernoulli(0.3)) neg.push({ group: 'lungs', text: r.choice(['No suspicious pulmonary nodules.', 'No focal nodule or mass.']) });
  if (!present.has('cardiomegaly')) neg.push({ group: 'heart', text: r.choice(['Heart size is normal.', 'The cardiomediastinal silhouette is within normal limits.', 'Normal heart size and mediastinal contours.', 'The cardiac silhouette is normal in size.']) });
  if (r.bernoulli(0.35)) neg.push({ group: 'other', text: r.choice(['No acute osseous abnormality.', 'The osseous structures are intact.', 'Visualized osseous structures are unremarkable.']) });
  const tech: Line[] = [];
  if (ctx.inspiration < 0.18) tech.push({ group: 'lungs', text: r.choice(['Low lung volumes.', 'Lung volumes are low.']) });
  if (Math.abs(ctx.rotation) > 0.6) tech.push({ group: 'other', text: r.choice(['The patient is slightly rotated.', 'Mild patient rotation limits assessment.']) });
  // order: devices first, then lungs / pleura / heart in one of a few orders
  const orders: Line['group'][][] = [['devices', 'lungs', 'pleura', 'heart', 'other'], ['devices', 'heart', 'lungs', 'pleura', 'other'], ['devices', 'lungs', 'heart', 'pleura', 'other']];
  const order = r.choice(orders);
  const all = [...tech, ...lines, ...neg];
  const findingsText = order.flatMap((g) => all.filter((l) => l.group === g).map((l) => l.text)).join(' ');
  let impression: string;
  if (ctx.findings.length === 0) impression = r.choice(NORMAL_IMPRESSIONS);
  else if (imps.length > 1 && r.bernoulli(0.4)) impression = imps.map((s, k) => `${k + 1}. ${s}`).join('\n');
  else impression = imps.join(' ');
  if (!impression) impression = r.choice(['No acute cardiopulmonary process.', 'Monitoring leads as described; no acute cardiopulmonary process.']);

  const head: string[] = [];
  if (r.bernoulli(0.5)) head.push(`EXAMINATION: ${ctx.view === 'AP' ? (ctx.portable ? 'CHEST (PORTABLE AP)' : 'CHEST (AP)') : 'CHEST (PA)'}`);
  let findings = findingsText;
  let impressionOut = impression;
  const tail: string[] = [];
  if (r.bernoulli(ctx.noise)) {
    const n = 1 + (r.bernoulli(0.3) ? 1 : 0);
    for (let k = 0; k < n; k++) {
      const z = r.choice(NOISE)(r);
      if (z.where === 'head') head.push(z.text);
      else if (z.where === 'findings') findings = `${z.text} ${findings}`;
      else if (z.where === 'tail') tail.push(z.text);
    }
    if (r.bernoulli(0.5)) findings = garble(findings, r);
    else impressionOut = garble(impressionOut, r);
  }
  const text = [...head, `FINDINGS: ${findings}`, `IMPRESSION: ${impressionOut}`, ...tail].join('\n');
  return { text, findings, impression: impressionOut };
}
