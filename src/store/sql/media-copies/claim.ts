import type { MediaCopyJob } from '../../store';
import type { Row } from '../session';
import type { SqlSession } from '../session';
import { mediaCopyQueue } from './queue';

/** See MediaCopyQueue.claimMediaCopies. */
export async function claimMediaCopies(db: SqlSession, leaseOwner: string, now: Date, leaseMs: number, limit: number): Promise<MediaCopyJob[]> {
  return (await mediaCopyQueue.claim(db, leaseOwner, now, leaseMs, limit)).map(toMediaCopyJob);
}

function toMediaCopyJob(row: Row): MediaCopyJob {
  return {
    generationId: String(row.generation_id),
    owner: String(row.owner),
    sourceUrl: String(row.source_url),
    attempts: Number(row.attempts),
    lease: { owner: String(row.lease_owner), epoch: Number(row.lease_epoch) },
  };
}
