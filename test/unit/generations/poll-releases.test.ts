import { PollReleases } from '../../../src/generations/poll-releases';
import type { PollRelease } from '../../../src/store/store';

/** A store whose batched release waits for the test to let it finish, and records each batch. */
function slowStore() {
  const batches: PollRelease[][] = [];
  const finish: Array<() => void> = [];
  return {
    batches,
    finishNext: () => finish.shift()!(),
    releasePolled(owner: string, releases: readonly PollRelease[]): Promise<Set<string>> {
      batches.push([...releases]);
      // Every other id has lost its lease.
      const held = new Set(releases.filter((r) => Number(r.id.slice(1)) % 2 === 0).map((r) => r.id));
      return new Promise((resolve) => finish.push(() => resolve(owner === 'me' ? held : new Set())));
    },
  };
}

const release = (n: number): PollRelease => ({ id: `g${n}`, epoch: 1, nextPollAt: new Date(n), pollCount: n, pollFailures: 0 });

describe('PollReleases', () => {
  it('writes a lone release at once, and gathers those arriving meanwhile into one next write', async () => {
    const store = slowStore();
    const releases = new PollReleases(store, 'me');
    const first = releases.release(release(0));
    expect(store.batches.map((b) => b.map((r) => r.id))).toEqual([['g0']]);
    const later = [1, 2, 3, 4].map((n) => releases.release(release(n)));
    await Promise.resolve();
    expect(store.batches).toHaveLength(1);
    store.finishNext();
    expect(await first).toBe(true);
    expect(store.batches.map((b) => b.map((r) => r.id))).toEqual([['g0'], ['g1', 'g2', 'g3', 'g4']]);
    store.finishNext();
    // Each caller learns whether its own lease was still held.
    expect(await Promise.all(later)).toEqual([false, true, false, true]);
  });

  it('fails every release of a batch whose write failed, and goes on with the next', async () => {
    let calls = 0;
    const releases = new PollReleases(
      { releasePolled: (_owner, rs) => (++calls === 1 ? Promise.reject(new Error('store down')) : Promise.resolve(new Set(rs.map((r) => r.id)))) },
      'me',
    );
    const failed = releases.release(release(0));
    const next = releases.release(release(2));
    await expect(failed).rejects.toThrow('store down');
    expect(await next).toBe(true);
  });
});
