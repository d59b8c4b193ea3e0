/**
 * Redis connections for running several instances: one place that decides how clients connect,
 * reconnect and report, so every user of Redis behaves the same when it restarts.
 */
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';

/** Longest wait between two reconnect attempts, in ms. */
const MAX_RECONNECT_DELAY_MS = 2_000;

export type RedisRole =
  /** Ordinary commands (shared state, rate limits): fail fast while Redis is away rather than pile up. */
  | 'command'
  /** Publishes events: keeps them queued while Redis is away and sends them once it is back. */
  | 'publisher'
  /** Subscribed connection: resubscribes by itself after a reconnect. */
  | 'subscriber';

/**
 * An ioredis client that retries forever with a capped delay (Redis restarts are expected) and logs
 * each lost and regained connection once.
 */
export function createRedisClient(
  url: string,
  role: RedisRole,
  log: Logger,
  /** How long a 'command' client's command may wait for Redis's answer, in ms; 0 = no limit. Default 0. */
  commandTimeoutMs = 0,
): Redis {
  const options: RedisOptions = {
    connectionName: `veo-gateway-${role}`,
    retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 10), MAX_RECONNECT_DELAY_MS),
    // Commands of a 'command' client fail at once while Redis is away, so a caller (readiness, the
    // rate limiter, which then counts in memory) answers without delay: queued, each waited for the
    // next reconnect attempt (up to MAX_RECONNECT_DELAY_MS, once per limiter a request passes). The
    // publisher queues and waits, so an event is late rather than lost.
    maxRetriesPerRequest: role === 'command' ? 1 : null,
    enableOfflineQueue: role !== 'command',
    // A Redis that is frozen or cut off keeps the connection open and never answers: without a
    // timeout, every request that passes a rate limiter would hang with it.
    commandTimeout: role === 'command' && commandTimeoutMs > 0 ? commandTimeoutMs : undefined,
    lazyConnect: false,
  };
  const client = new Redis(url, options);
  let lost = false;
  client.on('error', (err: Error) => {
    if (!lost) log.warn({ err, role }, 'redis connection error; reconnecting');
    lost = true;
  });
  client.on('close', () => {
    lost = true;
  });
  client.on('ready', () => {
    if (lost) log.info({ role }, 'redis connection restored');
    lost = false;
  });
  return client;
}

/** Resolves when the client is ready, or rejects after `timeoutMs`. */
export async function waitUntilReady(client: Redis, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('ready', onReady);
      reject(new Error(`Redis did not become ready within ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    client.once('ready', onReady);
  });
}

/** Closes politely (QUIT), or drops the connection when Redis is not there to answer. */
export async function closeRedis(client: Redis): Promise<void> {
  if (client.status === 'ready') {
    await client.quit().catch(() => client.disconnect());
  } else {
    client.disconnect();
  }
}
