/**
 * GET/HEAD `/media/<id>?exp=…&sig=…`: a stored video, playable by a plain `<video src>`. Authorised by
 * the signed link alone (MediaLinks); a link that does not check out is 403 whether or not the
 * video exists, and only a valid link learns that there is nothing (yet) to play (404). From a
 * folder the gateway serves the bytes itself: byte ranges (206/416), `Accept-Ranges`, a strong ETag
 * from the file's SHA-256 and 304 on `If-None-Match`. From a bucket it redirects to a presigned GET.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { Logger } from 'pino';
import parseRange from 'range-parser';
import { mediaKey } from '../generations/media-copier';
import { MEDIA_PATH, type MediaLinks } from '../media/media-links';
import type { MediaStore } from '../media/media-store';
import { MediaCopyState, type Generation } from '../model/generation';

export interface MediaRouteOptions {
  links: MediaLinks;
  media: MediaStore;
  /** Any owner's generation by id (the link names no owner; its signature does). */
  generation: (id: string) => Promise<Generation | null>;
  log: Logger;
}

/** Handles the request when its path is under /media/; false otherwise. */
export function createMediaRoute(o: MediaRouteOptions) {
  return (req: IncomingMessage, res: ServerResponse, pathname: string, search: string): boolean => {
    if (!pathname.startsWith(MEDIA_PATH)) return false;
    serve(o, req, res, pathname.slice(MEDIA_PATH.length), new URLSearchParams(search)).catch((error: unknown) => {
      o.log.error({ err: error }, 'a stored video could not be served');
      if (!res.headersSent) answer(res, 500, 'The video could not be read');
      else res.destroy();
    });
    return true;
  };
}

async function serve(o: MediaRouteOptions, req: IncomingMessage, res: ServerResponse, encodedId: string, query: URLSearchParams): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    return answer(res, 405, 'Only GET and HEAD');
  }
  let id: string;
  try {
    id = decodeURIComponent(encodedId);
  } catch {
    return answer(res, 403, 'This link is not valid, or it has expired');
  }
  const exp = query.get('exp');
  const g = id && !id.includes('/') ? await o.generation(id) : null;
  // The same answer for a generation that does not exist as for a bad signature: a link tells nothing it does not authorise.
  if (!g || o.links.check(g.owner, id, exp, query.get('sig')) !== 'valid') return answer(res, 403, 'This link is not valid, or it has expired');
  const copy = g.video?.copy;
  if (copy?.state !== MediaCopyState.STORED) return answer(res, 404, 'The video is not stored (yet)');
  const key = mediaKey(id);
  const secondsLeft = o.links.secondsLeft(exp!);
  const presigned = await o.media.presignedUrl(key, Math.max(60, secondsLeft));
  if (presigned) {
    res.writeHead(302, { location: presigned, 'cache-control': 'no-store' });
    return void res.end();
  }
  const etag = `"${copy.sha256}"`;
  const common = { etag, 'accept-ranges': 'bytes', 'cache-control': `private, max-age=${secondsLeft}` };
  if (matches(req.headers['if-none-match'], etag)) {
    res.writeHead(304, common);
    return void res.end();
  }
  const object = await o.media.head(key);
  if (!object) return answer(res, 404, 'The video is not stored (yet)');
  const ranges = req.headers.range ? parseRange(object.size, req.headers.range, { combine: true }) : null;
  if (ranges === -1) {
    res.writeHead(416, { ...common, 'content-range': `bytes */${object.size}` });
    return void res.end();
  }
  // One range is served as asked; several (rare for video players) or a malformed header get the whole file, as RFC 9110 allows.
  const range = Array.isArray(ranges) && ranges.type === 'bytes' && ranges.length === 1 ? ranges[0]! : null;
  const length = range ? range.end - range.start + 1 : object.size;
  const headers = {
    ...common,
    'content-type': object.contentType,
    'content-length': length,
    ...(range ? { 'content-range': `bytes ${range.start}-${range.end}/${object.size}` } : {}),
  };
  if (req.method === 'HEAD') {
    res.writeHead(range ? 206 : 200, headers);
    return void res.end();
  }
  const read = await o.media.read(key, range ?? undefined);
  if (!read) return answer(res, 404, 'The video is not stored (yet)');
  res.writeHead(range ? 206 : 200, headers);
  // A viewer that seeks or leaves closes the connection mid-file: not an error worth a log line.
  await pipeline(read.body, res).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ERR_STREAM_PREMATURE_CLOSE') throw error;
  });
}

function matches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((tag) => {
    const t = tag.trim();
    return t === '*' || t === etag || t === `W/${etag}`;
  });
}

function answer(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
  res.end(message);
}
