/**
 * Issue 15's copy bench: finished videos (ten of 200 MB in the full run) copied into the media store at
 * once by a real gateway process (`main.js`, the folder store), from the simulator serving videos of
 * that size generated as they are sent (its `videoBytes` option), in this process. Figures: the time
 * from the first completion to the last copy stored (the gateway's own `completedAt` and `storedAt`),
 * the throughput, and the gateway's peak RSS during the copies against its RSS just before them.
 *
 * The baseline, in the same run and measured the same way: as many downloads of the same size done by
 * a plain undici stream into a file each, all at once, in a process of its own (bench/plain-copy.ts).
 * The point is bounded memory: each copy streams, so RSS growth must not scale with the video size
 * (RSS_GROWTH_BOUND_MB; a copy that held its file would need the whole batch's size).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startSimulator, type Simulator } from '../src/simulator';
import { MODELS } from '../src/upstream/models';
import { within } from '../test/helpers/within';
import { compiledMain } from './create-startup';
import { graphql } from './graphql-client';
import { wireBody } from './inputs';
import type { PlainCopyReport, PlainCopyRequest } from './plain-copy';
import { watchRss } from './process-memory';
import { LOAD_LIMITS_OFF } from './load-limits-off';
import { HostProcess, stopAll } from './processes';
import { sleep } from './stats';

export interface MediaCopyPlan {
  /** Videos copied at once. */
  videos: number;
  /** Size of each, in MB (10^6 bytes). */
  videoMB: number;
}

export interface CopyFigures {
  /** Copies that ended complete: STORED with every byte (gateway), a file of the full size (baseline). */
  stored: number;
  /** First completion → last copy stored (gateway); first request → last file closed (baseline); s. */
  seconds: number;
  /** The bytes of the complete copies over `seconds`, in MB/s. */
  mbPerSecond: number;
  /** RSS just before the copies and its peak during them, in MB (10^6 bytes). */
  rssBeforeMB: number;
  peakRssMB: number;
}

export interface MediaCopyResult {
  plan: MediaCopyPlan;
  gateway: CopyFigures;
  plain: CopyFigures;
}

/**
 * The most the gateway's RSS may grow while its copies run, whatever the videos' size: each copy holds
 * a few stream buffers (tens of KB) and the garbage of the chunks passed on until the next collection.
 * Ten 200 MB videos held whole would need 2,000 MB.
 */
export const RSS_GROWTH_BOUND_MB = 128;

const SIMULATOR_KEY = 'bench-media-key';
const MODEL_ID = 'google/veo-3.0-fast';
const MB = 1_000_000;
/** Slower than this (MB/s over the whole batch) counts as stuck. */
const SLOWEST_MB_PER_SECOND = 2;

const CREATE = 'mutation C($input: CreateVideoGenerationInput!) { createVideoGeneration(input: $input) { id } }';
const LIST = `query L($first: Int!) {
  videoGenerations(first: $first) { nodes { id status completedAt video { copy { state sizeBytes storedAt errorCode errorMessage } } } }
}`;

interface ListedGeneration {
  id: string;
  status: string;
  completedAt: string | null;
  video: {
    copy: { state: string; sizeBytes: number | null; storedAt: string | null; errorCode: string | null; errorMessage: string | null } | null;
  } | null;
}

interface GatewayProcess {
  child: ChildProcess;
  url: string;
  /** The development key the gateway prints at start (owner "dev"). */
  key: string;
  output(): string;
}

export async function runMediaCopy(plan: MediaCopyPlan, log: (line: string) => void = () => {}): Promise<MediaCopyResult> {
  const videoBytes = plan.videoMB * MB;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'veo-bench-media-'));
  // Time scale 1: no job completes on its own timeline (a minute or more) before the bench forces it.
  const simulator = await startSimulator({ apiKey: SIMULATOR_KEY, port: 0, timeScale: 1, videoBytes });
  const gatewayStart = startGateway(simulator, plan, path.join(dir, 'media'));
  const plainStart = HostProcess.start<{ type: 'ready'; pid: number }>('plain-copy', []);
  try {
    const [gateway, plain] = await Promise.all([gatewayStart, plainStart]);
    // The baseline first, on jobs of its own the gateway never heard of; its files go before the gateway's copies.
    const plainDir = path.join(dir, 'plain');
    const plainFigures = await runPlainCopy(simulator, plain.host, plan, plainDir);
    await rm(plainDir, { recursive: true, force: true });
    log(`  plain copy: ${plainFigures.stored}/${plan.videos} in ${plainFigures.seconds.toFixed(1)} s`);
    const gatewayFigures = await runGatewayCopy(simulator, gateway, plan, log);
    return { plan, gateway: gatewayFigures, plain: plainFigures };
  } finally {
    await Promise.allSettled([gatewayStart.then((g) => stopGateway(g.child)), stopAll([plainStart])]);
    await simulator.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Longest a batch may take before the bench gives up on it. */
function batchDeadlineMs(plan: MediaCopyPlan): number {
  return Math.max(120_000, ((plan.videos * plan.videoMB) / SLOWEST_MB_PER_SECOND) * 1000);
}

async function runPlainCopy(simulator: Simulator, host: HostProcess, plan: MediaCopyPlan, dir: string): Promise<CopyFigures> {
  await mkdir(dir, { recursive: true });
  const ids = await createJobs(simulator, plan.videos);
  for (const id of ids) simulator.control.forceOutcome(id, 'completed');
  const urls = ids.map((id) => simulator.control.fileLink(id, 3_600));
  const watch = watchRss(host.child.pid!);
  let report: PlainCopyReport;
  let peak: number;
  try {
    report = await within(
      'the plain copies',
      host.request<PlainCopyReport>({ type: 'copy', urls, dir } satisfies PlainCopyRequest),
      batchDeadlineMs(plan),
    );
  } finally {
    peak = await watch.stop();
  }
  const complete = report.bytes.filter((b) => b === plan.videoMB * MB);
  return figures(complete.length, plan, (report.endedAt - report.startedAt) / 1000, watch.before, peak);
}

async function runGatewayCopy(simulator: Simulator, gateway: GatewayProcess, plan: MediaCopyPlan, log: (line: string) => void): Promise<CopyFigures> {
  const known = new Set(simulator.control.jobs().map((j) => j.id));
  for (let i = 0; i < plan.videos; i++) {
    await graphql(gateway.url, gateway.key, CREATE, { input: { model: MODEL_ID, prompt: `media bench video ${i}` } });
  }
  const jobs = simulator.control.jobs().filter((j) => !known.has(j.id));
  if (jobs.length !== plan.videos) throw new Error(`media bench: the gateway created ${jobs.length} upstream jobs, not ${plan.videos}`);
  // A moment idle, so the creates' own garbage is not counted as the copies' growth.
  await sleep(1_000);
  const watch = watchRss(gateway.child.pid!);
  let nodes: ListedGeneration[];
  let peak: number;
  try {
    for (const job of jobs) simulator.control.forceOutcome(job.id, 'completed');
    nodes = await copiesSettled(gateway, plan);
  } finally {
    peak = await watch.stop();
  }
  const failed = nodes.filter((n) => n.video?.copy?.state !== 'STORED');
  for (const n of failed)
    log(`  ${n.id}: copy ${n.video?.copy?.state ?? 'missing'} ${n.video?.copy?.errorCode ?? ''} ${n.video?.copy?.errorMessage ?? ''}`);
  const complete = nodes.filter((n) => n.video?.copy?.state === 'STORED' && n.video.copy.sizeBytes === plan.videoMB * MB);
  const firstCompletion = Math.min(...nodes.map((n) => Date.parse(n.completedAt!)));
  const lastStored = Math.max(...complete.map((n) => Date.parse(n.video!.copy!.storedAt!)));
  return figures(complete.length, plan, complete.length ? (lastStored - firstCompletion) / 1000 : Number.NaN, watch.before, peak);
}

/** Every generation completed and its copy ended (STORED or FAILED), read as a client would; bounded. */
async function copiesSettled(gateway: GatewayProcess, plan: MediaCopyPlan): Promise<ListedGeneration[]> {
  const deadline = Date.now() + batchDeadlineMs(plan);
  let nodes: ListedGeneration[] = [];
  while (Date.now() < deadline) {
    nodes = (await graphql<{ videoGenerations: { nodes: ListedGeneration[] } }>(gateway.url, gateway.key, LIST, { first: plan.videos }))
      .videoGenerations.nodes;
    const ended = nodes.filter((n) => n.status === 'COMPLETED' && (n.video?.copy?.state === 'STORED' || n.video?.copy?.state === 'FAILED'));
    if (ended.length === plan.videos) return nodes;
    if (nodes.some((n) => n.status !== 'COMPLETED' && n.status !== 'QUEUED' && n.status !== 'GENERATING')) {
      throw new Error(`media bench: a generation ended otherwise than COMPLETED: ${JSON.stringify(nodes)}\n${gateway.output()}`);
    }
    await sleep(250);
  }
  throw new Error(`media bench: the copies did not end within ${batchDeadlineMs(plan) / 1000} s: ${JSON.stringify(nodes)}\n${gateway.output()}`);
}

function figures(stored: number, plan: MediaCopyPlan, seconds: number, before: number, peak: number): CopyFigures {
  // Millisecond timestamps: a tiny (smoke) batch may end within one.
  const s = Math.max(seconds, 0.001);
  return { stored, seconds: s, mbPerSecond: (stored * plan.videoMB) / s, rssBeforeMB: before / MB, peakRssMB: peak / MB };
}

/** `n` jobs created on the simulator over HTTP, not through the gateway (the baseline's). */
async function createJobs(simulator: Simulator, n: number): Promise<string[]> {
  const model = MODELS.find((m) => m.id === MODEL_ID)!;
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const res = await fetch(`${simulator.url}/v2/video/generations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${SIMULATOR_KEY}` },
      body: JSON.stringify(wireBody(model)),
    });
    const body = (await res.json()) as { id?: string };
    if (res.status !== 201 || !body.id) throw new Error(`simulator create failed: ${res.status} ${JSON.stringify(body)}`);
    ids.push(body.id);
  }
  return ids;
}

/** The real entry point against the simulator, with the folder store in `mediaDir`, every copy at once. */
async function startGateway(simulator: Simulator, plan: MediaCopyPlan, mediaDir: string): Promise<GatewayProcess> {
  const child = spawn(process.execPath, [compiledMain()], {
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      SHUTDOWN_GRACE_MS: '500',
      // The store of generations in memory; the videos go to the folder store, the embedded default.
      DATA_IN_MEMORY: 'true',
      AIMLAPI_API_KEY: SIMULATOR_KEY,
      AIMLAPI_BASE_URL: simulator.url,
      UPSTREAM_TIME_SCALE: '1',
      // A completion the bench forces is noticed within 0.2 s, so the copies start together.
      POLL_MIN_INTERVAL_MS: '50',
      POLL_MAX_INTERVAL_MS: '200',
      ...LOAD_LIMITS_OFF,
      MEDIA_STORE: 'folder',
      MEDIA_DIR: mediaDir,
      MEDIA_COPY_CONCURRENCY: String(plan.videos),
      // Well above the videos' size (the default, 2 GiB, is too; set so a change of default cannot fail the bench).
      MEDIA_MAX_BYTES: String(Math.max(2 * 1024 ** 3, 2 * plan.videoMB * MB)),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  try {
    const found = await within(
      'the media bench gateway to start',
      new Promise<{ url: string; key: string }>((resolve, reject) => {
        const look = () => {
          const url = /GraphQL \(HTTP\):\s+(http:\/\/\S+)/.exec(output)?.[1];
          const key = /Development key \(shown once, owner "dev"\): (\S+)/.exec(output)?.[1];
          if (url && key) resolve({ url, key });
        };
        child.stdout!.on('data', look);
        child.once('exit', (code, signal) => reject(new Error(`the media bench gateway exited at start (${code ?? signal}):\n${output}`)));
      }),
      120_000,
    );
    return { child, ...found, output: () => output };
  } catch (error) {
    await stopGateway(child);
    throw error;
  }
}

/** SIGTERM, then SIGKILL if it is still there after 10 s. */
async function stopGateway(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
