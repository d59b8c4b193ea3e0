/**
 * Removes stored videos older than MEDIA_RETENTION_DAYS: a periodic sweep of a bounded batch. The
 * generation stays; its copy becomes EXPIRED (a new version, published) and `video.url` is the
 * upstream's link again. Files go first, rows after: a sweep cut short leaves rows still STORED that
 * the next run finds again (deleting a missing file is no error), never a file no row points to.
 * Several instances may sweep at once: the deletes are idempotent and only one marks each row.
 */
import type { Logger } from 'pino';
import type { MediaStore } from '../media/media-store';
import type { Generation } from '../model/generation';
import type { MediaCopyQueue } from '../store/store';
import { mediaKey } from './media-copier';

export interface MediaRetentionOptions {
  queue: Pick<MediaCopyQueue, 'findExpiringCopies' | 'markCopiesExpired'>;
  media: MediaStore;
  /** Where each changed generation is announced. */
  publish: (g: Generation) => void;
  log: Logger;
  /** Stored files older than this are removed, in ms (> 0). */
  retentionMs: number;
  /** Between sweeps, in ms. */
  intervalMs: number;
  /** Most files removed per sweep. */
  batch: number;
  now?: () => Date;
}

export class MediaRetention {
  private timer: NodeJS.Timeout | null = null;
  private sweeping: Promise<unknown> | null = null;
  private readonly now: () => Date;

  constructor(private readonly options: MediaRetentionOptions) {
    this.now = options.now ?? (() => new Date());
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      // A sweep still running (a slow bucket) is not overlapped by the next.
      this.sweeping ??= this.sweep()
        .catch((err: unknown) => this.options.log.error({ err }, 'the media retention sweep failed; trying again at the next run'))
        .finally(() => (this.sweeping = null));
    }, this.options.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.sweeping;
  }

  /** One sweep: removes up to `batch` expired files and marks their copies EXPIRED. Returns the changed generations. */
  async sweep(): Promise<Generation[]> {
    const { queue, media, log, batch } = this.options;
    const now = this.now();
    const due = await queue.findExpiringCopies(new Date(now.getTime() - this.options.retentionMs), batch);
    if (due.length === 0) return [];
    const removed: string[] = [];
    for (const copy of due) {
      try {
        await media.delete(mediaKey(copy.generationId));
        removed.push(copy.generationId);
      } catch (err) {
        // Left STORED, so the next sweep tries again.
        log.warn({ err, generationId: copy.generationId }, 'a stored video past its retention could not be removed');
      }
    }
    const changed = removed.length > 0 ? await queue.markCopiesExpired(removed, now) : [];
    for (const g of changed) this.options.publish(g);
    if (changed.length > 0) log.info({ expired: changed.length }, 'stored videos past their retention removed');
    return changed;
  }
}
