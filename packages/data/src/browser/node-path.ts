/**
 * The browser stand-in for `node:path` (POSIX), used by both browser builds: @g2d-ts/data's
 * (tsup.browser.config.ts; the decoders use it on file *names* — a browser has names, not
 * paths) and the explorer's Vite build (apps/explorer/vite/node-stand-ins.ts; library modules
 * build constant paths when they load, `path.join('data', 'tokenizers', …)`, so these compute;
 * the paths are never opened).
 */
function normalizeParts(parts: string[], absolute: boolean): string[] {
  const out: string[] = [];
  for (const p of parts) {
    if (!p || p === '.') continue;
    if (p === '..') {
      if (out.length && out[out.length - 1] !== '..') out.pop();
      else if (!absolute) out.push('..');
    } else out.push(p);
  }
  return out;
}

export const sep = '/';
export const delimiter = ':';

export function isAbsolute(p: string): boolean {
  return String(p).startsWith('/');
}

export function normalize(p: string): string {
  const abs = isAbsolute(p);
  const s = normalizeParts(String(p).split('/'), abs).join('/');
  return (abs ? '/' : '') + (s || (abs ? '' : '.'));
}

export function join(...parts: string[]): string {
  return normalize(parts.filter((x) => x !== '').join('/') || '.');
}

export function resolve(...parts: string[]): string {
  let acc = '';
  for (let i = parts.length - 1; i >= 0 && !isAbsolute(acc); i--) acc = parts[i] ? `${parts[i]}/${acc}` : acc;
  return normalize(isAbsolute(acc) ? acc : `/${acc}`);
}

export function dirname(p: string): string {
  const s = String(p).replace(/\/+$/, '');
  const i = s.lastIndexOf('/');
  return i < 0 ? '.' : i === 0 ? '/' : s.slice(0, i);
}

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

export function relative(from: string, to: string): string {
  const a = resolve(from).split('/').filter(Boolean);
  const b = resolve(to).split('/').filter(Boolean);
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return [...a.slice(i).map(() => '..'), ...b.slice(i)].join('/');
}

export function parse(p: string): { root: string; dir: string; base: string; ext: string; name: string } {
  const base = basename(p);
  const ext = extname(p);
  return { root: isAbsolute(p) ? '/' : '', dir: dirname(p), base, ext, name: ext ? base.slice(0, -ext.length) : base };
}

export function format(o: { dir?: string; root?: string; base?: string; name?: string; ext?: string }): string {
  const base = o.base ?? `${o.name ?? ''}${o.ext ?? ''}`;
  const dir = o.dir ?? o.root ?? '';
  return dir ? (dir.endsWith('/') ? dir + base : `${dir}/${base}`) : base;
}

const posixPath = { sep, delimiter, isAbsolute, normalize, join, resolve, dirname, basename, extname, relative, parse, format };
export const posix = posixPath;
export default { ...posixPath, posix: posixPath };
