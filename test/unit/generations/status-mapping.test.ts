import { hashInput } from '../../../src/generations/service';
import { mapUpstreamStatus, stateFromJob, upstreamErrorMessage } from '../../../src/generations/status-mapping';
import { GenerationErrorCode, GenerationStatus, type GenerationInput } from '../../../src/model/generation';
import type { UpstreamJob } from '../../../src/upstream/types';

const NOW = new Date('2025-01-01T00:02:00.000Z');
const VIDEO = { url: 'https://cdn.example.com/out.mp4', contentType: 'video/mp4', fileName: 'out.mp4', sizeBytes: 1234 };

function job(status: string, extra: Partial<UpstreamJob> = {}): UpstreamJob {
  return { upstreamId: 'up-1', status, video: null, error: null, usage: null, ...extra };
}

describe('mapUpstreamStatus (contract §6.2)', () => {
  it.each([
    ['queued', { kind: 'pending', status: GenerationStatus.QUEUED }],
    ['generating', { kind: 'pending', status: GenerationStatus.GENERATING }],
    ['completed', { kind: 'success' }],
    ['error', { kind: 'failure' }],
    // Defensive values, never documented for Google video:
    ['succeeded', { kind: 'success' }],
    ['waiting', { kind: 'pending', status: GenerationStatus.QUEUED }],
    ['active', { kind: 'pending', status: GenerationStatus.QUEUED }],
    ['processing', { kind: 'pending', status: GenerationStatus.QUEUED }],
    // The old Luma schema's word for generating (vendor specs, every model's poll answer is shared).
    ['dreaming', { kind: 'pending', status: GenerationStatus.GENERATING }],
    ['Dreaming', { kind: 'pending', status: GenerationStatus.GENERATING }],
  ])('%s', (raw, expected) => {
    expect(mapUpstreamStatus(raw)).toEqual(expected);
  });

  it.each([['QUEUED'], ['Generating'], ['COMPLETED'], ['Error'], ['SUCCEEDED'], ['Waiting'], ['ACTIVE'], ['Processing']])(
    'ignores letter case: %s',
    (raw) => {
      expect(mapUpstreamStatus(raw)).toEqual(mapUpstreamStatus(raw.toLowerCase()));
    },
  );

  it.each([['failed'], ['cancelled'], ['canceled'], ['done'], ['pending'], [''], ['in_progress'], ['queued!'], ['toString'], ['__proto__']])(
    'an unknown string %j is unknown, not a failure nor success',
    (raw) => {
      expect(mapUpstreamStatus(raw)).toEqual({ kind: 'unknown' });
    },
  );
});

describe('stateFromJob', () => {
  it('generating → GENERATING from QUEUED', () => {
    expect(stateFromJob(job('generating'), GenerationStatus.QUEUED, NOW)).toEqual({ status: GenerationStatus.GENERATING });
  });

  it('never moves back from GENERATING to QUEUED', () => {
    for (const raw of ['queued', 'waiting', 'active', 'processing']) {
      expect(stateFromJob(job(raw), GenerationStatus.GENERATING, NOW)).toEqual({});
    }
    expect(stateFromJob(job('generating'), GenerationStatus.GENERATING, NOW)).toEqual({});
  });

  // BUG (service.ts, reported): a job still `queued` upstream while the generation is QUEUED yields
  // `{status: QUEUED}`, so every such poll bumps `version` and publishes an unchanged generation.
  // Fix: `return current === GenerationStatus.GENERATING || current === mapped.status ? {} : { status: mapped.status };`
  it('a pending status equal to the current one changes nothing', () => {
    expect(stateFromJob(job('queued'), GenerationStatus.QUEUED, NOW)).toEqual({});
    expect(stateFromJob(job('processing'), GenerationStatus.QUEUED, NOW)).toEqual({});
  });

  it('completed with a video → COMPLETED with the video and completedAt', () => {
    for (const raw of ['completed', 'succeeded']) {
      expect(stateFromJob(job(raw, { video: VIDEO }), GenerationStatus.GENERATING, NOW)).toEqual({
        status: GenerationStatus.COMPLETED,
        video: VIDEO,
        completedAt: NOW,
      });
    }
  });

  it('completed without a video URL → FAILED NO_VIDEO', () => {
    expect(stateFromJob(job('completed'), GenerationStatus.GENERATING, NOW)).toEqual({
      status: GenerationStatus.FAILED,
      completedAt: NOW,
      error: { code: GenerationErrorCode.NO_VIDEO, message: expect.any(String) },
    });
    expect(stateFromJob(job('completed', { video: { ...VIDEO, url: '' } }), GenerationStatus.QUEUED, NOW).status).toBe(GenerationStatus.FAILED);
  });

  it('error → FAILED UPSTREAM_FAILED with the upstream message and payload', () => {
    const error = { name: 'ContentPolicyViolation', message: 'The prompt was blocked' };
    expect(stateFromJob(job('error', { error }), GenerationStatus.GENERATING, NOW)).toEqual({
      status: GenerationStatus.FAILED,
      completedAt: NOW,
      error: { code: GenerationErrorCode.UPSTREAM_FAILED, message: 'The prompt was blocked', upstream: error },
    });
    const bare = stateFromJob(job('error'), GenerationStatus.QUEUED, NOW);
    expect(bare.error).toEqual({
      code: GenerationErrorCode.UPSTREAM_FAILED,
      message: 'The upstream reported an error without details',
      upstream: null,
    });
  });

  it('an unknown status changes nothing (the caller records it raw)', () => {
    expect(stateFromJob(job('failed'), GenerationStatus.GENERATING, NOW)).toEqual({});
    expect(stateFromJob(job('mystery'), GenerationStatus.QUEUED, NOW)).toEqual({});
  });
});

describe('upstreamErrorMessage', () => {
  it('reads {name, message}', () => {
    expect(upstreamErrorMessage({ name: 'Error', message: '  Safety filter triggered  ' })).toBe('Safety filter triggered');
  });

  it('reads {detail: [{msg}]} (FastAPI-style pass-through)', () => {
    expect(upstreamErrorMessage({ detail: [{ loc: ['body', 'image_url'], msg: 'Image could not be downloaded', type: 'value_error' }] })).toBe(
      'Image could not be downloaded',
    );
  });

  it('prefers message over detail', () => {
    expect(upstreamErrorMessage({ message: 'outer', detail: [{ msg: 'inner' }] })).toBe('outer');
  });

  it('takes a string as is, trimmed', () => {
    expect(upstreamErrorMessage('  quota exceeded ')).toBe('quota exceeded');
  });

  it('stringifies any other object', () => {
    expect(upstreamErrorMessage({ code: 42, reason: 'x' })).toBe('{"code":42,"reason":"x"}');
    expect(upstreamErrorMessage({ message: '', detail: 'text' })).toBe('{"message":"","detail":"text"}');
  });

  it.each([[null], [undefined], [''], ['   ']])('has a generic message for %j', (error) => {
    expect(upstreamErrorMessage(error)).toBe('The upstream reported an error without details');
  });

  // BUG (service.ts, reported): a non-object, non-string `error` (the contract says "any JSON") loses its value.
  it('stringifies a number, as the contract says: message, then detail[0].msg, then stringify', () => {
    expect(upstreamErrorMessage(500)).toBe('500');
  });

  it('caps the message at 1000 characters', () => {
    expect(upstreamErrorMessage('x'.repeat(5000))).toHaveLength(1000);
    expect(upstreamErrorMessage({ message: 'y'.repeat(5000) })).toHaveLength(1000);
    expect(upstreamErrorMessage({ detail: [{ msg: 'z'.repeat(5000) }] })).toHaveLength(1000);
    expect(upstreamErrorMessage({ blob: 'w'.repeat(5000) })).toHaveLength(1000);
  });
});

describe('hashInput', () => {
  const a: GenerationInput = { model: 'google/veo3', prompt: 'a cat', durationSeconds: 8, resolution: '1080p', seed: 7 };
  const b = { seed: 7, resolution: '1080p', durationSeconds: 8, prompt: 'a cat', model: 'google/veo3' } as GenerationInput;

  it('does not depend on key order', () => {
    expect(hashInput(a)).toBe(hashInput(b));
    expect(hashInput(a)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('does not depend on key order inside model options either', () => {
    const kling = { model: 'klingai/video-v3-pro-text-to-video', prompt: 'p' };
    expect(hashInput({ ...kling, options: { shotType: 'customize', cameraControl: { type: 'simple', config: { zoom: 1, pan: 0 } } } })).toBe(
      hashInput({ ...kling, options: { cameraControl: { config: { pan: 0, zoom: 1 }, type: 'simple' }, shotType: 'customize' } }),
    );
    expect(hashInput({ ...kling, options: { shotType: 'customize' } })).not.toBe(hashInput({ ...kling, options: { shotType: 'intelligent' } }));
  });

  it('changes with any value', () => {
    expect(hashInput({ ...a, seed: 8 })).not.toBe(hashInput(a));
    expect(hashInput({ ...a, prompt: 'a dog' })).not.toBe(hashInput(a));
    expect(hashInput({ ...a, model: 'google/veo-3.0-fast' })).not.toBe(hashInput(a));
  });

  it('keeps the order of reference images (it matters)', () => {
    const refs = { model: 'google/veo-3.1-reference-to-video', prompt: 'p' };
    expect(hashInput({ ...refs, imageUrls: ['https://a', 'https://b'] })).not.toBe(hashInput({ ...refs, imageUrls: ['https://b', 'https://a'] }));
  });

  it('treats an undefined field as absent', () => {
    expect(hashInput({ ...a, negativePrompt: undefined })).toBe(hashInput(a));
  });
});
