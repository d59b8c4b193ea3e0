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
import type { GenerationRecords, Lease, PollBookkeeping, PollQueue } from '../store/store';
import { UpstreamError, UpstreamFailure, type UpstreamClient } from '../upstream/types';
import type { GenerationEvents } from './events';
import { logGenerationChanged } from './generation-log';
import { mapUpstreamStatus, stateFromJob } from './status-mapping';
import type { PollSchedule } from './timing';
import { GenerationErrorCode, GenerationStatus, isTerminal, MediaCopyState, type Generation, type GenerationState } from '../model/generation';
import type { UpstreamBackoff } from '../upstream/health/backoff';
import { UnlimitedRequestBudget, type RequestBudget } from '../upstream/budget/request-budget';
import { PollReleases } from './poll-releases';

/** `lease_lost`: another claim took the generation over mid-poll, so this poll's result was dropped. */
export type PollOutcome = 'changed' | 'unchanged' | 'failed' | 'rate_limited' | 'timed_out' | 'lost' | 'lease_lost';

export interface PollerOptions {
  store: PollQueue & Pick<GenerationRecords, 'updateGeneration'>;
  upstream: UpstreamClient;
  events: GenerationEvents;
  schedule: PollSchedule;
  backoff: UpstreamBackoff;
  /**
   * The upstream request budget: the poller claims only as many generations as it gets tokens for,
   * so a backlog (a restart with thousands due) drains at the budget's rate. Default: none.
   */
  budget?: RequestBudget;
  /** While this reports time left (an open circuit breaker), the poller sends nothing. Default: none. */
  pause?: { remainingMs(): number };
  log: Logger;
  /** Polls in flight at once. */
  concurrency: number;
  /** How long a claim is held, in ms; renewed every third of it while the poll runs. */
  leaseMs: number;
  /** Longest sleep between two looks at the store, in ms (other instances may add work). */
  idleMs: number;
  /** A generation still without an upstream id this long after creation is declared lost, in ms. */
  staleSubmissionMs: number;
  /** Polls answered 404 in a row before the generation is declared lost upstream. */
  notFoundLimit?: number;
  /**
   * Failed polls in a row after which a generation past its deadline ends TIMED_OUT without an
   * answer (the upstream could not be asked). Default: 5.
   */
  lastLookAttempts?: number;
  /** Identifies this instance's leases. Default: a random UUID. */
  instanceId?: string;
  onPoll?: (outcome: PollOutcome) => void;
  /**
   * A media store keeps finished videos: a completion marks the video's copy PENDING, which enqueues
   * the copy in the same write (the `0015_media_copies` migration), and `onVideoFinished` is called
   * once it is stored. Default: no copies.
   */
  keepVideos?: { onVideoFinished: () => void };
  now?: () => Date;
}

type Phase = 'stopped' | 'running' | 'stopping';

const DEFAULT_LAST_LOOK_ATTEMPTS = 5;

/**
 * With every slot taken, the loop claims again once this share of `concurrency` (1/8: 8 of 64) is free:
 * a few idle slots for a claim per several polls instead of one per poll.
 */
const CLAIM_BATCH_DIVISOR = 8;

/**
 * How often the per-owner counts of recent polls are halved, in ms: an owner's share is judged on the
 * last few seconds, so one idle for a while gets no long head start over owners polled all along.
 */
const OWNER_SHARE_DECAY_MS = 1_000;

/** This instance's claim on a generation while it polls it. */
interface HeldLease extends Lease {
  /** Set when a renewal finds the lease taken over: from then on the poll writes nothing. */
  lost: boolean;
  /** Set when the poll is over, so a renewal answering late does not mistake the release for a takeover. */
  finished: boolean;
}

/** What became of a write a poll produced. */
type WriteResult = 'stored' | 'superseded' | 'lease_lost';

export class Poller {
  readonly instanceId: string;
  private phase: Phase = 'stopped';
  private readonly inFlight = new Set<Promise<void>>();
  private wakeUp: (() => void) | null = null;
  /** A wake that arrived while the loop was busy; the next sleep returns at once. */
  private wakePending = false;
  /** When the current sleep ends (epoch ms), while the loop sleeps. */
  private sleepingUntil: number | null = null;
  /** Shortens the current sleep so that it ends at the given time (epoch ms). */
  private sleepUntil: ((at: number) => void) | null = null;
  /**
   * The earliest next poll this instance scheduled while the loop was not asleep (epoch ms): the
   * schedule the loop read may predate it, so the next sleep ends by then at the latest.
   */
  private scheduledWhileAwake: number | null = null;
  /**
   * The last look found every slot taken: once `claimBatch` slots are free again, a poll that ends
   * wakes the loop to claim. Claiming per freed slot would cost a claim (the heaviest statement, a
   * pass over the most overdue rows) per poll while a backlog keeps the slots full.
   */
  private slotsFull = false;
  private readonly claimBatch: number;
  private loop: Promise<void> | null = null;
  private readonly now: () => Date;
  private readonly loggedUnknown = new Set<string>();
  private readonly budget: RequestBudget;
  /** Polls this instance recently claimed per owner (halved every OWNER_SHARE_DECAY_MS): the owners' turns. */
  private polledByOwner = new Map<string, number>();
  private lastShareDecay = Date.now();
  /** Ends of polls that leave only bookkeeping, written in batches. */
  private readonly releases: PollReleases;

  constructor(private readonly options: PollerOptions) {
    this.instanceId = options.instanceId ?? randomUUID();
    this.releases = new PollReleases(options.store, this.instanceId);
    this.claimBatch = Math.max(1, Math.floor(options.concurrency / CLAIM_BATCH_DIVISOR));
    this.now = options.now ?? (() => new Date());
    this.budget = options.budget ?? new UnlimitedRequestBudget();
  }

  get running(): boolean {
    return this.phase === 'running';
  }

  /** Starts the loop. In-flight generations in the store are simply due: nothing else to resume. */
  start(): void {
    if (this.phase !== 'stopped') return;
    this.phase = 'running';
    this.loop = this.run().catch((err) => this.options.log.error({ err }, 'poller loop crashed'));
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
    /**
     * The last sleep ran its full course with nothing due before it ended: look at the schedule (a
     * read) before claiming (a write). An idle gateway then makes one light query per idle period
     * instead of two, and other instances' work is still noticed within `idleMs`.
     */
    let idleLook = false;
    while (this.phase === 'running') {
      const pause = Math.max(this.options.backoff.remainingMs(), this.options.pause?.remainingMs() ?? 0);
      if (pause > 0) {
        await this.sleep(pause);
        continue;
      }
      if (Date.now() - lastStaleSweep > this.options.staleSubmissionMs) {
        lastStaleSweep = Date.now();
        await this.failStaleSubmissions();
      }
      if (idleLook) {
        idleLook = false;
        const wait = await this.untilNextDue();
        if (wait > 0) {
          idleLook = (await this.sleep(wait, true)) && wait >= this.options.idleMs;
          continue;
        }
      }
      const free = this.options.concurrency - this.inFlight.size;
      if (free <= 0) {
        // Every slot is taken: the next poll to end wakes the loop. Reading the schedule now would
        // find the backlog due and loop straight back, a read per turn for as long as the slots stay full.
        this.slotsFull = true;
        await this.sleep(this.options.idleMs);
        continue;
      }
      this.slotsFull = false;
      let claimed: Generation[] = [];
      const taken = await this.budget.take(free);
      const granted = taken.granted;
      if (granted === 0) {
        // Out of budget: nothing is claimed, so the most overdue are still first when tokens return.
        await this.sleep(taken.retryInMs);
        continue;
      }
      try {
        claimed = await this.claim(granted);
      } catch (err) {
        this.options.log.error({ err }, 'poller could not claim generations');
      }
      if (claimed.length < granted) await this.budget.refund(granted - claimed.length);
      await this.send(claimed);
      if (claimed.length === granted) continue; // more may be due right now
      const wait = await this.untilNextDue();
      idleLook = (await this.sleep(wait, true)) && wait >= this.options.idleMs;
    }
  }

  /**
   * Starts the polls of claimed generations. Their tokens were taken before the claim, which may have
   * taken a while: they are rebooked to now first, so that the budget counts these polls as they leave
   * and the polls cannot bunch with the tokens that came during the claim.
   */
  private async send(claimed: Generation[]): Promise<void> {
    if (claimed.length === 0) return;
    await this.budget.rebook(claimed.length);
    for (const g of claimed) this.track(this.pollOne(g));
  }

  /** Claims up to `limit` due generations, owners taking turns (see claimDueGenerationsShared). */
  private async claim(limit: number): Promise<Generation[]> {
    if (Date.now() - this.lastShareDecay >= OWNER_SHARE_DECAY_MS) {
      this.lastShareDecay = Date.now();
      const halved = new Map<string, number>();
      for (const [owner, n] of this.polledByOwner) if (n >= 2) halved.set(owner, Math.floor(n / 2));
      this.polledByOwner = halved;
    }
    const claimed = await this.options.store.claimDueGenerationsShared(
      this.instanceId,
      this.now(),
      this.options.leaseMs,
      limit,
      Object.fromEntries(this.polledByOwner),
    );
    for (const g of claimed) this.polledByOwner.set(g.owner, (this.polledByOwner.get(g.owner) ?? 0) + 1);
    return claimed;
  }

  private track(p: Promise<void>): void {
    this.inFlight.add(p);
    void p.finally(() => {
      this.inFlight.delete(p);
      // A free slot matters only to a loop that found none; otherwise the loop already sleeps until
      // the next due time, and the poll's own next time reaches it through scheduled() instead.
      if (this.slotsFull && this.options.concurrency - this.inFlight.size >= this.claimBatch) {
        this.slotsFull = false;
        this.wake();
      }
    });
  }

  /**
   * A poll released its generation due again at `at`: the loop, asleep until later (it read the
   * schedule while the generation was leased), must wake by then. Waking it at once instead would
   * cost a claim and a look at the schedule per poll, both finding nothing due.
   */
  private scheduled(at: Date | null | undefined): void {
    if (!at) return;
    const ms = at.getTime();
    if (this.sleepUntil && this.sleepingUntil !== null) {
      if (ms < this.sleepingUntil) this.sleepUntil(ms);
    } else if (this.scheduledWhileAwake === null || ms < this.scheduledWhileAwake) {
      this.scheduledWhileAwake = ms;
    }
  }

  private async untilNextDue(): Promise<number> {
    try {
      const next = await this.options.store.nextDueAt();
      if (!next) return this.options.idleMs;
      return Math.min(this.options.idleMs, Math.max(0, next.getTime() - this.now().getTime()));
    } catch (err) {
      this.options.log.error({ err }, 'poller could not read the schedule');
      return this.options.idleMs;
    }
  }

  /**
   * Resolves true when the full `ms` passed, false when woken (or not sleeping at all). A sleep
   * `untilDue` (the next due time, not a pause or the budget's wait) also ends early for a poll
   * scheduled before its end.
   */
  private sleep(ms: number, untilDue = false): Promise<boolean> {
    if (this.phase !== 'running' || this.wakePending) {
      this.wakePending = false;
      return Promise.resolve(false);
    }
    const scheduled = untilDue ? this.scheduledWhileAwake : null;
    if (untilDue) this.scheduledWhileAwake = null;
    let cut = false;
    if (scheduled !== null && scheduled - Date.now() < ms) {
      ms = Math.max(0, scheduled - Date.now());
      cut = true;
    }
    return new Promise((resolve) => {
      // Either way the wake-up is cleared, so a wake() arriving while the loop is busy is kept
      // as pending rather than spent on a sleep that is already over.
      const finish = (fullCourse: boolean) => {
        clearTimeout(timer);
        this.wakeUp = null;
        this.sleepUntil = null;
        this.sleepingUntil = null;
        resolve(fullCourse);
      };
      let timer = setTimeout(() => finish(!cut), ms);
      this.wakeUp = () => finish(false);
      if (!untilDue) return;
      this.sleepingUntil = Date.now() + ms;
      this.sleepUntil = (at) => {
        clearTimeout(timer);
        this.sleepingUntil = at;
        timer = setTimeout(() => finish(false), Math.max(0, at - Date.now()));
      };
    });
  }

  private async pollOne(g: Generation): Promise<void> {
    const lease: HeldLease = { owner: this.instanceId, epoch: g.leaseEpoch, lost: false, finished: false };
    const renewal = this.renewLeaseWhile(g.id, lease);
    try {
      const outcome = await this.pollAndStore(g, lease);
      this.options.onPoll?.(outcome);
    } catch (err) {
      // A bug or a store failure: the lease expires and the generation is polled again later.
      this.options.log.error({ err, generationId: g.id }, 'poll failed unexpectedly');
      this.options.onPoll?.('failed');
    } finally {
      lease.finished = true;
      clearInterval(renewal);
    }
  }

  /**
   * Keeps the lease alive while a poll is slow (a long upstream timeout), so no other instance takes
   * the generation over mid-poll. Renewal only extends a lease still held; once it finds the lease
   * taken over (this instance stalled past it), it stops and marks the lease lost.
   */
  private renewLeaseWhile(id: string, lease: HeldLease): NodeJS.Timeout {
    const timer = setInterval(
      () => {
        if (lease.lost) return;
        const leaseUntil = new Date(this.now().getTime() + this.options.leaseMs);
        this.options.store.updateBookkeeping(id, lease, { leaseUntil }).then(
          (held) => {
            if (held || lease.lost || lease.finished) return;
            lease.lost = true;
            clearInterval(timer);
            this.options.log.info({ generationId: id, leaseEpoch: lease.epoch }, 'lease taken over by another claim; this poll will write nothing');
          },
          (err: unknown) => this.options.log.warn({ err, generationId: id }, 'could not renew a lease'),
        );
      },
      Math.max(10, Math.floor(this.options.leaseMs / 3)),
    );
    timer.unref();
    return timer;
  }

  /**
   * Polls once and stores what changed. Past the deadline the poll still happens: the gateway may have
   * been down while the job finished upstream, and a paid video must never be written off unseen. Only
   * a look that finds the job still pending (or several looks that all fail) ends it TIMED_OUT.
   */
  private async pollAndStore(g: Generation, lease: HeldLease): Promise<PollOutcome> {
    const pastDeadline = this.now() >= g.deadlineAt;
    if (pastDeadline && g.upstreamId === null) {
      // Nothing is sent for it, so the budget token claimed for this poll goes back.
      await this.budget.refund(1);
      return this.timeOut(g, lease, 'Still pending upstream when the deadline passed');
    }
    try {
      const job = await this.options.upstream.get(g.upstreamId!, g.input.model);
      this.options.backoff.reset();
      const after = this.now();
      const change: Partial<GenerationState> = { ...stateFromJob(job, g.status, after) };
      if (change.video && this.options.keepVideos) change.video = { ...change.video, copy: { state: MediaCopyState.PENDING } };
      if (job.status !== g.upstreamStatus) {
        change.upstreamStatus = job.status;
        if (mapUpstreamStatus(job.status).kind === 'unknown' && !this.loggedUnknown.has(`${g.id}:${job.status}`)) {
          this.loggedUnknown.add(`${g.id}:${job.status}`);
          this.options.log.warn({ generationId: g.id, upstreamStatus: job.status }, 'unknown upstream status; keeping the current status');
        }
      }
      if (job.usage && JSON.stringify(job.usage) !== JSON.stringify(g.usage)) change.usage = job.usage;
      if (pastDeadline && !(change.status !== undefined && isTerminal(change.status))) {
        return this.timeOut(g, lease, 'Still pending upstream when the deadline passed', change);
      }
      const nextPollAt = this.options.schedule.nextPollAt(g.input, g.createdAt, after, g.deadlineAt);
      const bookkeeping = { nextPollAt, pollCount: g.pollCount + 1, pollFailures: 0 };
      if (Object.keys(change).length === 0) {
        return (await this.release(g, lease, bookkeeping)) ? 'unchanged' : this.dropped(g, lease);
      }
      const written = await this.apply(g, lease, change, bookkeeping);
      if (written === 'stored' && change.video?.copy) this.options.keepVideos?.onVideoFinished();
      // The schedule and the ETA learn from every completion this gateway sees (timing-learner.ts).
      if (written === 'stored' && change.status === GenerationStatus.COMPLETED)
        void this.options.schedule.observeCompletion(g.input, g.createdAt, after);
      return written === 'lease_lost' ? this.dropped(g, lease) : 'changed';
    } catch (error) {
      if (!(error instanceof UpstreamError)) throw error;
      const lastLooks = this.options.lastLookAttempts ?? DEFAULT_LAST_LOOK_ATTEMPTS;
      if (pastDeadline && error.failure !== UpstreamFailure.NOT_FOUND && g.pollFailures + 1 >= lastLooks) {
        return this.timeOut(g, lease, `Still pending when the deadline passed; the upstream could not be asked (${error.message})`);
      }
      return this.onPollFailure(g, lease, error);
    }
  }

  /** Ends a generation TIMED_OUT, with whatever the last look saw (`seen`). */
  private async timeOut(g: Generation, lease: HeldLease, message: string, seen: Partial<GenerationState> = {}): Promise<PollOutcome> {
    const written = await this.apply(
      g,
      lease,
      {
        ...seen,
        status: GenerationStatus.TIMED_OUT,
        completedAt: this.now(),
        error: { code: GenerationErrorCode.DEADLINE_EXCEEDED, message },
      },
      { pollCount: g.pollCount + (g.upstreamId === null ? 0 : 1) },
    );
    return written === 'lease_lost' ? this.dropped(g, lease) : 'timed_out';
  }

  private async onPollFailure(g: Generation, lease: HeldLease, error: UpstreamError): Promise<PollOutcome> {
    const failures = g.pollFailures + 1;
    const now = this.now();
    if (error.failure === UpstreamFailure.NOT_FOUND && failures >= (this.options.notFoundLimit ?? 3)) {
      const written = await this.apply(g, lease, {
        status: GenerationStatus.FAILED,
        completedAt: now,
        error: { code: GenerationErrorCode.UPSTREAM_LOST, message: 'The upstream no longer knows this generation' },
      });
      return written === 'lease_lost' ? this.dropped(g, lease) : 'lost';
    }
    let nextPollAt = this.options.schedule.retryAt(failures, now);
    if (error.failure === UpstreamFailure.RATE_LIMITED) {
      this.options.backoff.trip(error.retryAfterMs);
      nextPollAt = new Date(Math.max(nextPollAt.getTime(), now.getTime() + this.options.backoff.remainingMs()));
    }
    this.options.log.warn({ generationId: g.id, failure: error.failure, failures, reason: error.message }, 'poll failed; will retry');
    const rescheduled = await this.release(g, lease, { nextPollAt, pollCount: g.pollCount + 1, pollFailures: failures });
    if (!rescheduled) return this.dropped(g, lease);
    return error.failure === UpstreamFailure.RATE_LIMITED ? 'rate_limited' : 'failed';
  }

  /** Writes bookkeeping and releases the lease, if the lease is still held. False when it is not. */
  private async release(g: Generation, lease: HeldLease, bookkeeping: PollBookkeeping = {}): Promise<boolean> {
    if (lease.lost) return false;
    const { nextPollAt, pollCount, pollFailures } = bookkeeping;
    const released =
      nextPollAt && pollCount !== undefined && pollFailures !== undefined
        ? await this.releases.release({ id: g.id, epoch: lease.epoch, nextPollAt, pollCount, pollFailures })
        : await this.options.store.updateBookkeeping(g.id, lease, { ...bookkeeping, leaseOwner: null, leaseUntil: null });
    // Without a new time the row keeps the one it was claimed at, which has passed: due again now.
    if (released) this.scheduled(bookkeeping.nextPollAt === undefined ? g.nextPollAt : bookkeeping.nextPollAt);
    return released;
  }

  /**
   * Stores a visible change, releases the lease, and publishes, all only while the lease is held.
   * A lost version race (a cancel) wins: the change is dropped and the lease released.
   */
  private async apply(
    g: Generation,
    lease: HeldLease,
    change: Partial<GenerationState>,
    bookkeeping: { nextPollAt?: Date | null; pollCount?: number; pollFailures?: number } = {},
  ): Promise<WriteResult> {
    if (lease.lost) return 'lease_lost';
    const terminal = change.status !== undefined && isTerminal(change.status);
    const updated = await this.options.store.updateGeneration({
      id: g.id,
      expectedVersion: g.version,
      change,
      bookkeeping: { ...bookkeeping, nextPollAt: terminal ? null : bookkeeping.nextPollAt, leaseOwner: null, leaseUntil: null },
      at: this.now(),
      lease,
    });
    if (updated) {
      this.scheduled(updated.nextPollAt);
      this.options.events.publish(updated);
      logGenerationChanged(this.options.log, updated);
      return 'stored';
    }
    // Either someone changed it first (a cancel) or the lease was taken over; releasing tells which.
    // A terminal generation is no longer due, a pending one is polled again at its next time.
    return (await this.release(g, lease)) ? 'superseded' : 'lease_lost';
  }

  /** A poll whose lease was taken over: its result is dropped, and the new holder polls again. */
  private dropped(g: Generation, lease: Lease): PollOutcome {
    this.options.log.info({ generationId: g.id, leaseEpoch: lease.epoch }, 'lease taken over mid-poll; result dropped');
    return 'lease_lost';
  }

  /** Generations whose create call never returned (the process died mid-create) are failed, not re-sent. */
  private async failStaleSubmissions(): Promise<void> {
    try {
      const stale = await this.options.store.findStaleSubmissions(new Date(this.now().getTime() - this.options.staleSubmissionMs));
      // Never scheduled (no upstream id, so no next poll), these rows were never claimed: the write is
      // versioned only and leaves the lease columns alone. Another instance sweeping too loses the race.
      for (const g of stale) {
        const updated = await this.options.store.updateGeneration({
          id: g.id,
          expectedVersion: g.version,
          change: {
            status: GenerationStatus.FAILED,
            completedAt: this.now(),
            error: {
              code: GenerationErrorCode.CREATE_OUTCOME_UNKNOWN,
              message: 'The gateway stopped while creating this generation; it was not re-sent, to avoid paying twice',
            },
          },
          bookkeeping: { nextPollAt: null },
          at: this.now(),
        });
        if (updated) {
          this.options.events.publish(updated);
          logGenerationChanged(this.options.log, updated);
        }
      }
    } catch (err) {
      this.options.log.error({ err }, 'poller could not sweep stale submissions');
    }
  }
}
