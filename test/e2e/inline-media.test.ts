/**
 * Inline media (a base64 data URI as `imageUrl`) goes upstream whole, once, and is never echoed back
 * whole: the create answer, reads, lists, subscription events and the stored row carry a short summary
 * (type, decoded size, SHA-256). A recording proxy between the gateway and the simulator shows what
 * the upstream received.
 */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startSimulator, type Simulator } from '../../src/simulator';
import {
  CREATE,
  GET,
  SIMULATOR_KEY,
  TEST_TIME_SCALE,
  WATCH,
  collect,
  gql,
  startGateway,
  within,
  wsClient,
  type TestGateway,
} from '../helpers/gateway';
import { START_TIMEOUT_MS } from '../helpers/timeouts';

const LIST = `query { videoGenerations(first: 100) { nodes { id settings { imageUrl } } } }`;

describe('inline media', () => {
  let simulator: Simulator;
  let proxy: http.Server;
  const createBodies: string[] = [];
  let gw: TestGateway;
  let key: string;

  beforeAll(async () => {
    simulator = await startSimulator({ apiKey: SIMULATOR_KEY, port: 0, host: '127.0.0.1', timeScale: TEST_TIME_SCALE, seed: 3 });
    // Forwards everything to the simulator and keeps each create's body.
    proxy = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      // A failed forward drops the connection, so the gateway sees an upstream failure at once.
      const forward = async () => {
        const body = Buffer.concat(chunks);
        if (req.method === 'POST') createBodies.push(body.toString('utf8'));
        const upstream = await fetch(`${simulator.url}${req.url}`, {
          method: req.method,
          headers: { authorization: String(req.headers.authorization ?? ''), 'content-type': 'application/json' },
          body: req.method === 'POST' ? body : undefined,
        });
        res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
        res.end(Buffer.from(await upstream.arrayBuffer()));
      };
      req.on('end', () => void forward().catch(() => res.destroy()));
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    gw = await startGateway({ simulator, env: { AIMLAPI_BASE_URL: proxyUrl } });
    key = await gw.keyFor('alice');
  }, START_TIMEOUT_MS);
  afterAll(async () => {
    await gw?.stop();
    proxy?.closeAllConnections();
    await new Promise((r) => proxy?.close(r));
    await simulator?.stop();
  });

  it('should send a data URI upstream whole and show only its summary everywhere else', async () => {
    const image = randomBytes(300 * 1024);
    const dataUri = `data:image/png;base64,${image.toString('base64')}`;
    const summary = `[data URI image/png, ${image.length} bytes, sha256 ${createHash('sha256').update(image).digest('hex')}]`;
    const input = { model: 'google/veo-3.1-i2v-fast', prompt: 'animate this', imageUrl: dataUri, idempotencyKey: 'inline-1' };
    const base64Sample = image.toString('base64').slice(1_000, 1_200);

    const created = await gql(gw, key, CREATE, { input });
    expect(created.body.errors).toBeUndefined();
    const g = created.body.data.createVideoGeneration;
    expect(g.settings.imageUrl).toBe(summary);
    expect(created.text.length).toBeLessThan(10_000);

    // The upstream got the whole image, once.
    expect(createBodies).toHaveLength(1);
    expect(JSON.parse(createBodies[0]!).image_url).toBe(dataUri);

    const client = wsClient(gw, key);
    try {
      const watch = collect(client, WATCH, { id: g.id });
      await within('the subscription to complete', watch.done, 20_000);
      expect(watch.values.at(-1)?.videoGenerationUpdated.status).toBe('COMPLETED');
      for (const v of watch.values) expect(v.videoGenerationUpdated.settings.imageUrl).toBe(summary);
    } finally {
      await client.dispose();
    }

    const read = await gql(gw, key, GET, { id: g.id });
    expect(read.body.data.videoGeneration.settings.imageUrl).toBe(summary);
    const list = await gql(gw, key, LIST);
    expect(list.body.data.videoGenerations.nodes[0].settings.imageUrl).toBe(summary);
    for (const text of [read.text, list.text]) expect(text).not.toContain(base64Sample);
    // Nor is it stored whole.
    expect((await gw.app.store.getGeneration(g.id))!.input.imageUrl).toBe(summary);

    // The same key with the same image is the same generation; with another image it is a conflict.
    const replay = await gql(gw, key, CREATE, { input });
    expect(replay.body.data.createVideoGeneration.id).toBe(g.id);
    const other = `data:image/png;base64,${randomBytes(1024).toString('base64')}`;
    const conflict = await gql(gw, key, CREATE, { input: { ...input, imageUrl: other } });
    expect(conflict.body.errors?.[0]?.extensions?.code).toBe('IDEMPOTENCY_CONFLICT');
    expect(createBodies).toHaveLength(1);
    expect(gw.logs.join('')).not.toContain(base64Sample);
  });
});
