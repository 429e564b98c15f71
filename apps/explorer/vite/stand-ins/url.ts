/**
 * Browser stand-in for `node:url`: tsup's ESM shims compute `__filename` with
 * `fileURLToPath(import.meta.url)` when a module loads, so these convert instead of throwing.
 */
export function fileURLToPath(u: string | URL): string {
  return decodeURIComponent(new URL(String(u)).pathname);
}
export function pathToFileURL(p: string): URL {
  return new URL(`file://${p.startsWith('/') ? '' : '/'}${encodeURI(p)}`);
}
const URLClass = globalThis.URL;
const URLSearchParamsClass = globalThis.URLSearchParams;
export { URLClass as URL, URLSearchParamsClass as URLSearchParams };
export default { fileURLToPath, pathToFileURL, URL: URLClass, URLSearchParams: URLSearchParamsClass };
