import { UpstreamCircuit, countsAgainstUpstream } from '../../../../src/upstream/health/circuit-breaker';
import { UpstreamError, UpstreamFailure, type UpstreamClient, type UpstreamJob } from '../../../../src/upstream/types';

const JOB: UpstreamJob = { upstreamId: 'job-1', status: 'queued', video: null, error: null, usage: null };
const INPUT = { model: 'google/veo3', prompt: 'x' };

/** A scripted upstream: each call takes the next outcome and is counted. */
function scripted() {
  const outcomes: Array<UpstreamError | 'ok'> = [];
  const client = {
    calls: 0,
    create: async () => next(),
    get: async () => next(),
    stop: async () => undefined,
  };
  function next(): UpstreamJob {
    client.calls++;
    const outcome = outcomes.shift() ?? 'ok';
    if (outcome !== 'ok') throw outcome;
    return JOB;
  }
  return { client: client as UpstreamClient & { calls: number }, outcomes };
}

const unavailable = () => new UpstreamError(UpstreamFailure.UNAVAILABLE, 'upstream answered HTTP 503', 503);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('countsAgainstUpstream', () => {
  it('counts 5xx, timeouts and lost answers, not 4xx, 404 or 429', () => {
    expect(countsAgainstUpstream(unavailable())).toBe(true);
    expect(countsAgainstUpstream(new UpstreamError(UpstreamFailure.OUTCOME_UNKNOWN, 'lost'))).toBe(true);
    expect(countsAgainstUpstream(new UpstreamError(UpstreamFailure.REJECTED, 'bad', 400))).toBe(false);
    expect(countsAgainstUpstream(new UpstreamError(UpstreamFailure.NOT_FOUND, 'gone', 404))).toBe(false);
    expect(countsAgainstUpstream(new UpstreamError(UpstreamFailure.RATE_LIMITED, 'slow down', 429, 1000))).toBe(false);
    expect(countsAgainstUpstream(new Error('bug'))).toBe(false);
  });
});

describe('UpstreamCircuit', () => {
  it('opens after N consecutive failures, then refuses without calling, with a retry hint', async () => {
    const { client, outcomes } = scripted();
    const circuit = new UpstreamCircuit({ failureThreshold: 3, halfOpenAfterMs: 60_000 });
    const upstream = circuit.wrap(client);
    outcomes.push(unavailable(), unavailable(), unavailable());
    for (let i = 0; i < 3; i++) await expect(upstream.get('job-1')).rejects.toThrow('503');
    expect(circuit.state).toBe('open');
    expect(client.calls).toBe(3);

    const refused = await upstream.create(INPUT).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(UpstreamError);
    expect((refused as UpstreamError).failure).toBe(UpstreamFailure.UNAVAILABLE);
    expect((refused as UpstreamError).message).toMatch(/circuit open/);
    expect((refused as UpstreamError).retryAfterMs).toBeGreaterThan(59_000);
    expect(client.calls).toBe(3);
    expect(circuit.remainingMs()).toBeGreaterThan(59_000);
  });

  it('does not open on 4xx or 429 answers, and a success resets the count', async () => {
    const { client, outcomes } = scripted();
    const circuit = new UpstreamCircuit({ failureThreshold: 2, halfOpenAfterMs: 60_000 });
    const upstream = circuit.wrap(client);
    outcomes.push(
      unavailable(),
      new UpstreamError(UpstreamFailure.REJECTED, 'bad input', 400),
      new UpstreamError(UpstreamFailure.RATE_LIMITED, 'slow', 429, null),
      'ok',
      unavailable(),
    );
    for (let i = 0; i < 5; i++) await upstream.get('job-1').catch(() => undefined);
    expect(circuit.state).toBe('closed');
    expect(client.calls).toBe(5);
  });

  it('lets one probe through after the half-open delay: success closes, failure reopens', async () => {
    const { client, outcomes } = scripted();
    const circuit = new UpstreamCircuit({ failureThreshold: 1, halfOpenAfterMs: 100 });
    const upstream = circuit.wrap(client);
    outcomes.push(unavailable());
    await upstream.get('job-1').catch(() => undefined);
    expect(circuit.state).toBe('open');

    await sleep(120);
    expect(circuit.remainingMs()).toBe(0);
    outcomes.push(unavailable());
    await expect(upstream.get('job-1')).rejects.toThrow('503');
    expect(circuit.state).toBe('open');
    expect(client.calls).toBe(2);

    await sleep(120);
    await expect(upstream.get('job-1')).resolves.toEqual(JOB);
    expect(circuit.state).toBe('closed');
    expect(client.calls).toBe(3);
  });

  it('is a pass-through when turned off (threshold 0)', async () => {
    const { client, outcomes } = scripted();
    const circuit = new UpstreamCircuit({ failureThreshold: 0, halfOpenAfterMs: 100 });
    const upstream = circuit.wrap(client);
    for (let i = 0; i < 10; i++) outcomes.push(unavailable());
    for (let i = 0; i < 10; i++) await upstream.get('job-1').catch(() => undefined);
    expect(client.calls).toBe(10);
    expect(circuit.state).toBe('closed');
  });
});
