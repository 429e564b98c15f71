/**
 * Report text: the reference G2D cleaning (PRETRAIN/utils/dataset.py), MIMIC-CXR section
 * extraction, and the IU X-ray (OpenI) XML reports, read straight from NLMCXR_reports.tgz.
 */
import { G2DError, readFileBytes, readTar } from '@g2d-ts/core';

/**
 * The reference's report text: impression + findings with the section headers removed and
 * the sentences re-joined with ". ", exactly as the reference dataset builds it:
 *
 *   if findings is missing or 'dumb': text = impression (untouched)
 *   else: s = impression + findings; remove 'IMPRESSSION:' 'IMPRESSSION' 'FINDINGS:' 'FINDINGS'
 *         'COMPARISON:  ___' 'COMPARISON:' 'COMPARISON' (in that order); if s has a '.', split on
 *         '.', strip each piece, drop pieces that are all digits, join with '. '.
 *
 * (The reference spells IMPRESSSION with three S, so a literal "IMPRESSION:" header stays; a
 * missing impression is taken as the empty string where the reference would raise.)
 */
export function referenceReportText(findings: string | undefined | null, impression: string | undefined | null): string {
  let imp = impression ?? '';
  if (findings === undefined || findings === null || findings === '' || findings === 'dumb') return imp;
  imp += findings;
  for (const h of ['IMPRESSSION:', 'IMPRESSSION', 'FINDINGS:', 'FINDINGS', 'COMPARISON:  ___', 'COMPARISON:', 'COMPARISON']) imp = imp.split(h).join('');
  const parts = imp.split('.');
  if (parts.length > 1) {
    return parts
      .map((a) => a.trim())
      .filter((a) => !/^\p{Nd}+$/u.test(a))
      .join('. ');
  }
  return imp;
}

export interface ReportSections {
  findings?: string;
  impression?: string;
  /** every section found, keyed by its lower-cased header */
  sections: Record<string, string>;
}

const HEADER = /^[ \t]*([A-Z][A-Z0-9 /&(),-]{1,60}):/gm;

/**
 * Split a MIMIC-CXR free-text report into sections by its upper-case "HEADER:" lines and return
 * findings and impression (CONCLUSION / SUMMARY stand in for a missing IMPRESSION; with neither
 * findings nor impression, the last paragraph is the impression, as the MIMIC-CXR section parser does).
 * Whitespace inside a section is collapsed to single spaces.
 */
export function extractSections(report: string): ReportSections {
  const text = report.replace(/\r\n?/g, '\n');
  const heads: { name: string; start: number; end: number }[] = [];
  for (const m of text.matchAll(HEADER)) heads.push({ name: m[1]!.trim().toLowerCase(), start: m.index!, end: m.index! + m[0].length });
  const sections: Record<string, string> = {};
  heads.forEach((h, k) => {
    const body = text.slice(h.end, k + 1 < heads.length ? heads[k + 1]!.start : text.length).replace(/\s+/g, ' ').trim();
    sections[h.name] = sections[h.name] ? `${sections[h.name]} ${body}` : body;
  });
  const findings = sections['findings'] || undefined;
  let impression = sections['impression'] || sections['conclusion'] || sections['conclusions'] || sections['summary'] || undefined;
  if (!findings && !impression) {
    const paras = text.split(/\n\s*\n/).map((p) => p.replace(/\s+/g, ' ').trim()).filter(Boolean);
    const last = paras[paras.length - 1];
    if (last) impression = last.replace(HEADER, '').trim() || undefined;
  }
  return { findings, impression, sections };
}

export interface IuReport {
  /** report file name in the archive, e.g. "1.xml" */
  report: string;
  uid: string;
  comparison?: string;
  indication?: string;
  findings?: string;
  impression?: string;
  meshMajor: string[];
  meshAutomatic: string[];
  /** OpenI image names, e.g. CXR1_1_IM-0001-3001 */
  imageIds: string[];
}

/** A numeric character reference's character; U+FFFD for one that is not a Unicode scalar value (&#xFFFFFFFF;, &#0;, a surrogate). */
function charRef(cp: number): string {
  return Number.isInteger(cp) && cp > 0 && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff) ? String.fromCodePoint(cp) : '\ufffd';
}

const unescapeXml = (s: string) =>
  s.replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-f]+);/gi, (_, e: string) =>
    e === 'lt' ? '<' : e === 'gt' ? '>' : e === 'amp' ? '&' : e === 'quot' ? '"' : e === 'apos' ? "'" : charRef(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10)),
  );

/** Parse one IU X-ray (ecgen-radiology) XML report. */
export function parseIuXml(xml: string, report = '<xml>'): IuReport {
  const abs = (label: string) => {
    const m = new RegExp(`<AbstractText Label="${label}"\\s*>([\\s\\S]*?)</AbstractText>`).exec(xml);
    const v = m ? unescapeXml(m[1]!).trim() : '';
    return v || undefined;
  };
  const uid = /<uId id="([^"]*)"/.exec(xml)?.[1] ?? /<IUXRId id="([^"]*)"/.exec(xml)?.[1];
  if (!/<eCitation/.test(xml) || uid === undefined) throw new G2DError('not an IU X-ray (ecgen-radiology) report: no <eCitation>/<uId>', { source: report });
  const all = (re: RegExp) => [...xml.matchAll(re)].map((m) => unescapeXml(m[1]!).trim()).filter(Boolean);
  return {
    report,
    uid: /<IUXRId id="([^"]*)"/.exec(xml)?.[1] ?? uid.replace(/^CXR/, ''),
    comparison: abs('COMPARISON'),
    indication: abs('INDICATION'),
    findings: abs('FINDINGS'),
    impression: abs('IMPRESSION'),
    meshMajor: all(/<major>([\s\S]*?)<\/major>/g),
    meshAutomatic: all(/<automatic>([\s\S]*?)<\/automatic>/g),
    imageIds: all(/<parentImage id="([^"]*)"/g),
  };
}

/** All reports of NLMCXR_reports.tgz (ecgen-radiology/*.xml), sorted by numeric uid. */
export function readIuReportsArchive(file: string): IuReport[] {
  const entries = readTar(readFileBytes(file), file);
  const dec = new TextDecoder();
  const out: IuReport[] = [];
  for (const [name, body] of entries) {
    if (!name.endsWith('.xml')) continue;
    const base = name.split('/').pop()!;
    out.push(parseIuXml(dec.decode(body), `${file}:${name}`));
    out[out.length - 1]!.report = base;
  }
  return out.sort((a, b) => Number(a.uid) - Number(b.uid));
}
