/**
 * A tiny static server for the built explorer: GET/HEAD only, on 127.0.0.1 with an ephemeral
 * port, files from `root` (no path escapes) plus the repository assets of vite/repo-assets.ts
 * (`g2d-assets/...`) and any `extra` files. Bounded: at most `maxRequests` requests, then it answers 503; `close()`
 * ends it and its open connections.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import * as path from 'node:path';
import { ASSET_PREFIX, type RepoAssets } from '../vite/repo-assets';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

export interface StaticServer {
  url: string;
  requests: string[];
  close(): Promise<void>;
}

export interface StaticServerOptions {
  /** repository assets (demo checkpoint, vocabulary) under g2d-assets/ */
  assets?: RepoAssets;
  /** extra files by URL path (no leading slash), e.g. test inputs the page fetches */
  extra?: Record<string, string>;
  /** requests answered before the server refuses more (default 2000) */
  maxRequests?: number;
}

export async function startStaticServer(root: string, opts: StaticServerOptions = {}): Promise<StaticServer> {
  const { assets, extra = {}, maxRequests = 2000 } = opts;
  const base = path.resolve(root);
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    const url = decodeURIComponent((req.url ?? '/').split('?')[0]!);
    requests.push(`${req.method} ${url}`);
    if (requests.length > maxRequests) {
      res.writeHead(503).end('request limit reached');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
      return;
    }
    const rel = url.replace(/^\/+/, '');
    let file: string | undefined;
    let type: string | undefined;
    if (rel === `${ASSET_PREFIX}manifest.json`) {
      const body = JSON.stringify(assets?.manifest() ?? {});
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' }).end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    if (extra[rel]) {
      file = extra[rel];
      type = 'application/octet-stream';
    } else if (rel.startsWith(ASSET_PREFIX)) {
      const f = assets?.file(rel);
      file = f?.file;
      type = f?.type;
    } else {
      const p = path.resolve(base, rel || 'index.html');
      if (p === base || p.startsWith(base + path.sep)) file = p;
      type = TYPES[path.extname(p)] ?? 'application/octet-stream';
    }
    if (!file || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, { 'Content-Type': type ?? 'application/octet-stream', 'Content-Length': String(fs.statSync(file).size), 'Cache-Control': 'no-store' });
    if (req.method === 'HEAD') res.end();
    else fs.createReadStream(file).pipe(res);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
