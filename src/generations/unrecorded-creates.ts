/**
 * Creates the upstream accepted (and may charge for) whose answer could not be written to the store
 * (the database went away while the create was in flight). The answer is kept in memory and written
 * as soon as the store is back, retried with backoff; the client is answered with the generation as
 * it will be stored, never told to retry (a retry would pay twice).
 *
 * In memory only: if the process ends first, the stored row (inserted before the create was sent)
 * has no upstream id, and the poller's stale-submission sweep ends it CREATE_OUTCOME_UNKNOWN, which
 * is the truth from then on. The upstream id is logged when the write first fails, for an operator.
 */
import type { Logger } from 'pino';
import type { GenerationRecords, PollBookkeeping } from '../store/store';
import type { GenerationEvents } from './events';
import { GenerationErrorCode, GenerationStatus, type Generation, type GenerationState } from '../model/generation';

export interface UnrecordedCreatesOptions {
  store: Pick<GenerationRecords, 'updateGeneration' | 'getGeneration'>;
  events: GenerationEvents;
  log: Logger;
  /** How long a write is retried before it is given up (and logged as an error), in ms. */
  retryForMs: number;
  /** Called after a write landed, so the poller can plan its first poll. */
  onRecorded?: () => void;
  now?: () => Date;
}

interface Pending {
  /** The row as inserted, before the create was sent. */
  stored: Generation;
  change: Partial<GenerationState>;
  bookkeeping: PollBookkeeping;
  /** What the client was told: the row as it will be once written. */
  answered: Generation;
  since: number;
  attempt: number;
  timer: NodeJS.Timeout | null;
}

const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 5_000;

export class UnrecordedCreates {
  private readonly pending = new Map<string, Pending>();
  private readonly now: () => Date;
  private stopped = false;

  constructor(private readonly o: UnrecordedCreatesOptions) {
    this.now = o.now ?? (() => new Date());
  }

  /** How many creates are waiting to be written. */
  get size(): number {
    return this.pending.size;
  }

  /** The generation as the client was told it is, while its write is pending. */
  get(id: string): Generation | undefined {
    return this.pending.get(id)?.answered;
  }

  /**
   * Keeps a change that could not be stored and starts retrying it. Returns the generation as it
   * will be stored, for the client's answer.
   */
  keep(stored: Generation, change: Partial<GenerationState>, bookkeeping: PollBookkeeping, cause: unknown): Generation {
    const at = this.now();
    const answered: Generation = {
      ...stored,
      ...change,
      ...bookkeeping,
      version: stored.version + 1,
      updatedAt: at,
      transitions:
        change.status !== undefined && change.status !== stored.status
          ? [...stored.transitions, { status: change.status, upstreamStatus: change.upstreamStatus ?? null, at }]
          : stored.transitions,
    } as Generation;
    this.o.log.error(
      { err: cause, generationId: stored.id, upstreamId: change.upstreamId ?? null },
      'the upstream accepted a create but the store could not record it; retrying the write',
    );
    const entry: Pending = { stored, change, bookkeeping, answered, since: Date.now(), attempt: 0, timer: null };
    this.pending.set(stored.id, entry);
    this.schedule(entry);
    return answered;
  }

  /** Stops retrying; whatever is still pending is logged with its upstream id. */
  stop(): void {
    this.stopped = true;
    for (const entry of this.pending.values()) {
      if (entry.timer) clearTimeout(entry.timer);
      this.giveUp(entry, 'the gateway is stopping');
    }
    this.pending.clear();
  }

  private schedule(entry: Pending): void {
    if (this.stopped) return;
    const delay = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** entry.attempt);
    entry.timer = setTimeout(() => void this.retry(entry), delay);
    entry.timer.unref();
  }

  private async retry(entry: Pending): Promise<void> {
    entry.timer = null;
    entry.attempt += 1;
    try {
      const written = await this.write(entry);
      if (this.pending.get(entry.stored.id) !== entry) return; // stopped meanwhile
      this.pending.delete(entry.stored.id);
      if (written) {
        this.o.log.info({ generationId: entry.stored.id, attempts: entry.attempt }, 'recorded a create after a store outage');
        this.o.events.publish(written);
        this.o.onRecorded?.();
      } else {
        this.giveUp(entry, 'the row changed in a way that cannot be reconciled');
      }
    } catch (err) {
      if (Date.now() - entry.since >= this.o.retryForMs) {
        this.pending.delete(entry.stored.id);
        this.giveUp(entry, 'the store stayed unavailable', err);
        return;
      }
      this.schedule(entry);
    }
  }

  /**
   * Writes the kept change. If the row moved on meanwhile, it is reconciled: a stale-submission sweep
   * that ended it CREATE_OUTCOME_UNKNOWN (no upstream id) is overwritten with what the upstream said;
   * anything else (a cancel) keeps its status and only gains the upstream id and usage.
   */
  private async write(entry: Pending): Promise<Generation | null> {
    const { store } = this.o;
    const first = await store.updateGeneration({
      id: entry.stored.id,
      expectedVersion: entry.stored.version,
      change: entry.change,
      bookkeeping: entry.bookkeeping,
      at: this.now(),
    });
    if (first) return first;
    const current = await store.getGeneration(entry.stored.id);
    if (!current) return null;
    // An earlier attempt committed but its answer was lost with the connection.
    if (current.upstreamId !== null) return current.upstreamId === entry.change.upstreamId ? current : null;
    const sweptAsUnknown = current.status === GenerationStatus.FAILED && current.error?.code === GenerationErrorCode.CREATE_OUTCOME_UNKNOWN;
    const change: Partial<GenerationState> = sweptAsUnknown
      ? { status: entry.answered.status, error: null, completedAt: null, ...entry.change }
      : { upstreamId: entry.change.upstreamId, upstreamStatus: entry.change.upstreamStatus, usage: entry.change.usage };
    return store.updateGeneration({
      id: current.id,
      expectedVersion: current.version,
      change,
      bookkeeping: sweptAsUnknown ? entry.bookkeeping : {},
      at: this.now(),
    });
  }

  private giveUp(entry: Pending, why: string, err?: unknown): void {
    this.o.log.error(
      { err, generationId: entry.stored.id, upstreamId: entry.change.upstreamId ?? null },
      `gave up recording a create the upstream accepted (${why}); it will end CREATE_OUTCOME_UNKNOWN`,
    );
  }
}
