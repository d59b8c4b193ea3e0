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

export interface FaultyVideoOptions {
  /** The declared length and, unless cut short, the bytes sent: the clip, then zeros. */
  size: number;
  contentType: string;
  /** Close the connection after this many bytes (a body cut short). */
  cutAfter?: number;
  /** Pieces of this many bytes… */
  chunkBytes: number;
  /** …this far apart (a slow link). */
  chunkDelayMs: number;
}

/**
 * The clip as a faulty link delivers it: a whole 200, generated piece by piece (never the whole body
 * in memory, so a fault can send hundreds of megabytes), honouring backpressure. `sleep` comes from
 * the server so that stop() cancels its waits.
 */
export async function sendFaultyVideo(
  res: ServerResponse,
  data: Buffer,
  options: FaultyVideoOptions,
  sleep: (ms: number) => Promise<void>,
): Promise<void> {
  res.writeHead(200, { 'content-type': options.contentType, 'content-length': options.size, 'accept-ranges': 'bytes' });
  // A client that gives up closes the socket; the writes then fail, which is the point.
  res.on('error', () => undefined);
  const end = Math.min(options.size, options.cutAfter ?? options.size);
  const zeros = Buffer.alloc(options.chunkBytes);
  for (let sent = 0; sent < end && !res.destroyed;) {
    const n = Math.min(options.chunkBytes, end - sent);
    const chunk =
      sent + n <= data.length ? data.subarray(sent, sent + n) : Buffer.concat([data.subarray(Math.min(sent, data.length)), zeros]).subarray(0, n);
    sent += n;
    if (!res.write(chunk))
      await new Promise<void>((resolve) => {
        res.once('drain', resolve);
        res.once('close', resolve);
      });
    if (options.chunkDelayMs > 0 && sent < end) await sleep(options.chunkDelayMs);
  }
  if (res.destroyed) return;
  if (end < options.size) {
    // Destroying at once would drop what is still buffered: the cut must come after the bytes sent.
    await new Promise<void>((resolve) => res.write(Buffer.alloc(0), () => resolve()));
    res.destroy();
  } else res.end();
}
