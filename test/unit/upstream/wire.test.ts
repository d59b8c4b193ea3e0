import { WIRE_MAP } from '../../../src/upstream/wire-map.generated';
import { MODELS } from '../../../src/upstream/models';
import { cleanUpstreamMessage, parseJob, toWireBody, WireParseError, wireEntry } from '../../../src/upstream/wire';

describe('wireEntry', () => {
  it('knows every input of every catalogue model, and nothing else', () => {
    for (const m of MODELS) {
      const names = m.inputs.map((i) => (i.shared ? i.name : `options.${i.name}`)).sort();
      expect(Object.keys(WIRE_MAP[m.id]!).sort()).toEqual(names);
      const wires = names.map((n) => wireEntry(m.id, n)!.wire);
      expect(new Set(wires).size).toBe(wires.length);
    }
  });

  it('uses tail_image_url for veo2 image-to-video and last_image_url elsewhere', () => {
    expect(wireEntry('veo2/image-to-video', 'lastImageUrl')?.wire).toBe('tail_image_url');
    expect(wireEntry('google/veo-3.1-first-last-image-to-video', 'lastImageUrl')?.wire).toBe('last_image_url');
    expect(wireEntry('veo2', 'lastImageUrl')).toBeUndefined();
  });

  it('is undefined for fields a model does not take, unknown fields and unknown models', () => {
    expect(wireEntry('veo2', 'generateAudio')).toBeUndefined();
    expect(wireEntry('google/veo3', 'provider')).toBeUndefined();
    expect(wireEntry('google/veo3', 'toString')).toBeUndefined();
    expect(wireEntry('toString', 'prompt')).toBeUndefined();
    expect(wireEntry('veo-3.1-lite-generate-001', 'personGeneration')?.wire).toBe('person_generation');
  });
});

describe('toWireBody', () => {
  it('maps a Veo 3.0 request with upper-case resolution', () => {
    expect(
      toWireBody({
        model: 'google/veo3',
        prompt: 'a fox',
        durationSeconds: 6,
        aspectRatio: '9:16',
        resolution: '1080p',
        negativePrompt: 'blur',
        seed: 42,
        enhancePrompt: false,
        generateAudio: false,
      }),
    ).toEqual({
      model: 'google/veo3',
      prompt: 'a fox',
      duration: 6,
      aspect_ratio: '9:16',
      resolution: '1080P',
      negative_prompt: 'blur',
      seed: 42,
      enhance_prompt: false,
      generate_audio: false,
    });
  });

  it('keeps lower-case resolution for Veo 3.1 and upper-case for Lite-001', () => {
    expect(toWireBody({ model: 'google/veo-3.1-t2v', prompt: 'p', resolution: '720p', autoFix: false, provider: 'fal' })).toEqual({
      model: 'google/veo-3.1-t2v',
      prompt: 'p',
      resolution: '720p',
      auto_fix: false,
      provider: 'fal',
    });
    expect(
      toWireBody({
        model: 'veo-3.1-lite-generate-001',
        prompt: 'p',
        resolution: '720p',
        personGeneration: 'dont_allow',
        imageUrl: 'https://x/a.png',
        lastImageUrl: 'https://x/b.png',
      }),
    ).toEqual({
      model: 'veo-3.1-lite-generate-001',
      prompt: 'p',
      resolution: '720P',
      person_generation: 'dont_allow',
      image_url: 'https://x/a.png',
      last_image_url: 'https://x/b.png',
    });
  });

  it('sends tail_image_url for veo2 image-to-video', () => {
    expect(
      toWireBody({ model: 'veo2/image-to-video', prompt: 'p', imageUrl: 'https://x/a.png', lastImageUrl: 'https://x/b.png', durationSeconds: 5 }),
    ).toEqual({ model: 'veo2/image-to-video', prompt: 'p', image_url: 'https://x/a.png', tail_image_url: 'https://x/b.png', duration: 5 });
  });

  it('maps reference images and extend video', () => {
    expect(toWireBody({ model: 'google/veo-3.1-reference-to-video', prompt: 'p', imageUrls: ['a', 'b'] })).toEqual({
      model: 'google/veo-3.1-reference-to-video',
      prompt: 'p',
      image_urls: ['a', 'b'],
    });
    expect(toWireBody({ model: 'google/veo3-1-extend-video', prompt: 'p', videoUrl: 'https://x/v.mp4', aspectRatio: 'auto' })).toEqual({
      model: 'google/veo3-1-extend-video',
      prompt: 'p',
      video_url: 'https://x/v.mp4',
      aspect_ratio: 'auto',
    });
  });

  it('sends only model and prompt for a minimal input', () => {
    expect(toWireBody({ model: 'veo2', prompt: 'p' })).toEqual({ model: 'veo2', prompt: 'p' });
    expect(toWireBody({ model: 'veo2', prompt: 'p', seed: undefined })).toEqual({ model: 'veo2', prompt: 'p' });
  });

  it("names the provider's native choice as each model's spec does", () => {
    expect(toWireBody({ model: 'google/veo-3.1-t2v', prompt: 'p', provider: 'native' })).toMatchObject({ provider: 'google' });
    expect(toWireBody({ model: 'klingai/video-v3-pro-text-to-video', prompt: 'p', provider: 'native' })).toMatchObject({ provider: 'kling' });
    expect(toWireBody({ model: 'klingai/video-v3-pro-text-to-video', prompt: 'p', provider: 'fal' })).toMatchObject({ provider: 'fal' });
  });

  it('sends a duration as the string a spec declares, and options under their wire names', () => {
    const stringDuration = MODELS.find((m) => wireEntry(m.id, 'durationSeconds')?.as === 'string')!;
    expect(toWireBody({ model: stringDuration.id, durationSeconds: 5 })).toMatchObject({ duration: '5' });
    expect(
      toWireBody({
        model: 'kling-video/v1.5/pro/image-to-video',
        prompt: 'p',
        imageUrl: 'https://x/a.png',
        lastImageUrl: 'https://x/b.png',
        cfgScale: 0.5,
        options: { cameraControl: 'down_back', staticMask: 'https://x/m.png' },
      }),
    ).toEqual({
      model: 'kling-video/v1.5/pro/image-to-video',
      prompt: 'p',
      image_url: 'https://x/a.png',
      tail_image_url: 'https://x/b.png',
      cfg_scale: 0.5,
      camera_control: 'down_back',
      static_mask: 'https://x/m.png',
    });
  });

  it('refuses what the validator should have stopped', () => {
    expect(() => toWireBody({ model: 'google/veo-9', prompt: 'p' })).toThrow(/unknown model/);
    expect(() => toWireBody({ model: 'veo2', prompt: 'p', generateAudio: true })).toThrow(/does not accept generateAudio/);
    expect(() => toWireBody({ model: 'veo2', prompt: 'p', options: { cfgScale: 1 } })).toThrow(/does not accept options.cfgScale/);
  });
});

describe('parseJob', () => {
  const URL = 'https://cdn.aimlapi.com/x/output.mp4';

  it('parses queued / generating without video, error or usage', () => {
    expect(parseJob({ id: 'a:google/veo-3.1-t2v', status: 'queued' })).toEqual({
      upstreamId: 'a:google/veo-3.1-t2v',
      status: 'queued',
      video: null,
      error: null,
      usage: null,
    });
    expect(parseJob({ status: 'GENERATING', id: 'Vd3kQ9rT_x2LmZp7aBc0N' }).status).toBe('generating');
  });

  it('parses an object video (minimal and fal-style metadata)', () => {
    expect(parseJob({ id: 'i', status: 'completed', video: { url: URL } }).video).toEqual({
      url: URL,
      contentType: null,
      fileName: null,
      sizeBytes: null,
    });
    expect(
      parseJob({
        id: '5d9a0f3e-2c7b-4e61-a8d4-9b1c3e5f7a02:veo2',
        status: 'completed',
        video: { url: URL, content_type: 'video/mp4', file_name: 'output.mp4', file_size: 3184422 },
      }).video,
    ).toEqual({ url: URL, contentType: 'video/mp4', fileName: 'output.mp4', sizeBytes: 3184422 });
  });

  it('takes the first element of an array video', () => {
    expect(parseJob({ id: 'i', status: 'completed', video: [{ url: URL }, { url: 'other' }] }).video?.url).toBe(URL);
    expect(parseJob({ id: 'i', status: 'completed', video: [] }).video).toBeNull();
    expect(parseJob({ id: 'i', status: 'completed', video: { content_type: 'video/mp4' } }).video).toBeNull();
    expect(parseJob({ id: 'i', status: 'error', video: null }).video).toBeNull();
  });

  it('keeps error as any JSON', () => {
    const named = { name: 'GenerationError', message: 'safety filter' };
    expect(parseJob({ id: 'i', status: 'error', video: null, error: named }).error).toEqual(named);
    const passthrough = { detail: [{ loc: ['body', 'image_url'], msg: 'Image could not be downloaded', type: 'image_load_error' }] };
    expect(parseJob({ id: 'i', status: 'error', error: passthrough }).error).toEqual(passthrough);
    expect(parseJob({ id: 'i', status: 'error', error: 'plain text' }).error).toBe('plain text');
    expect(parseJob({ id: 'i', status: 'completed', error: null }).error).toBeNull();
  });

  it('reads usage: credits + usd, credits only, legacy tokens_used, and none', () => {
    expect(parseJob({ id: 'i', status: 'completed', meta: { usage: { credits_used: 1040000, usd_spent: 0.52 } } }).usage).toEqual({
      credits: 1040000,
      usd: 0.52,
    });
    expect(parseJob({ id: 'i', status: 'queued', meta: { usage: { credits_used: 1040000 } } }).usage).toEqual({
      credits: 1040000,
      usd: 0.52,
    });
    const legacy = parseJob({
      id: '3f2a9c1e-7b44-4d1a-9e0f-5c6d8a2b1e90:veo3',
      status: 'completed',
      video: { url: URL, duration: 8 },
      duration: 8,
      error: null,
      meta: { usage: { tokens_used: 6720000 } },
    });
    expect(legacy.usage).toEqual({ credits: 6720000, usd: 3.36 });
    expect(legacy.video?.url).toBe(URL);
    expect(parseJob({ id: 'i', status: 'completed', meta: { usage: { usd_spent: 1.5 } } }).usage).toEqual({ credits: null, usd: 1.5 });
    expect(parseJob({ id: 'i', status: 'completed', meta: null }).usage).toBeNull();
    expect(parseJob({ id: 'i', status: 'completed', meta: { usage: null } }).usage).toBeNull();
    expect(parseJob({ id: 'i', status: 'completed', meta: { usage: {} } }).usage).toBeNull();
  });

  it('ignores extra fields such as model and _note', () => {
    const job = parseJob({ id: 'i', status: 'completed', video: { url: URL }, model: 'google/veo-3-1-lite-generate-preview', _note: 'x' });
    expect(Object.keys(job).sort()).toEqual(['error', 'status', 'upstreamId', 'usage', 'video']);
  });

  it('falls back to generation_id, then to the caller-supplied id', () => {
    expect(parseJob({ generation_id: 'g', status: 'queued' }).upstreamId).toBe('g');
    expect(parseJob({ status: 'queued' }, { fallbackId: 'f' }).upstreamId).toBe('f');
  });

  it('throws WireParseError without id or status', () => {
    expect(() => parseJob({ status: 'queued' })).toThrow(WireParseError);
    expect(() => parseJob({ id: 'i' })).toThrow(WireParseError);
    expect(() => parseJob({ id: 'i', status: 3 })).toThrow(WireParseError);
    expect(() => parseJob(null)).toThrow(WireParseError);
    expect(() => parseJob([{ id: 'i', status: 'queued' }])).toThrow(WireParseError);
  });
});

describe('cleanUpstreamMessage', () => {
  const KEY = 'sk-live-abcdef0123456789';

  it('extracts the envelope message and collapses whitespace', () => {
    expect(
      cleanUpstreamMessage(
        { statusCode: 400, message: 'Body validation error!\nInvalid enum value. Expected 4 | 6 | 8, received 5 at "duration"', path: '/v2' },
        KEY,
      ),
    ).toBe('Body validation error! Invalid enum value. Expected 4 | 6 | 8, received 5 at "duration"');
  });

  it('parses a JSON string body and falls back to raw text', () => {
    expect(cleanUpstreamMessage('{"statusCode":403,"message":"out of credits"}', KEY)).toBe('out of credits');
    expect(cleanUpstreamMessage('  plain failure  ', KEY)).toBe('plain failure');
    expect(cleanUpstreamMessage('', KEY)).toBe('');
    expect(cleanUpstreamMessage({ message: ['a', 'b'] }, KEY)).toBe('a; b');
    expect(cleanUpstreamMessage({ detail: [{ msg: 'bad image' }] }, KEY)).toBe('bad image');
  });

  it('redacts the key and bearer tokens anywhere', () => {
    const out = cleanUpstreamMessage({ message: `key ${KEY} rejected; header was Authorization: Bearer ${KEY}; other Bearer abc.def` }, KEY);
    expect(out).not.toContain(KEY);
    expect(out).not.toContain('abc.def');
    expect(out).toContain('[redacted]');
  });

  it('recognises HTML pages', () => {
    expect(cleanUpstreamMessage('<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>', KEY)).toBe(
      'upstream returned an HTML error page',
    );
    expect(cleanUpstreamMessage('<html>\n<head><title>504</title></head></html>', KEY)).toBe('upstream returned an HTML error page');
  });

  it('truncates to 500 characters without leaking a key cut in half', () => {
    const long = `${'x'.repeat(495)}${KEY}${'y'.repeat(100)}`;
    const out = cleanUpstreamMessage(long, KEY);
    expect(out.length).toBeLessThanOrEqual(500);
    expect(out).not.toContain(KEY.slice(0, 8));
  });
});
