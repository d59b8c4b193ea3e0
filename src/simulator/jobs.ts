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
import type { ModelSpec } from '../upstream/models';
import { CREDITS_PER_USD } from '../upstream/wire';
import { nanoid, uuidV4, type RandomSource } from './random';

/** The queued phase never lasts longer than this many (virtual) seconds (contract §8). */
const MAX_QUEUED_SECONDS = 15;

export interface Usage {
  credits_used: number;
  usd_spent: number;
}

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

export const DEFAULT_ERROR_BODY = {
  name: 'GenerationError',
  message: "The prompt was rejected by the provider's safety filter. Rephrase the prompt and try again.",
} as const;

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

/**
 * Simulated prices in USD per second of video (third-party ballparks for Veo; the real upstream
 * reports its own). Other models get a middling price.
 */
const USD_PER_SECOND: Readonly<Record<string, number>> = {
  veo2: 0.5,
  'veo2/image-to-video': 0.5,
  'google/veo3': 0.26,
  'google/veo-3.0-fast': 0.105,
  'google/veo-3.0-i2v': 0.455,
  'google/veo-3.0-i2v-fast': 0.2,
  'google/veo-3.1-t2v': 0.4,
  'google/veo-3.1-t2v-fast': 0.13,
  'google/veo-3.1-i2v': 0.4,
  'google/veo-3.1-i2v-fast': 0.13,
  'google/veo-3.1-first-last-image-to-video': 0.4,
  'google/veo-3.1-first-last-image-to-video-fast': 0.13,
  'google/veo-3.1-reference-to-video': 0.4,
  'google/veo3-1-extend-video': 0.4,
  'google/veo3-1-fast-extend-video': 0.13,
  'google/veo-3-1-lite-generate-preview': 0.104,
  'veo-3.1-lite-generate-001': 0.104,
};
const DEFAULT_USD_PER_SECOND = 0.1;

export function simulatedUsdPerSecond(modelId: string): number {
  return USD_PER_SECOND[modelId] ?? DEFAULT_USD_PER_SECOND;
}

/** The suffix after `<uuid>:`. Veo 3.0 jobs carry Google's internal model names (contract §2). */
const ID_SUFFIX: Readonly<Record<string, string>> = {
  'google/veo3': 'veo3',
  'google/veo-3.0-fast': 'veo-3.0-fast-generate-001',
  'google/veo-3.0-i2v': 'veo-3.0-generate-001',
  'google/veo-3.0-i2v-fast': 'veo-3.0-fast-generate-001',
};

/** The newer pages (Lite, Extend) show bare 21-character nanoids instead of `<uuid>:<model>`. */
function usesNanoid(model: ModelSpec): boolean {
  return model.family === 'veo3.1-lite' || model.kinds.includes('EXTEND_VIDEO');
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

  create(model: ModelSpec, duration: number): JobRecord {
    const rangeMs = model.typical.rangeSeconds.map((s) => s * 1000) as [number, number];
    const totalMs = rangeMs[0] + (rangeMs[1] - rangeMs[0]) * this.random.next();
    // Mean ≈ 10% of the run, capped: `queued` is usually seen once or not at all (contract §8).
    const queuedMs = Math.min(MAX_QUEUED_SECONDS * 1000, totalMs * 0.2 * this.random.next());
    const usd = round(simulatedUsdPerSecond(model.id) * duration, 6);
    const job: JobRecord = {
      id: this.mintId(model),
      model: model.id,
      duration,
      usage: { credits_used: Math.round(usd * CREDITS_PER_USD), usd_spent: usd },
      createdAt: this.clock.now(),
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
    if (forced === 'pending') return 'generating';
    if (forced === 'error') return 'error';
    if (forced !== undefined) return 'completed';
    const elapsed = this.clock.now() - job.createdAt;
    if (elapsed < job.queuedMs) return 'queued';
    return elapsed < job.totalMs ? 'generating' : 'completed';
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
      return { id: job.id, status, video: null, error: job.forced?.errorBody ?? DEFAULT_ERROR_BODY };
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

  private mintId(model: ModelSpec): string {
    for (;;) {
      const id = usesNanoid(model)
        ? nanoid(this.random)
        : `${uuidV4(this.random)}:${ID_SUFFIX[model.id] ?? model.id}`;
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

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
