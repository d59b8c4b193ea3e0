/**
 * What the log says at the default level while the gateway is used: one line per create, per
 * generation's end and per upstream fault handled; nothing per poll.
 */
import { CREATE, GET, SIMULATOR_KEY, gql, gqlData, waitFor, useGateway } from '../helpers/gateway';

const INPUT = { model: 'google/veo-3.0-fast', prompt: 'a lighthouse at dusk' };

const gw = useGateway();

interface Line {
  level: number;
  msg: string;
  [field: string]: unknown;
}

const INFO = 30;
const lines = (): Line[] => gw.logs.flatMap((chunk) => chunk.split('\n').filter(Boolean)).map((l) => JSON.parse(l) as Line);

it('logs a create and its completion once each at info, and no line per poll', async () => {
  const key = await gw.keyFor('log-reader');
  const from = gw.logs.length;
  const created = await gqlData(gw, key, CREATE, { input: INPUT });
  const id = created.createVideoGeneration.id as string;
  await waitFor('completion', async () => (await gqlData(gw, key, GET, { id })).videoGeneration.status === 'COMPLETED', 15_000);
  await waitFor('the completion line', () => lines().some((l) => l.generationId === id && l.status === 'COMPLETED'), 2_000);

  const mine = lines()
    .slice(from)
    .filter((l) => l.level >= INFO);
  expect(mine.map((l) => l.msg)).toEqual([
    'generation created (google/veo-3.0-fast)',
    expect.stringMatching(/^generation completed after \d+(\.\d)? s$/),
  ]);
  expect(mine[0]).toMatchObject({ generationId: id, owner: 'log-reader', model: 'google/veo-3.0-fast', status: 'QUEUED' });
  expect(mine[1]).toMatchObject({ generationId: id, status: 'COMPLETED', seconds: expect.any(Number) });
  // Polls happened, but only at debug.
  expect(gw.simulator.control.counts().poll).toBeGreaterThan(0);
});

it('logs an upstream refusal of a create once, without the upstream key', async () => {
  const key = await gw.keyFor('log-reader-2');
  const from = gw.logs.length;
  gw.simulator.control.injectFault({ endpoint: 'create', action: { kind: 'status', status: 503 } });
  const res = await gql(gw, key, CREATE, { input: INPUT });
  expect(res.body.errors?.[0]?.extensions?.code).toBe('UPSTREAM_UNAVAILABLE');

  const mine = lines()
    .slice(from)
    .filter((l) => l.level >= INFO);
  expect(mine).toHaveLength(1);
  expect(mine[0]).toMatchObject({
    msg: 'create refused by the upstream; nothing stored',
    failure: 'UNAVAILABLE',
    upstreamStatus: 503,
    model: 'google/veo-3.0-fast',
  });
  expect(gw.logs.join('')).not.toContain(SIMULATOR_KEY);
});
