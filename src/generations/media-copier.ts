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
import { Mp4HeaderReader } from '../media/mp4-header';
import { MediaCopyErrorCode, MediaCopyState, type Generation, type MediaCopy } from '../model/generation';
import type { MediaCopyJob, MediaCopyQueue } from '../store/store';
import { retryDelayMs } from '../upstream/health/retry-delay';
import { linkExpiry } from '../upstream/link-expiry';
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
  /** Retries are due at least this long before the source link's own expiry (when it says), in ms. */
  expiryMarginMs: number;
  /** How long a claimed copy is leased: longer than one whole download may take. */
  leaseMs: number;
  /** Longest sleep between looks at the queue, in ms. */
  idleMs: number;
  /**
   * Release every copy lease before the first claim: true only when this process is alone on its
   * store (the embedded store's locked data folder), so the leases left are a killed predecessor's
   * and waiting them out would only delay its copies.
   */
  releaseLeasesAtStart: boolean;
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
    if (this.options.releaseLeasesAtStart) {
      try {
        const released = await queue.releaseMediaCopyLeases();
        if (released > 0) log.info({ released }, 'video copies a previous process left leased are taken up at once');
      } catch (error) {
        // Not fatal: those leases run out on their own.
        log.error({ err: error }, 'could not release the leases of a previous process');
      }
    }
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
        const delay = stopped ? 0 : this.retryDelay(job);
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
      else if (outcome.state === MediaCopyState.STORED && !(await this.options.queue.hasMediaCopy(job.generationId))) {
        // Deleted while it streamed: what was just stored belongs to nobody.
        await this.options.media.delete(mediaKey(job.generationId));
        jobLog.info('video copy finished after its generation was deleted; the stored file is removed');
      } else jobLog.info('video copy finished after its lease was lost; another copier owns it now');
    } catch (error) {
      // The lease runs out and the copy is claimed again; storing it twice replaces the same file.
      jobLog.error({ err: error }, 'could not record a finished video copy');
    }
  }

  /**
   * The backoff, unless it would end past the link's expiry (less the margin): then halfway to that
   * point, so the attempts left still come before the link dies. The first attempt is due at the
   * completion itself, long before any expiry.
   */
  private retryDelay(job: MediaCopyJob): number {
    const backoff = retryDelayMs(job.attempts, this.options.retryBaseMs, this.options.retryMaxMs);
    const expiry = linkExpiry(job.sourceUrl);
    if (!expiry) return backoff;
    const room = expiry.getTime() - this.options.expiryMarginMs - Date.now();
    return room <= 0 ? Math.min(backoff, this.options.retryBaseMs) : Math.min(backoff, room / 2);
  }

  private async transfer(job: MediaCopyJob): Promise<MediaCopy> {
    const { contentType, body } = await this.options.downloader.download(job.sourceUrl, this.stopping.signal);
    const digest = new Digest();
    body.on('error', (error) => digest.destroy(error));
    // The store may await before it starts reading; an error meanwhile stays on the stream (`errored`),
    // where the store's pipeline finds it, instead of going unhandled.
    digest.on('error', () => undefined);
    await this.options.media.put(mediaKey(job.generationId), body.pipe(digest), contentType);
    return {
      state: MediaCopyState.STORED,
      sizeBytes: digest.size,
      sha256: digest.hex(),
      contentType,
      storedAt: new Date().toISOString(),
      ...(digest.header.facts() ?? {}),
    };
  }
}

/** Counts and hashes the bytes passing through, on their way to the store, and reads their MP4 header. */
class Digest extends Transform {
  size = 0;
  readonly header = new Mp4HeaderReader();
  private readonly hash = createHash('sha256');

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.size += chunk.length;
    this.hash.update(chunk);
    this.header.push(chunk);
    done(null, chunk);
  }

  hex(): string {
    return this.hash.copy().digest('hex');
  }
}
