/**
 * Downloads a finished video from the upstream's file link as a stream, checked on the way: its
 * status, its content type, its declared and actual size against a cap, a body cut short, and one
 * deadline for the whole transfer. What failed is told apart by whether a later attempt may pass.
 */
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import type { Dispatcher } from 'undici';
import { MediaCopyErrorCode } from '../model/generation';

export class VideoDownloadError extends Error {
  constructor(
    message: string,
    /** Null: the failure may pass (a timeout, a 5xx, a cut-off body); retry later. */
    readonly finalCode: MediaCopyErrorCode.LINK_GONE | MediaCopyErrorCode.TOO_LARGE | MediaCopyErrorCode.WRONG_CONTENT_TYPE | null,
  ) {
    super(message);
    this.name = 'VideoDownloadError';
  }
}

export interface VideoDownload {
  contentType: string;
  /** The bytes; the stream errors with a VideoDownloadError when the body breaks a rule mid-way. */
  body: Readable;
}

export interface VideoDownloaderOptions {
  /** Largest file taken, in bytes. */
  maxBytes: number;
  /** The whole transfer, headers to last byte, in ms. */
  timeoutMs: number;
}

/** Statuses that say the link itself is dead: a signed link past its expiry (403), or a removed file. */
const GONE = new Set([401, 403, 404, 410]);

/** undici's request and the downloads' connections. */
interface DownloadClient {
  request: typeof import('undici').request;
  dispatcher: Dispatcher;
}

export class VideoDownloader {
  /** Made at the first download (see connection). */
  private client: Promise<DownloadClient> | null = null;
  private stopped = false;

  constructor(private readonly options: VideoDownloaderOptions) {}

  /**
   * undici is loaded at the first download, not at start: loading it holds the main thread for 0.1–0.2 s,
   * and a gateway copies nothing until a generation completes.
   */
  private connection(): Promise<DownloadClient> {
    this.client ??= import('undici').then(({ Agent, interceptors, request }) => ({
      request,
      // File hosts (CDNs, signed bucket links) may redirect.
      dispatcher: new Agent().compose(interceptors.redirect({ maxRedirections: 3 })),
    }));
    return this.client;
  }

  /** `stop` aborts the transfer (a stopping gateway), like its deadline does. */
  async download(url: string, stop?: AbortSignal): Promise<VideoDownload> {
    if (this.stopped) throw new VideoDownloadError('the video link could not be read: the gateway stopped', null);
    // Before the deadline starts: the first download loads undici, which is no part of the transfer.
    const { request, dispatcher } = await this.connection();
    const deadline = AbortSignal.timeout(this.options.timeoutMs);
    const signal = stop ? AbortSignal.any([deadline, stop]) : deadline;
    let answer: Dispatcher.ResponseData;
    try {
      answer = await request(url, { dispatcher, signal });
    } catch (error) {
      throw new VideoDownloadError(`the video link could not be read: ${describe(error, this.options.timeoutMs)}`, null);
    }
    const { statusCode, headers, body } = answer;
    const fail = (error: VideoDownloadError): never => {
      // Destroying the body makes undici emit an abort error that nobody else would listen to.
      body.once('error', () => undefined);
      body.destroy();
      throw error;
    };
    if (GONE.has(statusCode)) fail(new VideoDownloadError(`the video link answered ${statusCode}`, MediaCopyErrorCode.LINK_GONE));
    if (statusCode !== 200) fail(new VideoDownloadError(`the video link answered ${statusCode}`, null));
    const contentType = String(headers['content-type'] ?? '')
      .split(';')[0]!
      .trim()
      .toLowerCase();
    if (!contentType.startsWith('video/')) {
      fail(new VideoDownloadError(`the video link answered with content type ${JSON.stringify(contentType)}`, MediaCopyErrorCode.WRONG_CONTENT_TYPE));
    }
    const declared = headers['content-length'] === undefined ? null : Number(headers['content-length']);
    if (declared !== null && declared > this.options.maxBytes) {
      fail(new VideoDownloadError(`the video is ${declared} bytes, over the limit of ${this.options.maxBytes}`, MediaCopyErrorCode.TOO_LARGE));
    }
    const checked = new SizeCheck(this.options.maxBytes, declared);
    body.on('error', (error) =>
      checked.destroy(new VideoDownloadError(`the video's body broke off: ${describe(error, this.options.timeoutMs)}`, null)),
    );
    return { contentType, body: body.pipe(checked) };
  }

  /** Ends every transfer still running (the copier aborts its own first) and closes the connections. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.client) await (await this.client).dispatcher.destroy();
  }
}

/** Passes bytes through while they stay under the cap, and fails a body shorter than it said. */
class SizeCheck extends Transform {
  private received = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly declared: number | null,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.received += chunk.length;
    if (this.received > this.maxBytes) {
      return done(new VideoDownloadError(`the video is over the limit of ${this.maxBytes} bytes`, MediaCopyErrorCode.TOO_LARGE));
    }
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    if (this.declared !== null && this.received !== this.declared) {
      return done(new VideoDownloadError(`the video's body ended after ${this.received} of ${this.declared} bytes`, null));
    }
    done();
  }
}

function describe(error: unknown, timeoutMs: number): string {
  if (error instanceof DOMException && (error.name === 'TimeoutError' || error.name === 'AbortError'))
    return `no complete answer within ${timeoutMs} ms`;
  if (error instanceof Error && error.message === 'stopping') return 'the gateway stopped';
  if ((error as { code?: unknown } | null)?.code === 'UND_ERR_ABORTED') return `no complete answer within ${timeoutMs} ms`;
  return error instanceof Error ? error.message : String(error);
}
