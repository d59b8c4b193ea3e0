/**
 * The upstream back-off shared by every instance. All instances use one upstream key, so a 429 seen
 * by one is a 429 for all: the pause is written to a Redis key (for instances that start later) and
 * announced on a channel (for those already running). Each instance keeps a local copy, so asking
 * "are we paused?" never waits on Redis, and a Redis outage only means the pause stays local.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { UpstreamBackoff } from './backoff';

export const BACKOFF_KEY = 'veo-gateway:upstream-backoff-until';
export const BACKOFF_CHANNEL = 'veo-gateway:upstream-backoff';

/** Sets the key to the later of its current and the new value, expiring when the pause ends. */
const EXTEND_SCRIPT = `
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local proposed = tonumber(ARGV[1])
if proposed > current then
  redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[1])
end
return 0`;

export class SharedUpstreamBackoff extends UpstreamBackoff {
  private readonly onMessage = (channel: string, message: string) => {
    if (channel === BACKOFF_CHANNEL) this.adopt(message);
  };

  constructor(
    private readonly commands: Redis,
    private readonly subscriber: Redis,
    private readonly log: Logger,
  ) {
    super();
  }

  /** Subscribes to announcements and adopts a pause already in force. */
  async start(): Promise<void> {
    this.subscriber.on('message', this.onMessage);
    await this.subscriber.subscribe(BACKOFF_CHANNEL);
    this.adopt(await this.commands.get(BACKOFF_KEY).catch(() => null));
  }

  stop(): void {
    this.subscriber.off('message', this.onMessage);
  }

  override trip(retryAfterMs: number | null): void {
    super.trip(retryAfterMs);
    const until = String(this.pausedUntil());
    // Best effort: while Redis is away the pause still holds here, and the upstream tells the others.
    this.commands
      .eval(EXTEND_SCRIPT, 1, BACKOFF_KEY, until)
      .then(() => this.commands.publish(BACKOFF_CHANNEL, until))
      .catch((err: unknown) => this.log.warn({ err }, 'could not share the upstream back-off'));
  }

  private adopt(value: string | null): void {
    const until = Number(value);
    if (value !== null && Number.isFinite(until)) this.pauseUntil(until);
  }
}
