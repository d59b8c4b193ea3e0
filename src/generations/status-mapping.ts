/**
 * Upstream status strings → gateway statuses (ARCHITECTURE.md §3).
 */
import { GenerationStatus } from './types';

const PENDING_QUEUED = new Set(['queued', 'waiting', 'active', 'processing']);
const SUCCESS = new Set(['completed', 'succeeded']);
const FAILURE = new Set(['error']);

export type MappedStatus =
  | { kind: 'pending'; status: GenerationStatus.QUEUED | GenerationStatus.GENERATING }
  | { kind: 'success' }
  | { kind: 'failure' }
  /** Not a status we know: recorded raw, the gateway status is left as it was. */
  | { kind: 'unknown' };

export function mapUpstreamStatus(raw: string): MappedStatus {
  const s = raw.toLowerCase();
  if (s === 'generating') return { kind: 'pending', status: GenerationStatus.GENERATING };
  if (PENDING_QUEUED.has(s)) return { kind: 'pending', status: GenerationStatus.QUEUED };
  if (SUCCESS.has(s)) return { kind: 'success' };
  if (FAILURE.has(s)) return { kind: 'failure' };
  return { kind: 'unknown' };
}
