/**
 * Webhooks through crashes and restarts of the sender: the built gateway (`node dist/main.js`) on an
 * embedded store in a data folder, killed with SIGKILL while deliveries are pending and in flight, then
 * started again on the same folder, and stopped gracefully and started again. A real receiver on
 * 127.0.0.1 gets every event, verified, once per `webhook-id` after de-duplication.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createApiKey } from '../../src/auth/api-keys';
import { startSimulator, type Simulator } from '../../src/simulator';
import { createPgliteStore } from '../../src/store/pglite-store';
import { CREATE, GET, gqlData, SIMULATOR_KEY, waitFor } from '../helpers/gateway';
import { startGatewayProcess, type GatewayProcess } from '../helpers/services';
import { Receiver } from '../helpers/webhook-receiver';

const TIME_SCALE = 0.01;
const CREATE_ENDPOINT = `mutation C($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { secret endpoint { id } } }`;

describe('webhooks through a kill -9 and a restart of the gateway (embedded store in a folder)', () => {
  let simulator: Simulator;
  let dataDir: string;
  let key: string;
  const receiver = new Receiver();
  let gateway: GatewayProcess | null = null;

  async function start(name: string): Promise<GatewayProcess> {
    gateway = await startGatewayProcess(
      name,
      {
        DATA_DIR: dataDir,
        AIMLAPI_API_KEY: SIMULATOR_KEY,
        AIMLAPI_BASE_URL: simulator.url,
        UPSTREAM_TIME_SCALE: String(TIME_SCALE),
        POLL_MIN_INTERVAL_MS: '2000',
        WEBHOOK_ALLOW_HTTP: 'true',
        WEBHOOK_ALLOW_PRIVATE: 'true',
        WEBHOOK_TIMEOUT_MS: '1000',
        WEBHOOK_POLL_INTERVAL_MS: '50',
        // Short and many, so nothing gives up while the receiver hangs: a delivery is either pending or in flight.
        WEBHOOK_RETRY_SCHEDULE_SECONDS: Array.from({ length: 40 }, () => '0.5').join(','),
      },
      { startTimeoutMs: 90_000 },
    );
    return gateway;
  }

  const post = (query: string, variables?: Record<string, unknown>) => gqlData(gateway!, key, query, variables);

  async function generateAll(prompts: string[]): Promise<Array<{ id: string; transitions: Array<{ status: string }> }>> {
    const created = await Promise.all(prompts.map((prompt) => post(CREATE, { input: { model: 'google/veo-3.0-fast', prompt } })));
    return Promise.all(
      created.map((c) =>
        waitFor(
          `generation ${c.createVideoGeneration.id} to end`,
          async () => {
            const g = (await post(GET, { id: c.createVideoGeneration.id })).videoGeneration;
            return g.status === 'COMPLETED' && g;
          },
          60_000,
          200,
        ),
      ),
    );
  }

  /** Each generation's events, as the receiver has them after de-duplication by webhook-id. */
  function receivedEvents(secret: string): Map<string, Array<{ version: number; type: string }>> {
    const byId = new Map<string, { generation: string; version: number; type: string }>();
    for (const e of receiver.verified(secret)) {
      if (!byId.has(e.id)) byId.set(e.id, { generation: e.data.id, version: e.data.version, type: e.type });
    }
    const byGeneration = new Map<string, Array<{ version: number; type: string }>>();
    for (const e of byId.values()) byGeneration.set(e.generation, [...(byGeneration.get(e.generation) ?? []), e]);
    return byGeneration;
  }

  function expected(generations: Array<{ id: string; transitions: Array<{ status: string }> }>) {
    return new Map(generations.map((g) => [g.id, g.transitions.map((t) => `generation.${t.status.toLowerCase()}`)]));
  }

  /** Every generation's every event arrived, once each after de-duplication, in version order when sorted by version. */
  async function expectAllReceived(secret: string, generations: Array<{ id: string; transitions: Array<{ status: string }> }>) {
    const want = expected(generations);
    const total = [...want.values()].reduce((n, events) => n + events.length, 0);
    await waitFor(
      `all ${total} events received`,
      () => [...receivedEvents(secret).entries()].filter(([id]) => want.has(id)).reduce((n, [, events]) => n + events.length, 0) >= total,
      60_000,
      200,
    );
    const got = receivedEvents(secret);
    for (const [id, types] of want) {
      const events = [...(got.get(id) ?? [])].sort((a, b) => a.version - b.version);
      expect(events.map((e) => e.type)).toEqual(types);
      expect(new Set(events.map((e) => e.version)).size).toBe(events.length);
    }
  }

  beforeAll(async () => {
    simulator = await startSimulator({ apiKey: SIMULATOR_KEY, port: 0, host: '127.0.0.1', timeScale: TIME_SCALE, seed: 16 });
    dataDir = await mkdtemp(path.join(tmpdir(), 'webhook-durability-'));
    // The key is written before any gateway runs (the folder takes one process at a time).
    const store = createPgliteStore({ dataDir });
    await store.start();
    key = (await createApiKey(store, 'durable-owner')).key;
    await store.stop();
    await receiver.start();
  }, 120_000);

  afterAll(async () => {
    await gateway?.kill();
    await receiver.stop();
    await simulator?.stop();
    await rm(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('should lose nothing when the sender is killed with SIGKILL mid-delivery, nor across a graceful restart', async () => {
    await start('webhooks-1');
    const url = `http://127.0.0.1:${receiver.port()}/hook`;
    const { secret } = (await post(CREATE_ENDPOINT, { input: { url } })).createWebhookEndpoint;

    // The receiver hangs: every attempt is in flight until it times out, then retried.
    receiver.answer = () => 'hang';
    const first = await generateAll(['a crash 1', 'a crash 2', 'a crash 3']);
    await waitFor('attempts in flight', () => receiver.received.length >= 3, 30_000, 100);
    await gateway!.kill();
    expect(gateway!.alive).toBe(false);
    const beforeRestart = receiver.received.length;

    receiver.answer = () => 200;
    await start('webhooks-2');
    await expectAllReceived(secret, first);
    expect(receiver.received.length).toBeGreaterThan(beforeRestart);

    // A graceful stop with deliveries still pending (the receiver answers 503), then a start: they go out.
    receiver.answer = () => 503;
    const second = await generateAll(['a restart 1', 'a restart 2']);
    await gateway!.stop();
    receiver.answer = () => 200;
    await start('webhooks-3');
    await expectAllReceived(secret, second);
  }, 300_000);
});
