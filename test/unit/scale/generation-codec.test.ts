import { GenerationStatus, type Generation } from '../../../src/model/generation';
import { generationCodec } from '../../../src/scale/generation-codec';

describe('generationCodec', () => {
  it('brings back every Date of a generation, and nothing else', () => {
    const at = (s: number) => new Date(Date.UTC(2025, 0, 1, 0, 0, s, 123));
    const g: Generation = {
      id: 'g1',
      owner: 'alice',
      input: { model: 'veo2', prompt: '2025-01-01T00:00:00.000Z' },
      inputHash: 'h',
      idempotencyKey: null,
      status: GenerationStatus.COMPLETED,
      upstreamId: 'up',
      upstreamStatus: 'completed',
      video: { url: 'https://cdn.example.com/v.mp4', contentType: 'video/mp4', fileName: null, sizeBytes: 1 },
      error: null,
      usage: { credits: 1, usd: 0.5 },
      completedAt: at(9),
      createdAt: at(1),
      updatedAt: at(9),
      deadlineAt: at(50),
      version: 3,
      transitions: [
        { status: GenerationStatus.QUEUED, upstreamStatus: null, at: at(1) },
        { status: GenerationStatus.COMPLETED, upstreamStatus: 'completed', at: at(9) },
      ],
      nextPollAt: null,
      pollCount: 2,
      pollFailures: 0,
      leaseOwner: null,
      leaseUntil: at(10),
      leaseEpoch: 3,
    };
    const back = generationCodec.parse(generationCodec.stringify(g)) as Generation;
    expect(back).toEqual(g);
    expect(back.transitions[1]!.at).toBeInstanceOf(Date);
    // A prompt that looks like a date stays text: only Date fields are revived.
    expect(back.input.prompt).toBe('2025-01-01T00:00:00.000Z');
  });
});
