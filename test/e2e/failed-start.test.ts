/**
 * A start that fails half-way leaves nothing open: with the HTTP port taken, after the embedded
 * store (holding its data folder's lock), Redis and the in-process simulator have started, startApp
 * rejects naming the port, and everything it had started is stopped again (tests and benchmarks
 * call it in-process, so anything left would hold a port, a folder or a connection).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { startApp } from '../../src/app';
import { loadConfig } from '../../src/config';
import { freePort } from '../helpers/free-port';
import { waitFor } from '../helpers/gateway';
import { describeWithServices, startRedis, type RedisServer } from '../helpers/services';

function listenOn(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

const closeServer = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));

/** Node's count of open TCP servers and sockets in this process (what would keep Jest from exiting). */
function openTcp(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap' || r === 'TCPSocketWrap').length;
}

function startConfig(dataDir: string, env: Record<string, string>) {
  return loadConfig({
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    DATA_DIR: dataDir,
    DEV_API_KEY: 'false',
    SHUTDOWN_GRACE_MS: '500',
    ...env,
  });
}

function logSink(): { lines: string[]; logDestination: Writable } {
  const lines: string[] = [];
  const logDestination = new Writable({
    write(chunk, _encoding, callback) {
      lines.push(String(chunk));
      callback();
    },
  });
  return { lines, logDestination };
}

/** Starts on a taken port, expects the failure, and checks what must be free again afterwards. */
async function failToStartOnTakenPort(env: Record<string, string>): Promise<{ dataDir: string; simulatorPort: number; logs: string[] }> {
  const blocker = await listenOn(0);
  const { port } = blocker.address() as { port: number };
  const simulatorPort = await freePort();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'vgw-failed-start-'));
  const { lines, logDestination } = logSink();
  try {
    const tcpBefore = openTcp();
    const started = startApp(startConfig(dataDir, { PORT: String(port), SIMULATOR_PORT: String(simulatorPort), ...env }), { logDestination });
    await expect(started).rejects.toThrow(`port ${port} on 127.0.0.1 is already in use`);
    await expect(started).rejects.toMatchObject({ code: 'EADDRINUSE' });
    // Sockets close asynchronously after their close() resolves: a bounded wait, failing the test.
    await waitFor(
      `the failed start's TCP servers and sockets to close (${openTcp()} open, ${tcpBefore} before)`,
      () => openTcp() <= tcpBefore,
      5_000,
    );
  } finally {
    await closeServer(blocker);
  }
  // The simulator's port is free again.
  await closeServer(await listenOn(simulatorPort));
  return { dataDir, simulatorPort, logs: lines };
}

describe('a start that fails on a taken HTTP port', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  it('rejects naming the port, logs it once, and frees the simulator port and the data folder', async () => {
    const { dataDir, simulatorPort, logs } = await failToStartOnTakenPort({});
    dirs.push(dataDir);

    const failures = logs.map((line) => JSON.parse(line)).filter((line) => line.level >= 50);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ step: 'http', msg: expect.stringContaining('is already in use') });

    // The embedded store released its folder's lock: a second start on the same folder (and the
    // same simulator port) succeeds.
    const again = await startApp(startConfig(dataDir, { PORT: '0', SIMULATOR_PORT: String(simulatorPort) }), {
      logDestination: logSink().logDestination,
    });
    try {
      const res = await fetch(again.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ videoModels { id } }' }),
      });
      expect(res.status).toBe(200);
    } finally {
      await again.stop();
    }
  }, 120_000);
});

describeWithServices('a start with Redis that fails on a taken HTTP port', () => {
  let redis: RedisServer;
  let observer: Redis;
  const dirs: string[] = [];
  beforeAll(async () => {
    redis = await startRedis();
    observer = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await observer.connect();
  }, 60_000);
  afterAll(async () => {
    observer?.disconnect();
    await redis?.stop();
    dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true }));
  });

  const clients = async () =>
    String(await observer.client('LIST'))
      .trim()
      .split('\n').length;

  it('closes every Redis connection it opened', async () => {
    const before = await clients();
    const { dataDir } = await failToStartOnTakenPort({ REDIS_URL: redis.url });
    dirs.push(dataDir);
    await waitFor('Redis to see the failed start disconnect', async () => (await clients()) === before, 5_000);
    expect(await clients()).toBe(before);
  }, 120_000);
});
