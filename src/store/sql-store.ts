import type { Generation, MediaCopy } from '../model/generation';
import type { WebhookDelivery, WebhookEndpoint, WebhookSigningSecret } from '../model/webhook';
import { OwnerReadCache, type OwnerReadCacheOptions } from './owner-read-cache';
import { migrations as defaultMigrations, type Migration } from './migrations';
import { insertApiKey } from './sql/api-keys/insert';
import { findApiKeyByHash, listApiKeys } from './sql/api-keys/select';
import { revokeApiKey } from './sql/api-keys/update';
import { deleteGeneration, deleteOwnedGeneration } from './sql/generations/delete';
import { insertGeneration } from './sql/generations/insert';
import { changedSince, findByIdempotencyKey, getGeneration, getGenerations, listGenerationKeys } from './sql/generations/select';
import { updateGeneration } from './sql/generations/update';
import { claimMediaCopies } from './sql/media-copies/claim';
import { findExpiringCopies, hasMediaCopy, markCopiesExpired } from './sql/media-copies/retention';
import { nextMediaCopyDueAt } from './sql/media-copies/select';
import { finishMediaCopy, releaseMediaCopyLeases, retryMediaCopy } from './sql/media-copies/update';
import { listGenerationTimings } from './sql/generation-timings/select';
import { recordGenerationTime } from './sql/generation-timings/upsert';
import { migrate } from './sql/migrate';
import { claimDueGenerations, claimDueGenerationsShared } from './sql/poll-queue/claim';
import { findStaleSubmissions, nextDueAt } from './sql/poll-queue/select';
import { releasePolled, updateBookkeeping } from './sql/poll-queue/update';
import type { SqlDriver } from './sql/session';
import { countByStatus, countInFlight, usageGroups } from './sql/statistics/select';
import { claimWebhookDeliveries, nextWebhookDeliveryDueAt } from './sql/webhook-deliveries/claim';
import { listWebhookDeliveries, pendingWebhookDeliveries } from './sql/webhook-deliveries/select';
import { recordWebhookAttempt, redeliverWebhookDelivery } from './sql/webhook-deliveries/update';
import { deleteWebhookEndpoint } from './sql/webhook-endpoints/delete';
import { insertWebhookEndpoint } from './sql/webhook-endpoints/insert';
import { getWebhookEndpoint, getWebhookEndpointsByIds, listWebhookEndpoints } from './sql/webhook-endpoints/select';
import { getWebhookSigningSecrets } from './sql/webhook-signing-secrets/select';
import { rotateWebhookSigningSecret } from './sql/webhook-signing-secrets/upsert';
import { disableWebhookEndpoint, recordWebhookEndpointHealth, updateWebhookEndpoint } from './sql/webhook-endpoints/update';
import type {
  ApiKeyRecord,
  ExpiringCopy,
  GenerationKey,
  GenerationUpdate,
  Lease,
  ListQuery,
  MediaCopyJob,
  NewGeneration,
  OwnedGenerationDeletion,
  PollBookkeeping,
  PollRelease,
  GenerationTimeSample,
  GenerationTimingSketch,
  Store,
  UsageGroup,
  WebhookAttemptRecord,
  WebhookDeliveryQuery,
  WebhookEndpointUpdate,
} from './store';

/**
 * The Store over plain PostgreSQL, for the embedded database and a real server alike, so the two
 * cannot drift apart. Each statement lives in src/store/sql/, one file per consumer and SQL verb;
 * this class holds the connection and the owner-read cache.
 */
export class SqlStore implements Store {
  private driver: SqlDriver | null = null;
  private readonly ownerReads: OwnerReadCache | null;

  /**
   * `open` is called by `start()`, so a stopped store can be started again. `options.ownerReads`
   * (default: none) keeps list pages and usage reports in memory until the owner's generations change:
   * only for a database this process alone writes to (see OwnerReadCache).
   */
  constructor(
    private readonly open: () => Promise<SqlDriver>,
    private readonly migrations: readonly Migration[] = defaultMigrations,
    options: { ownerReads?: OwnerReadCacheOptions } = {},
  ) {
    this.ownerReads = options.ownerReads ? new OwnerReadCache(options.ownerReads) : null;
  }

  async start(): Promise<void> {
    if (this.driver) return;
    const driver = await this.open();
    try {
      await migrate(driver, this.migrations);
    } catch (err) {
      await driver.close().catch(() => undefined);
      throw err;
    }
    this.driver = driver;
  }

  async stop(): Promise<void> {
    const driver = this.driver;
    this.driver = null;
    await driver?.close();
  }

  async ping(): Promise<void> {
    await this.db().query('SELECT 1');
  }

  // The service's generations.

  async insertGeneration(g: NewGeneration): Promise<{ inserted: boolean; generation: Generation }> {
    try {
      return await insertGeneration(this.db(), g);
    } finally {
      this.ownerReads?.changed(g.owner);
    }
  }

  async getGenerations(owner: string, ids: readonly string[]): Promise<Generation[]> {
    return getGenerations(this.db(), owner, ids);
  }

  async getGeneration(id: string): Promise<Generation | null> {
    return getGeneration(this.db(), id);
  }

  async findByIdempotencyKey(owner: string, key: string): Promise<Generation | null> {
    return findByIdempotencyKey(this.db(), owner, key);
  }

  async listGenerationKeys(query: ListQuery): Promise<readonly GenerationKey[]> {
    const read = () => listGenerationKeys(this.db(), query);
    return this.ownerReads ? this.ownerReads.read(query.owner, listPageKey(query), read) : read();
  }

  async changedSince(owner: string, since: Date, limit: number): Promise<Generation[]> {
    return changedSince(this.db(), owner, since, limit);
  }

  async updateGeneration(update: GenerationUpdate): Promise<Generation | null> {
    let updated: Generation | null;
    try {
      updated = await updateGeneration(this.db(), update);
    } catch (err) {
      this.ownerReads?.changed(null);
      throw err;
    }
    // No row: the version did not match, nothing changed.
    if (updated) this.ownerReads?.changed(updated.owner);
    return updated;
  }

  async deleteGeneration(id: string): Promise<void> {
    try {
      await deleteGeneration(this.db(), id);
    } finally {
      this.ownerReads?.changed(null);
    }
  }

  async deleteOwnedGeneration(owner: string, id: string, at: Date): Promise<OwnedGenerationDeletion> {
    try {
      return await deleteOwnedGeneration(this.db(), owner, id, at);
    } finally {
      this.ownerReads?.changed(owner);
    }
  }

  // The poller's queue.

  async claimDueGenerations(leaseOwner: string, now: Date, leaseMs: number, limit: number): Promise<Generation[]> {
    return claimDueGenerations(this.db(), leaseOwner, now, leaseMs, limit);
  }

  async claimDueGenerationsShared(
    leaseOwner: string,
    now: Date,
    leaseMs: number,
    limit: number,
    usedByOwner: Readonly<Record<string, number>>,
  ): Promise<Generation[]> {
    return claimDueGenerationsShared(this.db(), leaseOwner, now, leaseMs, limit, usedByOwner);
  }

  async updateBookkeeping(id: string, lease: Lease, bookkeeping: PollBookkeeping): Promise<boolean> {
    return updateBookkeeping(this.db(), id, lease, bookkeeping);
  }

  async releasePolled(leaseOwner: string, releases: readonly PollRelease[]): Promise<Set<string>> {
    return releasePolled(this.db(), leaseOwner, releases);
  }

  async nextDueAt(): Promise<Date | null> {
    return nextDueAt(this.db());
  }

  async findStaleSubmissions(before: Date): Promise<Generation[]> {
    return findStaleSubmissions(this.db(), before);
  }

  // The copier's queue.

  async claimMediaCopies(leaseOwner: string, now: Date, leaseMs: number, limit: number): Promise<MediaCopyJob[]> {
    return claimMediaCopies(this.db(), leaseOwner, now, leaseMs, limit);
  }

  async retryMediaCopy(job: MediaCopyJob, dueAt: Date, lastError: string, counted: boolean): Promise<boolean> {
    return retryMediaCopy(this.db(), job, dueAt, lastError, counted);
  }

  async finishMediaCopy(job: MediaCopyJob, copy: MediaCopy, at: Date): Promise<Generation | null> {
    try {
      return await finishMediaCopy(this.db(), job, copy, at);
    } finally {
      this.ownerReads?.changed(job.owner);
    }
  }

  async nextMediaCopyDueAt(): Promise<Date | null> {
    return nextMediaCopyDueAt(this.db());
  }

  async releaseMediaCopyLeases(): Promise<number> {
    return releaseMediaCopyLeases(this.db());
  }

  async findExpiringCopies(storedBefore: Date, limit: number): Promise<ExpiringCopy[]> {
    return findExpiringCopies(this.db(), storedBefore, limit);
  }

  async markCopiesExpired(ids: readonly string[], at: Date): Promise<Generation[]> {
    try {
      return await markCopiesExpired(this.db(), ids, at);
    } finally {
      this.ownerReads?.changed(null);
    }
  }

  async hasMediaCopy(generationId: string): Promise<boolean> {
    return hasMediaCopy(this.db(), generationId);
  }

  // Learned generation times.

  async recordGenerationTime(sample: GenerationTimeSample): Promise<void> {
    return recordGenerationTime(this.db(), sample);
  }

  async listGenerationTimings(): Promise<GenerationTimingSketch[]> {
    return listGenerationTimings(this.db());
  }

  // API keys.

  async insertApiKey(key: ApiKeyRecord): Promise<void> {
    return insertApiKey(this.db(), key);
  }

  async findApiKeyByHash(hash: string): Promise<ApiKeyRecord | null> {
    return findApiKeyByHash(this.db(), hash);
  }

  async listApiKeys(): Promise<ApiKeyRecord[]> {
    return listApiKeys(this.db());
  }

  async revokeApiKey(idOrPrefix: string, at: Date): Promise<number> {
    return revokeApiKey(this.db(), idOrPrefix, at);
  }

  // Statistics.

  async countByStatus(): Promise<Record<string, number>> {
    return countByStatus(this.db());
  }

  async countInFlight(owner: string): Promise<number> {
    return countInFlight(this.db(), owner);
  }

  async usageGroups(owner: string, since: Date | null): Promise<readonly UsageGroup[]> {
    const read = () => usageGroups(this.db(), owner, since);
    return this.ownerReads ? this.ownerReads.read(owner, `usage:${since?.toISOString() ?? ''}`, read) : read();
  }

  // Webhook endpoints.

  async insertWebhookEndpoint(endpoint: WebhookEndpoint, maxPerOwner: number): Promise<boolean> {
    return insertWebhookEndpoint(this.db(), endpoint, maxPerOwner);
  }

  async listWebhookEndpoints(owner: string): Promise<WebhookEndpoint[]> {
    return listWebhookEndpoints(this.db(), owner);
  }

  async getWebhookEndpoint(owner: string, id: string): Promise<WebhookEndpoint | null> {
    return getWebhookEndpoint(this.db(), owner, id);
  }

  async updateWebhookEndpoint(owner: string, id: string, update: WebhookEndpointUpdate): Promise<WebhookEndpoint | null> {
    return updateWebhookEndpoint(this.db(), owner, id, update);
  }

  async deleteWebhookEndpoint(owner: string, id: string): Promise<boolean> {
    return deleteWebhookEndpoint(this.db(), owner, id);
  }

  // Owners' signing secrets (per-generation webhooks).

  async rotateWebhookSigningSecret(owner: string, secret: string, previousExpiresAt: Date, at: Date): Promise<WebhookSigningSecret> {
    return rotateWebhookSigningSecret(this.db(), owner, secret, previousExpiresAt, at);
  }

  async getWebhookSigningSecrets(owners: readonly string[]): Promise<WebhookSigningSecret[]> {
    return getWebhookSigningSecrets(this.db(), owners);
  }

  // The webhook outbox.

  async listWebhookDeliveries(query: WebhookDeliveryQuery): Promise<WebhookDelivery[]> {
    return listWebhookDeliveries(this.db(), query);
  }

  async redeliverWebhookDelivery(owner: string, id: string, at: Date): Promise<WebhookDelivery | null> {
    return redeliverWebhookDelivery(this.db(), owner, id, at);
  }

  // The webhook sender's queue.

  async claimWebhookDeliveries(leaseOwner: string, now: Date, leaseMs: number, limit: number, maxPerEndpoint?: number): Promise<WebhookDelivery[]> {
    return claimWebhookDeliveries(this.db(), leaseOwner, now, leaseMs, limit, maxPerEndpoint);
  }

  async recordWebhookAttempt(id: string, lease: Lease, attempt: WebhookAttemptRecord): Promise<boolean> {
    return recordWebhookAttempt(this.db(), id, lease, attempt);
  }

  async nextWebhookDeliveryDueAt(): Promise<Date | null> {
    return nextWebhookDeliveryDueAt(this.db());
  }

  async pendingWebhookDeliveries(): Promise<{ count: number; oldestCreatedAt: Date | null }> {
    return pendingWebhookDeliveries(this.db());
  }

  async getWebhookEndpointsByIds(ids: readonly string[]): Promise<WebhookEndpoint[]> {
    return getWebhookEndpointsByIds(this.db(), ids);
  }

  async recordWebhookEndpointHealth(id: string, ok: boolean, at: Date): Promise<Date | null> {
    return recordWebhookEndpointHealth(this.db(), id, ok, at);
  }

  async disableWebhookEndpoint(id: string, reason: string, at: Date): Promise<boolean> {
    return disableWebhookEndpoint(this.db(), id, reason, at);
  }

  private db(): SqlDriver {
    if (!this.driver) throw new Error('store is not started');
    return this.driver;
  }
}

function listPageKey(q: ListQuery): string {
  return `list:${JSON.stringify([q.limit, q.before?.createdAt.toISOString() ?? null, q.before?.id ?? null, q.statuses ?? [], q.models ?? []])}`;
}
