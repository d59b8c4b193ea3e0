/**
 * The circuit breaker against a real simulator that keeps failing: it opens, upstream traffic
 * stops (creates are refused unsent, the poller pauses), /readyz says so, and once the upstream
 * recovers a probe closes it and the pending generation completes.
 */
import { CREATE, GET, gql, gqlData, sleep, waitFor, useGateway } from '../helpers/gateway';

const INPUT = { model: 'google/veo-3.0-fast', prompt: 'a storm over the sea' };
const HALF_OPEN_MS = 3_000;

const gw = useGateway({ env: { UPSTREAM_BREAKER_FAILURES: '3', UPSTREAM_BREAKER_HALF_OPEN_MS: String(HALF_OPEN_MS) } });

async function readyz(): Promise<{ status: number; body: any }> {
  const res = await fetch(gw.app.url.replace(/\/graphql$/, '/readyz'));
  return { status: res.status, body: await res.json() };
}

const counts = () => gw.simulator.control.counts();

/** Polls the poller attempted (any result), from /metrics: these stop too, not just the upstream's counts. */
async function pollAttempts(): Promise<number> {
  const text = await (await fetch(gw.app.url.replace(/\/graphql$/, '/metrics'))).text();
  return [...text.matchAll(/^gateway_polls_total\{result="\w+"\} (\d+)/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
}

it('opens on a failing upstream, stops sending, and closes again when the upstream recovers', async () => {
  const key = await gw.keyFor('breaker-owner');
  const pending = (await gqlData(gw, key, CREATE, { input: INPUT })).createVideoGeneration;
  gw.simulator.control.injectFault({ endpoint: 'any', action: { kind: 'status', status: 503 }, times: Infinity });

  // Failing creates (and the pending generation's failing polls) open it.
  for (let i = 0; i < 3; i++) {
    const res = await gql(gw, key, CREATE, { input: INPUT });
    expect(res.body.errors?.[0]?.extensions?.code).toBe('UPSTREAM_UNAVAILABLE');
    if ((await readyz()).body.checks.upstream === 'circuit open') break;
  }
  const open = await waitFor('the circuit to open', async () => {
    const r = await readyz();
    return r.body.checks.upstream === 'circuit open' ? r : null;
  });
  // Reported, but still ready: reads, lists and subscriptions are served from the store.
  expect(open.status).toBe(200);

  // While open: a create is refused with a retry hint and never reaches the upstream; polls stop.
  // (A poll that started before the circuit opened may still finish its retries: let it.)
  await sleep(1_000);
  const before = counts();
  const attemptsBefore = await pollAttempts();
  const refused = await gql(gw, key, CREATE, { input: INPUT });
  expect(refused.body.errors![0]!.extensions!.code).toBe('UPSTREAM_UNAVAILABLE');
  expect(refused.body.errors![0]!.extensions!.retryAfterSeconds).toBeGreaterThanOrEqual(1);
  expect(refused.body.errors![0]!.message).toMatch(/circuit open/);
  await sleep(1_000);
  const during = counts();
  expect(during.create).toBe(before.create);
  expect(during.poll).toBe(before.poll);
  expect(await pollAttempts()).toBe(attemptsBefore);
  // Nothing was stored for the refused create; the pending generation is still pending, not failed.
  const mine = (await gqlData(gw, key, '{ videoGenerations { nodes { id status } } }')).videoGenerations.nodes;
  expect(mine).toEqual([{ id: pending.id, status: expect.stringMatching(/QUEUED|GENERATING/) }]);

  // The upstream recovers: after the half-open delay one probe goes through and closes the circuit.
  gw.simulator.control.clearFaults();
  await waitFor('the circuit to close', async () => (await readyz()).body.checks.upstream === 'ok', 10_000);
  const done = await waitFor('the pending generation to complete', async () => {
    const g = (await gqlData(gw, key, GET, { id: pending.id })).videoGeneration;
    return g.status === 'COMPLETED' ? g : null;
  });
  expect(done.video.url).toBeTruthy();
  expect((await gqlData(gw, key, CREATE, { input: INPUT })).createVideoGeneration.status).toBe('QUEUED');
  expect(gw.logs.join('')).toContain('upstream circuit open');
});
