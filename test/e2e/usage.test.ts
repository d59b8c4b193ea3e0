/**
 * The per-owner usage query, through the real server: counts by status, seconds of video, and
 * the upstream's own charges, for the caller only.
 */
import { CREATE, GET, gql, gqlData, waitFor, useGateway } from '../helpers/gateway';

const USAGE = `query Usage($since: DateTimeISO) {
  usage(since: $since) { since generations videoSeconds credits usd byStatus { status count } }
}`;

const gw = useGateway();

async function finish(key: string, id: string): Promise<any> {
  return waitFor(`generation ${id} to end`, async () => {
    const g = (await gqlData(gw, key, GET, { id })).videoGeneration;
    return ['COMPLETED', 'FAILED'].includes(g.status) ? g : null;
  });
}

const byStatus = (u: any) => Object.fromEntries(u.byStatus.map((s: any) => [s.status, s.count]));

it('sums generations, seconds of video and upstream charges for the owner only', async () => {
  const alice = await gw.keyFor('usage-alice');
  const bob = await gw.keyFor('usage-bob');
  const startedAt = new Date(Date.now() - 1_000).toISOString();

  const eight = (await gqlData(gw, alice, CREATE, { input: { model: 'google/veo-3.0-fast', prompt: 'default length' } })).createVideoGeneration;
  const four = (await gqlData(gw, alice, CREATE, { input: { model: 'google/veo-3.0-fast', prompt: 'short', durationSeconds: 4 } }))
    .createVideoGeneration;
  const failing = (await gqlData(gw, alice, CREATE, { input: { model: 'google/veo-3.0-fast', prompt: 'doomed', durationSeconds: 6 } }))
    .createVideoGeneration;
  gw.simulator.control.forceOutcome(failing.upstreamId, 'error');
  await gqlData(gw, bob, CREATE, { input: { model: 'google/veo-3.0-fast', prompt: 'bob pays for his own' } });

  const ended = [await finish(alice, eight.id), await finish(alice, four.id), await finish(alice, failing.id)];
  expect(ended.map((g) => g.status)).toEqual(['COMPLETED', 'COMPLETED', 'FAILED']);
  // What the upstream reported per generation, as the generations themselves show it.
  const credits = ended.reduce((sum, g) => sum + (g.usage?.credits ?? 0), 0);
  const usd = ended.reduce((sum, g) => sum + (g.usage?.usd ?? 0), 0);
  expect(credits).toBeGreaterThan(0);

  const all = (await gqlData(gw, alice, USAGE)).usage;
  expect(all.since).toBeNull();
  expect(all.generations).toBe(3);
  expect(byStatus(all)).toEqual({ QUEUED: 0, GENERATING: 0, COMPLETED: 2, FAILED: 1, CANCELLED: 0, TIMED_OUT: 0 });
  // 8 s (the model's default) + 4 s; the failed one delivered no video.
  expect(all.videoSeconds).toBe(12);
  expect(all.credits).toBe(Math.round(credits));
  expect(all.usd).toBeCloseTo(usd, 6);

  const since = (await gqlData(gw, alice, USAGE, { since: startedAt })).usage;
  expect(since.since).toBe(startedAt);
  expect(since.generations).toBe(3);
  const future = (await gqlData(gw, alice, USAGE, { since: new Date(Date.now() + 60_000).toISOString() })).usage;
  expect(future).toMatchObject({ generations: 0, videoSeconds: 0, credits: 0, usd: 0 });

  // Bob sees only his own generation, still running or done.
  const bobs = (await gqlData(gw, bob, USAGE)).usage;
  expect(bobs.generations).toBe(1);
  expect(byStatus(bobs).FAILED).toBe(0);
});

it('refuses anonymous callers and bad dates', async () => {
  const anonymous = await gql(gw, null, USAGE);
  expect(anonymous.status).toBe(401);
  expect(anonymous.body.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
  const key = await gw.keyFor('usage-carol');
  const bad = await gql(gw, key, USAGE, { since: 'yesterday' });
  expect(bad.body.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
  expect(bad.text).not.toMatch(/Did you mean/);
});
