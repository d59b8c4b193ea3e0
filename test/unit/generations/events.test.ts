import { GenerationEvents } from '../../../src/generations/events';
import { GenerationStatus, type Generation } from '../../../src/model/generation';
import { generationRecord } from '../../helpers/generation-record';

function generation(version: number, status = GenerationStatus.GENERATING, id = 'g1'): Generation {
  return generationRecord({ id, version, status });
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

describe('GenerationEvents owner-wide catch-up', () => {
  /** Reads the stream in the background; `seen` lists `id@version` in arrival order. */
  function read(watch: AsyncIterableIterator<Generation>) {
    const seen: string[] = [];
    void (async () => {
      for await (const g of watch) seen.push(`${g.id}@${g.version}`);
    })();
    return seen;
  }

  it('emits what changed during a gap, newer versions only, and skips late duplicates', async () => {
    const events = new GenerationEvents();
    let changed: Generation[] = [];
    const asked: Date[] = [];
    const seen = read(
      events.watchOwner('alice', undefined, async (since) => {
        asked.push(since);
        return changed;
      }),
    );
    await tick();
    events.publish(generation(2, GenerationStatus.GENERATING, 'g1'));
    await tick();

    // During the gap g1 reached v3 and g2 was created (v1) and moved (v2); g1@2 is already known.
    changed = [
      generation(2, GenerationStatus.GENERATING, 'g1'),
      generation(3, GenerationStatus.COMPLETED, 'g1'),
      generation(2, GenerationStatus.GENERATING, 'g2'),
    ];
    const gapStartedAt = new Date(Date.now() + 60_000);
    events.resync(gapStartedAt);
    await tick();
    // The store is asked from a little before the gap began (other instances' clocks may differ).
    expect(asked[0]!.getTime()).toBeLessThan(gapStartedAt.getTime());
    expect(asked[0]!.getTime()).toBeGreaterThanOrEqual(gapStartedAt.getTime() - 10_000);

    events.publish(generation(3, GenerationStatus.COMPLETED, 'g1')); // the late event of a caught-up change
    events.publish(generation(3, GenerationStatus.GENERATING, 'g2'));
    await tick();
    expect(seen).toEqual(['g1@2', 'g1@3', 'g2@2', 'g2@3']);
  });

  it('never loses the newest version of any generation for a reader that falls behind', async () => {
    // 600 generations move twice each while the reader reads nothing: a queue that dropped its oldest
    // events would leave most of them without their last version (a COMPLETED never delivered).
    const events = new GenerationEvents();
    const stream = events.watchOwner('alice');
    const first = stream.next(); // starts it
    events.publish(generation(1, GenerationStatus.QUEUED, 'first'));
    await first;
    for (let i = 0; i < 600; i++) events.publish(generation(2, GenerationStatus.GENERATING, `g${i}`));
    for (let i = 0; i < 600; i++) events.publish(generation(3, GenerationStatus.COMPLETED, `g${i}`));
    const last = new Map<string, number>();
    for (let n = 0; n < 1_200; n++) {
      const next = await Promise.race([stream.next(), tick().then(() => null)]);
      if (!next || next.done) break;
      const g = next.value;
      expect(g.version).toBeGreaterThan(last.get(g.id) ?? 0); // in order per generation, none twice
      last.set(g.id, g.version);
    }
    await stream.return!();
    expect(last.size).toBe(600);
    expect([...last.values()].every((v) => v === 3)).toBe(true);
  });

  it('reads no further back than its own start, keeps the status filter, and ignores other owners', async () => {
    const events = new GenerationEvents();
    const startedAt = Date.now();
    const asked: Date[] = [];
    const seen = read(
      events.watchOwner('alice', [GenerationStatus.COMPLETED], async (since) => {
        asked.push(since);
        return [
          generation(2, GenerationStatus.GENERATING, 'g1'),
          generation(3, GenerationStatus.COMPLETED, 'g2'),
          { ...generation(4, GenerationStatus.COMPLETED, 'g3'), owner: 'bob' },
        ];
      }),
    );
    await tick();
    events.resync(); // gap start unknown
    await tick();
    expect(asked[0]!.getTime()).toBeGreaterThanOrEqual(startedAt - 10_000);
    expect(seen).toEqual(['g2@3']);
  });

  it('survives a catch-up whose read fails, and catches up on the next resync', async () => {
    const events = new GenerationEvents();
    let fail = true;
    const seen = read(
      events.watchOwner('alice', undefined, async () => {
        if (fail) throw new Error('database unavailable');
        return [generation(2, GenerationStatus.GENERATING, 'g1')];
      }),
    );
    await tick();
    events.resync();
    await tick();
    expect(seen).toEqual([]);
    fail = false;
    events.resync();
    await tick();
    expect(seen).toEqual(['g1@2']);
  });
});

describe('GenerationEvents topics', () => {
  it('dispatches each change under GENERATION:<id> and OWNER:<owner>, the channels other instances listen on', () => {
    const target = new EventTarget();
    const seen: [string, number][] = [];
    for (const type of ['GENERATION:g1', 'OWNER:alice']) {
      target.addEventListener(type, (event) => seen.push([event.type, (event as CustomEvent<Generation>).detail.version]));
    }
    new GenerationEvents(target).publish(generation(7));
    expect(seen).toEqual([
      ['GENERATION:g1', 7],
      ['OWNER:alice', 7],
    ]);
  });

  it('sends removals on the one REMOVED:all channel, with only owner and id, until the listener stops', () => {
    const target = new EventTarget();
    const events = new GenerationEvents(target);
    const onChannel: unknown[] = [];
    target.addEventListener('REMOVED:all', (event) => onChannel.push((event as CustomEvent).detail));
    const dropped: string[] = [];
    let cleared = 0;
    const stop = events.onRemoved(
      ({ owner, id }) => dropped.push(`${owner}/${id}`),
      () => cleared++,
    );
    events.publishRemoved(generation(3)); // a whole generation goes out as its owner and id only
    events.resync();
    expect(onChannel).toEqual([{ owner: 'alice', id: 'g1' }]);
    expect([dropped, cleared]).toEqual([['alice/g1'], 1]);
    stop();
    events.publishRemoved({ owner: 'bob', id: 'g2' });
    events.resync();
    expect([dropped, cleared]).toEqual([['alice/g1'], 1]);
  });
});
