/**
 * Benchmark 4, the create path and start-up. The latency the gateway adds to a create over calling
 * its upstream (the simulator, in the gateway's process) directly, sequentially; and the time from
 * spawning the real entry point (`main.js`) to a 200 on /readyz, with its idle RSS after that.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { graphqlInput, modelMix, wireBody } from './inputs';
import { HostProcess, type Started } from './processes';
import type { HostReady } from './server-host';
import { preciseNow, quantile, sleep } from './stats';

export interface CreatePathResult {
  creates: number;
  gatewayP50Ms: number;
  gatewayP99Ms: number;
  directP50Ms: number;
  directP99Ms: number;
}

export interface StartupResult {
  /** Spawn to the first 200 from /readyz, in ms. */
  readyMs: number;
  /** Resident set size 1 s after ready, in MB. */
  idleRssMB: number;
}

const CREATE = 'mutation C($input: CreateVideoGenerationInput!) { createVideoGeneration(input: $input) { id status } }';

/** `started`: a gateway host started ahead (e.g. beside the HTTP benchmark's servers); else started here. */
export async function runCreatePath(
  creates: number,
  started: Promise<Started<HostReady>> = HostProcess.start<HostReady>('server-host', ['gateway']),
): Promise<CreatePathResult> {
  const { host, first } = await started;
  try {
    const models = modelMix(Math.ceil(creates / 17)).slice(0, creates);
    const viaGateway: number[] = [];
    const direct: number[] = [];
    // Interleaved, so drift in the machine's load hits both sides alike.
    for (const model of models) {
      let t = preciseNow();
      const a = await fetch(first.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${first.key}` },
        body: JSON.stringify({ query: CREATE, variables: { input: graphqlInput(model) } }),
      });
      await a.json();
      viaGateway.push(preciseNow() - t);
      if (a.status !== 200) throw new Error(`gateway create failed: ${a.status}`);
      t = preciseNow();
      const b = await fetch(`${first.simulatorUrl}/v2/video/generations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${first.simulatorKey}` },
        body: JSON.stringify(wireBody(model)),
      });
      await b.json();
      direct.push(preciseNow() - t);
      if (b.status !== 201) throw new Error(`direct create failed: ${b.status}`);
    }
    return {
      creates,
      gatewayP50Ms: quantile(viaGateway, 0.5),
      gatewayP99Ms: quantile(viaGateway, 0.99),
      directP50Ms: quantile(direct, 0.5),
      directP99Ms: quantile(direct, 0.99),
    };
  } finally {
    await host.stop();
  }
}

/** The compiled entry point: next to this build (dist-bench), else the app build (dist/). */
export function compiledMain(): string {
  const besideBench = path.resolve(__dirname, '../src/main.js');
  return existsSync(besideBench) ? besideBench : path.resolve(__dirname, '../dist/main.js');
}

/**
 * Where the store is for a start: in memory, or the embedded default's data folder (`DATA_DIR`), whose
 * first start initialises it (initdb) and whose later starts open it.
 */
export type StartupStore = { inMemory: true } | { dataDir: string };

/** The start-up figures of the embedded default: a first start on a fresh data folder, then a second one. */
export async function runDataFolderStartups(mainJs = compiledMain()): Promise<{ first: StartupResult; later: StartupResult }> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'veo-bench-startup-'));
  try {
    const first = await runStartup(mainJs, { dataDir });
    const later = await runStartup(mainJs, { dataDir });
    return { first, later };
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** Spawns the real entry point and times it to ready. */
export async function runStartup(mainJs = compiledMain(), store: StartupStore = { inMemory: true }): Promise<StartupResult> {
  const started = preciseNow();
  const storeEnv = 'inMemory' in store ? { DATA_IN_MEMORY: 'true' } : { DATA_IN_MEMORY: 'false', DATA_DIR: store.dataDir };
  const child = spawn(process.execPath, [mainJs], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', ...storeEnv, SIMULATOR_PORT: '0', LOG_LEVEL: 'warn', NODE_ENV: 'development' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    // A first start on a data folder runs initdb: over a minute on a loaded machine.
    const deadline = Date.now() + ('inMemory' in store ? 60_000 : 180_000);
    let readyAt: number | null = null;
    while (readyAt === null) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`gateway did not become ready:\n${output}`);
      const url = /GraphQL \(HTTP\):\s+(http:\/\/\S+)\/graphql/.exec(output)?.[1];
      if (url) {
        const res = await fetch(`${url}/readyz`).catch(() => null);
        if (res?.status === 200) readyAt = preciseNow();
        await res?.arrayBuffer();
      }
      if (readyAt === null) await sleep(5);
    }
    await sleep(1_000);
    const rssKB = Number(
      execFileSync('ps', ['-o', 'rss=', '-p', String(child.pid)])
        .toString()
        .trim(),
    );
    return { readyMs: readyAt - started, idleRssMB: rssKB / 1024 };
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
}
