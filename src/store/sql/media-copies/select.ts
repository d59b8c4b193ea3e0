import type { SqlSession } from '../session';
import { mediaCopyQueue } from './queue';

/** See MediaCopyQueue.nextMediaCopyDueAt. */
export function nextMediaCopyDueAt(db: SqlSession): Promise<Date | null> {
  return mediaCopyQueue.nextDueAt(db);
}
