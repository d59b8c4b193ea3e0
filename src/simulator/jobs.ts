/**
 * Simulated jobs: id minting, pricing, the queued → generating → completed timeline, forced
 * outcomes and persistence.
 *
 * Status is derived from a clock whenever someone asks, so there are no per-job timers to leak
 * and ten thousand jobs cost nothing while idle. The clock is virtual: it runs `1 / timeScale`
 * times faster than the wall clock, which lets `setTimeScale` speed up (or slow down) jobs that
 * are already running without making them jump backwards.
 */
import { renameSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { defaultErrorBody, generatingStatus } from './poll-quirks';
import type { Usage } from './prices';
import { nanoid, uuidV4, type RandomSource } from './random';

/** The queued phase never lasts longer than this many (virtual) seconds (contract §8). */
const MAX_QUEUED_SECONDS = 15;

/** What polls report for a job from now on, overriding its timeline. */
export type ForcedOutcome =
  | 'completed'
  | 'error'
  /** `status: 'completed'` with `video: null`: a success the client cannot use. */
  | 'completed_without_url'
  /** Stays `generating` forever. */
  | 'pending'
  /** Reports this raw status string and nothing else (e.g. `processing`, `mystery`). */
  | { status: string };

export interface JobRecord {
  id: string;
  model: string;
  /** Seconds of video requested (or defaulted). */
  duration: number;
  usage: Usage;
  /** Virtual milliseconds at creation. */
  createdAt: number;
  /** Virtual milliseconds spent `queued`, then until `completed`, both from creation. */
  queuedMs: number;
  totalMs: number;
  forced?: { outcome: ForcedOutcome; errorBody?: unknown };
}

export interface VideoInfo {
  url: string;
  content_type: 'video/mp4';
  file_name: 'output.mp4';
  file_size: number;
}

/** The suffix after `<uuid>:`. Veo 3.0 jobs carry Google's internal model names (contract §2). */
const ID_SUFFIX: Readonly<Record<string, string>> = {
  'google/veo3': 'veo3',
  'google/veo-3.0-fast': 'veo-3.0-fast-generate-001',
  'google/veo-3.0-i2v': 'veo-3.0-generate-001',
  'google/veo-3.0-i2v-fast': 'veo-3.0-fast-generate-001',
};

/** The newer pages (Lite, Extend) show bare 21-character nanoids instead of `<uuid>:<model>`. */
const NANOID_MODELS: ReadonlySet<string> = new Set([
  'google/veo-3-1-lite-generate-preview',
  'veo-3.1-lite-generate-001',
  'google/veo3-1-extend-video',
  'google/veo3-1-fast-extend-video',
]);

/** What a new job needs besides what the store mints (id, times of its phases). */
export interface NewJob {
  model: string;
  duration: number;
  usage: Usage;
  /** (min, max) seconds from create to completion at time scale 1; the job draws its own from it. */
  rangeSeconds: readonly [number, number];
}

export class VirtualClock {
  private baseWall: number;
  private baseVirtual: number;

  constructor(
    private scale: number,
    startVirtual = 0,
  ) {
    this.baseWall = Date.now();
    this.baseVirtual = startVirtual;
  }

  now(): number {
    return this.baseVirtual + (Date.now() - this.baseWall) / this.scale;
  }

  /** The wall-clock ms at which the virtual clock reads `virtual`, at the current scale. */
  wallTimeAt(virtual: number): number {
    return this.baseWall + (virtual - this.baseVirtual) * this.scale;
  }

  get timeScale(): number {
    return this.scale;
  }

  setTimeScale(scale: number): void {
    this.baseVirtual = this.now();
    this.baseWall = Date.now();
    this.scale = scale;
  }
}

interface StateFile {
  version: 1;
  /** Wall-clock ms when written; the downtime until reload counts as elapsed time. */
  savedAt: number;
  virtualNow: number;
  jobs: JobRecord[];
}

export class JobStore {
  private readonly jobs = new Map<string, JobRecord>();
  readonly clock: VirtualClock;
  private dirty = false;
  private flushScheduled: NodeJS.Immediate | null = null;

  constructor(
    private readonly random: RandomSource,
    timeScale: number,
    private readonly stateFile?: string,
  ) {
    let startVirtual = 0;
    const saved = stateFile ? readState(stateFile) : null;
    if (saved) {
      for (const job of saved.jobs) this.jobs.set(job.id, job);
      startVirtual = saved.virtualNow + Math.max(0, Date.now() - saved.savedAt) / timeScale;
    }
    this.clock = new VirtualClock(timeScale, startVirtual);
  }

  /** A new job, its timeline started `startedAgoMs` of wall-clock time ago (negative: later). */
  create(spec: NewJob, startedAgoMs = 0): JobRecord {
    const [low, high] = spec.rangeSeconds.map((s) => s * 1000) as [number, number];
    const totalMs = low + (high - low) * this.random.next();
    // Mean ≈ 10% of the run, capped: `queued` is usually seen once or not at all (contract §8).
    const queuedMs = Math.min(MAX_QUEUED_SECONDS * 1000, totalMs * 0.2 * this.random.next());
    const job: JobRecord = {
      id: this.mintId(spec.model),
      model: spec.model,
      duration: spec.duration,
      usage: { ...spec.usage },
      createdAt: this.clock.now() - startedAgoMs / this.clock.timeScale,
      queuedMs,
      totalMs,
    };
    this.jobs.set(job.id, job);
    this.changed();
    return job;
  }

  get(id: string): JobRecord | undefined {
    return this.jobs.get(id);
  }

  all(): JobRecord[] {
    return [...this.jobs.values()];
  }

  force(id: string, outcome: ForcedOutcome, errorBody?: unknown): boolean {
    const job = this.jobs.get(id);
    if (!job) return false;
    job.forced = errorBody === undefined ? { outcome } : { outcome, errorBody };
    this.changed();
    return true;
  }

  setTimeScale(scale: number): void {
    this.clock.setTimeScale(scale);
    this.changed();
  }

  /** The status string polls report right now. */
  status(job: JobRecord): string {
    const forced = job.forced?.outcome;
    if (typeof forced === 'object') return forced.status;
    const generating = generatingStatus(job.model);
    if (forced === 'pending') return generating;
    if (forced === 'error') return 'error';
    if (forced !== undefined) return 'completed';
    const elapsed = this.clock.now() - job.createdAt;
    if (elapsed < job.queuedMs) return 'queued';
    return elapsed < job.totalMs ? generating : 'completed';
  }

  /** Whether the job has a downloadable video now. */
  hasVideo(job: JobRecord): boolean {
    return this.status(job) === 'completed' && job.forced?.outcome !== 'completed_without_url';
  }

  /** The GET body for this job; `video` is built only when it is needed. */
  pollBody(job: JobRecord, video: () => VideoInfo): Record<string, unknown> {
    const status = this.status(job);
    const forced = job.forced?.outcome;
    if (status === 'error' && forced === 'error') {
      return { id: job.id, status, video: null, error: job.forced?.errorBody ?? defaultErrorBody(job.model) };
    }
    if (status === 'completed' && typeof forced !== 'object') {
      return {
        id: job.id,
        status,
        video: forced === 'completed_without_url' ? null : video(),
        error: null,
        meta: { usage: { ...job.usage } },
      };
    }
    return { id: job.id, status };
  }

  /** Writes any pending change now (used on close). */
  flush(): void {
    if (this.flushScheduled) clearImmediate(this.flushScheduled);
    this.flushScheduled = null;
    if (!this.dirty || !this.stateFile) return;
    this.dirty = false;
    const state: StateFile = { version: 1, savedAt: Date.now(), virtualNow: this.clock.now(), jobs: this.all() };
    mkdirSync(dirname(this.stateFile), { recursive: true });
    // Write-then-rename so a crash mid-write never leaves a truncated file to reload.
    const tmp = `${this.stateFile}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(state));
    renameSync(tmp, this.stateFile);
  }

  private changed(): void {
    if (!this.stateFile) return;
    this.dirty = true;
    // Coalesce a burst of creates into one write per event-loop turn.
    this.flushScheduled ??= setImmediate(() => this.flush());
  }

  private mintId(model: string): string {
    for (;;) {
      const id = NANOID_MODELS.has(model) ? nanoid(this.random) : `${uuidV4(this.random)}:${ID_SUFFIX[model] ?? model}`;
      // A seeded source replays the same ids after a restart with a state file; skip those.
      if (!this.jobs.has(id)) return id;
    }
  }
}

function readState(file: string): StateFile | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const state = JSON.parse(text) as StateFile;
  if (state.version !== 1 || !Array.isArray(state.jobs)) {
    throw new Error(`Simulator state file ${file} is not a version 1 state file`);
  }
  return state;
}
