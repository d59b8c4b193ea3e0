/**
 * Two gateway processes on one PostgreSQL send the webhook outbox between them: each attempt is claimed
 * under a lease by one instance, so a healthy receiver gets each event once, and any duplicate is an
 * attempt the outbox recorded (at-least-once retries), never two instances sending the same attempt.
 */
import pg from 'pg';
import { CREATE, GET, gqlData, waitFor } from '../helpers/gateway';
import { startGatewayGroup, type GatewayGroup } from '../helpers/gateway-group';
import { describeWithServices, type GatewayProcess } from '../helpers/services';
import { Receiver } from '../helpers/webhook-receiver';

const TIME_SCALE = 0.01;
const CREATE_ENDPOINT = `mutation C($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { secret endpoint { id } } }`;

describeWithServices('webhooks sent by two instances on one PostgreSQL', () => {
  let group: GatewayGroup;
  let db: pg.Pool;
  const receivers = [new Receiver(), new Receiver(), new Receiver()];

  beforeAll(async () => {
    await Promise.all(receivers.map((r) => r.start()));
    group = await startGatewayGroup({
      instances: 2,
      name: 'webhooks',
      timeScale: TIME_SCALE,
      seed: 17,
      owner: 'scaled-owner',
      env: {
        WEBHOOK_ALLOW_HTTP: 'true',
        WEBHOOK_ALLOW_PRIVATE: 'true',
        WEBHOOK_POLL_INTERVAL_MS: '20',
        WEBHOOK_RETRY_SCHEDULE_SECONDS: '0.2,0.2,0.2,0.2,0.2,0.2,0.2,0.2',
      },
      startTimeoutMs: 60_000,
    });
    db = new pg.Pool({ connectionString: group.postgres.url, max: 2 });
    // pool.end() resolves before its sockets close, so PostgreSQL's shutdown in afterAll can still reach an
    // idle connection; without a listener the pool rethrows that as an unhandled error.
    db.on('error', () => undefined);
  }, 120_000);

  afterAll(async () => {
    await Promise.allSettled(group?.gateways.map((g) => g.stop()) ?? []);
    await db?.end().catch(() => undefined);
    await Promise.allSettled(receivers.map((r) => r.stop()));
    await group?.stop();
  }, 60_000);

  it('should send each attempt once: every event arrives, and no receipt goes beyond the recorded attempts and logged lost leases', async () => {
    const { key, gateways } = group;
    const [a, b] = gateways as [GatewayProcess, GatewayProcess];
    // One receiver fails now and then, so retries happen and are counted as attempts, not duplicates.
    receivers[2]!.answer = (_req, index) => (index % 3 === 0 ? 500 : 200);
    const secrets: string[] = [];
    for (const receiver of receivers) {
      const url = `http://127.0.0.1:${receiver.port()}/hook`;
      secrets.push((await gqlData(a, key, CREATE_ENDPOINT, { input: { url } })).createWebhookEndpoint.secret);
    }
    const created = await Promise.all(
      Array.from({ length: 12 }, (_, i) => gqlData(i % 2 ? a : b, key, CREATE, { input: { model: 'google/veo-3.0-fast', prompt: `scaled ${i}` } })),
    );
    const ids = created.map((c) => c.createVideoGeneration.id as string);
    const done = await Promise.all(
      ids.map((id, i) =>
        waitFor(
          `generation ${i} to complete`,
          async () => {
            const g = (await gqlData(i % 2 ? b : a, key, GET, { id })).videoGeneration;
            return g.status === 'COMPLETED' && g;
          },
          60_000,
          200,
        ),
      ),
    );
    const events = done.reduce((n, g) => n + g.transitions.length, 0);
    await waitFor(
      'the outbox to drain',
      async () => Number((await db.query(`SELECT count(*) AS n FROM webhook_deliveries WHERE status <> 'DELIVERED'`)).rows[0].n) === 0,
      60_000,
      200,
    );
    const { rows } = await db.query<{ endpoint_id: string; message_id: string; attempts: number }>(
      `SELECT d.endpoint_id, d.message_id, d.attempts FROM webhook_deliveries d`,
    );
    expect(rows.length).toBe(events * receivers.length); // one delivery per event per endpoint
    const { rows: endpoints } = await db.query<{ id: string; url: string }>(`SELECT id, url FROM webhook_endpoints`);
    const received = new Map<string, number>();
    receivers.forEach((receiver, i) => {
      const endpoint = endpoints.find((e) => e.url === `http://127.0.0.1:${receiver.port()}/hook`)!;
      for (const e of receiver.verified(secrets[i]!)) received.set(`${endpoint.id} ${e.id}`, (received.get(`${endpoint.id} ${e.id}`) ?? 0) + 1);
    });
    const recorded = new Map(rows.map((r) => [`${r.endpoint_id} ${r.message_id}`, Number(r.attempts)]));
    // Nothing is lost: every event reached every endpoint, verified.
    expect([...recorded.keys()].filter((k) => (received.get(k) ?? 0) < 1)).toEqual([]);
    // Receipts beyond the recorded attempts are only ever sends whose lease expired before they were
    // recorded (the sender logs each one; another instance then sends again, at least once). Two
    // instances never send the same attempt.
    const lostLeases = gateways.reduce((n, g) => n + (g.output().split('outlived its lease').length - 1), 0);
    const extras = [...recorded].reduce((n, [k, attempts]) => n + Math.max(0, (received.get(k) ?? 0) - attempts), 0);
    expect(extras).toBeLessThanOrEqual(lostLeases);
    // The flaky receiver's 500s were retried, and counted as attempts.
    expect(rows.some((r) => Number(r.attempts) > 1)).toBe(true);
  }, 180_000);
});
