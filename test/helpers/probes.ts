/**
 * What the abuse tests share: sending a probe over HTTP or graphql-ws while recording everything a
 * client saw (bodies, headers, frames, close reasons), and the checks every probe ends with —
 * refused with JSON 4xx or a GraphQL error, the process still healthy, and the canary upstream key
 * (`SIMULATOR_KEY`) nowhere in what clients saw, in the logs or in the metrics.
 */
import type { Client } from 'graphql-ws';
import { SIMULATOR_KEY, collect, wsClient, type TestGateway } from './gateway';
import { collectSse, readMultipart, type HttpTransport } from './http-subscriptions';

export interface Raw {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

export interface WsOutcome {
  values: unknown[];
  errors: Array<{ message?: string; extensions?: Record<string, unknown>; code?: number }>;
  frames: string[];
}

/** Everything clients were sent during a test file, for the canary check. */
const seen: string[] = [];

/** Sends a raw HTTP request and records the answer. */
export async function send(url: string, init: RequestInit): Promise<Raw> {
  const res = await fetch(url, init);
  const text = await res.text();
  seen.push(`${res.status} ${JSON.stringify([...res.headers.entries()])}\n${text}`);
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

export const postJson = (gw: TestGateway, body: unknown, headers: Record<string, string> = {}): Promise<Raw> =>
  send(gw.app.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

/** Sends one operation over graphql-ws and waits for its end (or 3 s). */
export async function overWs(gw: TestGateway, key: string, query: string, variables?: Record<string, unknown>): Promise<WsOutcome> {
  const frames: string[] = [];
  const client: Client = wsClient(gw, key, { frames });
  try {
    const sub = collect(client, query, variables);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([sub.done, new Promise((r) => (timer = setTimeout(r, 3_000)))]);
    clearTimeout(timer);
    sub.unsubscribe();
    // graphql-ws hands an `error` message's payload (an array of GraphQL errors) to the sink as one value.
    return { values: sub.values, errors: sub.errors.flat() as WsOutcome['errors'], frames };
  } finally {
    await client.dispose();
    seen.push(...frames);
  }
}

/**
 * A subscription over SSE (graphql-sse's client) or multipart HTTP (a raw reader, which keeps a
 * refusal's JSON body), in overWs's shape: results with data, the errors, and what the wire carried.
 */
export async function overHttpStream(
  gw: TestGateway,
  transport: HttpTransport,
  key: string,
  query: string,
  variables?: Record<string, unknown>,
): Promise<WsOutcome> {
  let timer: NodeJS.Timeout | undefined;
  const settled = (done: Promise<void>) =>
    Promise.race([done, new Promise((r) => (timer = setTimeout(r, 3_000)))]).finally(() => clearTimeout(timer));
  if (transport === 'sse') {
    const sub = collectSse(gw, key, query, variables);
    await settled(sub.done);
    sub.unsubscribe();
    const frames = [...sub.values, ...sub.errors].map((v) => JSON.stringify(v));
    seen.push(...frames);
    return { values: sub.values, errors: sub.errors as WsOutcome['errors'], frames };
  }
  const stream = await readMultipart(gw, key, query, variables);
  await settled(stream.done);
  stream.abort();
  type Part = { payload?: { data?: unknown; errors?: WsOutcome['errors'] } | null; errors?: WsOutcome['errors'] };
  const parts = stream.parts as Part[];
  const frames = parts.map((p) => JSON.stringify(p));
  seen.push(...frames);
  return {
    values: parts.flatMap((p) => (p.payload?.data ? [p.payload.data] : [])),
    errors: parts.flatMap((p) => p.errors ?? p.payload?.errors ?? []),
    frames,
  };
}

/** Records what a raw socket or any other client saw, for the canary check. */
export function recordSeen(...texts: string[]): void {
  seen.push(...texts);
}

/** A refused request: a 4xx with a JSON body carrying GraphQL-style errors. */
export function expectJson4xx(res: Raw, status?: number | number[]): void {
  expect(res.status).toBeGreaterThanOrEqual(400);
  expect(res.status).toBeLessThan(500);
  if (status !== undefined) expect([status].flat()).toContain(res.status);
  expect(res.headers.get('content-type')).toMatch(/json/);
  expect(res.json).toBeDefined();
  expect(Array.isArray(res.json.errors)).toBe(true);
  expect(res.json.errors.length).toBeGreaterThan(0);
  expect(res.text).not.toMatch(/<html|<!DOCTYPE|\bat \w+ \(|stacktrace/i);
}

/** A GraphQL document refused before execution: HTTP 400, errors, no data. */
export function expectRefusedDocument(res: Raw, message?: RegExp): void {
  expectJson4xx(res, 400);
  expect(res.json.data).toBeUndefined();
  if (message) expect(res.json.errors.map((e: { message: string }) => e.message).join('\n')).toMatch(message);
}

/** An operation refused over graphql-ws with GraphQL errors (not a dropped socket), nothing executed. */
export function expectWsRefused(out: WsOutcome, message?: RegExp): void {
  expect(out.values).toEqual([]);
  expect(out.errors.length).toBeGreaterThan(0);
  expect(out.errors[0]!.message).toEqual(expect.any(String));
  if (message) expect(out.errors.map((e) => e.message).join('\n')).toMatch(message);
}

/**
 * The checks every file of probes makes: after each probe the gateway is still healthy, and before
 * it stops nothing carried the canary key. `gateway` reads the suite's gateway (set in its beforeAll).
 */
export function checkAfterProbes(gateway: () => TestGateway): void {
  afterEach(() => expectHealthy(gateway()));
  afterAll(async () => {
    await expectCanaryAbsent(gateway());
    await gateway()?.stop();
  });
}

/** The process still answers `/healthz` and `/readyz`, and serves a plain query. */
export async function expectHealthy(gw: TestGateway): Promise<void> {
  const origin = new URL(gw.app.url).origin;
  expect((await fetch(`${origin}/healthz`)).status).toBe(200);
  expect((await fetch(`${origin}/readyz`)).status).toBe(200);
  const res = await fetch(gw.app.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ videoModels { id } }' }),
  });
  expect(res.status).toBe(200);
}

/**
 * The canary upstream key appears in nothing a client was sent during this file, in no log line and
 * in no metric. Call it in `afterAll`, before stopping the gateways.
 */
export async function expectCanaryAbsent(...gateways: TestGateway[]): Promise<void> {
  expect(seen.length).toBeGreaterThan(0);
  expect(seen.join('\n')).not.toContain(SIMULATOR_KEY);
  for (const gw of gateways) {
    expect(gw.logs.join('')).not.toContain(SIMULATOR_KEY);
    const access = gw.app.config.metricsAccess;
    // A production gateway without METRICS_TOKEN serves no metrics over HTTP: read what it would serve.
    const metrics =
      access === 'refused'
        ? await gw.app.metrics.registry.metrics()
        : await fetch(`${new URL(gw.app.url).origin}/metrics`, {
            headers: access === 'open' ? {} : { authorization: `Bearer ${access.token}` },
          }).then((r) => r.text());
    expect(metrics).toContain('gateway_');
    expect(metrics).not.toContain(SIMULATOR_KEY);
  }
}
