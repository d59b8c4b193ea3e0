import type { Generation, GenerationInput, GenerationState, GenerationStatus, MediaCopy } from '../model/generation';

export interface NewGeneration {
  id: string;
  owner: string;
  input: GenerationInput;
  inputHash: string;
  idempotencyKey: string | null;
  status: GenerationStatus;
  createdAt: Date;
  deadlineAt: Date;
}

/** Poller bookkeeping: not visible to clients, never bumps `version`. */
export interface PollBookkeeping {
  nextPollAt?: Date | null;
  pollCount?: number;
  pollFailures?: number;
  /** Set both to null to release the lease. */
  leaseOwner?: string | null;
  leaseUntil?: Date | null;
}

/**
 * One claim on a generation's polling, as `claimDueGenerations` handed it out: the claimer and the
 * row's `leaseEpoch` after the claim. It is held until it is released or another claim (a takeover
 * once it expired, by any instance) bumps the epoch. An expired lease nobody has claimed since is
 * still held.
 */
export interface Lease {
  owner: string;
  epoch: number;
}

/** Which row, at which version. */
export interface GenerationKey {
  id: string;
  version: number;
}

export interface ListQuery {
  owner: string;
  /** Page size; the store returns at most this many rows. */
  limit: number;
  /** Keyset cursor: rows strictly older than this (createdAt desc, id desc). */
  before?: { createdAt: Date; id: string };
  statuses?: readonly GenerationStatus[];
  models?: readonly string[];
}

/** One group of an owner's generations, for usage reports. */
export interface UsageGroup {
  status: GenerationStatus;
  /** Upstream model id. */
  model: string;
  /** The requested duration, null when the model's default applied. */
  durationSeconds: number | null;
  count: number;
  /** Sums of the upstream's `meta.usage`; null when none of the group reported any. */
  credits: number | null;
  usd: number | null;
}

export interface ApiKeyRecord {
  id: string;
  owner: string;
  /** SHA-256 (hex) of the key; the key itself is never stored. */
  hash: string;
  /** The first characters of the key, to recognise it in listings. */
  prefix: string;
  label: string | null;
  createdAt: Date;
  revokedAt: Date | null;
}

/**
 * One visible change to a generation, applied only if the row is still at `expectedVersion`.
 * Bookkeeping fields may be set in the same write.
 */
export interface GenerationUpdate {
  id: string;
  /** The version the writer read; another writer's change in between makes the update a no-op. */
  expectedVersion: number;
  change: Partial<GenerationState>;
  bookkeeping?: PollBookkeeping;
  /** When the change happened (updatedAt, the transition's time). Default: now. */
  at?: Date;
  /**
   * The poller's writes pass the lease they hold, so a poller whose lease was taken over changes
   * nothing. Without it (the service's create and cancel) only the version counts, which is how a
   * cancel wins over a poll in flight.
   */
  lease?: Lease;
}

/**
 * The service's generations: create (idempotently), read, list, change, and forget a create the
 * upstream definitely rejected. Every method is safe to call concurrently.
 */
export interface GenerationRecords {
  /**
   * Inserts a generation with version 1 and one transition (its initial status).
   * When (owner, idempotencyKey) already exists, nothing is inserted and the existing row is returned
   * with `inserted: false`.
   */
  insertGeneration(g: NewGeneration): Promise<{ inserted: boolean; generation: Generation }>;
  /** Generations with these ids that belong to `owner`, in no particular order. */
  getGenerations(owner: string, ids: readonly string[]): Promise<Generation[]>;
  /** Any owner's generation by id. */
  getGeneration(id: string): Promise<Generation | null>;
  findByIdempotencyKey(owner: string, key: string): Promise<Generation | null>;
  /**
   * One page of the owner's generations, newest first (createdAt desc, id desc), but only each row's
   * id and version: a list of ended generations can then be answered from memory without reading
   * (and decoding) their JSON columns. An empty `statuses` or `models` list means no filter.
   */
  listGenerationKeys(query: ListQuery): Promise<readonly GenerationKey[]>;
  /**
   * The owner's generations last changed at or after `since` (updatedAt), oldest change first: the
   * `limit` most recent ones when more changed. Owner-wide watchers catch up with it after a gap.
   */
  changedSince(owner: string, since: Date, limit: number): Promise<Generation[]>;
  /**
   * Applies `update` (see GenerationUpdate): bumps version, sets updatedAt, and appends a transition
   * when `status` changes. Returns the updated row, or null when the version did not match (someone
   * else changed it first) or the lease is no longer held.
   */
  updateGeneration(update: GenerationUpdate): Promise<Generation | null>;
  /** Deletes a generation that never reached the upstream (a definite create rejection). */
  deleteGeneration(id: string): Promise<void>;
}

/**
 * The poller's queue of due work: in-flight generations, each claimed under a lease (see Lease) by
 * one poller at a time. Its writes of what it saw go through `GenerationRecords.updateGeneration`
 * with the lease.
 */
export interface PollQueue {
  /**
   * Claims up to `limit` in-flight generations that are due (`nextPollAt <= now`) and not leased by
   * someone else (no lease, or an expired one), setting their lease to `leaseOwner` until
   * `now + leaseMs` and bumping `leaseEpoch`. Concurrent claimers never get the same row. Most
   * overdue first.
   */
  claimDueGenerations(leaseOwner: string, now: Date, leaseMs: number, limit: number): Promise<Generation[]>;
  /** Updates bookkeeping only while `lease` is held. False when it is not. */
  updateBookkeeping(id: string, lease: Lease, bookkeeping: PollBookkeeping): Promise<boolean>;
  /**
   * When the next in-flight generation becomes claimable: its `nextPollAt`, or its lease expiry while
   * it is leased. Null when none is scheduled.
   */
  nextDueAt(): Promise<Date | null>;
  /** Non-terminal generations whose create never returned an upstream id and were created before `before`. */
  findStaleSubmissions(before: Date): Promise<Generation[]>;
}

/** API keys, by their hash (the keys CLI, the admin socket, request authentication). */
export interface ApiKeyRecords {
  insertApiKey(key: ApiKeyRecord): Promise<void>;
  findApiKeyByHash(hash: string): Promise<ApiKeyRecord | null>;
  listApiKeys(): Promise<ApiKeyRecord[]>;
  /** Revokes by id or by prefix. Returns the number of keys revoked. */
  revokeApiKey(idOrPrefix: string, at: Date): Promise<number>;
}

/** Counts over generations: metrics, per-owner quotas, usage reports. */
export interface GenerationStatistics {
  /** Per-status counts across all owners (for metrics). */
  countByStatus(): Promise<Record<string, number>>;
  /** How many of the owner's generations are not yet ended (QUEUED or GENERATING). */
  countInFlight(owner: string): Promise<number>;
  /** The owner's generations created at or after `since` (all when null), grouped for usage reports. */
  usageGroups(owner: string, since: Date | null): Promise<UsageGroup[]>;
}

export interface StoreLifecycle {
  /** Opens the database and applies pending migrations. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
}

/**
 * Where generations and API keys live: every consumer's interface on one database. The embedded
 * implementation (PGlite) and the PostgreSQL one run the same SQL (src/store/sql/). Consumers take
 * the interface they use, not this one; the composition root and the keys CLI hold the whole store.
 */
export interface Store extends StoreLifecycle, GenerationRecords, PollQueue, MediaCopyQueue, ApiKeyRecords, GenerationStatistics {}

/** One claimed copy of a finished video into the media store (see MediaCopyQueue). */
export interface MediaCopyJob {
  generationId: string;
  owner: string;
  /** The upstream's link to copy from. */
  sourceUrl: string;
  /** Attempts made before this one. */
  attempts: number;
  lease: Lease;
}

/**
 * The copier's queue: one job per finished video, enqueued with the completion itself (see the
 * `0015_media_copies` migration) and claimed under a lease, like the poll queue, by one copier at a
 * time across instances. Every write below happens only while the lease is held.
 */
export interface MediaCopyQueue {
  /** Claims up to `limit` due copies not leased by someone else, leased to `leaseOwner` until `now + leaseMs`. Most overdue first. */
  claimMediaCopies(leaseOwner: string, now: Date, leaseMs: number, limit: number): Promise<MediaCopyJob[]>;
  /** Records a failed attempt (counted unless `counted` is false) and schedules the next one at `dueAt`, releasing the lease. */
  retryMediaCopy(job: MediaCopyJob, dueAt: Date, lastError: string, counted: boolean): Promise<boolean>;
  /**
   * Ends the job (its copy STORED or FAILED) and writes `copy` into its generation's video as a
   * visible change (version + 1), in one statement. Returns the changed generation to publish, or
   * null when the lease is no longer held or the generation is gone.
   */
  finishMediaCopy(job: MediaCopyJob, copy: MediaCopy, at: Date): Promise<Generation | null>;
  /** When the next copy becomes claimable (its due time, or its lease expiry while leased); null when none is queued. */
  nextMediaCopyDueAt(): Promise<Date | null>;
}
