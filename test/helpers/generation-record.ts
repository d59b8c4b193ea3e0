/**
 * A stored generation as the store returns it, for tests that feed events or codecs without a store.
 * Every field has a plain value; pass what the test is about.
 */
import { GenerationStatus, type Generation } from '../../src/model/generation';

export function generationRecord(fields: Partial<Generation> = {}): Generation {
  const at = new Date('2025-01-01T00:00:00Z');
  return {
    id: 'g1',
    owner: 'alice',
    input: { model: 'veo2', prompt: 'p' },
    inputHash: 'h',
    idempotencyKey: null,
    status: GenerationStatus.GENERATING,
    upstreamId: 'up',
    upstreamStatus: null,
    video: null,
    error: null,
    usage: null,
    completedAt: null,
    createdAt: at,
    updatedAt: at,
    deadlineAt: at,
    version: 1,
    transitions: [],
    nextPollAt: null,
    pollCount: 0,
    pollFailures: 0,
    leaseOwner: null,
    leaseUntil: null,
    leaseEpoch: 0,
    ...fields,
  };
}
