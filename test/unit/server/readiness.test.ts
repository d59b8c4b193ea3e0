import { createReadiness, type ReadinessParts } from '../../../src/server/readiness';

const answering = { ping: async () => undefined };
const away = {
  ping: async () => {
    throw new Error('connection refused');
  },
};

function parts(overrides: Partial<ReadinessParts> = {}): ReadinessParts {
  return {
    store: answering,
    redis: null,
    poller: { running: true },
    backoff: { remainingMs: () => 0 },
    circuit: { state: 'closed' },
    ...overrides,
  };
}

describe('readiness', () => {
  it('is ready with every part answering, and checks Redis only when there is one', async () => {
    expect(await createReadiness(parts())()).toEqual({ ready: true, checks: { store: 'ok', poller: 'ok', upstream: 'ok' } });
    expect((await createReadiness(parts({ redis: answering }))()).checks.redis).toBe('ok');
  });

  it('is not ready while the store or Redis is away, or the poller has stopped', async () => {
    expect(await createReadiness(parts({ store: away }))()).toMatchObject({ ready: false, checks: { store: 'unavailable' } });
    expect(await createReadiness(parts({ redis: away }))()).toMatchObject({ ready: false, checks: { redis: 'unavailable' } });
    expect(await createReadiness(parts({ poller: { running: false } }))()).toMatchObject({ ready: false, checks: { poller: 'stopped' } });
  });

  it('reports an upstream back-off or an open circuit, and stays ready', async () => {
    expect(await createReadiness(parts({ backoff: { remainingMs: () => 1_200 } }))()).toMatchObject({
      ready: true,
      checks: { upstream: 'backing off 2s' },
    });
    expect(await createReadiness(parts({ circuit: { state: 'open' } }))()).toMatchObject({ ready: true, checks: { upstream: 'circuit open' } });
  });
});
