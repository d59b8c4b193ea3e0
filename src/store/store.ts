import type { Generation, GenerationInput, GenerationState, GenerationStatus, MediaCopy } from '../model/generation';
import type {
  GenerationWebhook,
  WebhookDelivery,
  WebhookDeliveryStatus,
  WebhookEndpoint,
  WebhookEndpointChange,
  WebhookSigningSecret,
} from '../model/webhook';

export interface NewGeneration {
  id: string;
  owner: string;
  input: GenerationInput;
  inputHash: string;
  idempotencyKey: string | null;
  status: GenerationStatus;
  createdAt: Date;
  deadlineAt: Date;
  /** A webhook for this generation only; its deliveries are queued with the changes they report. */
  webhook?: GenerationWebhook | null;
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

/** A poll's end: its generation's lease (held by the releasing instance) released, with its next poll. */
export interface PollRelease {
  id: string;
  /** The lease's epoch as claimed; the owner is the releaser's. */
  epoch: number;
  nextPollAt: Date;
  pollCount: number;
  pollFailures: number;
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
  /**
   * Deletes the owner's ended generation, with its copy job and its unsent webhook deliveries, and
   * records what it was paid for (usage keeps counting it), all in one write. A generation still in
   * flight is left alone (`deleted: false`); another owner's is not found.
   */
  deleteOwnedGeneration(owner: string, id: string, at: Date): Promise<OwnedGenerationDeletion>;
}

/** What `deleteOwnedGeneration` did. */
export type OwnedGenerationDeletion = { found: false; deleted: false } | { found: true; deleted: boolean; status: GenerationStatus };

/** A stored copy old enough for the retention sweep. */
export interface ExpiringCopy {
  generationId: string;
  owner: string;
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
  /**
   * Claims like `claimDueGenerations`, but owners take turns among the most overdue generations: an
   * owner's n-th due generation comes at turn n + `usedByOwner[owner]` (the polls the caller recently
   * gave that owner), ties by due time. So one owner's hundreds of due polls do not starve another's few.
   */
  claimDueGenerationsShared(
    leaseOwner: string,
    now: Date,
    leaseMs: number,
    limit: number,
    usedByOwner: Readonly<Record<string, number>>,
  ): Promise<Generation[]>;
  /** Updates bookkeeping only while `lease` is held. False when it is not. */
  updateBookkeeping(id: string, lease: Lease, bookkeeping: PollBookkeeping): Promise<boolean>;
  /**
   * Releases many leases of `leaseOwner` at once (one statement), each row's bookkeeping set as given,
   * each only while its lease (`leaseOwner`, its epoch) is held. Returns the ids released; a lease
   * taken over meanwhile leaves its row alone and its id out.
   */
  releasePolled(leaseOwner: string, releases: readonly PollRelease[]): Promise<Set<string>>;
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
  /**
   * The owner's generations created at or after `since` (all when null), grouped for usage reports.
   * Read-only: the embedded store hands the same array to later callers until the owner's next write.
   */
  usageGroups(owner: string, since: Date | null): Promise<readonly UsageGroup[]>;
}

/** A change to an endpoint: the owner's, and what the gateway sets along with it. */
export interface WebhookEndpointUpdate {
  change: WebhookEndpointChange;
  /** undefined leaves it alone. */
  disabledReason?: string | null;
  /** A new secret; the current one becomes the previous one, still signed with until `previousExpiresAt`. */
  secret?: { value: string; previousExpiresAt: Date };
  at: Date;
}

/** Owners' webhook endpoints. Every read and write is scoped to an owner: another's endpoint is not there. */
export interface WebhookEndpointRecords {
  /** Inserts unless the owner already has `maxPerOwner` endpoints; false then. */
  insertWebhookEndpoint(endpoint: WebhookEndpoint, maxPerOwner: number): Promise<boolean>;
  /** The owner's endpoints, oldest first. */
  listWebhookEndpoints(owner: string): Promise<WebhookEndpoint[]>;
  getWebhookEndpoint(owner: string, id: string): Promise<WebhookEndpoint | null>;
  /** The endpoint after the update, or null when the owner has none with this id. */
  updateWebhookEndpoint(owner: string, id: string, update: WebhookEndpointUpdate): Promise<WebhookEndpoint | null>;
  /** True when the owner had an endpoint with this id. */
  deleteWebhookEndpoint(owner: string, id: string): Promise<boolean>;
}

/** Owners' signing secrets, for per-generation webhooks. */
export interface WebhookSigningSecretRecords {
  /**
   * Sets the owner's signing secret to `secret`, creating it or keeping the one it replaces as the
   * previous secret until `previousExpiresAt`. Answers the record as it is then.
   */
  rotateWebhookSigningSecret(owner: string, secret: string, previousExpiresAt: Date, at: Date): Promise<WebhookSigningSecret>;
  /** The signing secrets of these owners that have one. */
  getWebhookSigningSecrets(owners: readonly string[]): Promise<WebhookSigningSecret[]>;
}

export interface WebhookDeliveryQuery {
  owner: string;
  endpointId?: string;
  generationId?: string;
  /** Most rows returned. */
  limit: number;
}

/**
 * The webhook outbox, as its owners see it. Deliveries are written by `updateGeneration` itself, in the
 * same statement as the change they report (see sql/generations/update.ts).
 */
export interface WebhookDeliveryRecords {
  /** The owner's deliveries, newest first, optionally of one endpoint or one generation. */
  listWebhookDeliveries(query: WebhookDeliveryQuery): Promise<WebhookDelivery[]>;
  /**
   * Makes the owner's delivery due now (PENDING again, whatever it was), for one more attempt; one in
   * flight is left alone. The delivery as it is then, or null when the owner has none with this id.
   */
  redeliverWebhookDelivery(owner: string, id: string, at: Date): Promise<WebhookDelivery | null>;
}

/** How one attempt went, and what happens next. */
export interface WebhookAttemptRecord {
  at: Date;
  /** PENDING again (a retry at `nextAttemptAt`), DELIVERED, or FAILED (given up). */
  status: WebhookDeliveryStatus;
  statusCode: number | null;
  error: string | null;
  responseExcerpt: string | null;
  durationMs: number;
  deliveredAt: Date | null;
  nextAttemptAt: Date | null;
}

/**
 * The webhook sender's queue: pending deliveries, each attempt claimed under a lease (see Lease and
 * sql/lease-queue.ts) by one sender of one instance.
 */
export interface WebhookSendQueue {
  /**
   * Claims up to `limit` due pending deliveries, as PollQueue.claimDueGenerations does generations.
   * With `maxPerEndpoint`, leaves an endpoint (or a per-generation webhook's URL) with at most that many
   * deliveries leased, by any claimer, so that one slow endpoint cannot take every sending slot.
   */
  claimWebhookDeliveries(leaseOwner: string, now: Date, leaseMs: number, limit: number, maxPerEndpoint?: number): Promise<WebhookDelivery[]>;
  /** Records an attempt and releases the lease, only while `lease` is held. False when it is not. */
  recordWebhookAttempt(id: string, lease: Lease, attempt: WebhookAttemptRecord): Promise<boolean>;
  /** When the next pending delivery becomes claimable; null when none is pending. */
  nextWebhookDeliveryDueAt(): Promise<Date | null>;
  /** Owners' signing secrets, for per-generation deliveries. */
  getWebhookSigningSecrets(owners: readonly string[]): Promise<WebhookSigningSecret[]>;
  /** Endpoints by id, whoever owns them. */
  getWebhookEndpointsByIds(ids: readonly string[]): Promise<WebhookEndpoint[]>;
  /** How many deliveries are pending, and when the oldest of them was queued (metrics). */
  pendingWebhookDeliveries(): Promise<{ count: number; oldestCreatedAt: Date | null }>;
  /**
   * After an attempt: a success clears the endpoint's `failingSince`, a failure sets it unless set.
   * Answers `failingSince` as it is then.
   */
  recordWebhookEndpointHealth(id: string, ok: boolean, at: Date): Promise<Date | null>;
  /** Disables an enabled endpoint with a reason; false when it is gone or already disabled. */
  disableWebhookEndpoint(id: string, reason: string, at: Date): Promise<boolean>;
}

/** One bucket's learned generation times: recency-weighted counts over the time bins (generations/time-distribution.ts). */
export interface GenerationTimingSketch {
  bucket: string;
  weights: number[];
  /** Samples ever recorded (not decayed). */
  samples: number;
  updatedAt: Date;
}

/** One finished generation's time, as the learner records it. */
export interface GenerationTimeSample {
  bucket: string;
  /** The time bin it fell in, 0-based, of `bins`. */
  bin: number;
  bins: number;
  /** Every existing weight is multiplied by this before the sample adds 1. */
  decay: number;
  at: Date;
}

/**
 * The learned generation times every instance shares (generations/timing-learner.ts). A sample is
 * added in one statement, so concurrent completions on several instances are all counted.
 */
export interface GenerationTimings {
  recordGenerationTime(sample: GenerationTimeSample): Promise<void>;
  listGenerationTimings(): Promise<GenerationTimingSketch[]>;
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
export interface Store
  extends
    StoreLifecycle,
    GenerationRecords,
    PollQueue,
    ApiKeyRecords,
    GenerationStatistics,
    WebhookEndpointRecords,
    WebhookDeliveryRecords,
    WebhookSigningSecretRecords,
    WebhookSendQueue,
    MediaCopyQueue,
    GenerationTimings {}

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
  /**
   * Makes every pending copy claimable at once, whoever leased it; returns how many leases ended.
   * Only safe where no other process can hold a lease: the embedded store, whose data folder lock
   * makes this process the only one, at start (the leases are a killed predecessor's).
   */
  releaseMediaCopyLeases(): Promise<number>;
  /** Up to `limit` STORED copies stored before `storedBefore`, oldest first (the retention sweep). */
  findExpiringCopies(storedBefore: Date, limit: number): Promise<ExpiringCopy[]>;
  /**
   * Marks these copies EXPIRED (their files are already removed), each a visible change of its
   * generation (version + 1); copies no longer STORED are left alone. Returns the changed generations.
   */
  markCopiesExpired(ids: readonly string[], at: Date): Promise<Generation[]>;
  /** Whether the generation still has a copy job (false once the generation is deleted). */
  hasMediaCopy(generationId: string): Promise<boolean>;
}
