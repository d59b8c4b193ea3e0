/**
 * The test-facing control surface: the same operations in-process (`simulator.control`) and over
 * HTTP under `/__control/*`, so a gateway running in another process can be driven too.
 */
import type { Fault } from './faults';
import { ArrivalWindow } from './arrival-window';
import { faultProblem } from './faults';
import type { ForcedOutcome } from './jobs';

export interface SimulatorCounts {
  /** Requests that reached a create route (either path), including faulted, rejected and unauthorised ones. */
  create: number;
  /** Same, for poll routes. */
  poll: number;
  /** Polls per `generation_id` as sent (decoded). */
  pollsById: Record<string, number>;
  /** Creates per body `model` as sent (only when it was a string). */
  createsByModel: Record<string, number>;
  /**
   * Per `generation_id`: the most polls of it that were in progress at the same moment (from request
   * to the end of its answer). Above 1 means two pollers overlapped on one job.
   */
  maxConcurrentPollsById: Record<string, number>;
  /**
   * The most requests (creates and polls together, as the gateway's upstream request budget covers
   * both) that arrived within any 1,000 ms since the last reset, stamped when each reached its route's
   * handler. Exact, not sampled: windows are half-open (arrivals exactly 1,000 ms apart are not in one
   * window) and timed on a monotonic clock (see arrival-window.ts). Faulted, rejected and unauthorised
   * requests count, as for `create` and `poll`.
   */
  mostInAnySecond: number;
}

export interface SimulatedJob {
  id: string;
  model: string;
  /** What a poll would report right now. */
  status: string;
}

export interface SimulatorControl {
  /** Adds a fault; returns its id (for `removeFault`). Throws `TypeError` on an invalid fault. */
  injectFault(fault: Fault): string;
  /** Removes one fault; false when it was already used up or never existed. */
  removeFault(id: string): boolean;
  clearFaults(): void;
  /**
   * From now on, polls of this job report `outcome`. `errorBody` replaces the default `error`
   * object of the `'error'` outcome. Throws when the id is unknown.
   */
  forceOutcome(generationId: string, outcome: ForcedOutcome, errorBody?: unknown): void;
  counts(): SimulatorCounts;
  resetCounts(): void;
  jobs(): SimulatedJob[];
  /**
   * Creates a job as a create request with this body would (same validation, same timeline draw),
   * without HTTP and without counting a request, its timeline started `startedAgoMs` of wall-clock
   * time ago (default 0; negative: later). Benchmarks seed thousands of jobs, some already under
   * way, with it. Throws TypeError with the create route's message on a body the route refuses.
   */
  createJob(body: unknown, startedAgoMs?: number): SimulatedJob;
  /**
   * The wall-clock time at which this job's timeline reaches `completed` at the current time scale
   * (in the past when it already has); null when a forced outcome overrides the timeline. Benchmarks
   * use it to measure how late a completion is noticed. Throws when the id is unknown.
   */
  completesAt(generationId: string): Date | null;
  /** Speeds up or slows down every job from now on, running ones included. Must be > 0. */
  setTimeScale(timeScale: number): void;
  /**
   * A signed link to this job's video, valid for `ttlSeconds` (default: the simulator's
   * `fileLinkTtlSeconds`; negative gives an already expired one). The id need not exist.
   */
  fileLink(generationId: string, ttlSeconds?: number): string;
}

export class RequestCounter {
  private state: SimulatorCounts = emptyCounts();
  private readonly inProgress = new Map<string, number>();
  private readonly arrivals: ArrivalWindow;

  /** `now`: a monotonic clock in ms (tests pass their own). */
  constructor(now?: () => number) {
    this.arrivals = new ArrivalWindow(1_000, now);
  }

  /**
   * A request reached a create or poll route: call it first thing, before its body is read, so that
   * arrivals are stamped in the order they came (`create`/`poll` then count it by model and id).
   */
  arrived(): void {
    this.arrivals.arrive();
  }

  create(model: unknown): void {
    this.state.create += 1;
    if (typeof model === 'string') bump(this.state.createsByModel, model);
  }

  poll(generationId: string | null): void {
    this.state.poll += 1;
    if (generationId) bump(this.state.pollsById, generationId);
  }

  /** Marks a poll of `generationId` as in progress; call the returned function when its answer is over. */
  pollInProgress(generationId: string): () => void {
    const now = (this.inProgress.get(generationId) ?? 0) + 1;
    this.inProgress.set(generationId, now);
    this.state.maxConcurrentPollsById[generationId] = Math.max(this.state.maxConcurrentPollsById[generationId] ?? 0, now);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.inProgress.get(generationId) ?? 1) - 1;
      if (left > 0) this.inProgress.set(generationId, left);
      else this.inProgress.delete(generationId);
    };
  }

  snapshot(): SimulatorCounts {
    return { ...structuredClone(this.state), mostInAnySecond: this.arrivals.max() };
  }

  reset(): void {
    this.state = emptyCounts();
    this.arrivals.reset();
  }
}

function emptyCounts(): SimulatorCounts {
  // Null-prototype maps: ids and model names are client data and could be "__proto__".
  return {
    create: 0,
    poll: 0,
    pollsById: Object.create(null) as SimulatorCounts['pollsById'],
    createsByModel: Object.create(null) as SimulatorCounts['createsByModel'],
    maxConcurrentPollsById: Object.create(null) as SimulatorCounts['maxConcurrentPollsById'],
    mostInAnySecond: 0,
  };
}

function bump(map: Record<string, number>, key: string): void {
  map[key] = (map[key] ?? 0) + 1;
}

export interface ControlReply {
  status: number;
  /** Undefined means no body (204). */
  body?: unknown;
  /** For 4xx replies: the envelope message. */
  error?: string;
}

export const OUTCOME_NAMES = ['completed', 'error', 'completed_without_url', 'pending'] as const;

/**
 * Routes `/__control/*` (already authenticated) to `control`.
 *
 * POST   /__control/faults          body: Fault (`times: -1` = forever) → 201 {id}
 * DELETE /__control/faults          → 204
 * DELETE /__control/faults/:id      → 204, or 404
 * POST   /__control/outcomes        body: {generationId, outcome, errorBody?} → 204, or 404
 * GET    /__control/counts          → 200 SimulatorCounts
 * DELETE /__control/counts          → 204
 * GET    /__control/jobs            → 200 {jobs: SimulatedJob[]}
 * GET    /__control/jobs/:id/completes-at → 200 {completesAt: ISO string | null}, or 404
 * PUT    /__control/time-scale      body: {timeScale} → 200 {timeScale}
 */
export function handleControl(control: SimulatorControl, method: string, path: string, body: unknown): ControlReply {
  const route = `${method} ${path.replace(/\/+$/, '')}`;
  const faultId = /^DELETE \/__control\/faults\/([^/]+)$/.exec(route)?.[1];
  if (faultId !== undefined) {
    return control.removeFault(decodeURIComponent(faultId)) ? { status: 204 } : notFound('Fault not found');
  }
  const jobId = /^GET \/__control\/jobs\/([^/]+)\/completes-at$/.exec(route)?.[1];
  if (jobId !== undefined) {
    try {
      return { status: 200, body: { completesAt: control.completesAt(decodeURIComponent(jobId))?.toISOString() ?? null } };
    } catch {
      return notFound('Generation not found');
    }
  }
  switch (route) {
    case 'POST /__control/faults': {
      const fault = fromWire(body);
      const problem = faultProblem(fault);
      if (problem) return invalid(problem);
      return { status: 201, body: { id: control.injectFault(fault as Fault) } };
    }
    case 'DELETE /__control/faults':
      control.clearFaults();
      return { status: 204 };
    case 'POST /__control/outcomes':
      return forceOutcome(control, body);
    case 'GET /__control/counts':
      return { status: 200, body: control.counts() };
    case 'DELETE /__control/counts':
      control.resetCounts();
      return { status: 204 };
    case 'GET /__control/jobs':
      return { status: 200, body: { jobs: control.jobs() } };
    case 'POST /__control/jobs': {
      const b = (body ?? {}) as { body?: unknown; startedAgoMs?: unknown };
      if (b.startedAgoMs !== undefined && (typeof b.startedAgoMs !== 'number' || !Number.isFinite(b.startedAgoMs)))
        return invalid('startedAgoMs must be a finite number');
      try {
        return { status: 201, body: control.createJob(b.body, b.startedAgoMs as number | undefined) };
      } catch (err) {
        return invalid((err as Error).message);
      }
    }
    case 'PUT /__control/time-scale': {
      const scale = (body as { timeScale?: unknown } | null)?.timeScale;
      if (!isTimeScale(scale)) return invalid('timeScale must be a finite number > 0');
      control.setTimeScale(scale);
      return { status: 200, body: { timeScale: scale } };
    }
    default:
      return notFound(`Cannot ${method} ${path}`);
  }
}

function forceOutcome(control: SimulatorControl, body: unknown): ControlReply {
  const b = (body ?? {}) as { generationId?: unknown; outcome?: unknown; errorBody?: unknown };
  if (typeof b.generationId !== 'string') return invalid('generationId must be a string');
  const o = b.outcome;
  const valid =
    (OUTCOME_NAMES as readonly unknown[]).includes(o) ||
    (typeof o === 'object' && o !== null && typeof (o as { status?: unknown }).status === 'string');
  if (!valid) return invalid(`outcome must be one of ${OUTCOME_NAMES.join(', ')} or {"status": "<raw status>"}`);
  try {
    control.forceOutcome(b.generationId, o as ForcedOutcome, b.errorBody);
  } catch {
    return notFound('Generation not found');
  }
  return { status: 204 };
}

/** JSON has no Infinity, so the wire spells "forever" as `times: -1`. */
function fromWire(body: unknown): unknown {
  if (typeof body === 'object' && body !== null && (body as { times?: unknown }).times === -1) {
    return { ...body, times: Infinity };
  }
  return body;
}

export function isTimeScale(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0;
}

function invalid(detail: string): ControlReply {
  return { status: 400, error: `Body validation error!\n${detail}` };
}

function notFound(message: string): ControlReply {
  return { status: 404, error: message };
}
