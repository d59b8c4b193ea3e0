/**
 * A create and the upstream request budget: it waits for its slot up to the allowed time, or is
 * refused RATE_LIMITED with nothing stored or sent.
 */
import pino from 'pino';
import { ErrorCode, GatewayError } from '../../../src/errors';
import { GenerationEvents } from '../../../src/generations/events';
import { GenerationService } from '../../../src/generations/service';
import { PollSchedule } from '../../../src/generations/timing';
import { createPgliteStore } from '../../../src/store/pglite-store';
import type { Store } from '../../../src/store/store';
import { LocalRequestBudget } from '../../../src/upstream/budget/request-budget';
import { UpstreamBackoff } from '../../../src/upstream/health/backoff';
import type { UpstreamClient, UpstreamJob } from '../../../src/upstream/types';

let store: Store;
beforeAll(async () => {
  store = createPgliteStore();
  await store.start();
}, 60_000);
afterAll(() => store.stop());

function service(
  budget: LocalRequestBudget,
  budgetCreateWaitMs: number,
  sent: number[],
  options: { store?: Store; onSend?: () => Promise<void> } = {},
): GenerationService {
  const upstream: UpstreamClient = {
    create: async () => {
      sent.push(Date.now());
      await options.onSend?.();
      return { upstreamId: `up-${sent.length}`, status: 'queued', video: null, error: null, usage: null } as UpstreamJob;
    },
    get: () => Promise.reject(new Error('not used')),
    stop: () => Promise.resolve(),
  };
  return new GenerationService({
    store: options.store ?? store,
    upstream,
    events: new GenerationEvents(),
    schedule: new PollSchedule({ timeScale: 1, minIntervalMs: 2_000, maxIntervalMs: 60_000 }),
    backoff: new UpstreamBackoff(),
    budget,
    budgetCreateWaitMs,
    log: pino({ level: 'silent' }),
    deadlineMs: 60_000,
  });
}

const input = { model: 'google/veo3', prompt: 'a lighthouse' };

it('a create that cannot get a slot within the allowed wait is refused RATE_LIMITED, and nothing is stored or sent', async () => {
  const sent: number[] = [];
  // An empty bucket refilling once every 10 s; a create may wait 100 ms.
  const s = service(new LocalRequestBudget({ ratePerSecond: 0.1, burst: 1 }), 100, sent);
  const refused = await s.create('budget-owner', input).then(
    () => null,
    (e: unknown) => e,
  );
  expect(refused).toBeInstanceOf(GatewayError);
  expect((refused as GatewayError).code).toBe(ErrorCode.RATE_LIMITED);
  // Up to 10 s, less what refilled since the bucket was made.
  expect((refused as GatewayError).details.retryAfterSeconds).toBeGreaterThanOrEqual(5);
  expect((refused as GatewayError).details.retryAfterSeconds).toBeLessThanOrEqual(10);
  expect(sent).toEqual([]);
  expect(await store.listGenerationKeys({ owner: 'budget-owner', limit: 10 })).toEqual([]);
});

it('creates wait for their slots and are sent no faster than the budget', async () => {
  const sent: number[] = [];
  const s = service(new LocalRequestBudget({ ratePerSecond: 10, burst: 1 }), 5_000, sent);
  const start = Date.now();
  const created = await Promise.all([1, 2, 3].map(() => s.create('budget-waiter', input)));
  expect(created.map((g) => g.upstreamId)).toHaveLength(3);
  // Empty at first: the k-th create is sent no earlier than k × 100 ms after the bucket was made.
  sent.sort((a, b) => a - b).forEach((at, k) => expect(at - start).toBeGreaterThanOrEqual((k + 1) * 100 - 5));
});

it('a create whose store writes ran past its slot is counted when it is sent, not at the slot', async () => {
  const budget = new LocalRequestBudget({ ratePerSecond: 10, burst: 10 });
  await new Promise((r) => setTimeout(r, 1_100)); // full: 10
  // Recording the generation takes 500 ms (a loaded store): long enough for the bucket to refill to its burst.
  const slowInsert = new Proxy(store, {
    get(target, prop) {
      if (prop === 'insertGeneration') {
        return async (...args: Parameters<Store['insertGeneration']>) => {
          await new Promise((r) => setTimeout(r, 500));
          return target.insertGeneration(...args);
        };
      }
      const value = Reflect.get(target, prop) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  let leftAtSend = -1;
  const sent: number[] = [];
  // What a poller could take at the moment the create leaves: with the create's own, never more than the burst.
  const s = service(budget, 5_000, sent, { store: slowInsert, onSend: async () => void (leftAtSend = (await budget.take(100)).granted) });
  await s.create('budget-late', input);
  expect(sent).toHaveLength(1);
  expect(leftAtSend).toBe(9);
});
