/**
 * A client whose SSE or multipart stream drops, and which subscribes again, resumes without a gap:
 * the new stream starts with the generation as it is now (the changes made while it was away are in
 * that snapshot, since every event carries the whole generation), then every later version once.
 * graphql-sse's client reconnects by itself, through a real TCP proxy that drops its connection and
 * refuses new ones for a while; a multipart client subscribes again itself, as Apollo Client's
 * users do after a transport error.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { App } from '../../src/app';
import { CREATE, GET, WATCH, gqlData, useGateway, waitFor, within } from '../helpers/gateway';
import { collectSse, readMultipart } from '../helpers/http-subscriptions';

type Update = { videoGenerationUpdated: { version: number; status: string } };

/** A TCP proxy on 127.0.0.1 in front of `target`, which can cut its connections and refuse new ones. */
async function startProxy(target: URL): Promise<{ url: string; cut(): void; refuse(on: boolean): void; stop(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let refusing = false;
  const server: Server = createServer((client) => {
    if (refusing) return void client.destroy();
    const upstream = connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}${target.pathname}`,
    cut: () => sockets.forEach((s) => s.destroy()),
    refuse: (on) => (refusing = on),
    stop: async () => {
      sockets.forEach((s) => s.destroy());
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const versionsOf = (values: Update[]) => values.map((v) => v.videoGenerationUpdated.version);

describe('a reconnecting SSE or multipart client resumes without gaps', () => {
  // Real time, so a generation stays QUEUED until the test ends it; frequent polls notice that at once.
  const gw = useGateway({ timeScale: 1, env: { POLL_MIN_INTERVAL_MS: '100', POLL_MAX_INTERVAL_MS: '300' } }, 60_000);

  const finished = async (key: string, id: string) =>
    waitFor(
      'the generation to be COMPLETED in the store',
      async () => {
        const g = (await gqlData(gw, key, GET, { id })).videoGeneration;
        return g.status === 'COMPLETED' ? (g as { version: number }) : null;
      },
      30_000,
      100,
    );

  it('graphql-sse: the client reconnects by itself after a dropped connection and gets what it missed, then the end', async () => {
    const key = await gw.keyFor('reconnect-sse');
    const g = (await gqlData(gw, key, CREATE, { input: { model: 'google/veo3', prompt: 'dropped and back' } })).createVideoGeneration;
    const proxy = await startProxy(new URL(gw.app.url));
    try {
      const sub = collectSse<Update>({ url: proxy.url } as App, key, WATCH, { id: g.id }, { retryAttempts: 1_000 });
      await waitFor('the snapshot', () => sub.values.length > 0, 30_000);
      const before = versionsOf(sub.values);
      proxy.refuse(true);
      proxy.cut();
      gw.simulator.control.forceOutcome(g.upstreamId, 'completed');
      const final = await finished(key, g.id);
      expect(final.version).toBeGreaterThan(before.at(-1)!);
      proxy.refuse(false);

      await within('the subscription to complete after reconnecting', sub.done, 30_000);
      expect(sub.errors).toEqual([]);
      const versions = versionsOf(sub.values);
      // What it saw before the drop, then the current state, which holds everything it missed, once.
      expect(versions.slice(0, before.length)).toEqual(before);
      expect(versions).toEqual([...new Set(versions)].sort((a, b) => a - b));
      expect(versions.at(-1)).toBe(final.version);
      expect(sub.values.at(-1)?.videoGenerationUpdated.status).toBe('COMPLETED');
    } finally {
      await proxy.stop();
    }
  }, 90_000);

  it('multipart: subscribing again starts from the current state, then every later version once', async () => {
    const key = await gw.keyFor('reconnect-multipart');
    const g = (await gqlData(gw, key, CREATE, { input: { model: 'google/veo3', prompt: 'dropped and back' } })).createVideoGeneration;
    const updates = (parts: Array<Record<string, unknown>>) =>
      parts.flatMap((p) => ((p.payload as { data?: Update } | undefined)?.data ? [(p.payload as { data: Update }).data] : []));
    const first = await readMultipart(gw, key, WATCH, { id: g.id });
    await waitFor('the snapshot', () => updates(first.parts).length > 0, 30_000);
    first.abort();
    const seen = versionsOf(updates(first.parts));

    // Subscribed again before anything changed: the snapshot repeats the version it had (the version tells
    // a repeat from a change), then each change arrives once.
    const again = await readMultipart(gw, key, WATCH, { id: g.id });
    await waitFor('the snapshot again', () => updates(again.parts).length > 0, 30_000);
    gw.simulator.control.forceOutcome(g.upstreamId, 'completed');
    const final = await finished(key, g.id);
    await within('the second stream to end', again.done, 30_000);
    expect(again.closed).toBe(true);
    const versions = versionsOf(updates(again.parts));
    expect(versions[0]).toBe(seen.at(-1));
    expect(versions).toEqual([...new Set(versions)].sort((a, b) => a - b));
    expect(versions.at(-1)).toBe(final.version);
    expect(again.parts.some((p) => 'errors' in p)).toBe(false);
  }, 90_000);
});
