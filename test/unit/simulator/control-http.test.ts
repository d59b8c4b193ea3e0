import type { Simulator } from '../../../src/simulator';
import { CREATE_REQUESTS } from '../../fixtures/upstream-requests';
import { auth, create, createId, expectEnvelope, poll, pollJson, start, waitForStatus } from './helpers';

let sim: Simulator;
beforeAll(async () => {
  sim = await start({ timeScale: 1000 });
});
afterAll(() => sim.stop());

function control(method: string, path: string, body?: unknown, key?: string): Promise<Response> {
  return fetch(`${sim.url}/__control${path}`, {
    method,
    headers: auth(key),
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

describe('control over HTTP', () => {
  it('reports the most creates and polls that arrived within any second since the reset', async () => {
    expect((await control('DELETE', '/counts')).status).toBe(204);
    // Sent together: they reach the simulator within milliseconds of each other.
    await Promise.all([create(sim, CREATE_REQUESTS.veo2), ...Array.from({ length: 7 }, () => poll(sim, 'x'))]);
    const counts = (await (await control('GET', '/counts')).json()) as { mostInAnySecond: number };
    expect(counts.mostInAnySecond).toBe(8);
    expect((await control('DELETE', '/counts')).status).toBe(204);
    expect(((await (await control('GET', '/counts')).json()) as { mostInAnySecond: number }).mostInAnySecond).toBe(0);
  });

  it('requires the Bearer key', async () => {
    await expectEnvelope(await control('GET', '/counts', undefined, 'wrong'), 401, '/__control/counts');
  });

  it('injects, removes and clears faults; -1 means forever', async () => {
    const res = await control('POST', '/faults', { endpoint: 'poll', times: -1, action: { kind: 'status', status: 503, retryAfter: '1' } });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    for (let i = 0; i < 3; i++) expect((await poll(sim, 'x')).status).toBe(503);
    expect((await control('DELETE', `/faults/${id}`)).status).toBe(204);
    expect((await control('DELETE', `/faults/${id}`)).status).toBe(404);
    expect((await poll(sim, 'x')).status).toBe(404);

    await control('POST', '/faults', { endpoint: 'create', action: { kind: 'status', status: 500 } });
    expect((await control('DELETE', '/faults')).status).toBe(204);
    expect((await create(sim, CREATE_REQUESTS.veo2)).status).toBe(201);
  });

  it('rejects an invalid fault with a 400 envelope', async () => {
    const res = await control('POST', '/faults', { endpoint: 'everything', action: { kind: 'drop' } });
    expect(await expectEnvelope(res, 400, '/__control/faults')).toMatch(/endpoint/);
    const bad = await fetch(`${sim.url}/__control/faults`, { method: 'POST', headers: auth(), body: '{' });
    await expectEnvelope(bad, 400, '/__control/faults');
  });

  it('forces outcomes', async () => {
    const id = await createId(sim, CREATE_REQUESTS['google/veo-3.1-t2v']);
    expect((await control('POST', '/outcomes', { generationId: id, outcome: 'error', errorBody: { name: 'X', message: 'y' } })).status).toBe(204);
    expect((await pollJson(sim, id)).error).toEqual({ name: 'X', message: 'y' });
    expect((await control('POST', '/outcomes', { generationId: id, outcome: { status: 'processing' } })).status).toBe(204);
    expect(await pollJson(sim, id)).toEqual({ id, status: 'processing' });
    expect((await control('POST', '/outcomes', { generationId: id, outcome: 'completed' })).status).toBe(204);
    expect((await pollJson(sim, id)).status).toBe('completed');
    await expectEnvelope(await control('POST', '/outcomes', { generationId: 'nope', outcome: 'completed' }), 404, '/__control/outcomes');
    await expectEnvelope(await control('POST', '/outcomes', { generationId: id, outcome: 'done' }), 400, '/__control/outcomes');
  });

  it('reads and resets counts, lists jobs, sets the time scale', async () => {
    expect((await control('DELETE', '/counts')).status).toBe(204);
    const id = await createId(sim, CREATE_REQUESTS.veo2);
    await poll(sim, id);
    const counts = await (await control('GET', '/counts')).json();
    expect(counts).toEqual({
      create: 1,
      poll: 1,
      pollsById: { [id]: 1 },
      createsByModel: { veo2: 1 },
      maxConcurrentPollsById: { [id]: 1 },
      mostInAnySecond: expect.any(Number) as number,
    });

    const { jobs } = (await (await control('GET', '/jobs')).json()) as { jobs: { id: string; model: string; status: string }[] };
    expect(jobs).toContainEqual({ id, model: 'veo2', status: expect.stringMatching(/^(queued|generating)$/) });

    const res = await control('PUT', '/time-scale', { timeScale: 0.0001 });
    expect(await res.json()).toEqual({ timeScale: 0.0001 });
    expect((await waitForStatus(sim, id, 'completed')).status).toBe('completed');
    await expectEnvelope(await control('PUT', '/time-scale', { timeScale: 0 }), 400, '/__control/time-scale');
  });

  it('answers 404 for unknown control routes', async () => {
    await expectEnvelope(await control('GET', '/nothing'), 404, '/__control/nothing');
  });
});
