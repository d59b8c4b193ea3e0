/**
 * Test harness: a real gateway on 127.0.0.1 port 0, in front of a real simulator the test can
 * steer, with real HTTP (fetch) and WebSocket (graphql-ws client) clients.
 */
import 'reflect-metadata';
import { Writable } from 'node:stream';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { startApp, type App } from '../../src/app';
import { createApiKey } from '../../src/auth/api-keys';
import { loadConfig } from '../../src/config';
import { startSimulator, type Simulator } from '../../src/simulator';
import { START_TIMEOUT_MS } from './timeouts';

export const SIMULATOR_KEY = 'sim-canary-key-3f9a7c21d4e8b6';

/** Default scale for e2e tests: a ~2 minute model finishes in ~1.2 s. */
export const TEST_TIME_SCALE = 0.01;

export interface TestGateway {
  app: App;
  simulator: Simulator;
  /** Every log line the gateway wrote. */
  logs: string[];
  /** Creates an API key for `owner` and returns it. */
  keyFor(owner: string): Promise<string>;
  /** Stops the gateway (and the simulator unless `keepSimulator`). Safe to call twice. */
  stop(options?: { keepSimulator?: boolean }): Promise<void>;
}

export interface StartOptions {
  /** Extra environment for `loadConfig` (e.g. POLL_MIN_INTERVAL_MS). */
  env?: Record<string, string>;
  /** Reuse a running simulator (restart tests). */
  simulator?: Simulator;
  /** Simulator time scale. Default TEST_TIME_SCALE. */
  timeScale?: number;
  /** A data folder for the embedded store; default in memory. */
  dataDir?: string;
}

export async function startGateway(options: StartOptions = {}): Promise<TestGateway> {
  const timeScale = options.timeScale ?? TEST_TIME_SCALE;
  const simulator = options.simulator ?? (await startSimulator({ apiKey: SIMULATOR_KEY, port: 0, timeScale, seed: 1 }));
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    AIMLAPI_API_KEY: SIMULATOR_KEY,
    AIMLAPI_BASE_URL: simulator.url,
    UPSTREAM_TIME_SCALE: String(timeScale),
    POLL_MIN_INTERVAL_MS: '2000',
    DEV_API_KEY: 'false',
    SHUTDOWN_GRACE_MS: '500',
    // Per-owner quotas and the circuit breaker are off unless a test turns them on (their own tests do):
    // other suites make bursts of requests and inject runs of upstream failures on purpose.
    QUOTA_CREATES_PER_MINUTE: '0',
    QUOTA_MAX_IN_FLIGHT: '0',
    QUOTA_REQUESTS_PER_SECOND: '0',
    QUOTA_MAX_SUBSCRIPTIONS: '0',
    // Suites send many anonymous probes from 127.0.0.1; the per-address limit has its own tests.
    ANONYMOUS_REQUESTS_PER_MINUTE: '0',
    UPSTREAM_BREAKER_FAILURES: '0',
    // The upstream request budget too (test/e2e/upstream-budget.test.ts has its own): suites at time scale
    // 0.01 poll every few ms on purpose.
    UPSTREAM_REQUESTS_PER_SECOND: '0',
    // The media store (copies of finished videos, a new version per copy) is off unless a test turns it on
    // (test/e2e/media-store.test.ts): other suites count the versions and events of a generation.
    MEDIA_STORE: 'off',
    ...(options.dataDir ? { DATA_DIR: options.dataDir } : { DATA_IN_MEMORY: 'true' }),
    ...options.env,
  });
  const logs: string[] = [];
  const logDestination = new Writable({
    write(chunk, _encoding, callback) {
      logs.push(String(chunk));
      callback();
    },
  });
  const app = await startApp(config, { logDestination });
  let stopped = false;
  return {
    app,
    simulator,
    logs,
    keyFor: async (owner) => (await createApiKey(app.store, owner)).key,
    stop: async ({ keepSimulator = false } = {}) => {
      if (stopped) return;
      stopped = true;
      await app.stop();
      if (!keepSimulator && !options.simulator) await simulator.stop();
    },
  };
}

/**
 * A gateway for the tests of the enclosing `describe` (or file): started in `beforeAll`, stopped in
 * `afterAll`. The handle is filled once that `beforeAll` has run, so read it in tests and in hooks
 * declared after this call. `options` may be a function, called in `beforeAll`, for values that exist
 * only then (a database URL from an earlier hook).
 * A start waits up to 120 s by default: a test file's first start compiles PGlite's WASM and opens the
 * embedded database's thread, which on a loaded shared machine took over Jest's default 30 s.
 */
export function useGateway(options: StartOptions | (() => StartOptions) = {}, startTimeoutMs = START_TIMEOUT_MS): TestGateway {
  let gateway: TestGateway | null = null;
  const started = (): TestGateway => {
    if (!gateway) throw new Error('the gateway of useGateway() is not started: read it in a test, or in a hook declared after useGateway()');
    return gateway;
  };
  beforeAll(async () => {
    gateway = await startGateway(typeof options === 'function' ? options() : options);
  }, startTimeoutMs);
  afterAll(() => gateway?.stop(), startTimeoutMs);
  return {
    get app() {
      return started().app;
    },
    get simulator() {
      return started().simulator;
    },
    get logs() {
      return started().logs;
    },
    keyFor: (owner) => started().keyFor(owner),
    stop: (stopOptions) => started().stop(stopOptions),
  };
}

export interface GraphQLResponse<T = any> {
  status: number;
  body: { data?: T; errors?: Array<{ message: string; extensions?: Record<string, any> }> };
  text: string;
}

/** An operation as text, or as a generated typed document (src/web/generated), which types the result. */
export type Operation<T = any, V = any> = string | TypedDocumentNode<T, V>;

const operationText = (query: Operation): string => (typeof query === 'string' ? query : print(query));

/** A gateway to send operations to: one started in this process, or any served at `url` (a gateway process). */
type GraphQLTarget = TestGateway | App | { readonly url: string };

/** POSTs a GraphQL operation over HTTP. */
export async function gql<T = any, V = Record<string, unknown>>(
  gateway: GraphQLTarget,
  key: string | null,
  query: Operation<T, V>,
  variables?: V,
): Promise<GraphQLResponse<T>> {
  const { url } = 'app' in gateway ? gateway.app : gateway;
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify({ query: operationText(query), variables }),
  });
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text), text };
}

/** Like `gql`, but fails the test on any error and returns `data`. */
export async function gqlData<T = any, V = Record<string, unknown>>(
  gateway: GraphQLTarget,
  key: string,
  query: Operation<T, V>,
  variables?: V,
): Promise<T> {
  const res = await gql<T, V>(gateway, key, query, variables);
  if (res.body.errors?.length || !res.body.data) throw new Error(`GraphQL errors: ${res.text}`);
  return res.body.data;
}

/** A graphql-ws client with the key in connectionParams. Raw frames are recorded in `frames`. */
export function wsClient(gateway: TestGateway | App, key: string, options: { retryAttempts?: number; url?: string; frames?: string[] } = {}): Client {
  const app = 'app' in gateway ? gateway.app : gateway;
  const frames = options.frames;
  class RecordingWebSocket extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols);
      if (frames) this.on('message', (data) => frames.push(String(data)));
    }
  }
  return createClient({
    url: options.url ?? app.wsUrl,
    webSocketImpl: RecordingWebSocket,
    connectionParams: { authorization: `Bearer ${key}` },
    retryAttempts: options.retryAttempts ?? 0,
    lazy: true,
  });
}

export interface Collected<T> {
  values: T[];
  errors: unknown[];
  /** Resolves when the subscription completes or errors. */
  done: Promise<void>;
  unsubscribe(): void;
}

/** The callbacks a subscription client reports to: each result, then an error or the end. */
export interface SubscriptionSink<T> {
  next(result: { data?: T | null; errors?: ReadonlyArray<unknown> }): void;
  error(err: unknown): void;
  complete(): void;
}

/**
 * Collects every `data` payload (and errors) a client reports until completion; `subscribe` hands the
 * sink to the client and returns how to unsubscribe.
 */
export function collectFrom<T>(subscribe: (sink: SubscriptionSink<T>) => () => void): Collected<T> {
  const values: T[] = [];
  const errors: unknown[] = [];
  let unsubscribe: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    unsubscribe = subscribe({
      next: (result) => {
        if (result.errors) errors.push(...result.errors);
        if (result.data) values.push(result.data);
      },
      error: (err) => {
        errors.push(err);
        resolve();
      },
      complete: () => resolve(),
    });
  });
  return { values, errors, done, unsubscribe: () => unsubscribe() };
}

/** Subscribes and collects every `data` payload (and errors) until completion. */
export function collect<T = any, V = Record<string, unknown>>(client: Client, query: Operation<T, V>, variables?: V): Collected<T> {
  return collectFrom<T>((sink) =>
    client.subscribe<T>({ query: operationText(query), variables: variables as Record<string, unknown> | undefined }, sink),
  );
}

export { within } from './within';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Re-checks `predicate` until it holds or `timeoutMs` passes; throws with `what` on timeout. */
export async function waitFor<T>(
  what: string,
  predicate: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  timeoutMs = 10_000,
  everyMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await predicate();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

export const GENERATION_FIELDS = `
  id model prompt status upstreamStatus upstreamId version progress etaSeconds estimatedCompletionAt
  video { url contentType fileName sizeBytes }
  error { code message upstream }
  usage { credits usd }
  transitions { status upstreamStatus at }
  settings { durationSeconds aspectRatio resolution imageUrl lastImageUrl imageUrls videoUrl }
  createdAt updatedAt completedAt deadlineAt idempotencyKey
`;

export const CREATE = `mutation Create($input: CreateVideoGenerationInput!) {
  createVideoGeneration(input: $input) { ${GENERATION_FIELDS} }
}`;

export const GET = `query Get($id: ID!) { videoGeneration(id: $id) { ${GENERATION_FIELDS} } }`;

export const WATCH = `subscription Watch($id: ID!) { videoGenerationUpdated(id: $id) { ${GENERATION_FIELDS} } }`;

export const WATCH_ALL = `subscription WatchAll($status: [GenerationStatus!]) {
  videoGenerationsUpdated(status: $status) { ${GENERATION_FIELDS} }
}`;

/** The typed documents the project ships (src/web/operations.graphql, generated by `npm run codegen`). */
export {
  CancelVideoGenerationDocument,
  CreateVideoGenerationDocument,
  VideoGenerationDocument,
  VideoGenerationsDocument,
  VideoGenerationUpdatedDocument,
  VideoGenerationsUpdatedDocument,
  VideoModelsDocument,
} from '../../src/web/generated/graphql';
