/**
 * HTTP client for the AI/ML API video endpoints (contract §1, §2, §5–§7).
 *
 * The one rule that shapes everything here: a create costs money and has no idempotency key
 * upstream, so it is sent at most once. Any failure after the request may have reached the
 * upstream is reported as OUTCOME_UNKNOWN, never as something the caller could "just retry".
 * Polls are free and idempotent, so they retry transient failures within a small budget.
 *
 * Every request sent counts against the upstream request budget (budget/request-budget.ts): the first
 * attempt of a call is paid for by its caller (the poller takes a token per generation it claims, a
 * create books one before anything is stored), each poll retry books its own here.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Dispatcher, Pool } from 'undici';
import { DEFAULT_UPSTREAM_TIMEOUTS } from '../config';
import type { GenerationInput } from '../model/generation';
import { UpstreamError, UpstreamFailure, type UpstreamCallObserver, type UpstreamClient, type UpstreamEndpoint, type UpstreamJob } from './types';
import { CURRENT_PATH, LEGACY_PATH, pathForModel } from './paths';
import { parseRetryAfter, retryDelayMs } from './health/retry-delay';
import { cleanUpstreamMessage, parseJob, redactSecrets, toWireBody } from './wire';
import type { RequestBudget } from './budget/request-budget';

export interface UpstreamClientOptions {
  /** Scheme, host and optional path prefix of the API, e.g. `https://api.aimlapi.com`. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <apiKey>`; never appears in errors. */
  apiKey: string;
  /**
   * Use the legacy `/v2/generate/video/google/generation` path for the create and polls of the models
   * the catalogue lists there (`legacyPath`); other models keep `/v2/video/generations`. Default: false.
   */
  legacyPaths?: boolean;
  /** Time allowed to open a TCP/TLS connection, in milliseconds. Default: 5_000. */
  connectTimeoutMs?: number;
  /**
   * Time a poll waits for response headers after sending, in milliseconds. Default: the gateway's
   * UPSTREAM_POLL_TIMEOUT_MS default (15 000).
   * A slow poll is simply retried, so this can be short.
   */
  headersTimeoutMs?: number;
  /**
   * Time a create waits for response headers after sending, in milliseconds. Default: the
   * gateway's UPSTREAM_CREATE_TIMEOUT_MS default (60 000).
   * Longer than for polls because giving up on a create turns it into OUTCOME_UNKNOWN (the job
   * may exist but can't be followed), which is far worse than waiting.
   */
  createHeadersTimeoutMs?: number;
  /**
   * Longest gap allowed between two chunks of a response body, in milliseconds. Default: the
   * gateway's UPSTREAM_POLL_TIMEOUT_MS default (15 000), as the gateway sets it.
   * undici runs header and body timeouts on a coarse (~1 s) clock, so sub-second values act like about a second.
   */
  bodyTimeoutMs?: number;
  /** Largest response body read, in bytes; a larger one counts as unreadable. Default: 1_048_576 (1 MiB). */
  maxResponseBytes?: number;
  /** Extra attempts a poll makes after a transient failure (so 1 + pollRetries in all). Default: 2. */
  pollRetries?: number;
  /** Backoff before the first poll retry, in milliseconds; doubles per retry, jittered. Default: 250. */
  retryBaseDelayMs?: number;
  /**
   * Longest backoff between poll retries, in milliseconds. Default: 5_000. A 429 whose
   * `Retry-After` is longer than this is not waited out here: it is thrown at once so the caller
   * can back off globally.
   */
  retryMaxDelayMs?: number;
  /**
   * The upstream request budget a poll retry books a token from (the first attempt is the caller's).
   * A retry goes ahead only if the budget has a token for it by the end of its backoff; otherwise the
   * poll fails with its last failure, without waiting longer, and the poller reschedules it. Default: none.
   */
  retryBudget?: RequestBudget;
  /** `User-Agent` header. Default: `veo-graphql-gateway/0.1`. */
  userAgent?: string;
  /** Called once per HTTP attempt (for metrics); its exceptions are swallowed. */
  observer?: UpstreamCallObserver;
}

/** Transport failure codes that prove the request never left this process (no connection was made). */
const NOT_SENT_CODES: ReadonlySet<string> = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_FAIL',
  'EAI_NONAME',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EADDRNOTAVAIL',
  // No socket could be created (out of file descriptors, in this process or system-wide): a load
  // spike or a descriptor leak, not a reason to record a paid create as "maybe sent".
  'EMFILE',
  'ENFILE',
  'UND_ERR_INVALID_ARG',
  'UND_ERR_CLOSED',
  'UND_ERR_NOT_SUPPORTED',
  // TLS handshakes fail before any HTTP byte is written.
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'ERR_SSL_WRONG_VERSION_NUMBER',
]);

const TIMEOUT_CODES: ReadonlySet<string> = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

function errorCodes(err: unknown): string[] {
  const codes: string[] = [];
  const visit = (e: unknown, depth: number): void => {
    if (depth > 3 || typeof e !== 'object' || e === null) return;
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    // Happy-eyeballs connects fail with an AggregateError of per-address errors.
    const inner = (e as { errors?: unknown }).errors;
    if (Array.isArray(inner)) inner.forEach((x) => visit(x, depth + 1));
    visit((e as { cause?: unknown }).cause, depth + 1);
  };
  visit(err, 0);
  return codes;
}

/**
 * Whether a transport error proves nothing was sent. Anything not positively known to be a
 * connection failure counts as "maybe sent": ETIMEDOUT, ECONNRESET, EPIPE, UND_ERR_SOCKET,
 * parser errors and unknown codes can all happen after the request was written.
 */
export function provesNotSent(err: unknown): boolean {
  const codes = errorCodes(err);
  return codes.length > 0 && codes.every((c) => NOT_SENT_CODES.has(c));
}

function transportOutcome(err: unknown): 'timeout' | 'network' {
  return errorCodes(err).some((c) => TIMEOUT_CODES.has(c)) ? 'timeout' : 'network';
}

function describeTransport(err: unknown): string {
  const codes = errorCodes(err);
  return codes.length > 0 ? codes.join('/') : 'unknown error';
}

/** Destroying an unfinished undici body emits an abort error; nobody else is listening for it. */
function discard(body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => undefined);
  body.destroy();
}

type BodyRead = { ok: true; text: string } | { ok: false; reason: 'oversize' | 'transport'; error?: unknown };

/**
 * Reads at most `limit` bytes. Destroying the stream on overflow both frees the socket and
 * satisfies undici's rule that every body is consumed or discarded.
 */
async function readBody(body: Dispatcher.ResponseData['body'], limit: number, declaredLength: number | null): Promise<BodyRead> {
  if (declaredLength !== null && declaredLength > limit) {
    discard(body);
    return { ok: false, reason: 'oversize' };
  }
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of body) {
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
      total += buf.length;
      if (total > limit) {
        discard(body);
        return { ok: false, reason: 'oversize' };
      }
      chunks.push(buf);
    }
  } catch (error) {
    discard(body);
    return { ok: false, reason: 'transport', error };
  }
  return { ok: true, text: Buffer.concat(chunks).toString('utf8') };
}

/** One HTTP attempt, reduced to what the mapping rules need. */
type Attempt =
  { kind: 'response'; status: number; headers: Dispatcher.ResponseData['headers']; body: BodyRead } | { kind: 'transport'; error: unknown };

function tryParseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

function headerValue(headers: Dispatcher.ResponseData['headers'], name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export function createUpstreamClient(options: UpstreamClientOptions): UpstreamClient {
  const base = new URL(options.baseUrl);
  const prefix = base.pathname.replace(/\/+$/, '');
  const preferLegacy = options.legacyPaths ?? false;
  // A poll without its model (older callers) keeps to the preferred path, as before.
  const pathFor = (modelId: string | undefined): string =>
    prefix + (modelId === undefined ? (preferLegacy ? LEGACY_PATH : CURRENT_PATH) : pathForModel(modelId, preferLegacy));
  const apiKey = options.apiKey;
  const pollHeadersTimeout = options.headersTimeoutMs ?? DEFAULT_UPSTREAM_TIMEOUTS.pollMs;
  const createHeadersTimeout = options.createHeadersTimeoutMs ?? DEFAULT_UPSTREAM_TIMEOUTS.createMs;
  const bodyTimeout = options.bodyTimeoutMs ?? DEFAULT_UPSTREAM_TIMEOUTS.pollMs;
  const maxBytes = options.maxResponseBytes ?? 1_048_576;
  const pollRetries = Math.max(0, options.pollRetries ?? 2);
  const retryBase = options.retryBaseDelayMs ?? 250;
  const retryMax = options.retryMaxDelayMs ?? 5_000;
  const observer = options.observer;
  const retryBudget = options.retryBudget;

  // undici is loaded at the first request, not at start: loading it holds the main thread for 0.1–0.2 s,
  // and a gateway with nothing in flight sends nothing until its first create.
  let pool: Promise<Pool> | null = null;
  const connection = (): Promise<Pool> => {
    if (closed) return Promise.reject(new UpstreamError(UpstreamFailure.UNAVAILABLE, 'the upstream client is stopped'));
    pool ??= import('undici').then(
      ({ Pool }) =>
        new Pool(base.origin, {
          connect: { timeout: options.connectTimeoutMs ?? 5_000 },
          headersTimeout: pollHeadersTimeout,
          bodyTimeout,
          // No pipelining: a POST must never share a socket queue where a failure could fail it by association.
          pipelining: 1,
        }),
    );
    return pool;
  };
  let closed: Promise<void> | null = null;

  const headers = {
    authorization: `Bearer ${apiKey}`,
    'content-type': 'application/json',
    accept: 'application/json',
    'user-agent': options.userAgent ?? 'veo-graphql-gateway/0.1',
  };

  const safe = (message: string): string => redactSecrets(message, apiKey);

  const observe = (endpoint: UpstreamEndpoint, outcome: string, startedAt: number): void => {
    if (!observer) return;
    try {
      observer(endpoint, outcome, (performance.now() - startedAt) / 1000);
    } catch {
      // Metrics must never change the outcome of a call.
    }
  };

  async function attempt(method: 'GET' | 'POST', requestPath: string, body: string | null, headersTimeout: number): Promise<Attempt> {
    // Outside the try: a client that cannot send has sent nothing, so this is no transport failure.
    const upstream = await connection();
    let response: Dispatcher.ResponseData;
    try {
      response = await upstream.request({
        path: requestPath,
        method,
        headers,
        body,
        headersTimeout,
        bodyTimeout,
        // Explicit, so that no dispatcher default can ever replay a create.
        idempotent: method === 'GET',
      });
    } catch (error) {
      return { kind: 'transport', error };
    }
    const lengthHeader = headerValue(response.headers, 'content-length');
    const declared = lengthHeader !== undefined && /^\d+$/.test(lengthHeader) ? Number(lengthHeader) : null;
    const read = await readBody(response.body, maxBytes, declared);
    return { kind: 'response', status: response.statusCode, headers: response.headers, body: read };
  }

  /** Outcome label for the observer. */
  function outcomeOf(a: Attempt, parsedOk: boolean): string {
    if (a.kind === 'transport') return transportOutcome(a.error);
    if (!a.body.ok) return a.body.reason === 'transport' ? transportOutcome(a.body.error) : 'unreadable';
    if (a.status >= 200 && a.status < 300 && !parsedOk) return 'unreadable';
    return String(a.status);
  }

  function rejectionMessage(a: Extract<Attempt, { kind: 'response' }>): string {
    const text = a.body.ok ? cleanUpstreamMessage(a.body.text, apiKey) : '';
    return text || `upstream answered HTTP ${a.status}`;
  }

  /**
   * Maps a non-2xx response to its failure. Shared by create and poll, except 404 which only
   * means "unknown job" on a poll.
   */
  function httpFailure(endpoint: UpstreamEndpoint, a: Extract<Attempt, { kind: 'response' }>): UpstreamError {
    const status = a.status;
    if (status === 429) {
      const retryAfterMs = parseRetryAfter(a.headers['retry-after']);
      return new UpstreamError(UpstreamFailure.RATE_LIMITED, safe(rejectionMessage(a)), status, retryAfterMs);
    }
    if (status >= 400 && status < 500) {
      // A 4xx whose body we could not read may come from a broken intermediary, not the API.
      if (!a.body.ok) {
        return new UpstreamError(UpstreamFailure.UNAVAILABLE, `upstream answered HTTP ${status} with an unreadable body`, status);
      }
      if (status === 404 && endpoint === 'poll') {
        return new UpstreamError(UpstreamFailure.NOT_FOUND, safe(rejectionMessage(a)), status);
      }
      return new UpstreamError(UpstreamFailure.REJECTED, safe(rejectionMessage(a)), status);
    }
    const detail = a.body.ok ? cleanUpstreamMessage(a.body.text, apiKey) : '';
    return new UpstreamError(UpstreamFailure.UNAVAILABLE, safe(`upstream answered HTTP ${status}${detail ? `: ${detail}` : ''}`), status);
  }

  async function create(input: GenerationInput): Promise<UpstreamJob> {
    const payload = JSON.stringify(toWireBody(input));
    const startedAt = performance.now();
    const a = await attempt('POST', pathFor(input.model), payload, createHeadersTimeout);

    if (a.kind === 'transport') {
      observe('create', transportOutcome(a.error), startedAt);
      if (provesNotSent(a.error)) {
        throw new UpstreamError(UpstreamFailure.UNAVAILABLE, safe(`could not connect to the upstream (${describeTransport(a.error)})`));
      }
      throw new UpstreamError(
        UpstreamFailure.OUTCOME_UNKNOWN,
        safe(`create was sent but no answer arrived (${describeTransport(a.error)}); the job may exist upstream`),
      );
    }

    if (a.status >= 200 && a.status < 300) {
      let job: UpstreamJob | null = null;
      let why = '';
      if (!a.body.ok) {
        why = a.body.reason === 'oversize' ? 'the body was too large' : `the body was cut off (${describeTransport(a.body.error)})`;
      } else {
        const parsed = tryParseJson(a.body.text);
        if (!parsed.ok) why = 'the body was not JSON';
        else {
          try {
            job = parseJob(parsed.value, { apiKey: options.apiKey });
          } catch (error) {
            why = error instanceof Error ? error.message : 'the body was not a job';
          }
        }
      }
      observe('create', outcomeOf(a, job !== null), startedAt);
      if (job) return job;
      throw new UpstreamError(
        UpstreamFailure.OUTCOME_UNKNOWN,
        safe(`create answered HTTP ${a.status} but ${why}; the job may exist upstream`),
        a.status,
      );
    }

    observe('create', outcomeOf(a, false), startedAt);
    throw httpFailure('create', a);
  }

  /**
   * Books a retry's token, to be spent `waitMs` from now (when its backoff ends). A budget that cannot
   * give one by then refuses: waiting longer would hold a poller slot for a poll the schedule can
   * simply try again later, and borrowing further ahead would take tokens from polls that are due.
   */
  async function mayRetry(waitMs: number): Promise<boolean> {
    if (!retryBudget) return true;
    try {
      return (await retryBudget.reserve(waitMs)).ok;
    } catch {
      return false; // an unanswerable budget protects the upstream rather than the retry
    }
  }

  /**
   * The retry's token was booked for the end of its backoff, but its timer may fire late (a busy event
   * loop): counted again as spent now, as it leaves, it cannot bunch with the tokens that came meanwhile.
   */
  async function spendRetryTokenNow(): Promise<void> {
    try {
      await retryBudget?.rebook(1);
    } catch {
      // The booked token stands; the retry was already allowed.
    }
  }

  async function get(upstreamId: string, modelId?: string): Promise<UpstreamJob> {
    const requestPath = `${pathFor(modelId)}?generation_id=${encodeURIComponent(upstreamId)}`;
    let last: UpstreamError | null = null;
    for (let i = 0; i <= pollRetries; i++) {
      if (i > 0) {
        const wait = Math.max(retryDelayMs(i - 1, retryBase, retryMax), last?.retryAfterMs ?? 0);
        if (last && !(await mayRetry(wait))) {
          throw new UpstreamError(
            last.failure,
            `${last.message} (not retried: the upstream request budget is spent)`,
            last.httpStatus,
            last.retryAfterMs,
          );
        }
        await sleep(wait);
        if (last) await spendRetryTokenNow();
      }
      const startedAt = performance.now();
      const a = await attempt('GET', requestPath, null, pollHeadersTimeout);

      if (a.kind === 'transport') {
        observe('poll', transportOutcome(a.error), startedAt);
        last = new UpstreamError(UpstreamFailure.UNAVAILABLE, safe(`poll failed (${describeTransport(a.error)})`));
        continue;
      }

      if (a.status >= 200 && a.status < 300) {
        let job: UpstreamJob | null = null;
        if (a.body.ok) {
          const parsed = tryParseJson(a.body.text);
          if (parsed.ok) {
            try {
              job = parseJob(parsed.value, { fallbackId: upstreamId, apiKey: options.apiKey });
            } catch {
              job = null;
            }
          }
        }
        observe('poll', outcomeOf(a, job !== null), startedAt);
        if (job) return job;
        last = new UpstreamError(UpstreamFailure.UNAVAILABLE, `poll answered HTTP ${a.status} with an unreadable body`, a.status);
        continue;
      }

      observe('poll', outcomeOf(a, false), startedAt);
      const failure = httpFailure('poll', a);
      if (failure.failure === UpstreamFailure.RATE_LIMITED) {
        // Waiting out a long Retry-After here would stall one poll while others keep hitting the limit.
        if (failure.retryAfterMs !== null && failure.retryAfterMs > retryMax) throw failure;
        last = failure;
        continue;
      }
      if (failure.failure === UpstreamFailure.NOT_FOUND || failure.failure === UpstreamFailure.REJECTED) {
        throw failure;
      }
      last = failure;
    }
    throw last ?? new UpstreamError(UpstreamFailure.UNAVAILABLE, 'poll failed');
  }

  return {
    create,
    get,
    stop() {
      closed ??= pool ? pool.then((p) => p.close()) : Promise.resolve();
      return closed;
    },
  };
}
