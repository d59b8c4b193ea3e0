/**
 * Upstream status strings → gateway statuses (ARCHITECTURE.md §3).
 */
import type { UpstreamJob } from '../upstream/types';
import { GenerationErrorCode, GenerationStatus, type GenerationState } from '../model/generation';

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
  // `dreaming` is the old Luma schema's word for generating.
  if (s === 'generating' || s === 'dreaming') return { kind: 'pending', status: GenerationStatus.GENERATING };
  if (PENDING_QUEUED.has(s)) return { kind: 'pending', status: GenerationStatus.QUEUED };
  if (SUCCESS.has(s)) return { kind: 'success' };
  if (FAILURE.has(s)) return { kind: 'failure' };
  return { kind: 'unknown' };
}

/**
 * The visible state an upstream job implies, relative to the current status. An unknown status
 * changes nothing here: the caller records it raw and the deadline ends it if it never resolves.
 */
export function stateFromJob(job: UpstreamJob, current: GenerationStatus, now: Date): Partial<GenerationState> {
  const mapped = mapUpstreamStatus(job.status);
  switch (mapped.kind) {
    case 'pending':
      // No change for the same status, and never back from GENERATING to QUEUED on a stray 'queued'.
      return current === GenerationStatus.GENERATING || current === mapped.status ? {} : { status: mapped.status };
    case 'success':
      if (job.video?.url) return { status: GenerationStatus.COMPLETED, video: job.video, completedAt: now };
      return {
        status: GenerationStatus.FAILED,
        completedAt: now,
        error: { code: GenerationErrorCode.NO_VIDEO, message: 'The upstream reported completion without a video URL' },
      };
    case 'failure':
      return {
        status: GenerationStatus.FAILED,
        completedAt: now,
        error: { code: GenerationErrorCode.UPSTREAM_FAILED, message: upstreamErrorMessage(job.error), upstream: job.error ?? null },
      };
    case 'unknown':
      return {};
  }
}

/** The most useful human message in the upstream's `error`, whatever its shape. */
export function upstreamErrorMessage(error: unknown): string {
  if (typeof error === 'string' && error.trim()) return error.trim().slice(0, 1000);
  if (error && typeof error === 'object') {
    const e = error as { message?: unknown; detail?: unknown };
    if (typeof e.message === 'string' && e.message.trim()) return e.message.trim().slice(0, 1000);
    const first: unknown = Array.isArray(e.detail) ? e.detail[0] : undefined;
    if (first && typeof first === 'object' && 'msg' in first && typeof first.msg === 'string') return first.msg.slice(0, 1000);
  }
  if (error === null || error === undefined || typeof error === 'string') return 'The upstream reported an error without details';
  return JSON.stringify(error).slice(0, 1000);
}
