/**
 * The circuit breaker's state and the quota refusals, as /metrics shows them while a real gateway
 * refuses real requests and a real simulator fails, stalls and recovers.
 */
import { CREATE, gql, gqlData, startGateway, waitFor, type TestGateway, useGateway } from '../helpers/gateway';

const INPUT = { model: 'google/veo-3.0-fast', prompt: 'a lantern in the fog' };

/** Every sample of one metric family, as `labels → value`. */
async function samples(gw: TestGateway, name: string): Promise<Record<string, number>> {
  const text = await (await fetch(gw.app.url.replace(/\/graphql$/, '/metrics'))).text();
  const found: Record<string, number> = {};
  for (const m of text.matchAll(new RegExp(`^${name}\\{(\\w+)="([\\w-]+)"\\} (\\S+)$`, 'gm'))) found[m[2]!] = Number(m[3]);
  return found;
}

const refusals = (gw: TestGateway) => samples(gw, 'gateway_quota_refusals_total');
const circuit = (gw: TestGateway) => samples(gw, 'gateway_upstream_circuit_state');

describe('quota refusals', () => {
  const gw = useGateway({ timeScale: 1, env: { QUOTA_CREATES_PER_MINUTE: '2', QUOTA_MAX_IN_FLIGHT: '1', QUOTA_REQUESTS_PER_SECOND: '3' } });
  // Real-time jobs (about a minute and a half) stay in flight for the whole test.

  it('counts each refusal by the quota that refused it, and nothing else', async () => {
    expect(await refusals(gw)).toEqual({ creates_per_minute: 0, in_flight: 0, requests_per_second: 0, subscriptions: 0 });
    const code = (res: Awaited<ReturnType<typeof gql>>) => res.body.errors?.[0]?.extensions?.code ?? 'ok';

    // In flight: the second create while the first runs (its create point is given back).
    const dana = await gw.keyFor('metrics-dana');
    const first = (await gqlData(gw, dana, CREATE, { input: INPUT })).createVideoGeneration;
    expect(code(await gql(gw, dana, CREATE, { input: INPUT }))).toBe('RATE_LIMITED');
    expect(await refusals(gw)).toEqual({ creates_per_minute: 0, in_flight: 1, requests_per_second: 0, subscriptions: 0 });

    // Creates per minute: cancel to free the slot, create again (2 of 2 this minute), then one more.
    await new Promise((r) => setTimeout(r, 1_100)); // a fresh second for the operations-per-second window
    await gqlData(gw, dana, `mutation { cancelVideoGeneration(id: "${first.id}") { status } }`);
    await gqlData(gw, dana, CREATE, { input: INPUT });
    const refused = await gql(gw, dana, CREATE, { input: INPUT });
    expect(refused.body.errors?.[0]?.message).toMatch(/generations per minute/);
    expect(await refusals(gw)).toEqual({ creates_per_minute: 1, in_flight: 1, requests_per_second: 0, subscriptions: 0 });

    // Operations per second: a burst of six from another owner (three a second allowed) gets 429s.
    const eve = await gw.keyFor('metrics-eve');
    const burst = await Promise.all(Array.from({ length: 6 }, () => gql(gw, eve, '{ videoModels { id } }')));
    const limited = burst.filter((res) => res.status === 429).length;
    expect(limited).toBeGreaterThanOrEqual(1);
    expect(await refusals(gw)).toEqual({ creates_per_minute: 1, in_flight: 1, requests_per_second: limited, subscriptions: 0 });
  });
});

describe('circuit breaker state', () => {
  const HALF_OPEN_MS = 1_000;
  const gw = useGateway({ env: { UPSTREAM_BREAKER_FAILURES: '2', UPSTREAM_BREAKER_HALF_OPEN_MS: String(HALF_OPEN_MS) } });

  it('shows closed, then open after failures, half-open during the probe, and closed again', async () => {
    expect(await circuit(gw)).toEqual({ closed: 1, open: 0, 'half-open': 0 });
    const key = await gw.keyFor('metrics-breaker');

    // Failing creates store nothing, so no polls run: only these two calls reach the upstream.
    gw.simulator.control.injectFault({ endpoint: 'create', action: { kind: 'status', status: 503 }, times: 2 });
    for (let i = 0; i < 2; i++)
      expect((await gql(gw, key, CREATE, { input: INPUT })).body.errors?.[0]?.extensions?.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(await circuit(gw)).toEqual({ closed: 0, open: 1, 'half-open': 0 });

    // After the half-open delay, the next create is the probe; the upstream holds it for five seconds.
    gw.simulator.control.injectFault({ endpoint: 'create', action: { kind: 'delay', ms: 5_000 }, times: 1 });
    await new Promise((r) => setTimeout(r, HALF_OPEN_MS + 100));
    const probe = gqlData(gw, key, CREATE, { input: INPUT });
    await waitFor('the probe to put the circuit half-open', async () => (await circuit(gw))['half-open'] === 1, 4_500);
    expect(await circuit(gw)).toEqual({ closed: 0, open: 0, 'half-open': 1 });

    expect((await probe).createVideoGeneration.status).toBe('QUEUED');
    expect(await circuit(gw)).toEqual({ closed: 1, open: 0, 'half-open': 0 });
  });
});

describe('access to /metrics', () => {
  const TOKEN = 'metrics-scraper-token-5b1e9c';
  let guarded: TestGateway;
  let production: TestGateway;
  const scrape = (gw: TestGateway, authorization?: string) =>
    fetch(gw.app.url.replace(/\/graphql$/, '/metrics'), { headers: authorization ? { authorization } : {} });

  beforeAll(async () => {
    [guarded, production] = await Promise.all([startGateway({ env: { METRICS_TOKEN: TOKEN } }), startGateway({ env: { NODE_ENV: 'production' } })]);
  }, 60_000);
  afterAll(() => Promise.all([guarded?.stop(), production?.stop()]));

  it('serves Prometheus text only with the METRICS_TOKEN bearer token', async () => {
    const ok = await scrape(guarded, `Bearer ${TOKEN}`);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('gateway_websocket_buffered_bytes');

    const apiKey = await guarded.keyFor('metrics-erin');
    for (const authorization of [undefined, `Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`, TOKEN, `Bearer ${apiKey}`]) {
      const res = await scrape(guarded, authorization);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
      const body = (await res.json()) as { errors: Array<{ message: string; extensions: { code: string } }> };
      expect(body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
      expect(JSON.stringify(body)).not.toContain('gateway_');
    }
  });

  it('refuses /metrics in production when no METRICS_TOKEN is set', async () => {
    const res = await scrape(production);
    expect(res.status).toBe(403);
    const body = (await res.json()) as { errors: Array<{ message: string; extensions: { code: string } }> };
    expect(body.errors[0]).toMatchObject({ extensions: { code: 'FORBIDDEN' }, message: expect.stringContaining('METRICS_TOKEN') });
    // Health checks stay open.
    expect((await fetch(production.app.url.replace(/\/graphql$/, '/healthz'))).status).toBe(200);
  });
});
