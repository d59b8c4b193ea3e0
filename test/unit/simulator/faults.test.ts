import type { Simulator } from '../../../src/simulator';
import { CREATE_REQUESTS } from '../../fixtures/upstream-requests';
import { CREATE, create, createId, expectEnvelope, poll, pollJson, start } from './helpers';
import { waitFor } from '../../helpers/gateway';

let sim: Simulator;
beforeAll(async () => {
  sim = await start({ timeScale: 1000 });
});
afterAll(() => sim.stop());
afterEach(() => {
  sim.control.clearFaults();
  sim.control.resetCounts();
});

const jobCount = (): number => sim.control.jobs().length;

describe('faults', () => {
  it('answers a status with the standard envelope, once by default', async () => {
    sim.control.injectFault({ endpoint: 'create', action: { kind: 'status', status: 503 } });
    expect(await expectEnvelope(await create(sim, CREATE_REQUESTS.veo2), 503, CREATE)).toBe('Service unavailable');
    expect((await create(sim, CREATE_REQUESTS.veo2)).status).toBe(201);
  });

  it('answers a status with a custom body and Retry-After', async () => {
    const before = jobCount();
    sim.control.injectFault({
      endpoint: 'create',
      times: 2,
      action: { kind: 'status', status: 429, retryAfter: '3', body: { message: 'slow down' } },
    });
    for (let i = 0; i < 2; i++) {
      const res = await create(sim, CREATE_REQUESTS.veo2);
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('3');
      expect(await res.json()).toEqual({ message: 'slow down' });
    }
    expect(jobCount()).toBe(before);
    expect((await create(sim, CREATE_REQUESTS.veo2)).status).toBe(201);
    expect(sim.control.counts().create).toBe(3);
  });

  it('matches by endpoint, model and generation id', async () => {
    const a = await createId(sim, CREATE_REQUESTS.veo2);
    const b = await createId(sim, CREATE_REQUESTS.veo2);
    sim.control.injectFault({ endpoint: 'poll', match: { generationId: b }, times: Infinity, action: { kind: 'status', status: 500 } });
    sim.control.injectFault({ endpoint: 'any', match: { model: 'google/veo3' }, times: Infinity, action: { kind: 'status', status: 502 } });
    expect((await poll(sim, a)).status).toBe(200);
    expect((await poll(sim, b)).status).toBe(500);
    expect((await poll(sim, b)).status).toBe(500);
    expect((await create(sim, CREATE_REQUESTS.veo2)).status).toBe(201);
    expect((await create(sim, CREATE_REQUESTS['google/veo3'])).status).toBe(502);
  });

  it('delays, then answers normally', async () => {
    sim.control.injectFault({ endpoint: 'poll', action: { kind: 'delay', ms: 150 } });
    const id = await createId(sim, CREATE_REQUESTS.veo2);
    const started = Date.now();
    expect((await poll(sim, id)).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('stalls until the client gives up', async () => {
    sim.control.injectFault({ endpoint: 'create', action: { kind: 'stall' } });
    const before = jobCount();
    await expect(
      fetch(`${sim.url}${CREATE}`, {
        method: 'POST',
        headers: { authorization: 'Bearer test-key' },
        body: JSON.stringify(CREATE_REQUESTS.veo2),
        signal: AbortSignal.timeout(200),
      }),
    ).rejects.toThrow();
    expect(jobCount()).toBe(before);
    expect(sim.control.counts().create).toBe(1);
  });

  it('closes promptly with a stalled request and a pending delay', async () => {
    const other = await start();
    other.control.injectFault({ endpoint: 'poll', action: { kind: 'stall' } });
    other.control.injectFault({ endpoint: 'poll', action: { kind: 'delay', ms: 60_000 } });
    const stalled = poll(other, 'x').catch((e: unknown) => e);
    const delayed = poll(other, 'y').catch((e: unknown) => e);
    await waitFor('both polls to reach the simulator', () => other.control.counts().poll === 2);
    const started = Date.now();
    await other.stop();
    // Far below the 60 s delay and any stall: close does not wait for them.
    expect(Date.now() - started).toBeLessThan(5_000);
    // fetch rejects with a TypeError from Node's realm, so `instanceof Error` would not hold here.
    expect(String(await stalled)).toMatch(/fetch failed/);
    expect(String(await delayed)).toMatch(/fetch failed/);
  });

  it('sends an HTML error page', async () => {
    sim.control.injectFault({ endpoint: 'poll', action: { kind: 'html' } });
    const res = await poll(sim, 'anything');
    expect(res.status).toBe(502);
    expect(res.headers.get('content-type')).toBe('text/html');
    expect(await res.text()).toContain('<h1>502 Bad Gateway</h1>');
    sim.control.injectFault({ endpoint: 'poll', action: { kind: 'html', status: 504 } });
    expect((await poll(sim, 'anything')).status).toBe(504);
  });

  it('truncates JSON; a 2xx malformed create still creates the job', async () => {
    const before = jobCount();
    sim.control.injectFault({ endpoint: 'create', action: { kind: 'malformed' } });
    const res = await create(sim, CREATE_REQUESTS.veo2);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text.startsWith('{"id":"')).toBe(true);
    expect(() => JSON.parse(text)).toThrow();
    expect(jobCount()).toBe(before + 1);

    sim.control.injectFault({ endpoint: 'create', action: { kind: 'malformed', status: 500 } });
    const failed = await create(sim, CREATE_REQUESTS.veo2);
    expect(failed.status).toBe(500);
    const failedText = await failed.text();
    expect(failedText.startsWith('{"statusCode":500')).toBe(true);
    expect(() => JSON.parse(failedText)).toThrow();
    expect(jobCount()).toBe(before + 1);
  });

  it('drops the connection without answering', async () => {
    const before = jobCount();
    sim.control.injectFault({ endpoint: 'create', action: { kind: 'drop' } });
    await expect(create(sim, CREATE_REQUESTS.veo2)).rejects.toThrow();
    expect(jobCount()).toBe(before);
    const id = await createId(sim, CREATE_REQUESTS.veo2);
    sim.control.injectFault({ endpoint: 'poll', action: { kind: 'drop' } });
    await expect(poll(sim, id)).rejects.toThrow();
    expect((await pollJson(sim, id)).id).toBe(id);
  });

  it('creates the job, then drops the connection (outcome unknown)', async () => {
    const before = jobCount();
    sim.control.injectFault({ endpoint: 'create', action: { kind: 'dropAfterCreate' } });
    await expect(create(sim, CREATE_REQUESTS['google/veo-3.1-t2v'])).rejects.toThrow();
    const jobs = sim.control.jobs();
    expect(jobs.length).toBe(before + 1);
    const created = jobs.at(-1)!;
    expect(created.model).toBe('google/veo-3.1-t2v');
    expect((await pollJson(sim, created.id)).status).toMatch(/^(queued|generating)$/);
  });

  it('removes one fault by id and rejects invalid faults', () => {
    const id = sim.control.injectFault({ endpoint: 'poll', action: { kind: 'drop' } });
    expect(sim.control.removeFault(id)).toBe(true);
    expect(sim.control.removeFault(id)).toBe(false);
    expect(() => sim.control.injectFault({ endpoint: 'poll', action: { kind: 'dropAfterCreate' } })).toThrow(TypeError);
    expect(() => sim.control.injectFault({ endpoint: 'create', times: 0, action: { kind: 'drop' } })).toThrow(/times/);
  });
});

describe('counts', () => {
  it('counts every request that reached a handler, faulted or not', async () => {
    const id = await createId(sim, CREATE_REQUESTS.veo2);
    sim.control.injectFault({ endpoint: 'poll', action: { kind: 'status', status: 500 } });
    await poll(sim, id);
    await poll(sim, id);
    await poll(sim, 'unknown');
    await create(sim, { model: 'google/veo3' }); // invalid, still counted
    await create(sim, CREATE_REQUESTS.veo2, CREATE, 'wrong-key'); // unauthorised, still counted
    expect(sim.control.counts()).toEqual({
      create: 3,
      poll: 3,
      pollsById: { [id]: 2, unknown: 1 },
      createsByModel: { veo2: 2, 'google/veo3': 1 },
      maxConcurrentPollsById: { [id]: 1, unknown: 1 },
      // One after another: all 6 within one second unless the machine stalls (arrival-window.test.ts has the arithmetic).
      mostInAnySecond: expect.any(Number) as number,
    });
    expect(sim.control.counts().mostInAnySecond).toBeGreaterThanOrEqual(1);
    expect(sim.control.counts().mostInAnySecond).toBeLessThanOrEqual(6);
    sim.control.resetCounts();
    expect(sim.control.counts()).toEqual({
      create: 0,
      poll: 0,
      pollsById: {},
      createsByModel: {},
      maxConcurrentPollsById: {},
      mostInAnySecond: 0,
    });
  });
});
