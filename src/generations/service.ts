/**
 * The domain's front door: create, cancel and read generations for an owner.
 * Transport-free: the GraphQL resolvers and the tests call it the same way.
 */
import { createHash, randomUUID } from 'node:crypto';
import DataLoader from 'dataloader';
import type { Logger } from 'pino';
import { ErrorCode, GatewayError, notFound } from '../errors';
import type { GenerationRecords, GenerationStatistics } from '../store/store';
import { UpstreamError, UpstreamFailure, type UpstreamClient, type UpstreamJob } from '../upstream/types';
import type { GenerationEvents } from './events';
import { FinishedGenerations } from './finished-generations';
import { summarizeInlineMedia } from './inline-media';
import { checkMediaUrls, type MediaUrlPolicy } from './media-url';
import { UnrecordedCreates } from './unrecorded-creates';
import { stateFromJob } from './status-mapping';
import type { PollSchedule, ProgressEstimate } from './timing';
import { GenerationErrorCode, GenerationStatus, isTerminal, type Generation, type GenerationInput, type GenerationState } from '../model/generation';
import type { UpstreamBackoff } from '../upstream/health/backoff';
import type { RequestBudget } from '../upstream/budget/request-budget';
import { summarizeUsage, type UsageSummary } from './usage';
import { checkStorableDate } from './storable-values';
import { checkIdempotencyKey, validateInput } from './validation';
import type { GenerationWebhook } from '../model/webhook';
import { logGenerationChanged, logGenerationCreated } from './generation-log';
import type { MediaLinks } from '../media/media-links';
import type { MediaStore } from '../media/media-store';
import { mediaKey } from './media-copier';
import { playableVideo, type PlayableVideo } from './playable-video';

/** Per-owner limits on creations, checked before anything is sent upstream. */
export interface CreateQuota {
  /** Throws RATE_LIMITED when the owner may not create now (creations per minute). */
  admitCreate(owner: string): Promise<void>;
  /** Throws RATE_LIMITED when the owner has too many unfinished generations, the new one included. */
  checkInFlight(owner: string): Promise<void>;
  /** Gives back what `admitCreate` took, for a create refused afterwards. */
  refundCreate(owner: string): Promise<void>;
}

export interface GenerationServiceDeps {
  store: GenerationRecords & Pick<GenerationStatistics, 'usageGroups'>;
  upstream: UpstreamClient;
  events: GenerationEvents;
  schedule: PollSchedule;
  backoff: UpstreamBackoff;
  /** The upstream request budget creates share with polls. Default: none. */
  budget?: RequestBudget;
  /** Longest a create waits for its place in `budget`, in ms. Default: 0 (refused unless a token is there). */
  budgetCreateWaitMs?: number;
  log: Logger;
  /** A generation still pending this long after creation ends TIMED_OUT, in ms (already scaled). */
  deadlineMs: number;
  /** Called after a create is accepted upstream, so the poller can plan its first poll. */
  onScheduled?: () => void;
  /** Per-owner creation limits. Default: none. */
  quota?: CreateQuota;
  /** Which media URL targets are accepted. Default: public hosts only. */
  mediaUrls?: MediaUrlPolicy;
  /**
   * How long the store write of a create the upstream accepted is retried when the store fails, in ms.
   * Default: 3_600_000 (an hour).
   */
  recordRetryMs?: number;
  /** Signs links to stored videos, for `video()`; null or absent: no media store, videos stay at the upstream. */
  mediaLinks?: MediaLinks | null;
  /** Where stored videos are kept, so a deletion removes its file too; null or absent: no media store. */
  media?: MediaStore | null;
  now?: () => Date;
}

export interface ListOptions {
  first: number;
  after?: string | null;
  statuses?: readonly GenerationStatus[];
  models?: readonly string[];
}

export interface GenerationPage {
  generations: Generation[];
  hasNextPage: boolean;
}

/** Largest page a list may ask for. */
export const MAX_PAGE_SIZE = 100;

/** Most generations read by one store query (keeps the query's parameter list bounded). */
const MAX_READ_BATCH = 500;

/** Most changes an owner-wide subscription catches up with after an event gap (the newest ones). */
const CATCH_UP_LIMIT = 1_000;

export class GenerationService {
  private readonly now: () => Date;
  /**
   * Reads by id that arrive in the same tick share one store query per owner. A thousand clients
   * subscribing at once would otherwise queue two thousand single-row reads in front of the poller
   * (the benchmark's fan-out and upstream figures showed it). Only ended generations, which never
   * change again, are answered from memory (`finished`); every other read sees the store as it is.
   */
  private readonly reads: DataLoader<{ owner: string; id: string }, Generation | null>;
  private readonly finished = new FinishedGenerations();
  /** Stops listening for generations removed on any instance (which `finished` must then drop). */
  private readonly stopDroppingRemoved: () => void;
  /** Creates the upstream accepted whose record is waiting for the store to come back. */
  private readonly unrecorded: UnrecordedCreates;

  constructor(private readonly deps: GenerationServiceDeps) {
    this.now = deps.now ?? (() => new Date());
    this.reads = new DataLoader((keys) => this.readBatch(keys), { cache: false, maxBatchSize: MAX_READ_BATCH });
    this.unrecorded = new UnrecordedCreates({
      store: deps.store,
      events: deps.events,
      log: deps.log,
      retryForMs: deps.recordRetryMs ?? 3_600_000,
      onRecorded: deps.onScheduled,
      now: this.now,
    });
    // Another instance's delete or retention sweep changes what this one may hold in memory.
    this.stopDroppingRemoved = deps.events.onRemoved(
      ({ owner, id }) => this.finished.forget(owner, id),
      () => this.finished.clear(),
    );
  }

  /** Stops retrying unrecorded creates (each still pending is logged with its upstream id). */
  stop(): void {
    this.unrecorded.stop();
    this.stopDroppingRemoved();
  }

  /**
   * Validates, de-duplicates by idempotency key, records, then sends the paid create call once.
   * A definite upstream refusal removes the record and throws; an unknown outcome keeps it as FAILED.
   */
  async create(owner: string, rawInput: GenerationInput, idempotencyKey?: string | null, webhook?: GenerationWebhook | null): Promise<Generation> {
    const input = validateInput(rawInput);
    checkMediaUrls(input, this.deps.mediaUrls ?? { allowPrivate: false });
    const key = idempotencyKey == null ? null : checkIdempotencyKey(idempotencyKey);
    const inputHash = hashInput(input);
    if (key) {
      const existing = await this.deps.store.findByIdempotencyKey(owner, key);
      if (existing) return this.replay(existing, inputHash);
    }
    this.refuseDuringBackoff();
    const slotInMs = await this.reserveUpstreamSlot();
    try {
      await this.deps.quota?.admitCreate(owner);
    } catch (error) {
      await this.deps.budget?.refund(1).catch(() => undefined);
      throw error;
    }
    if (slotInMs > 0) await new Promise((resolve) => setTimeout(resolve, slotInMs));

    const createdAt = this.now();
    let recorded: { inserted: boolean; generation: Generation };
    try {
      recorded = await this.deps.store.insertGeneration({
        id: randomUUID(),
        owner,
        // Inline media is summarised: only the create call below needs it whole (inline-media.ts).
        input: summarizeInlineMedia(input),
        inputHash,
        idempotencyKey: key,
        status: GenerationStatus.QUEUED,
        createdAt,
        deadlineAt: new Date(createdAt.getTime() + this.deps.deadlineMs),
        webhook: webhook ?? null,
      });
    } catch (error) {
      // Nothing was created: the owner keeps the creation it was charged for.
      await this.deps.quota?.refundCreate(owner).catch(() => undefined);
      throw error;
    }
    const { inserted, generation } = recorded;
    if (!inserted) {
      await this.deps.quota?.refundCreate(owner).catch(() => undefined);
      return this.replay(generation, inputHash);
    }
    if (this.deps.quota) {
      try {
        await this.deps.quota.checkInFlight(owner);
      } catch (error) {
        await this.deps.store.deleteGeneration(generation.id);
        await this.deps.quota.refundCreate(owner);
        throw error;
      }
    }
    await this.spendUpstreamSlotNow();
    return this.submit(generation, input);
  }

  /**
   * The create's token was booked for its slot, and the store writes since (recording it, the in-flight
   * check) may have run past it: sent later than the budget counted it, the create could bunch with the
   * tokens that came meanwhile. So its token is counted again as spent now.
   */
  private async spendUpstreamSlotNow(): Promise<void> {
    await this.deps.budget?.rebook(1);
  }

  private replay(stored: Generation, inputHash: string): Generation {
    const existing = this.unrecorded.get(stored.id) ?? stored;
    if (existing.inputHash !== inputHash) {
      throw new GatewayError(ErrorCode.IDEMPOTENCY_CONFLICT, 'This idempotency key was already used with a different input', {
        generationId: existing.id,
      });
    }
    return existing;
  }

  private refuseDuringBackoff(): void {
    const remaining = this.deps.backoff.remainingMs();
    if (remaining > 0) {
      throw new GatewayError(ErrorCode.RATE_LIMITED, 'The upstream is rate limiting requests; try again later', {
        retryAfterSeconds: Math.ceil(remaining / 1000),
      });
    }
  }

  /**
   * Books the create's place in the upstream request budget: ms to wait for it, or RATE_LIMITED when
   * the wait would be longer than allowed. Refused before anything is stored or sent, so nothing is lost.
   */
  private async reserveUpstreamSlot(): Promise<number> {
    const budget = this.deps.budget;
    if (!budget) return 0;
    const reservation = await budget.reserve(this.deps.budgetCreateWaitMs ?? 0);
    if (reservation.ok) return reservation.waitMs;
    throw new GatewayError(ErrorCode.RATE_LIMITED, 'The upstream request budget is spent for now; try again later', {
      retryAfterSeconds: Math.max(1, Math.ceil(reservation.retryInMs / 1000)),
    });
  }

  /** Sends the create with the full input (`generation.input` holds the stored, summarised one). */
  private async submit(generation: Generation, input: GenerationInput): Promise<Generation> {
    const { store, upstream, log } = this.deps;
    let job: UpstreamJob;
    try {
      job = await upstream.create(input);
    } catch (error) {
      if (error instanceof UpstreamError && error.failure !== UpstreamFailure.OUTCOME_UNKNOWN) {
        // The upstream answered "no": nothing was created or charged, so nothing is kept.
        await store.deleteGeneration(generation.id);
        log.info(
          { model: generation.input.model, failure: error.failure, upstreamStatus: error.httpStatus, reason: error.message },
          'create refused by the upstream; nothing stored',
        );
        throw this.toGatewayError(error);
      }
      // The request may have reached the upstream. Sending it again could pay twice, so the
      // generation is recorded as failed with a code that says exactly that.
      if (!(error instanceof UpstreamError)) log.error({ err: error, generationId: generation.id }, 'create failed unexpectedly');
      else log.warn({ generationId: generation.id, reason: error.message }, 'create outcome unknown');
      return this.record(generation, {
        status: GenerationStatus.FAILED,
        completedAt: this.now(),
        error: {
          code: GenerationErrorCode.CREATE_OUTCOME_UNKNOWN,
          message: 'The create request was sent but no answer arrived. It was not re-sent, to avoid paying twice; the job may still exist upstream.',
        },
      });
    }
    this.deps.backoff.reset();
    const now = this.now();
    const change: Partial<GenerationState> = {
      upstreamId: job.upstreamId,
      upstreamStatus: job.status,
      usage: job.usage,
      ...stateFromJob(job, generation.status, now),
    };
    const terminal = change.status !== undefined && isTerminal(change.status);
    const updated = await this.record(generation, change, {
      nextPollAt: terminal ? null : this.deps.schedule.nextPollAt(generation.input, generation.createdAt, now, generation.deadlineAt),
    });
    logGenerationCreated(log, updated);
    this.deps.onScheduled?.();
    return updated;
  }

  /**
   * Stores what the upstream answered to a create and publishes it. A store failure here must not
   * reach the client as "try again": the upstream job exists (and may be paid for), so the answer is
   * kept and written once the store is back, and the client gets the generation as it will be stored.
   */
  private async record(
    generation: Generation,
    change: Partial<GenerationState>,
    bookkeeping: { nextPollAt: Date | null } = { nextPollAt: null },
  ): Promise<Generation> {
    let updated: Generation | null;
    try {
      updated = await this.deps.store.updateGeneration({
        id: generation.id,
        expectedVersion: generation.version,
        change,
        bookkeeping,
        at: this.now(),
      });
    } catch (error) {
      return this.unrecorded.keep(generation, change, bookkeeping, error);
    }
    if (!updated) throw new Error(`generation ${generation.id} changed while it was being submitted`);
    this.deps.events.publish(updated);
    logGenerationChanged(this.deps.log, updated);
    return updated;
  }

  private toGatewayError(error: UpstreamError): GatewayError {
    switch (error.failure) {
      case UpstreamFailure.REJECTED:
        return new GatewayError(ErrorCode.UPSTREAM_REJECTED, `The upstream rejected the request: ${error.message}`, {
          upstreamStatus: error.httpStatus,
        });
      case UpstreamFailure.RATE_LIMITED:
        this.deps.backoff.trip(error.retryAfterMs);
        return new GatewayError(ErrorCode.RATE_LIMITED, 'The upstream is rate limiting requests; try again later', {
          retryAfterSeconds: Math.max(1, Math.ceil(this.deps.backoff.remainingMs() / 1000)),
        });
      default:
        return new GatewayError(
          ErrorCode.UPSTREAM_UNAVAILABLE,
          `The upstream is unavailable: ${error.message}`,
          // Set when the circuit breaker refused the call without sending it.
          error.retryAfterMs !== null ? { retryAfterSeconds: Math.ceil(error.retryAfterMs / 1000) } : {},
        );
    }
  }

  /**
   * Stops following a generation. The upstream has no cancel call, so its job runs on (and is paid
   * for); the gateway just stops polling it. Cancelling an ended generation changes nothing.
   */
  async cancel(owner: string, id: string): Promise<Generation> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const [current] = await this.deps.store.getGenerations(owner, [id]);
      if (!current) throw notFound();
      if (isTerminal(current.status)) return current;
      const updated = await this.deps.store.updateGeneration({
        id,
        expectedVersion: current.version,
        change: {
          status: GenerationStatus.CANCELLED,
          completedAt: this.now(),
          error: { code: GenerationErrorCode.CANCELLED_BY_OWNER, message: 'Cancelled by its owner; the upstream job was not stopped' },
        },
        bookkeeping: { nextPollAt: null },
        at: this.now(),
      });
      if (updated) {
        this.deps.events.publish(updated);
        logGenerationChanged(this.deps.log, updated);
        return updated;
      }
      // The poller changed it in between; look again.
    }
    throw new Error(`could not cancel generation ${id}: it kept changing`);
  }

  /**
   * Deletes the owner's ended generation and its stored video at once; usage keeps counting what it
   * was paid for (the store keeps a record of it). One still in flight is refused
   * (GENERATION_IN_FLIGHT): its upstream job runs on and may yet be charged, so the owner cancels it
   * first, knowingly. Another owner's or an unknown id is NOT_FOUND, like every read.
   */
  async delete(owner: string, id: string): Promise<void> {
    if (!isUuid(id)) throw notFound();
    const result = await this.deps.store.deleteOwnedGeneration(owner, id, this.now());
    if (!result.found) throw notFound();
    if (!result.deleted) {
      throw new GatewayError(ErrorCode.GENERATION_IN_FLIGHT, `Generation ${id} is ${result.status}: cancel it before deleting it`, {
        status: result.status,
      });
    }
    this.finished.forget(owner, id);
    this.deps.events.publishRemoved({ owner, id });
    this.deps.log.info({ generationId: id, owner }, 'generation deleted by its owner');
    if (this.deps.media) {
      // After the row: a failure here leaves a file nobody links to, never a generation without its file.
      // A copy still streaming finds its job gone when it ends and removes what it stored (media-copier.ts).
      await this.deps.media.delete(mediaKey(id)).catch((err: unknown) => {
        this.deps.log.error({ err, generationId: id }, 'the stored video of a deleted generation could not be removed');
      });
    }
  }

  /**
   * A change made outside the service (the retention sweep): reads from memory, on this instance and
   * every other, must not show the older version.
   */
  changedElsewhere(g: Generation): void {
    this.finished.forget(g.owner, g.id);
    this.deps.events.publishRemoved(g);
  }

  /** The owner's generations with these ids, in order (null where unknown or another owner's). */
  async getMany(owner: string, ids: readonly string[]): Promise<(Generation | null)[]> {
    // Every one ended and kept: no batch to wait for (the common read of a finished result).
    const ended = ids.map((id) => this.finished.get(owner, id) ?? null);
    if (ended.every((g) => g !== null)) return ended;
    const read = await Promise.all(ids.map((id) => this.reads.load({ owner, id })));
    // A create whose record is still being written reads as the client was answered.
    return this.unrecorded.size === 0 ? read : read.map((g) => (g ? (this.unrecorded.get(g.id) ?? g) : g));
  }

  private async readBatch(keys: readonly { owner: string; id: string }[]): Promise<(Generation | null)[]> {
    const idsByOwner = new Map<string, Set<string>>();
    const found = new Map<string, Generation>();
    for (const { owner, id } of keys) {
      if (!isUuid(id)) continue;
      const ended = this.finished.get(owner, id);
      if (ended) {
        found.set(`${owner}\n${id}`, ended);
        continue;
      }
      const ids = idsByOwner.get(owner) ?? new Set<string>();
      ids.add(id);
      idsByOwner.set(owner, ids);
    }
    await Promise.all(
      [...idsByOwner].map(async ([owner, ids]) => {
        for (const g of await this.deps.store.getGenerations(owner, [...ids])) {
          found.set(`${owner}\n${g.id}`, g);
          this.finished.remember(g);
        }
      }),
    );
    return keys.map(({ owner, id }) => found.get(`${owner}\n${id}`) ?? null);
  }

  /**
   * A page in two steps: the store picks the page (ids and versions only, so no JSON columns are read
   * or decoded), then each generation comes from memory if it has ended (`finished`, checked against
   * the version just listed) or from one store read for the rest. The second read can only be newer
   * than the first: a generation that changed in between shows its newer state, one deleted in
   * between (a refused create) is left out.
   */
  async list(owner: string, options: ListOptions): Promise<GenerationPage> {
    const first = Math.min(Math.max(options.first, 0), MAX_PAGE_SIZE);
    const before = options.after ? decodeCursor(options.after) : undefined;
    const keys = await this.deps.store.listGenerationKeys({
      owner,
      limit: first + 1,
      before,
      statuses: options.statuses,
      models: options.models,
    });
    const page = keys.slice(0, first);
    const generations: (Generation | null)[] = page.map(({ id, version }) => {
      const ended = this.finished.get(owner, id);
      if (ended?.version === version) return ended;
      // Changed since it was kept (news of it lost in a gap): the read below must not take it from memory.
      if (ended) this.finished.forget(owner, id);
      return null;
    });
    const missing = page.filter((_, i) => generations[i] === null).map((k) => k.id);
    if (missing.length > 0) {
      const read = new Map<string, Generation>();
      for (const g of await this.getMany(owner, missing)) if (g) read.set(g.id, g);
      page.forEach(({ id }, i) => {
        generations[i] ??= read.get(id) ?? null;
      });
    }
    return { generations: generations.filter((g): g is Generation => g !== null), hasNextPage: keys.length > first };
  }

  /** The owner's usage over generations created at or after `since` (all when null). */
  async usage(owner: string, since: Date | null): Promise<UsageSummary> {
    if (since !== null) checkStorableDate('since', since);
    return summarizeUsage(await this.deps.store.usageGroups(owner, since), since);
  }

  /** Progress and ETA (with its range and how many finished generations it learned from), now. */
  estimate(g: Generation): ProgressEstimate {
    return this.deps.schedule.estimate(g.status, g.input, g.createdAt, this.now());
  }

  /** The generation's video as a client sees it: the gateway's signed link once stored (playable-video.ts). */
  video(g: Generation): PlayableVideo | null {
    return playableVideo(g, this.deps.mediaLinks ?? null, this.now().getTime());
  }

  watch(owner: string, id: string) {
    return this.deps.events.watchGeneration(owner, id, async () => (await this.getMany(owner, [id]))[0] ?? null);
  }

  watchOwner(owner: string, statuses?: readonly GenerationStatus[]) {
    return this.deps.events.watchOwner(owner, statuses, (since) => this.deps.store.changedSince(owner, since, CATCH_UP_LIMIT));
  }
}

/** A stable hash of the validated input: key order does not matter. */
export function hashInput(input: GenerationInput): string {
  return createHash('sha256')
    .update(JSON.stringify(sortKeys(input)))
    .digest('hex');
}

/** Object keys sorted at every depth (model options nest objects), array order kept: it can matter. */
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => [k, sortKeys(v)]),
  );
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
function isUuid(id: string): boolean {
  return UUID.test(id);
}

export function encodeCursor(g: Pick<Generation, 'createdAt' | 'id'>): string {
  return Buffer.from(`${g.createdAt.toISOString()}|${g.id}`).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const [iso, id] = Buffer.from(cursor, 'base64url').toString().split('|');
  const createdAt = new Date(iso ?? '');
  if (!id || !isUuid(id) || Number.isNaN(createdAt.getTime())) {
    throw new GatewayError(ErrorCode.BAD_USER_INPUT, 'Invalid cursor', { field: 'after' });
  }
  // A forged cursor may hold a date the database cannot compare against.
  checkStorableDate('after', createdAt);
  return { createdAt, id };
}
