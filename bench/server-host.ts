/**
 * A server under test, in its own process (forked by the benchmarks with --expose-gc), so load
 * generators never share its event loop. `argv[2]` picks it: `gateway` (the real gateway with its
 * embedded simulator), `bare-apollo` or `bare-ws` (the baselines). It talks over IPC: see HostRequest.
 */
import { LOAD_LIMITS_OFF } from './load-limits-off';
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { writeHeapSnapshot } from 'node:v8';
import { loadConfig } from '../src/config';
import { startApp, type App } from '../src/app';
import { startSimulator } from '../src/simulator';
import { createApiKey } from '../src/auth/api-keys';
import { summarizeInlineMedia } from '../src/generations/inline-media';
import { GenerationStatus, type Generation } from '../src/model/generation';
import { BareData, GENERATION_FIELDS, startBareApollo, startBareWebSocket, type PlainGeneration } from './bare-servers';
import { graphql } from './graphql-client';
import { graphqlInput, modelMix } from './inputs';
import { MODELS } from '../src/upstream/models';
import { preciseNow } from './stats';
import { PauseMonitor } from './pause-monitor';

export type HostKind = 'gateway' | 'bare-apollo' | 'bare-ws';

export type HostRequest =
  /** Gateway only: create `count` generations through GraphQL and wait until they completed. */
  | { type: 'seedCompleted'; count: number }
  /** Bare servers: serve these generations. */
  | { type: 'load'; generations: PlainGeneration[] }
  /** Insert `count` generations that stay GENERATING (no upstream polls) and return their ids. */
  | { type: 'seedPending'; count: number }
  /**
   * Make every pending generation COMPLETED at once; replies with the wall-clock ms of the first
   * publish and the process's CPU time (user + system, µs) at that moment.
   */
  | { type: 'completeAll' }
  /** The process's CPU time so far (user + system, µs). */
  | { type: 'cpu' }
  /** Event-loop delay and GC pauses since the last `pauses` request (see pause-monitor.ts). */
  | { type: 'pauses' }
  /** Garbage-collect, then report heap and RSS in bytes. */
  | { type: 'memory' }
  /** Heap and RSS in bytes as they are now, without collecting (sampled during the attack bench). */
  | { type: 'memoryNow' }
  /** Gateway only: an API key for another owner (the attack bench's attacker). */
  | { type: 'createKey'; owner: string }
  /**
   * Gateway only: `count` generations of `owner`, each created with an `imageBytes`-long data URI as
   * imageUrl, stored as the service stores a create's input (the URI summarised, see inline-media.ts).
   */
  | { type: 'seedLarge'; owner: string; count: number; imageBytes: number }
  /** Write a heap snapshot to `path` (for profiling; see BENCHMARKS.md). */
  | { type: 'heapSnapshot'; path: string }
  | { type: 'stop' };

export interface HostReady {
  type: 'ready';
  url: string;
  wsUrl: string;
  /** API key for the gateway ('' for the baselines). */
  key: string;
  /** The gateway's upstream (a simulator in the same process); '' for the baselines. */
  simulatorUrl: string;
  simulatorKey: string;
}

const SIMULATOR_KEY = 'bench-simulator-key';

const kind = process.argv[2] as HostKind;
/** The gateway's simulator: time scale (default 0.001) and seed (default: none), from argv[3] and argv[4]. */
const timeScale = process.argv[3] ?? '0.001';
const seed = process.argv[4];

async function main(): Promise<void> {
  const pauses = new PauseMonitor();
  let app: App | null = null;
  let key = '';
  let data = new BareData([]);
  let stopBare: (() => Promise<void>) | null = null;
  let stopApollo: (() => Promise<void>) | null = null;
  let ready: HostReady;
  let simulatorUrl = '';
  const pending: Generation[] = [];
  const pendingPlain: PlainGeneration[] = [];

  if (kind === 'gateway') {
    // A simulator in this process with a known key, so the create benchmark can call it directly too.
    const simulator = await startSimulator({ apiKey: SIMULATOR_KEY, port: 0, timeScale: Number(timeScale), ...(seed ? { seed } : {}) });
    stopBare = () => simulator.stop();
    simulatorUrl = simulator.url;
    app = await startApp(
      loadConfig({
        NODE_ENV: 'test',
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'error',
        AIMLAPI_API_KEY: SIMULATOR_KEY,
        AIMLAPI_BASE_URL: simulator.url,
        UPSTREAM_TIME_SCALE: timeScale,
        DATA_IN_MEMORY: 'true',
        DEV_API_KEY: 'false',
        SHUTDOWN_GRACE_MS: '200',
        UPSTREAM_CREATE_TIMEOUT_MS: '600000',
        ...LOAD_LIMITS_OFF,
        // The media store (copies of finished videos) is off: these figures measure polling and fan-out;
        // the copies' throughput and memory have a part of their own (bench/media-copy.ts).
        MEDIA_STORE: 'off',
        // Passed through so the key cache's effect can be measured: `API_KEY_CACHE_MS=0 npm run bench`.
        ...(process.env.API_KEY_CACHE_MS ? { API_KEY_CACHE_MS: process.env.API_KEY_CACHE_MS } : {}),
      }),
    );
    key = (await createApiKey(app.store, 'bench')).key;
    ready = { type: 'ready', url: app.url, wsUrl: app.wsUrl, key, simulatorUrl, simulatorKey: SIMULATOR_KEY };
  } else if (kind === 'bare-apollo') {
    ready = { type: 'ready', url: '', wsUrl: '', key, simulatorUrl, simulatorKey: '' };
  } else {
    const bare = await startBareWebSocket(data);
    stopBare = bare.stop;
    ready = { type: 'ready', url: '', wsUrl: bare.wsUrl, key, simulatorUrl, simulatorKey: '' };
  }

  async function handle(req: HostRequest): Promise<unknown> {
    switch (req.type) {
      case 'seedCompleted': {
        const gw = app!;
        for (const model of modelMix(Math.ceil(req.count / 17)).slice(0, req.count)) {
          await graphql(gw.url, key, 'mutation C($input: CreateVideoGenerationInput!) { createVideoGeneration(input: $input) { id } }', {
            input: graphqlInput(model),
          });
        }
        for (let i = 0; i < 400; i++) {
          const list = await graphql<{ videoGenerations: { nodes: PlainGeneration[] } }>(
            gw.url,
            key,
            `{ videoGenerations(first: ${req.count}) { nodes { ${GENERATION_FIELDS} } } }`,
          );
          const nodes = list.videoGenerations.nodes;
          if (nodes.every((g) => g.status === 'COMPLETED')) return { generations: nodes };
          await new Promise((r) => setTimeout(r, 50));
        }
        throw new Error('seeded generations did not complete');
      }
      case 'load': {
        data = new BareData(req.generations);
        const bare = await startBareApollo(data);
        stopApollo = bare.stop;
        return { url: bare.url };
      }
      case 'seedPending': {
        const ids: string[] = [];
        const createdAt = new Date().toISOString();
        for (const model of modelMix(Math.ceil(req.count / 17)).slice(0, req.count)) {
          if (app) {
            const { generation } = await app.store.insertGeneration({
              id: randomUUID(),
              owner: 'bench',
              input: { model: model.id, prompt: 'fan-out' },
              inputHash: 'bench',
              idempotencyKey: null,
              status: GenerationStatus.GENERATING,
              createdAt: new Date(),
              deadlineAt: new Date(Date.now() + 3_600_000),
            });
            // No nextPollAt keeps the poller away; the long create timeout keeps the stale-submission sweep away.
            pending.push(generation);
            ids.push(generation.id);
          } else {
            const g: PlainGeneration = {
              id: randomUUID(),
              model: model.id,
              prompt: 'fan-out',
              status: 'GENERATING',
              upstreamStatus: 'generating',
              version: 2,
              progress: 0.1,
              etaSeconds: 60,
              createdAt,
              updatedAt: createdAt,
              completedAt: null,
              video: null,
              usage: null,
              transitions: [{ status: 'GENERATING', at: createdAt }],
            };
            data.publish(g);
            pendingPlain.push(g);
            ids.push(g.id);
          }
        }
        return { ids };
      }
      case 'completeAll': {
        const video = { url: 'http://127.0.0.1/files/bench.mp4', contentType: 'video/mp4', fileName: 'output.mp4', sizeBytes: 1234 };
        if (app) {
          const now = new Date();
          const updated: Generation[] = [];
          for (const g of pending.splice(0)) {
            const u = await app.store.updateGeneration({
              id: g.id,
              expectedVersion: g.version,
              change: { status: GenerationStatus.COMPLETED, completedAt: now, video, upstreamStatus: 'completed' },
              at: now,
            });
            updated.push(u!);
          }
          const cpuAt = cpuMicros();
          const at = preciseNow();
          for (const g of updated) app.events.publish(g);
          return { at, cpuAt };
        }
        const now = new Date().toISOString();
        const updated = pendingPlain.splice(0).map((g) => ({
          ...g,
          status: 'COMPLETED',
          upstreamStatus: 'completed',
          version: g.version + 1,
          progress: 1,
          etaSeconds: 0,
          updatedAt: now,
          completedAt: now,
          video,
          transitions: [...(g.transitions as unknown[]), { status: 'COMPLETED', at: now }],
        }));
        const cpuAt = cpuMicros();
        const at = preciseNow();
        for (const g of updated) data.publish(g);
        return { at, cpuAt };
      }
      case 'cpu':
        return { micros: cpuMicros() };
      case 'pauses':
        return pauses.take();
      case 'memory': {
        for (let i = 0; i < 3; i++) global.gc?.();
        const m = process.memoryUsage();
        return { heapUsed: m.heapUsed, rss: m.rss };
      }
      case 'memoryNow': {
        const m = process.memoryUsage();
        return { heapUsed: m.heapUsed, rss: m.rss };
      }
      case 'createKey':
        return { key: (await createApiKey(app!.store, req.owner)).key };
      case 'seedLarge': {
        const model = MODELS.find((m) => m.inputs.some((i) => i.name === 'imageUrl' && i.required))!;
        const imageUrl = `data:image/png;base64,${'A'.repeat(req.imageBytes)}`;
        const ids: string[] = [];
        for (let i = 0; i < req.count; i++) {
          const { generation } = await app!.store.insertGeneration({
            id: randomUUID(),
            owner: req.owner,
            // What a create through the API leaves in the store: the data URI went upstream whole, and
            // only its summary is kept (seeding the whole URI would measure a state the gateway no longer makes).
            input: summarizeInlineMedia({ model: model.id, prompt: 'large settings', imageUrl }),
            inputHash: `large-${i}`,
            idempotencyKey: null,
            status: GenerationStatus.GENERATING,
            createdAt: new Date(),
            deadlineAt: new Date(Date.now() + 3_600_000),
          });
          ids.push(generation.id);
        }
        return { ids };
      }
      case 'heapSnapshot':
        global.gc?.();
        return { path: writeHeapSnapshot(req.path) };
      case 'stop': {
        await app?.stop();
        await stopBare?.();
        await stopApollo?.();
        setImmediate(() => process.exit(0));
        return {};
      }
    }
  }

  process.on('message', (msg: { seq: number; req: HostRequest }) => {
    handle(msg.req).then(
      (reply) => process.send!({ seq: msg.seq, reply }),
      (err: unknown) => process.send!({ seq: msg.seq, error: String((err as Error)?.stack ?? err) }),
    );
  });
  process.send!(ready);
}

function cpuMicros(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
