import { GenerationEvents } from '../../../src/generations/events';
import { GenerationStatus, type Generation } from '../../../src/generations/types';

function generation(version: number, status = GenerationStatus.GENERATING): Generation {
  const at = new Date('2025-01-01T00:00:00Z');
  return {
    id: 'g1', owner: 'alice', input: { model: 'veo2', prompt: 'p' }, inputHash: 'h', idempotencyKey: null,
    status, upstreamId: 'up', upstreamStatus: null, video: null, error: null, usage: null, completedAt: null,
    createdAt: at, updatedAt: at, deadlineAt: at, version, transitions: [], nextPollAt: null, pollCount: 0,
    pollFailures: 0, leaseOwner: null, leaseUntil: null, leaseEpoch: 0,
  };
}

const tick = () => new Promise((r) => setTimeout(r, 10));

describe('GenerationEvents resync', () => {
  it('re-reads the snapshot of every live watcher and emits only what is newer', async () => {
    const events = new GenerationEvents();
    let stored = generation(1);
    const watch = events.watchGeneration('alice', 'g1', async () => stored);
    const seen: number[] = [];
    const done = (async () => {
      for await (const g of watch) seen.push(g.version);
    })();
    await tick();
    expect(seen).toEqual([1]);

    // Versions 2 and 3 were stored while the event transport was down: nothing was delivered.
    stored = generation(3);
    events.resync();
    await tick();
    events.resync(); // a second resync finds nothing newer
    await tick();
    events.publish(generation(2)); // a late, older event is skipped
    await tick();
    expect(seen).toEqual([1, 3]);

    stored = generation(4, GenerationStatus.COMPLETED);
    events.resync();
    await done; // ends after the terminal version
    expect(seen).toEqual([1, 3, 4]);
  });

  it('survives a resync whose read fails, and catches up on the next one', async () => {
    const events = new GenerationEvents();
    let fail = false;
    let stored = generation(1);
    const watch = events.watchGeneration('alice', 'g1', async () => {
      if (fail) throw new Error('database unavailable');
      return stored;
    });
    const seen: number[] = [];
    const done = (async () => {
      for await (const g of watch) seen.push(g.version);
    })();
    await tick();
    fail = true;
    stored = generation(2, GenerationStatus.COMPLETED);
    events.resync();
    await tick();
    fail = false;
    events.resync();
    await done;
    expect(seen).toEqual([1, 2]);
  });
});
