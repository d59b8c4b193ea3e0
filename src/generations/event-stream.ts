/**
 * The async iterator one subscription reads its events from: a bounded queue that drops the oldest
 * unread value when a reader falls behind, ends after the values it holds, and unhooks its producer
 * when it ends or the reader leaves.
 *
 * It replaces `Repeater` on the publish path. A Repeater push allocates about ten promises and
 * closures; with every watched generation changing at once, that was a fifth of the fan-out's
 * publish loop and much of its garbage (BENCHMARKS.md, "Profiles"). Here a push is an array append,
 * or one resolve when the reader is already waiting.
 */

/** Sets the stream up on the first `next()`; returns what undoes it (remove listeners). */
export type StreamStart<T> = (stream: EventStream<T>) => () => void;

const DONE: IteratorReturnResult<undefined> = Object.freeze({ value: undefined, done: true });

export class EventStream<T> implements AsyncIterableIterator<T> {
  private readonly queue: T[] = [];
  /** Readers waiting for a value (graphql-ws reads one at a time; more are allowed). */
  private readonly waiting: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void }[] = [];
  private started = false;
  private ended = false;
  /** Thrown to the reader once the queued values are read. */
  private failure: { error: unknown } | null = null;
  private undo: (() => void) | null = null;

  /**
   * `limit`: unread values kept at most; past it the oldest is dropped (safe when each value
   * supersedes the ones before it). `start` runs on the first `next()`, as a Repeater's executor did,
   * so a stream nobody reads holds no listener. `keyOf`, for a stream that mixes several things'
   * values (an owner's generations), says which thing a value is about: past the limit, the value
   * dropped is then the oldest one a later unread value of the same thing supersedes, so no thing's
   * newest value is lost while any is superseded; only past `limit` distinct things is the oldest
   * dropped whatever it is.
   */
  constructor(
    private readonly limit: number,
    private readonly start: StreamStart<T>,
    private readonly keyOf?: (value: T) => string,
  ) {}

  /** Hands a value to the reader, or queues it. Ignored once ended. */
  push(value: T): void {
    if (this.ended) return;
    const reader = this.waiting.shift();
    if (reader) {
      reader.resolve({ value, done: false });
      return;
    }
    this.queue.push(value);
    if (this.queue.length > this.limit) this.queue.splice(this.oldestSuperseded(), 1);
  }

  /** No more values: the reader gets what is queued, then `done`. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.unhook();
    for (const reader of this.waiting.splice(0)) this.settleEnded(reader);
  }

  /** Ends with an error, thrown to the reader after the values already queued. */
  fail(error: unknown): void {
    if (this.ended) return;
    this.failure = { error };
    this.end();
  }

  next(): Promise<IteratorResult<T>> {
    if (!this.started && !this.ended) {
      this.started = true;
      const undo = this.start(this);
      // `start` may already have ended the stream (a synchronous end()); undo at once then.
      if (this.ended) undo();
      else this.undo = undo;
    }
    if (this.queue.length) return Promise.resolve({ value: this.queue.shift() as T, done: false });
    if (this.ended) {
      return new Promise((resolve, reject) => this.settleEnded({ resolve, reject }));
    }
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  /** The reader leaves (client completed, socket closed): drop what is queued and unhook. */
  return(): Promise<IteratorResult<T>> {
    this.queue.length = 0;
    this.failure = null;
    this.end();
    return Promise.resolve(DONE);
  }

  throw(error: unknown): Promise<IteratorResult<T>> {
    void this.return();
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the iterator protocol hands back what its consumer threw
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private settleEnded(reader: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void }): void {
    if (this.failure) {
      const { error } = this.failure;
      this.failure = null; // thrown once; later reads are simply done
      reader.reject(error);
    } else {
      reader.resolve(DONE);
    }
  }

  /** The index of the oldest unread value a later one of the same key supersedes; 0 without keys or when none is. */
  private oldestSuperseded(): number {
    if (!this.keyOf) return 0;
    // From the newest back: the last index whose key appears again after it is not what we want;
    // the first (oldest) such index is. One pass, only when the queue is full.
    const later = new Set<string>();
    let oldest = -1;
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const key = this.keyOf(this.queue[i]!);
      if (later.has(key)) oldest = i;
      else later.add(key);
    }
    return oldest === -1 ? 0 : oldest;
  }

  private unhook(): void {
    const undo = this.undo;
    this.undo = null;
    // After the current dispatch: the listener being removed may be the one running right now.
    if (undo) queueMicrotask(undo);
  }
}
