/**
 * Starts the real gateway in this process, in front of a given (simulated) upstream, with an API
 * key for one owner. Logs below `error` are dropped so they do not cost the measurement.
 */
import 'reflect-metadata';
import { startApp, type App } from '../src/app';
import { createApiKey } from '../src/auth/api-keys';
import { loadConfig } from '../src/config';

export interface BenchGateway {
  app: App;
  key: string;
  owner: string;
}

export async function startBenchGateway(options: {
  upstreamUrl: string;
  upstreamKey: string;
  timeScale: number;
  env?: Record<string, string>;
}): Promise<BenchGateway> {
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'error',
    AIMLAPI_API_KEY: options.upstreamKey,
    AIMLAPI_BASE_URL: options.upstreamUrl,
    UPSTREAM_TIME_SCALE: String(options.timeScale),
    DATA_IN_MEMORY: 'true',
    DEV_API_KEY: 'false',
    SHUTDOWN_GRACE_MS: '200',
    ...options.env,
  });
  const app = await startApp(config);
  const owner = 'bench';
  const { key } = await createApiKey(app.store, owner);
  return { app, key, owner };
}

/** POSTs one GraphQL operation and returns `data`, throwing on any error. */
export async function graphql<T>(url: string, key: string, query: string, variables?: Record<string, unknown>): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: T; errors?: unknown[] };
  if (body.errors?.length || !body.data) throw new Error(`GraphQL error (${res.status}): ${JSON.stringify(body)}`);
  return body.data;
}
