/**
 * Serves the bundled sample clip as every completed job's video, with byte ranges: browsers'
 * `<video>` elements ask for `Range: bytes=0-` and refuse to seek without a 206.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Resolved from this file so it works from `src/simulator` (jest) and `dist/simulator` (tsc output) alike. */
export const SAMPLE_VIDEO_PATH = path.resolve(__dirname, '../../assets/sample.mp4');

let cached: Buffer | null = null;

export function sampleVideo(): Buffer {
  cached ??= readFileSync(SAMPLE_VIDEO_PATH);
  return cached;
}

export const FILES_PREFIX = '/files/';

/** `/files/<encodeURIComponent(id)>.mp4`, the inverse of `generationIdFromFilePath`. */
export function videoPath(generationId: string): string {
  return `${FILES_PREFIX}${encodeURIComponent(generationId)}.mp4`;
}

export function generationIdFromFilePath(pathname: string): string | null {
  if (!pathname.startsWith(FILES_PREFIX) || !pathname.endsWith('.mp4')) return null;
  try {
    return decodeURIComponent(pathname.slice(FILES_PREFIX.length, -'.mp4'.length));
  } catch {
    return null;
  }
}

export function sendVideo(req: IncomingMessage, res: ServerResponse, data: Buffer): void {
  const size = data.length;
  const common = { 'content-type': 'video/mp4', 'accept-ranges': 'bytes', 'cache-control': 'public, max-age=3600' };
  const range = parseRange(req.headers.range, size);
  if (range === 'unsatisfiable') {
    res.writeHead(416, { ...common, 'content-range': `bytes */${size}`, 'content-length': 0 });
    res.end();
    return;
  }
  const [start, end] = range ?? [0, size - 1];
  res.writeHead(range ? 206 : 200, {
    ...common,
    'content-length': end - start + 1,
    ...(range ? { 'content-range': `bytes ${start}-${end}/${size}` } : {}),
  });
  res.end(req.method === 'HEAD' ? undefined : data.subarray(start, end + 1));
}

/**
 * One `bytes=` range as inclusive [start, end]; null (serve everything) when absent, malformed or
 * multi-range, which RFC 9110 allows a server to ignore.
 */
function parseRange(header: string | undefined, size: number): [number, number] | 'unsatisfiable' | null {
  const m = header ? /^bytes=(\d*)-(\d*)$/.exec(header.trim()) : null;
  if (!m || (m[1] === '' && m[2] === '')) return null;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    return suffix === 0 ? 'unsatisfiable' : [Math.max(0, size - suffix), size - 1];
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) return 'unsatisfiable';
  return [start, end];
}
