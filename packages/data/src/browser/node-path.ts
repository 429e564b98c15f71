/**
 * The browser build's stand-in for `node:path` (see tsup.browser.config.ts): the POSIX helpers
 * the decoders use on a file *name* (a browser has names, not paths).
 */
export const sep = '/';

export function basename(p: string, ext?: string): string {
  const s = String(p).replace(/\/+$/, '');
  const b = s.slice(s.lastIndexOf('/') + 1);
  return ext && b.endsWith(ext) && b !== ext ? b.slice(0, -ext.length) : b;
}

export function extname(p: string): string {
  const b = basename(p);
  const i = b.lastIndexOf('.');
  return i <= 0 ? '' : b.slice(i);
}

export function dirname(p: string): string {
  const s = String(p).replace(/\/+$/, '');
  const i = s.lastIndexOf('/');
  return i < 0 ? '.' : i === 0 ? '/' : s.slice(0, i);
}

export function join(...parts: string[]): string {
  return parts.filter((x) => x !== '').join('/').replace(/\/{2,}/g, '/') || '.';
}
