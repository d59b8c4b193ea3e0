/**
 * A local stand-in for the AI/ML API's video endpoints (contract:
 * `shared/upstream/aimlapi-video-contract.md`), serving every model of the vendor's specs, used
 * when no upstream key is configured, in tests and in benchmarks. It is a real HTTP server so the
 * gateway's HTTP client, timeouts and retries are exercised exactly as in production.
 */
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RequestCounter, handleControl, isTimeScale, type SimulatorControl } from './control';
import { envelope, sendError, sendJson, standardMessage } from './envelope';
import { FaultRegistry, type FaultAction } from './faults';
import { JobStore, type JobRecord } from './jobs';
import { usageFor } from './prices';
import { createRandom } from './random';
import { timelineSeconds } from './timelines';
import { validateCreateBody } from './validation';
import { CREATE_PATH, LEGACY_PATHS } from './vendor-specs';
import { FileLinkSigner } from './file-links';
import { drainedOrClosed, FILES_PREFIX, generationIdFromFilePath, sampleVideo, sendFaultyVideo, sendSizedVideo, sendVideo, videoPath } from './video';

export interface SimulatorOptions {
  /** TCP port to listen on. Default 0 (the OS picks a free one; read it from `Simulator.url`). */
  port?: number;
  /** Interface to bind. Default `'127.0.0.1'`. */
  host?: string;
  /** The only Bearer token accepted (on the API and on `/__control/*`). Required, non-empty. */
  apiKey: string;
  /**
   * Factor applied to every generation time (unitless, > 0). Default 1 (real-world times);
   * 0.01 makes veo3's ~2 min take ~1.2 s. Changeable later with `control.setTimeScale`.
   */
  timeScale?: number;
  /** HTTP status of a successful create: 201 (the legacy NestJS default) or 200 (newer docs). Default 201. */
  createStatus?: 200 | 201;
  /**
   * Path of a JSON file holding the jobs; written after every change (coalesced per event-loop
   * turn, atomically) and reloaded on start, so jobs outlive a restart. Default: none (memory only).
   */
  stateFile?: string;
  /** Seed for timeline draws and ids, for repeatable runs. Default: none (crypto randomness). */
  seed?: string | number;
  /**
   * Base URL put in front of `/files/<id>.mp4` in completed jobs' `video.url`, for when clients
   * reach the simulator through another address (a container, a proxy). Default: `Simulator.url`.
   */
  publicUrl?: string;
  /**
   * How long a finished video's link works, in seconds, from the poll answer that hands it out. The
   * link is signed (`?Expires=<unix seconds>&Signature=…`); past its expiry, or with a wrong
   * signature, the file route answers 403, as the upstream's CDN does. Default 3600 (one hour, the
   * shortest the vendor's peers keep outputs).
   */
  fileLinkTtlSeconds?: number;
  /**
   * Size of every finished video, in bytes: the bundled clip followed by zeros, generated as it is sent
   * (never held whole), with byte ranges, so copies of large videos can be measured (`bench/media-copy.ts`).
   * Default: off, the clip as it is (113,130 bytes).
   */
  videoBytes?: number;
}

export interface Simulator {
  /** Where it listens, e.g. `http://127.0.0.1:4010` (no trailing slash). */
  readonly url: string;
  readonly control: SimulatorControl;
  /** Stops listening, drops open connections (stalled ones included), cancels delays, writes the state file. */
  stop(): Promise<void>;
}

export { CREATE_PATH };
/** The Google legacy path; the others the vendor's specs list are served too (`LEGACY_PATHS`). */
export const LEGACY_PATH = '/v2/generate/video/google/generation';
const CONTROL_PREFIX = '/__control/';
/** Room for a few base64 data-URI images; the upstream's real limit is undocumented. */
const MAX_BODY_BYTES = 50 * 1024 * 1024;

/** What a route would answer, before faults decide whether and how it is delivered. */
interface Answer {
  status: number;
  body: unknown;
}

export async function startSimulator(options: SimulatorOptions): Promise<Simulator> {
  const opts = checkOptions(options);
  const video = sampleVideo();
  const store = new JobStore(createRandom(opts.seed), opts.timeScale, opts.stateFile);
  const faults = new FaultRegistry();
  const links = new FileLinkSigner(opts.apiKey, opts.fileLinkTtlSeconds);
  const counter = new RequestCounter();
  const delays = new Set<NodeJS.Timeout>();
  let publicUrl = '';

  const control: SimulatorControl = {
    injectFault: (fault) => faults.add(fault),
    removeFault: (id) => faults.remove(id),
    clearFaults: () => faults.clear(),
    forceOutcome(generationId, outcome, errorBody) {
      if (!store.force(generationId, outcome, errorBody)) throw new Error(`Unknown generation id: ${generationId}`);
    },
    counts: () => counter.snapshot(),
    resetCounts: () => counter.reset(),
    jobs: () => store.all().map((job) => ({ id: job.id, model: job.model, status: store.status(job) })),
    createJob(body, startedAgoMs = 0) {
      if (!Number.isFinite(startedAgoMs)) throw new TypeError('startedAgoMs must be a finite number');
      const job = createJob(body, CREATE_PATH, startedAgoMs);
      if (typeof job === 'string') throw new TypeError(job);
      return { id: job.id, model: job.model, status: store.status(job) };
    },
    completesAt(generationId) {
      const job = store.get(generationId);
      if (!job) throw new Error(`Unknown generation id: ${generationId}`);
      return job.forced ? null : new Date(store.clock.wallTimeAt(job.createdAt + job.totalMs));
    },
    setTimeScale(timeScale) {
      if (!isTimeScale(timeScale)) throw new RangeError('timeScale must be a finite number > 0');
      store.setTimeScale(timeScale);
    },
    fileLink: (generationId, ttlSeconds) => `${publicUrl}${links.sign(videoPath(generationId), Date.now(), ttlSeconds)}`,
  };

  const pollBody = (job: JobRecord): Record<string, unknown> =>
    store.pollBody(job, () => ({
      url: `${publicUrl}${links.sign(videoPath(job.id))}`,
      content_type: 'video/mp4',
      file_name: 'output.mp4',
      file_size: opts.videoBytes ?? video.length,
    }));

  /** A job for a create body, or the create route's validation message when the body is refused. */
  function createJob(body: unknown, path: string, startedAgoMs = 0): JobRecord | string {
    const result = validateCreateBody(body, path);
    if (!result.ok) return ['Body validation error!', ...result.issues].join('\n');
    const model = result.model.id;
    return store.create(
      {
        model,
        duration: result.duration,
        usage: usageFor(model, result.duration),
        rangeSeconds: timelineSeconds({
          modelId: model,
          duration: result.duration,
          ...(result.resolution !== undefined ? { resolution: result.resolution } : {}),
          ...(result.defaultResolution !== undefined ? { defaultResolution: result.defaultResolution } : {}),
        }),
      },
      startedAgoMs,
    );
  }

  function serveCreate(body: unknown, path: string): Answer {
    const job = createJob(body, path);
    if (typeof job === 'string') return errorAnswer(400, job);
    return { status: opts.createStatus, body: { id: job.id, status: 'queued', meta: { usage: { ...job.usage } } } };
  }

  function servePoll(generationId: string | null): Answer {
    if (!generationId) return errorAnswer(400, 'Query validation error!\nRequired at "generation_id"');
    const job = store.get(generationId);
    return job ? { status: 200, body: pollBody(job) } : errorAnswer(404, 'Generation not found');
  }

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        delays.delete(timer);
        resolve();
      }, ms);
      delays.add(timer);
    });
  }

  /** Delivers `serve()`'s answer, or what the fault turns it into. */
  async function deliver(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    action: FaultAction | undefined,
    serve: () => Answer,
  ): Promise<void> {
    const write = (answer: Answer, headers: Record<string, string> = {}): void => {
      const body = isEnvelopeStub(answer.body) ? envelope(answer.status, answer.body.message, path) : answer.body;
      sendJson(res, answer.status, body, headers);
    };
    switch (action?.kind) {
      case undefined:
        return write(serve());
      case 'status': {
        const body = action.body !== undefined ? action.body : envelope(action.status, standardMessage(action.status), path);
        return sendJson(res, action.status, body, action.retryAfter !== undefined ? { 'retry-after': action.retryAfter } : {});
      }
      case 'delay':
        await sleep(action.ms);
        // The client may have given up meanwhile; the work still happens, as it would upstream.
        return write(serve());
      case 'stall':
        // Nothing to schedule: the socket stays open until the client aborts or stop() drops it.
        return;
      case 'html': {
        const status = action.status ?? 502;
        const title = `${status} ${STATUS_CODES[status] ?? 'Error'}`;
        const html = `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`;
        res.writeHead(status, { 'content-type': 'text/html', 'content-length': Buffer.byteLength(html) });
        res.end(html);
        return;
      }
      case 'malformed': {
        const status = action.status ?? 200;
        const answer = status < 300 ? serve() : errorAnswer(status, standardMessage(status));
        const full = JSON.stringify(isEnvelopeStub(answer.body) ? envelope(answer.status, answer.body.message, path) : answer.body);
        const truncated = full.slice(0, Math.max(1, Math.floor(full.length / 2)));
        res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(truncated) });
        res.end(truncated);
        return;
      }
      case 'dropAfterCreate':
        serve();
        req.socket.destroy();
        return;
      case 'oversized': {
        const answer = serve();
        const json = JSON.stringify(answer.body);
        const target = action.bytes ?? 4 * 1024 * 1024;
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
        // A client that stops reading closes the socket; the writes then fail, which is the point.
        res.on('error', () => undefined);
        res.write(`{"padding":"`);
        const chunk = 'x'.repeat(64 * 1024);
        for (let sent = 0; sent < target && !res.destroyed; sent += chunk.length) {
          if (!res.write(chunk)) await drainedOrClosed(res);
        }
        if (!res.destroyed) res.end(`","answer":${json}}`);
        return;
      }
      case 'reset': {
        const answer = serve();
        const json = JSON.stringify(isEnvelopeStub(answer.body) ? envelope(answer.status, answer.body.message, path) : answer.body);
        res.writeHead(answer.status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(json) });
        res.write(json.slice(0, Math.max(1, Math.floor(json.length / 2))), () => req.socket.resetAndDestroy());
        return;
      }
      case 'drop':
        req.socket.destroy();
        return;
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://simulator.invalid');
    const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
    const method = req.method ?? 'GET';

    if (path.startsWith(FILES_PREFIX)) return serveFile(req, res, path, url.searchParams);

    if (path === CREATE_PATH || LEGACY_PATHS.has(path)) {
      if (method === 'POST' || method === 'GET') counter.arrived();
      if (method === 'POST') {
        const text = await readBody(req);
        const body = text === null ? undefined : parseJson(text);
        counter.create(isObject(body) ? body.model : undefined);
        if (!authorized(req)) return sendError(res, 401, standardMessage(401), path);
        if (text === null) return sendError(res, 413, standardMessage(413), path);
        if (body === INVALID_JSON) return sendError(res, 400, 'Body validation error!\nMalformed JSON body', path);
        const model = isObject(body) && typeof body.model === 'string' ? body.model : undefined;
        const action = faults.take({ endpoint: 'create', model });
        return deliver(req, res, path, action, () => serveCreate(body ?? {}, path));
      }
      if (method === 'GET') {
        // URLSearchParams percent-decodes, so ids with ':' and '/' arrive intact when clients encode them.
        // Ids are global: either path polls any job, whichever path created it.
        const generationId = url.searchParams.get('generation_id');
        counter.poll(generationId);
        if (generationId) res.once('close', counter.pollInProgress(generationId));
        if (!authorized(req)) return sendError(res, 401, standardMessage(401), path);
        const model = generationId ? store.get(generationId)?.model : undefined;
        const action = faults.take({ endpoint: 'poll', model, generationId: generationId ?? undefined });
        return deliver(req, res, path, action, () => servePoll(generationId));
      }
    }

    if (path.startsWith(CONTROL_PREFIX)) {
      const text = await readBody(req);
      if (!authorized(req)) return sendError(res, 401, standardMessage(401), path);
      const body = text === null ? INVALID_JSON : parseJson(text);
      if (body === INVALID_JSON) return sendError(res, 400, 'Body validation error!\nMalformed JSON body', path);
      const reply = handleControl(control, method, path, body);
      if (reply.error !== undefined) return sendError(res, reply.status, reply.error, path);
      if (reply.body === undefined) {
        res.writeHead(reply.status).end();
        return;
      }
      return sendJson(res, reply.status, reply.body);
    }

    sendError(res, 404, `Cannot ${method} ${path}`, path);
  }

  async function serveFile(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendError(res, 404, 'Not Found', path);
    // Public, like the upstream's CDN links (a browser <video> sends no Authorization header), but
    // signed: the signature is checked before anything about the file is told.
    if (!links.verify(path, query)) return sendForbidden(res);
    const id = generationIdFromFilePath(path);
    const job = id === null ? undefined : store.get(id);
    if (!job || !store.hasVideo(job)) return sendError(res, 404, 'Not Found', path);
    const action = faults.take({ endpoint: 'file', model: job.model, generationId: job.id });
    const size = opts.videoBytes ?? video.length;
    const faulty = (changes: { size?: number; contentType?: string; cutAfter?: number; chunkBytes?: number; chunkDelayMs?: number }) =>
      sendFaultyVideo(res, video, { size, contentType: 'video/mp4', chunkBytes: 64 * 1024, chunkDelayMs: 0, ...changes }, sleep);
    // A video of another size than the clip's is generated as it is sent.
    const healthy = () => (size === video.length ? sendVideo(req, res, video) : sendSizedVideo(req, res, video, size, sleep));
    switch (action?.kind) {
      case 'truncated':
        return faulty({ cutAfter: action.bytes ?? Math.floor(size / 2) });
      case 'slowBody':
        return faulty({ chunkDelayMs: action.chunkDelayMs, chunkBytes: action.chunkBytes ?? 16 * 1024 });
      case 'contentType':
        return faulty({ contentType: action.contentType });
      case 'oversized':
        return faulty({ size: action.bytes ?? 4 * 1024 * 1024 });
      case 'delay':
        await sleep(action.ms);
        return healthy();
      case undefined:
        return healthy();
      default:
        return deliver(req, res, path, action, () => ({ status: 200, body: null }));
    }
  }

  function authorized(req: IncomingMessage): boolean {
    const match = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
    return match?.[1]?.trim() === opts.apiKey;
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      // Never a stack trace or a secret on the wire: an opaque 500, like the upstream's.
      if (!res.headersSent && !res.destroyed) sendError(res, 500, standardMessage(500), req.url?.split('?')[0] ?? '/');
      else res.destroy();
    });
  });

  // Node's 5 s keep-alive races clients whose own idle timer fires late on a loaded machine: they
  // send on a socket the server has just closed and see ECONNRESET. The upstream's edge keeps idle
  // connections far longer, and stop() closes every connection anyway.
  server.keepAliveTimeout = 65_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const listenUrl = `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`;
  publicUrl = (opts.publicUrl ?? listenUrl).replace(/\/+$/, '');

  let closing: Promise<void> | null = null;
  return {
    url: listenUrl,
    control,
    stop() {
      closing ??= new Promise<void>((resolve) => {
        for (const timer of delays) clearTimeout(timer);
        delays.clear();
        server.close(() => {
          store.flush();
          resolve();
        });
        // Stalled and keep-alive sockets would otherwise hold stop() open forever.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

interface EnvelopeStub {
  __envelope: true;
  message: string;
}

/** An error answer whose envelope (request id, timestamp, path) is minted when it is delivered. */
function errorAnswer(status: number, message: string): Answer {
  const stub: EnvelopeStub = { __envelope: true, message };
  return { status, body: stub };
}

/** What a bucket or CDN answers to an expired or tampered signed link: XML, as S3 and GCS do. */
function sendForbidden(res: ServerResponse): void {
  const xml =
    '<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Request has expired or its signature does not match</Message></Error>';
  res.writeHead(403, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(xml) });
  res.end(xml);
}

function isEnvelopeStub(value: unknown): value is EnvelopeStub {
  return isObject(value) && value.__envelope === true;
}

const INVALID_JSON = Symbol('invalid JSON');

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return INVALID_JSON;
  }
}

/** The body as text, or null when it exceeds MAX_BODY_BYTES (the rest is drained, not buffered). */
function readBody(req: IncomingMessage): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > MAX_BODY_BYTES ? null : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

interface CheckedOptions {
  port: number;
  host: string;
  apiKey: string;
  timeScale: number;
  createStatus: 200 | 201;
  stateFile?: string;
  seed?: string | number;
  publicUrl?: string;
  fileLinkTtlSeconds: number;
  videoBytes?: number;
}

function checkOptions(o: SimulatorOptions): CheckedOptions {
  const port = o.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`port must be an integer 0-65535, got ${port}`);
  if (typeof o.apiKey !== 'string' || o.apiKey.trim() === '') throw new TypeError('apiKey must be a non-empty string');
  const timeScale = o.timeScale ?? 1;
  if (!isTimeScale(timeScale)) throw new RangeError(`timeScale must be a finite number > 0, got ${String(timeScale)}`);
  const createStatus = o.createStatus ?? 201;
  if (createStatus !== 200 && createStatus !== 201) throw new RangeError(`createStatus must be 200 or 201, got ${String(createStatus)}`);
  if (o.publicUrl !== undefined) new URL(o.publicUrl); // throws on a malformed base
  const fileLinkTtlSeconds = o.fileLinkTtlSeconds ?? 3600;
  if (!Number.isInteger(fileLinkTtlSeconds) || fileLinkTtlSeconds < 1) {
    throw new RangeError(`fileLinkTtlSeconds must be a positive integer, got ${String(fileLinkTtlSeconds)}`);
  }
  if (o.videoBytes !== undefined && !(Number.isSafeInteger(o.videoBytes) && o.videoBytes > 0)) {
    throw new RangeError(`videoBytes must be a positive integer, got ${String(o.videoBytes)}`);
  }
  return { ...o, port, host: o.host ?? '127.0.0.1', timeScale, createStatus, fileLinkTtlSeconds };
}
