/**
 * A gateway killed with SIGKILL in the middle of copying a finished video finishes the copy when
 * it starts again: the copy is a durable job in the on-disk embedded store, and the next start
 * releases the dead process's lease at once (the data folder lock makes it the only process) instead
 * of waiting it out (MEDIA_COPY_TIMEOUT_MS + 60 s, here 11 minutes: longer than this test may take). The gateway runs as `node dist/main.js`; the
 * upstream's file host is a real HTTP server in front of the simulator that, the first time, sends
 * the headers and a first part of the file and then holds the rest back.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startSimulator, type Simulator } from '../../src/simulator';
import { sampleVideo } from '../../src/simulator/video';
import { SIMULATOR_KEY, waitFor } from '../helpers/gateway';
import { startGatewayProcess, type GatewayProcess } from '../helpers/services';
import { START_TIMEOUT_MS } from '../helpers/timeouts';

// Two cold starts of an embedded database: minutes on a loaded machine.
jest.setTimeout(480_000);
const START = { startTimeoutMs: 240_000 };
const ROOT = path.resolve(__dirname, '../..');

/** The simulator's file host, stalling every download after `headBytes` while `stall` is set. */
class StallingFileHost {
  stall = true;
  /** Downloads that got their first part and were then held. */
  held = 0;
  private readonly open = new Set<ServerResponse>();
  private readonly server: Server = createServer((req, res) => {
    const video = sampleVideo();
    res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': video.length });
    if (!this.stall) return void res.end(video);
    this.open.add(res);
    res.write(video.subarray(0, 16 * 1024), () => this.held++);
    req.on('close', () => this.open.delete(res));
  });

  async start(): Promise<string> {
    await new Promise<void>((ready) => this.server.listen(0, '127.0.0.1', ready));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const res of this.open) res.destroy();
    await new Promise<void>((done) => this.server.close(() => done()));
  }
}

async function graphql(gateway: GatewayProcess, key: string, query: string, variables: Record<string, unknown> = {}) {
  const res = await fetch(gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: Record<string, unknown>; errors?: unknown[] };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data!;
}

describe('a copy interrupted by kill -9', () => {
  let dataDir: string;
  let files: StallingFileHost;
  let simulator: Simulator;
  const gateways: GatewayProcess[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'gateway-media-crash-'));
    files = new StallingFileHost();
    const filesUrl = await files.start();
    simulator = await startSimulator({ apiKey: SIMULATOR_KEY, port: 0, timeScale: 0.01, seed: 1, publicUrl: filesUrl });
  }, START_TIMEOUT_MS);
  afterAll(async () => {
    for (const g of gateways) await g.kill();
    await simulator?.stop();
    await files?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  const env = () => ({
    DATA_DIR: dataDir,
    AIMLAPI_API_KEY: SIMULATOR_KEY,
    AIMLAPI_BASE_URL: simulator.url,
    UPSTREAM_TIME_SCALE: '0.01',
    MEDIA_STORE: 'folder',
    // The dead process's lease would run out this + 60 s after it claimed the copy: 11 minutes, so the
    // copy is finished in time only if the next start releases it.
    MEDIA_COPY_TIMEOUT_MS: '600000',
    MEDIA_COPY_RETRY_MS: '100',
  });

  it('is finished by the next start without waiting out the dead lease, and its link plays the whole video', async () => {
    const first = await startGatewayProcess('media-crash-1', env(), START);
    gateways.push(first);
    const created = await promisify(execFile)(process.execPath, [path.join(ROOT, 'dist/cli/keys.js'), 'create', '--owner', 'alice'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'silent', DATA_DIR: dataDir },
      timeout: 120_000,
    });
    const key = /Key \(shown once, store it now\): (vgw_\S+)/.exec(created.stdout)![1]!;
    const { createVideoGeneration } = await graphql(
      first,
      key,
      'mutation($input: CreateVideoGenerationInput!) { createVideoGeneration(input: $input) { id } }',
      { input: { model: 'google/veo-3.0-fast', prompt: 'a tram in the snow' } },
    );
    const id = (createVideoGeneration as { id: string }).id;

    await waitFor('the copy to be under way', () => files.held > 0, 120_000, 50);
    await first.kill();
    // Nothing was stored: the folder holds no finished file for it.
    const stored = await readdir(path.join(dataDir, 'media'), { recursive: true }).catch(() => []);
    expect(stored.filter((f) => String(f).includes(id) && !String(f).includes('.partial'))).toEqual([]);

    files.stall = false;
    const second = await startGatewayProcess('media-crash-2', env(), START);
    gateways.push(second);
    const query = 'query($id: ID!) { videoGeneration(id: $id) { status video { url copy { state sizeBytes errorCode } } } }';
    const done = await waitFor(
      'the copy to be finished after the restart (well before the dead lease would run out)',
      async () => {
        const g = (await graphql(second, key, query, { id })).videoGeneration as { video: { url: string; copy: { state: string } | null } | null };
        return g.video?.copy?.state === 'STORED' ? g : undefined;
      },
      180_000,
      500,
    );
    expect(done).toEqual({
      status: 'COMPLETED',
      video: { url: expect.stringMatching(/^\/media\//), copy: { state: 'STORED', sizeBytes: sampleVideo().length, errorCode: null } },
    });
    const played = await fetch(new URL(done.video!.url, second.url));
    expect(played.status).toBe(200);
    expect(Buffer.from(await played.arrayBuffer()).equals(sampleVideo())).toBe(true);
  });
});
