import { EventStream } from '../../../src/generations/event-stream';

/** A stream whose producer is recorded, so a test can push into it and see when it is unhooked. */
function probe(limit = 3) {
  const state = { started: 0, undone: 0, stream: null as EventStream<number> | null };
  const stream = new EventStream<number>(limit, (s) => {
    state.started++;
    state.stream = s;
    return () => {
      state.undone++;
    };
  });
  return { stream, state };
}

const microtasks = () => new Promise((r) => setImmediate(r));

async function drain(stream: AsyncIterableIterator<number>): Promise<number[]> {
  const seen: number[] = [];
  for await (const v of stream) seen.push(v);
  return seen;
}

describe('EventStream', () => {
  it('starts its producer on the first read only', async () => {
    const { stream, state } = probe();
    expect(state.started).toBe(0);
    const first = stream.next();
    expect(state.started).toBe(1);
    stream.push(7);
    await expect(first).resolves.toEqual({ value: 7, done: false });
  });

  it('hands values over in order, then ends after the ones it still holds, and unhooks', async () => {
    const { stream, state } = probe(10);
    const reading = drain(stream);
    stream.push(1);
    stream.push(2);
    stream.push(3);
    stream.end();
    stream.push(4); // after the end: ignored
    await expect(reading).resolves.toEqual([1, 2, 3]);
    await microtasks();
    expect(state.undone).toBe(1);
  });

  it('keeps only the newest values a slow reader has not read', async () => {
    const { stream, state } = probe(3);
    const first = stream.next(); // starts it
    state.stream!.push(0);
    await expect(first).resolves.toEqual({ value: 0, done: false });
    for (let v = 1; v <= 6; v++) stream.push(v);
    stream.end();
    await expect(drain(stream)).resolves.toEqual([4, 5, 6]);
  });

  it('with keys, lets a superseded value give way first, and drops the oldest only when none is', async () => {
    const read = async (values: string[]) => {
      const stream = new EventStream<string>(
        3,
        () => () => undefined,
        (v) => v[0]!,
      );
      const first = stream.next(); // starts it
      stream.push('x');
      await first;
      for (const v of values) stream.push(v);
      stream.end();
      const seen: string[] = [];
      for await (const v of stream) seen.push(v);
      return seen;
    };
    // b1 is the oldest, but a1 is superseded by a2: a1 gives way, and b's only value stays.
    await expect(read(['b1', 'a1', 'a2', 'c1'])).resolves.toEqual(['b1', 'a2', 'c1']);
    // Four distinct keys, none superseded: the oldest goes.
    await expect(read(['a1', 'b1', 'c1', 'd1'])).resolves.toEqual(['b1', 'c1', 'd1']);
  });

  it('throws a failure after the values already queued, once', async () => {
    const { stream } = probe(10);
    const first = stream.next();
    stream.push(1);
    await first;
    stream.push(2);
    stream.fail(new Error('database unavailable'));
    await expect(stream.next()).resolves.toEqual({ value: 2, done: false });
    await expect(stream.next()).rejects.toThrow('database unavailable');
    await expect(stream.next()).resolves.toEqual({ value: undefined, done: true });
  });

  it('return() drops what is queued, ends a waiting read and unhooks', async () => {
    const { stream, state } = probe(10);
    const waiting = stream.next();
    await expect(stream.return()).resolves.toEqual({ value: undefined, done: true });
    await expect(waiting).resolves.toEqual({ value: undefined, done: true });
    stream.push(1);
    await expect(stream.next()).resolves.toEqual({ value: undefined, done: true });
    await microtasks();
    expect(state.undone).toBe(1);
  });

  it('never starts a producer for a stream returned before its first read', async () => {
    const { stream, state } = probe();
    await stream.return();
    await expect(stream.next()).resolves.toEqual({ value: undefined, done: true });
    expect(state.started).toBe(0);
  });
});
