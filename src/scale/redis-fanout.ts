/**
 * What Redis does for a gateway that runs as several instances: carries generation events between
 * them (so a subscriber on B sees what the poller on A found) and shares the upstream back-off.
 * It also owns the command client other parts may reuse for shared state (rate limits).
 */
import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { GenerationEvents } from '../generations/events';
import { generationCodec } from './generation-codec';
import { closeRedis, createRedisClient, waitUntilReady } from './redis';
import { SharedUpstreamBackoff } from '../upstream/health/shared-backoff';

/** How long start-up waits for Redis before failing, in ms. */
const STARTUP_TIMEOUT_MS = 10_000;

export class RedisFanout {
  /** Plain commands; fails fast while Redis is away. Shared with other parts (e.g. rate limits). */
  readonly commands: Redis;
  readonly eventTarget: EventTarget;
  readonly backoff: SharedUpstreamBackoff;
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  /** When the event subscription was lost, until it is restored; null while it is up. */
  private subscriberLostAt: Date | null = null;

  constructor(
    url: string,
    private readonly log: Logger,
    /** How long a plain command may wait for Redis, in ms (0 = no limit). Default 0. */
    commandTimeoutMs = 0,
  ) {
    this.commands = createRedisClient(url, 'command', log, commandTimeoutMs);
    this.publisher = createRedisClient(url, 'publisher', log);
    this.subscriber = createRedisClient(url, 'subscriber', log);
    this.eventTarget = createRedisEventTarget({
      publishClient: this.guarded(this.publisher),
      subscribeClient: this.guarded(this.subscriber),
      serializer: generationCodec,
    }) as unknown as EventTarget;
    this.backoff = new SharedUpstreamBackoff(this.commands, this.subscriber, log);
  }

  /** Fails when Redis is not reachable at start-up (misconfiguration is better caught early). */
  async start(): Promise<void> {
    await Promise.all([this.commands, this.publisher, this.subscriber].map((c) => waitUntilReady(c, STARTUP_TIMEOUT_MS)));
    await this.backoff.start();
  }

  /**
   * After the subscriber reconnects (ioredis resubscribes by itself), events published meanwhile are
   * gone: every live watcher catches up from the store (its generation, or its owner's generations
   * changed since the connection was lost).
   */
  resyncAfterReconnects(events: GenerationEvents): void {
    this.subscriber.on('close', () => {
      this.subscriberLostAt ??= new Date(); // the first close of a run of failed reconnects
    });
    this.subscriber.on('ready', () => {
      const lostAt = this.subscriberLostAt;
      if (!lostAt) return;
      this.subscriberLostAt = null;
      this.log.info('event subscription restored; live subscriptions re-read their generations');
      events.resync(lostAt);
    });
  }

  /**
   * The event target fires publish/subscribe/unsubscribe without awaiting them, so a command rejected
   * while Redis is away (e.g. the queue flushed at shutdown) would be an unhandled rejection and end
   * the process. This hands it the only methods it calls (pinned @graphql-yoga/redis-event-target 3.0.4),
   * with the failure logged instead.
   */
  private guarded(client: Redis): Redis {
    const warn = (err: unknown) => this.log.warn({ err }, 'redis event command failed');
    const guarded = {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- ioredis types its listeners this way
      on: (event: string, listener: (...args: any[]) => void) => {
        client.on(event, listener);
        return guarded;
      },
      publish: (channel: string, message: string) => client.publish(channel, message).catch(warn),
      subscribe: (channel: string) => client.subscribe(channel).catch(warn),
      unsubscribe: (channel: string) => client.unsubscribe(channel).catch(warn),
    };
    return guarded as unknown as Redis;
  }

  /** Resolves when Redis answers a PING. */
  async ping(): Promise<void> {
    await this.commands.ping();
  }

  async stop(): Promise<void> {
    this.backoff.stop();
    await Promise.all([this.commands, this.publisher, this.subscriber].map(closeRedis));
  }
}
