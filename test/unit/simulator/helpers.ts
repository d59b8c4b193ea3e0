import { startSimulator, type Simulator, type SimulatorOptions } from '../../../src/simulator';
import { vendorModel } from '../../../src/simulator/vendor-specs';

export const KEY = 'test-key';
export const CREATE = '/v2/video/generations';
export const LEGACY = '/v2/generate/video/google/generation';

export function start(options: Partial<SimulatorOptions> = {}): Promise<Simulator> {
  return startSimulator({ apiKey: KEY, host: '127.0.0.1', port: 0, ...options });
}

export function auth(key = KEY): Record<string, string> {
  return { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
}

export function create(sim: Simulator, body: unknown, path = CREATE, key = KEY): Promise<Response> {
  return fetch(`${sim.url}${path}`, { method: 'POST', headers: auth(key), body: JSON.stringify(body) });
}

export function poll(sim: Simulator, id: string, path = CREATE, key = KEY): Promise<Response> {
  return fetch(`${sim.url}${path}?generation_id=${encodeURIComponent(id)}`, { headers: auth(key) });
}

export async function createId(sim: Simulator, body: unknown): Promise<string> {
  const res = await create(sim, body);
  if (res.status !== 201) throw new Error(`create failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { id: string }).id;
}

export async function pollJson(sim: Simulator, id: string): Promise<Record<string, any>> {
  const res = await poll(sim, id);
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, any>;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls until the status is terminal or `ms` passes. */
export async function waitForStatus(sim: Simulator, id: string, status: string, ms = 5000): Promise<Record<string, any>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const body = await pollJson(sim, id);
    if (body.status === status || Date.now() > deadline) return body;
    await sleep(20);
  }
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
export const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export async function expectEnvelope(res: Response, status: number, path: string): Promise<string> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
  const body = (await res.json()) as Record<string, unknown>;
  expect(Object.keys(body).sort()).toEqual(['message', 'path', 'requestId', 'statusCode', 'timestamp']);
  expect(body.statusCode).toBe(status);
  expect(body.path).toBe(path);
  expect(body.requestId).toMatch(UUID);
  expect(body.timestamp).toMatch(ISO_MS);
  return body.message as string;
}

/** The vendor schema's default `duration` of a model (written as a string in most files), or its only value. */
export function defaultDuration(model: string): number | undefined {
  const duration = (vendorModel(model)?.request.properties as Record<string, { default?: unknown; enum?: unknown[] }> | undefined)?.duration;
  const value = duration?.default ?? (duration?.enum?.length === 1 ? duration.enum[0] : undefined);
  return value === undefined ? undefined : Number(value);
}
