/**
 * Serves the bundled browser pages from dist/public/ (built by `npm run build:web`): the progress
 * page at `/`, and the GraphiQL playground at the GraphQL path when a browser asks for HTML.
 * Every file comes from our own origin, under a Content-Security-Policy that says so.
 */
import { createReadStream, existsSync, readdirSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';

export interface StaticAssetsOptions {
  /** Folder of the built pages. Default: dist/public next to the compiled server. */
  publicDir?: string;
  /** The GraphQL path, where browsers asking for HTML get the playground. */
  graphqlPath: string;
  /** Serve the playground (config `PLAYGROUND`). */
  playground: boolean;
  /** Origins the progress page may play videos from besides its own (the upstream's file host). */
  mediaOrigins: string[];
}

interface Asset {
  file: string;
  size: number;
  etag: string;
  contentType: string;
  /** Named by content hash, so it never changes under its URL. */
  immutable: boolean;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.ttf': 'font/ttf',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.svg': 'image/svg+xml',
};

/** Compiled, this module is dist/server/; run from source (tests), it is src/server/. */
function defaultPublicDir(): string {
  const compiled = path.resolve(__dirname, '../public');
  return existsSync(compiled) ? compiled : path.resolve(__dirname, '../../dist/public');
}

function scan(root: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  if (!existsSync(root)) return assets;
  for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    const contentType = CONTENT_TYPES[path.extname(entry.name)];
    if (!contentType) continue;
    const { size, mtimeMs } = statSync(file);
    const urlPath = '/' + path.relative(root, file).split(path.sep).join('/');
    assets.set(urlPath, {
      file,
      size,
      etag: `"${size.toString(16)}-${Math.floor(mtimeMs).toString(16)}"`,
      contentType,
      immutable: /^\/(chunks|assets)\//.test(urlPath),
    });
  }
  return assets;
}

const HOST = /^(?:[\w.-]+|\[[\da-f:]+\])(?::\d{1,5})?$/i;

/**
 * Only our own origin, with two exceptions, each needed by a page:
 * - the playground's `style-src 'unsafe-inline'`: Monaco and GraphiQL apply inline styles at run
 *   time (hundreds of them; Chromium blocks them all without it). Scripts stay 'self' only: no
 *   eval, and Monaco's workers are files of ours, not blobs;
 * - `media-src` the upstream's file host: completed videos play from where the upstream serves them.
 * WebSockets go to the same host (`'self'` covers ws: only in newer browsers, so they are named).
 */
function contentSecurityPolicy(req: IncomingMessage, mediaOrigins: string[], inlineStyles: boolean): string {
  const host = req.headers.host;
  const sockets = host && HOST.test(host) ? ` ws://${host} wss://${host}` : '';
  return [
    "default-src 'self'",
    "script-src 'self'",
    `style-src 'self'${inlineStyles ? " 'unsafe-inline'" : ''}`,
    "img-src 'self' data:",
    "font-src 'self' data:",
    `connect-src 'self'${sockets}`,
    "worker-src 'self'",
    `media-src 'self' ${mediaOrigins.join(' ')}`.trim(),
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/**
 * Returns a request handler that answers what it serves and returns true, or returns false to
 * let the request through (GraphQL, health, anything else).
 */
export function createStaticAssets(options: StaticAssetsOptions) {
  const root = options.publicDir ?? defaultPublicDir();
  const assets = scan(root);
  const pages = new Map<string, Asset | undefined>([['/', assets.get('/progress/index.html')]]);
  const playground = assets.get('/playground/index.html');

  function pageFor(req: IncomingMessage, pathname: string, search: string): Asset | undefined | null {
    if (pathname === options.graphqlPath) {
      // A browser opening the URL; GraphQL GET requests carry `?query=` and ask for JSON.
      const wantsHtml = /\btext\/html\b/.test(req.headers.accept ?? '');
      const hasQuery = /[?&]query=/.test(search);
      return options.playground && wantsHtml && !hasQuery ? (playground ?? undefined) : null;
    }
    if (pages.has(pathname)) return pages.get(pathname);
    if (pathname.startsWith('/playground/') && !options.playground) return null;
    return pathname.endsWith('.html') ? null : (assets.get(pathname) ?? null);
  }

  return {
    /** How many files were found; 0 means the pages were not built. */
    size: assets.size,
    root,
    handle(req: IncomingMessage, res: ServerResponse, pathname: string, search: string): boolean {
      if (req.method !== 'GET' && req.method !== 'HEAD') return false;
      const asset = pageFor(req, pathname, search);
      if (asset === null) return false;
      if (asset === undefined) {
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('This page was not built: run `npm run build`.\n');
        return true;
      }
      const headers: Record<string, string | number> = {
        'content-type': asset.contentType,
        etag: asset.etag,
        'cache-control': asset.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
      };
      if (asset.contentType.startsWith('text/html')) {
        headers['content-security-policy'] = contentSecurityPolicy(req, options.mediaOrigins, asset === playground);
        headers.vary = 'accept';
      }
      if (req.headers['if-none-match'] === asset.etag) {
        res.writeHead(304, headers);
        res.end();
        return true;
      }
      headers['content-length'] = asset.size;
      res.writeHead(200, headers);
      if (req.method === 'HEAD') res.end();
      else
        createReadStream(asset.file)
          .on('error', () => res.destroy())
          .pipe(res);
      return true;
    },
  };
}

export type StaticAssets = ReturnType<typeof createStaticAssets>;
