/**
 * The ends of polls that changed nothing visible (or failed), written together: a poll's release
 * (its lease ended, its next poll, counts) waits while the previous batch is being written, then all
 * that gathered go in one statement. A lone release is written at once; under load a batch forms by
 * itself, one statement for many polls instead of one each (group commit, no timer).
 */
import type { PollQueue, PollRelease } from '../store/store';

/** Most releases in one statement: bounds its parameters and the time one batch holds the store. */
const MAX_BATCH = 256;

interface Waiting {
  release: PollRelease;
  done: (released: boolean) => void;
  fail: (err: unknown) => void;
}

export class PollReleases {
  private waiting: Waiting[] = [];
  private writing = false;

  constructor(
    private readonly store: Pick<PollQueue, 'releasePolled'>,
    /** The lease owner: this instance. */
    private readonly owner: string,
  ) {}

  /** Resolves true once released, false when the lease was no longer held (nothing was written). */
  release(release: PollRelease): Promise<boolean> {
    return new Promise((done, fail) => {
      this.waiting.push({ release, done, fail });
      if (!this.writing) void this.writeAll();
    });
  }

  private async writeAll(): Promise<void> {
    this.writing = true;
    try {
      while (this.waiting.length > 0) {
        const batch = this.waiting.splice(0, MAX_BATCH);
        try {
          const released = await this.store.releasePolled(
            this.owner,
            batch.map((w) => w.release),
          );
          for (const w of batch) w.done(released.has(w.release.id));
        } catch (err) {
          for (const w of batch) w.fail(err);
        }
      }
    } finally {
      this.writing = false;
    }
  }
}
