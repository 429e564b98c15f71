/**
 * Small shared helpers: XML/HTML escaping, number formatting for coordinates and tick
 * labels, text-width estimates for layout, a content hash for unique SVG ids, base64.
 * Everything is deterministic: the same input always gives byte-identical output.
 */
import { G2DError } from '@g2d-ts/core';

// XML 1.0 forbids most C0 control characters even when escaped; drop them.
// eslint-disable-next-line no-control-regex
const XML_INVALID = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

/** Escape text for XML/HTML text content and double- or single-quoted attributes. */
export function escapeXml(value: unknown): string {
  return String(value)
    .replace(XML_INVALID, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** A coordinate for SVG output: at most 2 decimals, no "-0", no exponent. */
export function num(v: number): string {
  if (!Number.isFinite(v)) throw new G2DError(`internal: non-finite SVG coordinate ${v}`);
  const r = Math.round(v * 100) / 100;
  return r === 0 ? '0' : String(r);
}

function trimZeros(s: string): string {
  // "1.500" -> "1.5", "2.000e-5" -> "2e-5"; leaves integers alone
  return s.replace(/(\.\d*?)0+(e|$)/, '$1$2').replace(/\.(e|$)/, '$1');
}

/**
 * Labels for the ticks of one linear axis, in one consistent style chosen from the largest
 * tick: plain decimals (as many as the step needs), k/M suffixes from 10 000, exponent form
 * below 0.001 or from 10^9.
 */
export function formatTicks(ticks: readonly number[], step: number): string[] {
  const maxAbs = ticks.reduce((m, t) => Math.max(m, Math.abs(t)), 0);
  const stepExp = Math.floor(Math.log10(step) + 1e-9);
  // fewest decimals (from the step's own) that print every tick exactly
  const decimalsFor = (scale: number, from: number) => {
    for (let d = Math.max(0, from); d < 12; d++) {
      if (ticks.every((t) => Math.abs(Number((t / scale).toFixed(d)) - t / scale) <= (step / scale) * 1e-6)) return d;
    }
    return 12;
  };
  if (maxAbs === 0) return ticks.map(() => '0');
  if (maxAbs < 1e-3 || maxAbs >= 1e9) {
    return ticks.map((t) => {
      if (t === 0) return '0';
      const digits = Math.max(0, Math.min(6, Math.floor(Math.log10(Math.abs(t)) + 1e-9) - stepExp));
      return trimZeros(t.toExponential(digits));
    });
  }
  if (maxAbs >= 1e4) {
    const [div, suffix] = maxAbs >= 1e6 ? [1e6, 'M'] : [1e3, 'k'];
    const decimals = decimalsFor(div, -Math.floor(Math.log10(step / div) + 1e-9));
    return ticks.map((t) => (t === 0 ? '0' : `${(t / div).toFixed(decimals)}${suffix}`));
  }
  const decimals = decimalsFor(1, -stepExp);
  return ticks.map((t) => {
    const s = t.toFixed(decimals);
    return /^-0(\.0*)?$/.test(s) ? s.slice(1) : s;
  });
}

/** A number in at most `sig` significant digits, plain between 0.001 and 10^6, else exponent. */
export function formatSig(v: number, sig = 3): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a < 1e-3 || a >= 1e6) return trimZeros(v.toExponential(sig - 1));
  const s = v.toPrecision(sig);
  return s.includes('e') ? String(Number(s)) : trimZeros(s);
}

/**
 * Advance widths (fraction of the font size) close to DejaVu Sans, the widest of the fonts the
 * charts ask for, so layout errs on the roomy side with Helvetica/Arial.
 */
function charWidth(c: string): number {
  if (c === ' ') return 0.32;
  if (/[0-9]/.test(c)) return 0.64;
  if (/[il.,:;'|!]/.test(c)) return 0.3;
  if (/[ftrjI()[\]-]/.test(c)) return 0.4;
  if (/[mwMW@%]/.test(c)) return 0.95;
  if (/[A-Z]/.test(c)) return 0.72;
  return 0.62;
}

/** Estimated rendered width of `text` in pixels at `fontSize` (for layout only). */
export function textWidth(text: string, fontSize: number): number {
  let w = 0;
  for (const c of text) w += charWidth(c);
  return w * fontSize;
}

/** FNV-1a hash of a string as 8 hex digits (deterministic ids for clip paths). */
export function hashString(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Standard base64 (with padding) of bytes; no Buffer, so it also runs in a browser. */
export function base64(bytes: Uint8Array): string {
  const parts: string[] = [];
  let chunk = '';
  const n = bytes.length;
  let i = 0;
  for (; i + 2 < n; i += 3) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    chunk += B64[v >>> 18]! + B64[(v >>> 12) & 63]! + B64[(v >>> 6) & 63]! + B64[v & 63]!;
    if (chunk.length >= 8192) {
      parts.push(chunk);
      chunk = '';
    }
  }
  if (i < n) {
    const v = (bytes[i]! << 16) | ((i + 1 < n ? bytes[i + 1]! : 0) << 8);
    chunk += B64[v >>> 18]! + B64[(v >>> 12) & 63]! + (i + 1 < n ? B64[(v >>> 6) & 63]! : '=') + '=';
  }
  parts.push(chunk);
  return parts.join('');
}

export function isPositiveInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0;
}

/** Throws a G2DError naming `name` unless `v` is a finite number in [lo, hi]. */
export function checkRange(v: unknown, lo: number, hi: number, name: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi) {
    throw new G2DError(`must be a number in [${lo}, ${hi}], got ${JSON.stringify(v)}`, { source: name });
  }
  return v;
}
