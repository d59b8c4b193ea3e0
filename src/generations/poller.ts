/**
 * The one loop that talks to the upstream's status endpoint.
 *
 * It claims due generations from the store with a lease (so several instances never poll one
 * generation at once), polls each with bounded concurrency, stores what changed, publishes it,
 * and schedules the next poll. A failed poll is rescheduled with backoff, never dropped; the
 * deadline is what ends a generation that never resolves. Watchers do not add polls: they only
 * read what this loop stores.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Store } from '../store/store';
import { findModel } from '../upstream/models';
import { UpstreamError, UpstreamFailure, type UpstreamClient } from '../upstream/types';
import type { GenerationEvents } from './events';
import { mapUpstreamStatus, stateFromJob } from './status-mapping';
import type { PollSchedule } from './timing';
import { GenerationErrorCode, GenerationStatus, isTerminal, type Generation, type GenerationState } from './types';
import type { UpstreamBackoff } from './upstream-backoff';

export type PollOutcome = 'changed' | 'unchanged' | 'failed' | 'rate_limited' | 'timed_out' | 'lost';

export interface PollerOptions {
  store: Store;
  upstream: UpstreamClient;
  events: GenerationEvents;
  schedule: PollSchedule;
  backoff: UpstreamBackoff;
  log: Logger;
  /** Polls in flight at once. */
  concurrency: number;
  /** How long a claim is held, in ms; renewed by every write of this instance. */
  leaseMs: number;
  /** Longest sleep between two looks at the store, in ms (other instances may add work). */
  idleMs: number;
  /** A generation still without an upstream id this long after creation is declared lost, in ms. */
  staleSubmissionMs: number;
  /** Polls answered 404 in a row before the generation is declared lost upstream. */
  notFoundLimit?: number;
  /** Identifies this instance's leases. Default: a random UUID. */
  instanceId?: string;
  onPoll?: (outcome: PollOutcome) => void;
  now?: () => Date;
}

type Phase = 'stopped' | 'running' | 'stopping';

export class Poller {
  readonly instanceId: string;
  private phase: Phase = 'stopped';
  private readonly inFlight = new Set<Promise<void>>();
  private wakeUp: (() => void) | null = null;
  /** A wake that arrived while the loop was busy; the next sleep returns at once. */
  private wakePending = false;
  private loop: Promise<void> | null = null;
  private readonly now: () => Date;
  private readonly loggedUnknown = new Set<string>();

  constructor(private readonly o: PollerOptions) {
    this.instanceId = o.instanceId ?? randomUUID();
    this.now = o.now ?? (() => new Date());
  }

  get running(): boolean {
    return this.phase === 'running';
  }

  /** Starts the loop. In-flight generations in the store are simply due: nothing else to resume. */
  start(): void {
    if (this.phase !== 'stopped') return;
    this.phase = 'running';
    this.loop = this.run().catch((err) => this.o.log.error({ err }, 'poller loop crashed'));
  }

  /** Asks the loop to look at the store now (a new generation was scheduled). */
  wake(): void {
    if (this.wakeUp) this.wakeUp();
    else this.wakePending = true;
  }

  /** Stops claiming, waits for polls in flight, and releases nothing: unfinished leases simply expire. */
  async stop(): Promise<void> {
    if (this.phase !== 'running') return;
    this.phase = 'stopping';
    this.wake();
    await this.loop;
    await Promise.allSettled([...this.inFlight]);
    this.phase = 'stopped';
  }

  private async run(): Promise<void> {
    await this.failStaleSubmissions();
    let lastStaleSweep = Date.now();
    while (this.phase === 'running') {
      const pause = this.o.backoff.remainingMs();
      if (pause > 0) {
        await this.sleep(pause);
        continue;
      }
      const free = this.o.concurrency - this.inFlight.size;
      let claimed: Generation[] = [];
      if (free > 0) {
        try {
          claimed = await this.o.store.claimDueGenerations(this.instanceId, this.now(), this.o.leaseMs, free);
        } catch (err) {
          this.o.log.error({ err }, 'poller could not claim generations');
        }
      }
      for (const g of claimed) this.track(this.pollOne(g));
      if (Date.now() - lastStaleSweep > this.o.staleSubmissionMs) {
        lastStaleSweep = Date.now();
        await this.failStaleSubmissions();
      }
      if (claimed.length === free && free > 0) continue; // more may be due right now
      await this.sleep(await this.untilNextDue());
    }
  }

  private track(p: Promise<void>): void {
    this.inFlight.add(p);
    void p.finally(() => {
      this.inFlight.delete(p);
      this.wake(); // a slot is free
    });
  }

  private async untilNextDue(): Promise<number> {
    try {
      const next = await this.o.store.nextDueAt();
      if (!next) return this.o.idleMs;
      return Math.min(this.o.idleMs, Math.max(0, next.getTime() - this.now().getTime()));
    } catch (err) {
      this.o.log.error({ err }, 'poller could not read the schedule');
      return this.o.idleMs;
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.phase !== 'running' || this.wakePending) {
      this.wakePending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = () => {
        this.wakeUp = null;
        done();
      };
    });
  }

  private async pollOne(g: Generation): Promise<void> {
    try {
      const outcome = await this.pollAndStore(g);
      this.o.onPoll?.(outcome);
    } catch (err) {
      // A bug or a store failure: the lease expires and the generation is polled again later.
      this.o.log.error({ err, generationId: g.id }, 'poll failed unexpectedly');
      this.o.onPoll?.('failed');
    }
  }

  private async pollAndStore(g: Generation): Promise<PollOutcome> {
    const now = this.now();
    if (now >= g.deadlineAt) {
      await this.apply(g, {
        status: GenerationStatus.TIMED_OUT,
        completedAt: now,
        error: { code: GenerationErrorCode.DEADLINE_EXCEEDED, message: 'Still pending upstream when the deadline passed' },
      });
      return 'timed_out';
    }
    const model = findModel(g.input.model)!;
    try {
      const job = await this.o.upstream.get(g.upstreamId!);
      this.o.backoff.reset();
      const after = this.now();
      const change: Partial<GenerationState> = { ...stateFromJob(job, g.status, after) };
      if (job.status !== g.upstreamStatus) {
        change.upstreamStatus = job.status;
        if (mapUpstreamStatus(job.status).kind === 'unknown' && !this.loggedUnknown.has(`${g.id}:${job.status}`)) {
          this.loggedUnknown.add(`${g.id}:${job.status}`);
          this.o.log.warn({ generationId: g.id, upstreamStatus: job.status }, 'unknown upstream status; keeping the current status');
        }
      }
      if (job.usage && JSON.stringify(job.usage) !== JSON.stringify(g.usage)) change.usage = job.usage;
      const nextPollAt = this.o.schedule.nextPollAt(model, g.createdAt, after, g.deadlineAt);
      if (Object.keys(change).length === 0) {
        await this.o.store.updateBookkeeping(g.id, this.instanceId, {
          nextPollAt,
          pollCount: g.pollCount + 1,
          pollFailures: 0,
          leaseOwner: null,
          leaseUntil: null,
        });
        return 'unchanged';
      }
      await this.apply(g, change, { nextPollAt, pollCount: g.pollCount + 1, pollFailures: 0 });
      return 'changed';
    } catch (error) {
      if (!(error instanceof UpstreamError)) throw error;
      return this.onPollFailure(g, error);
    }
  }

  private async onPollFailure(g: Generation, error: UpstreamError): Promise<PollOutcome> {
    const failures = g.pollFailures + 1;
    const now = this.now();
    if (error.failure === UpstreamFailure.NOT_FOUND && failures >= (this.o.notFoundLimit ?? 3)) {
      await this.apply(g, {
        status: GenerationStatus.FAILED,
        completedAt: now,
        error: { code: GenerationErrorCode.UPSTREAM_LOST, message: 'The upstream no longer knows this generation' },
      });
      return 'lost';
    }
    let nextPollAt = this.o.schedule.retryAt(failures, now);
    if (error.failure === UpstreamFailure.RATE_LIMITED) {
      this.o.backoff.trip(error.retryAfterMs);
      nextPollAt = new Date(Math.max(nextPollAt.getTime(), now.getTime() + this.o.backoff.remainingMs()));
    }
    this.o.log.warn({ generationId: g.id, failure: error.failure, failures, reason: error.message }, 'poll failed; will retry');
    await this.o.store.updateBookkeeping(g.id, this.instanceId, {
      nextPollAt,
      pollCount: g.pollCount + 1,
      pollFailures: failures,
      leaseOwner: null,
      leaseUntil: null,
    });
    return error.failure === UpstreamFailure.RATE_LIMITED ? 'rate_limited' : 'failed';
  }

  /** Stores a visible change, releases the lease, and publishes. A lost race (e.g. a cancel) wins. */
  private async apply(
    g: Generation,
    change: Partial<GenerationState>,
    bookkeeping: { nextPollAt?: Date | null; pollCount?: number; pollFailures?: number } = {},
  ): Promise<void> {
    const terminal = change.status !== undefined && isTerminal(change.status);
    const updated = await this.o.store.updateGeneration(
      g.id,
      g.version,
      change,
      { ...bookkeeping, nextPollAt: terminal ? null : bookkeeping.nextPollAt, leaseOwner: null, leaseUntil: null },
      this.now(),
    );
    if (updated) {
      this.o.events.publish(updated);
      return;
    }
    // Someone else changed it first (a cancel). Release the lease if it is still ours; a terminal
    // generation is no longer due, a pending one is polled again at its next time.
    await this.o.store.updateBookkeeping(g.id, this.instanceId, { leaseOwner: null, leaseUntil: null });
  }

  /** Generations whose create call never returned (the process died mid-create) are failed, not re-sent. */
  private async failStaleSubmissions(): Promise<void> {
    try {
      const stale = await this.o.store.findStaleSubmissions(new Date(this.now().getTime() - this.o.staleSubmissionMs));
      for (const g of stale) {
        await this.apply(g, {
          status: GenerationStatus.FAILED,
          completedAt: this.now(),
          error: {
            code: GenerationErrorCode.CREATE_OUTCOME_UNKNOWN,
            message: 'The gateway stopped while creating this generation; it was not re-sent, to avoid paying twice',
          },
        });
      }
    } catch (err) {
      this.o.log.error({ err }, 'poller could not sweep stale submissions');
    }
  }
}
