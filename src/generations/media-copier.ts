/**
 * Keeps every finished video: copies it from the upstream's link into the media store, as a
 * durable job (MediaCopyQueue) that survives restarts and that one instance at a time works on
 * under a lease. Streamed end to end (download → size and digest → store), so a copy holds a few
 * chunks in memory whatever the file's size. Failures that may pass are retried with backoff; the
 * final outcome (STORED or FAILED with a code) is written into the generation as a new version and
 * published, so subscribers learn of it without polling.
 */
import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import type { Logger } from 'pino';
import type { MediaStore } from '../media/media-store';
import { MediaCopyErrorCode, MediaCopyState, type Generation, type MediaCopy } from '../model/generation';
import type { MediaCopyJob, MediaCopyQueue } from '../store/store';
import { retryDelayMs } from '../upstream/health/retry-delay';
import { VideoDownloadError, type VideoDownload } from '../upstream/video-download';

export interface MediaCopierOptions {
  queue: MediaCopyQueue;
  media: MediaStore;
  downloader: { download(url: string, stop?: AbortSignal): Promise<VideoDownload> };
  /** Where the changed generation is announced. */
  publish: (g: Generation) => void;
  log: Logger;
  /** This instance's lease owner name. */
  instanceId: string;
  /** Copies in flight at once. */
  concurrency: number;
  /** Attempts in all before a copy that keeps failing is given up. */
  attempts: number;
  /** First retry delay in ms; doubles per attempt (with jitter) up to `retryMaxMs`. */
  retryBaseMs: number;
  retryMaxMs: number;
  /** How long a claimed copy is leased: longer than one whole download may take. */
  leaseMs: number;
  /** Longest sleep between looks at the queue, in ms. */
  idleMs: number;
}

/** Where a generation's video is kept in the media store. */
export function mediaKey(generationId: string): string {
  return `videos/${generationId}`;
}

export class MediaCopier {
  private readonly active = new Set<Promise<void>>();
  private running = false;
  private loop: Promise<void> | null = null;
  private wakeUp: (() => void) | null = null;
  /** Aborts the downloads in flight when the copier stops: each is retried later (by any instance) instead of holding up the stop. */
  private readonly stopping = new AbortController();

  constructor(private readonly options: MediaCopierOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Looks at the queue now (a completion was just recorded). */
  wake(): void {
    this.wakeUp?.();
  }

  /** Stops claiming, aborts the copies in flight and waits for them to hand their jobs back (as retries). */
  async stop(): Promise<void> {
    this.running = false;
    this.stopping.abort(new Error('stopping'));
    this.wake();
    await this.loop;
    await Promise.allSettled([...this.active]);
  }

  private async run(): Promise<void> {
    const { queue, concurrency, leaseMs, instanceId, log } = this.options;
    while (this.running) {
      const free = concurrency - this.active.size;
      let sleepMs = this.options.idleMs;
      if (free > 0) {
        try {
          const now = new Date();
          for (const job of await queue.claimMediaCopies(instanceId, now, leaseMs, free)) this.track(this.copy(job));
          const next = await queue.nextMediaCopyDueAt();
          if (next) sleepMs = Math.max(0, Math.min(sleepMs, next.getTime() - Date.now()));
        } catch (error) {
          log.error({ err: error }, 'the media copy queue could not be read; trying again');
        }
      }
      if (!this.running) break;
      // A finished copy frees a slot and wakes the loop too.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, sleepMs);
        this.wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wakeUp = null;
    }
  }

  private track(copy: Promise<void>): void {
    this.active.add(copy);
    void copy.finally(() => {
      this.active.delete(copy);
      this.wake();
    });
  }

  private async copy(job: MediaCopyJob): Promise<void> {
    const { log } = this.options;
    const jobLog = log.child({ generationId: job.generationId, attempt: job.attempts + 1 });
    let outcome: MediaCopy;
    try {
      outcome = await this.transfer(job);
      jobLog.info({ sizeBytes: outcome.sizeBytes }, 'video stored');
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const finalCode = error instanceof VideoDownloadError ? error.finalCode : null;
      // A stop is not the link's fault: the job goes back to the queue, due at once, without counting as an attempt.
      const stopped = this.stopping.signal.aborted;
      if (stopped || (finalCode === null && job.attempts + 1 < this.options.attempts)) {
        const delay = stopped ? 0 : retryDelayMs(job.attempts, this.options.retryBaseMs, this.options.retryMaxMs);
        jobLog.warn({ err: error, retryInMs: Math.round(delay) }, `video copy failed, retrying: ${message}`);
        await this.options.queue.retryMediaCopy(job, new Date(Date.now() + delay), message, !stopped).catch((err: unknown) => {
          // The lease runs out and the copy is claimed again.
          jobLog.error({ err }, 'could not schedule the retry of a video copy');
        });
        return;
      }
      outcome = { state: MediaCopyState.FAILED, errorCode: finalCode ?? MediaCopyErrorCode.ATTEMPTS_EXHAUSTED, errorMessage: message };
      jobLog.warn({ errorCode: outcome.errorCode }, `video copy given up: ${message}`);
    }
    try {
      const changed = await this.options.queue.finishMediaCopy(job, outcome, new Date());
      if (changed) this.options.publish(changed);
      else jobLog.info('video copy finished after its lease was lost or its generation removed; another copier owns it now');
    } catch (error) {
      // The lease runs out and the copy is claimed again; storing it twice replaces the same file.
      jobLog.error({ err: error }, 'could not record a finished video copy');
    }
  }

  private async transfer(job: MediaCopyJob): Promise<MediaCopy> {
    const { contentType, body } = await this.options.downloader.download(job.sourceUrl, this.stopping.signal);
    const digest = new Digest();
    body.on('error', (error) => digest.destroy(error));
    // The store may await before it starts reading; an error meanwhile stays on the stream (`errored`),
    // where the store's pipeline finds it, instead of going unhandled.
    digest.on('error', () => undefined);
    await this.options.media.put(mediaKey(job.generationId), body.pipe(digest), contentType);
    return { state: MediaCopyState.STORED, sizeBytes: digest.size, sha256: digest.hex(), contentType, storedAt: new Date().toISOString() };
  }
}

/** Counts and hashes the bytes passing through, on their way to the store. */
class Digest extends Transform {
  size = 0;
  private readonly hash = createHash('sha256');

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.size += chunk.length;
    this.hash.update(chunk);
    done(null, chunk);
  }

  hex(): string {
    return this.hash.copy().digest('hex');
  }
}
