/**
 * Events over a real Redis between two fan-outs (as two instances have), when the subscribing side
 * loses its connection: what was published meanwhile reached nobody, and watchers catch up from
 * the store once the subscription is back. Skips loudly where Redis is not installed (CI has it).
 */
import { Redis } from 'ioredis';
import pino from 'pino';
import { GenerationEvents } from '../../src/generations/events';
import { GenerationStatus, type Generation } from '../../src/model/generation';
import { RedisFanout } from '../../src/scale/redis-fanout';
import { waitFor } from '../helpers/gateway';
import { generationRecord } from '../helpers/generation-record';
import { describeWithServices, startRedis, type RedisServer } from '../helpers/services';

function generation(id: string, version: number, status = GenerationStatus.GENERATING): Generation {
  const at = new Date();
  return generationRecord({ id, version, status, createdAt: at, updatedAt: at, deadlineAt: at });
}

describeWithServices('Redis event fan-out across a lost subscription', () => {
  let redis: RedisServer;
  const log = pino({ level: 'silent' });
  let publishing: RedisFanout;
  let subscribing: RedisFanout;
  let admin: Redis;

  beforeAll(async () => {
    redis = await startRedis();
    [publishing, subscribing] = [new RedisFanout(redis.url, log), new RedisFanout(redis.url, log)];
    await Promise.all([publishing.start(), subscribing.start()]);
    admin = new Redis(redis.url);
  }, 60_000);
  afterAll(async () => {
    admin?.disconnect();
    await Promise.allSettled([publishing?.stop(), subscribing?.stop()]);
    await redis?.destroy();
  });

  it('an owner-wide watcher and a generation watcher catch up with what was published while the subscriber was away', async () => {
    const from = new GenerationEvents(publishing.eventTarget);
    const to = new GenerationEvents(subscribing.eventTarget);
    subscribing.resyncAfterReconnects(to);
    const stored = new Map<string, Generation>([['g1', generation('g1', 1)]]);

    const ownerWide: string[] = [];
    const oneGeneration: number[] = [];
    void (async () => {
      for await (const g of to.watchOwner('alice', undefined, async () => [...stored.values()])) ownerWide.push(`${g.id}@${g.version}`);
    })();
    void (async () => {
      for await (const g of to.watchGeneration('alice', 'g1', async () => stored.get('g1')!)) oneGeneration.push(g.version);
    })();
    // Both are subscribed once an event gets through.
    stored.set('g1', generation('g1', 2));
    await waitFor(
      'an event to get through',
      () => {
        from.publish(stored.get('g1')!);
        return ownerWide.includes('g1@2') && oneGeneration.includes(2);
      },
      10_000,
      100,
    );

    // Only the subscribed connections drop; the publisher stays up, so these reach nobody.
    await admin.client('KILL', 'TYPE', 'pubsub');
    for (const g of [generation('g1', 3, GenerationStatus.COMPLETED), generation('g2', 2)]) {
      stored.set(g.id, g);
      from.publish(g);
    }

    await waitFor('the watchers to catch up', () => ownerWide.includes('g2@2') && oneGeneration.includes(3), 10_000, 20);
    expect(ownerWide).toEqual(['g1@2', 'g1@3', 'g2@2']);
    expect(oneGeneration).toEqual([1, 2, 3]);
  });
});
