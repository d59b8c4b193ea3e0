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
  const range = parseRange(req.headers.range, data.length);
  if (range === 'unsatisfiable') return sendUnsatisfiable(res, data.length);
  const [start, end] = range ?? [0, data.length - 1];
  res.writeHead(range ? 206 : 200, videoHeaders('video/mp4', data.length, range));
  res.end(req.method === 'HEAD' ? undefined : data.subarray(start, end + 1));
}

function sendUnsatisfiable(res: ServerResponse, size: number): void {
  res.writeHead(416, { ...videoHeaders('video/mp4', size, null), 'content-range': `bytes */${size}`, 'content-length': 0 });
  res.end();
}

/** The headers of a video of `size` bytes, or of its `range` (inclusive) in a 206. */
function videoHeaders(contentType: string, size: number, range: readonly [number, number] | null): Record<string, string | number> {
  return {
    'content-type': contentType,
    'accept-ranges': 'bytes',
    'cache-control': 'public, max-age=3600',
    'content-length': range ? range[1] - range[0] + 1 : size,
    ...(range ? { 'content-range': `bytes ${range[0]}-${range[1]}/${size}` } : {}),
  };
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

/**
 * The clip padded with zeros to `size` bytes (the simulator's `videoBytes` option), with byte ranges,
 * generated as it is sent like an oversize fault's body: a video of gigabytes costs one chunk.
 */
export async function sendSizedVideo(
  req: IncomingMessage,
  res: ServerResponse,
  data: Buffer,
  size: number,
  sleep: (ms: number) => Promise<void>,
): Promise<void> {
  const range = parseRange(req.headers.range, size);
  if (range === 'unsatisfiable') return sendUnsatisfiable(res, size);
  if (req.method === 'HEAD') {
    res.writeHead(range ? 206 : 200, videoHeaders('video/mp4', size, range));
    res.end();
    return;
  }
  await sendFaultyVideo(res, data, { size, contentType: 'video/mp4', chunkBytes: 64 * 1024, chunkDelayMs: 0, ...(range ? { range } : {}) }, sleep);
}

export interface FaultyVideoOptions {
  /** The declared length and, unless cut short, the bytes sent: the clip, then zeros. */
  size: number;
  contentType: string;
  /** Only these bytes (inclusive), in a 206. */
  range?: readonly [number, number];
  /** Close the connection after this many bytes of the body (a body cut short). */
  cutAfter?: number;
  /** Pieces of this many bytes… */
  chunkBytes: number;
  /** …this far apart (a slow link). */
  chunkDelayMs: number;
}

/**
 * Until `res` can take more, or is closed. Each wait removes both of its listeners: a body of hundreds of
 * megabytes waits thousands of times, and a `close` listener left behind each time piled up on the response.
 */
export function drainedOrClosed(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}

/**
 * The clip as a faulty link delivers it: a 200 (or a range's 206), generated piece by piece (never the
 * whole body in memory, so a fault can send hundreds of megabytes), honouring backpressure. `sleep`
 * comes from the server so that stop() cancels its waits.
 */
export async function sendFaultyVideo(
  res: ServerResponse,
  data: Buffer,
  options: FaultyVideoOptions,
  sleep: (ms: number) => Promise<void>,
): Promise<void> {
  const { range = null } = options;
  res.writeHead(range ? 206 : 200, videoHeaders(options.contentType, options.size, range));
  // A client that gives up closes the socket; the writes then fail, which is the point.
  res.on('error', () => undefined);
  const first = range ? range[0] : 0;
  const last = range ? range[1] + 1 : options.size;
  const end = Math.min(last, first + (options.cutAfter ?? Infinity));
  const zeros = Buffer.alloc(options.chunkBytes);
  for (let at = first; at < end && !res.destroyed;) {
    const n = Math.min(options.chunkBytes, end - at);
    // Past the clip the same zeros go out again and again: hundreds of megabytes cost one chunk.
    const chunk =
      at + n <= data.length
        ? data.subarray(at, at + n)
        : at >= data.length
          ? zeros.subarray(0, n)
          : Buffer.concat([data.subarray(at), zeros]).subarray(0, n);
    at += n;
    if (!res.write(chunk)) await drainedOrClosed(res);
    if (options.chunkDelayMs > 0 && at < end) await sleep(options.chunkDelayMs);
  }
  if (res.destroyed) return;
  if (end < last) {
    // Destroying at once would drop what is still buffered: the cut must come after the bytes sent.
    await new Promise<void>((resolve) => res.write(Buffer.alloc(0), () => resolve()));
    res.destroy();
  } else res.end();
}
