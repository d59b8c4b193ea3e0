import { ErrorCode, GatewayError } from '../../../src/errors';
import type { GenerationInput } from '../../../src/model/generation';
import {
  allowedValues,
  checkIdempotencyKey,
  defaultValue,
  PROMPT_MAX_LENGTH,
  requiredFields,
  supportedFields,
  validateInput,
  type SharedField,
} from '../../../src/generations/validation';
import { exampleInput } from '../../../src/generations/example-input';
import { findModel, MODELS, type ModelSpec } from '../../../src/upstream/models';
import { CREATE_REQUESTS, INVALID_CREATE_REQUESTS } from '../../fixtures/upstream-requests';

/** Wire field → domain input field. */
const WIRE_TO_INPUT: Record<string, keyof GenerationInput> = {
  model: 'model',
  prompt: 'prompt',
  duration: 'durationSeconds',
  aspect_ratio: 'aspectRatio',
  resolution: 'resolution',
  negative_prompt: 'negativePrompt',
  seed: 'seed',
  enhance_prompt: 'enhancePrompt',
  generate_audio: 'generateAudio',
  auto_fix: 'autoFix',
  person_generation: 'personGeneration',
  provider: 'provider',
  image_url: 'imageUrl',
  last_image_url: 'lastImageUrl',
  tail_image_url: 'lastImageUrl',
  image_urls: 'imageUrls',
  video_url: 'videoUrl',
};

/** A wire create body as the domain input a GraphQL client would send (canonical spellings). */
function toDomain(body: Record<string, unknown>): GenerationInput {
  const input: Record<string, unknown> = {};
  for (const [wire, value] of Object.entries(body)) {
    const field = WIRE_TO_INPUT[wire];
    if (!field) throw new Error(`test mapping lacks wire field ${wire}`);
    input[field] = field === 'resolution' || field === 'provider' ? String(value).toLowerCase() : value;
  }
  return input as unknown as GenerationInput;
}

function model(id: string): ModelSpec {
  const m = findModel(id);
  if (!m) throw new Error(`no model ${id}`);
  return m;
}

/** The GatewayError `validateInput` throws for this input (fails the test when it does not throw). */
function rejection(input: unknown): GatewayError {
  try {
    validateInput(input as GenerationInput);
  } catch (err) {
    expect(err).toBeInstanceOf(GatewayError);
    const e = err as GatewayError;
    expect(e.code).toBe(ErrorCode.BAD_USER_INPUT);
    expect(typeof e.details['field']).toBe('string');
    return e;
  }
  throw new Error(`expected validateInput to reject ${JSON.stringify(input)}`);
}

const LONG_PROMPT = 'A lighthouse on a rocky coast at dusk.';
const base = (id: string, extra: Partial<GenerationInput> = {}): GenerationInput => ({ model: id, prompt: LONG_PROMPT, ...extra });
const IMG = 'https://example.com/a.jpg';
const IMG2 = 'https://example.com/b.jpg';
const VID = 'https://example.com/clip.mp4';

describe('validateInput: every catalogue model', () => {
  it('has a fixture create request for every Veo model, each a catalogue model', () => {
    expect(Object.keys(CREATE_REQUESTS)).toHaveLength(17);
    for (const id of Object.keys(CREATE_REQUESTS)) expect(findModel(id)).toBeDefined();
  });

  it.each(Object.keys(CREATE_REQUESTS).map((id) => [id]))('accepts the fixture request for %s, unchanged', (id) => {
    const input = toDomain(CREATE_REQUESTS[id]!);
    expect(validateInput(input)).toEqual(input);
  });

  it.each(MODELS.map((m) => [m.id]))('accepts %s with only its required fields', (id) => {
    const input = exampleInput(model(id));
    expect(validateInput(input)).toEqual(input);
  });

  it.each(MODELS.map((m) => [m.id]))('%s: every allowed value of every enum field passes', (id) => {
    const m = model(id);
    for (const field of supportedFields(m)) {
      for (const value of allowedValues(m, field) ?? []) {
        const input = { ...exampleInput(m), [field]: value } as GenerationInput;
        expect(validateInput(input)).toMatchObject({ [field]: value });
      }
    }
  });

  it.each(MODELS.map((m) => [m.id]))('%s: every shared field it does not take is rejected, naming the field', (id) => {
    const m = model(id);
    const sample: Record<SharedField, unknown> = {
      prompt: 'a cat',
      durationSeconds: 8,
      aspectRatio: '16:9',
      resolution: '720p',
      negativePrompt: 'blur',
      seed: 1,
      enhancePrompt: true,
      generateAudio: true,
      autoFix: true,
      personGeneration: 'allow_adult',
      provider: 'auto',
      imageUrl: IMG,
      lastImageUrl: IMG2,
      imageUrls: [IMG],
      videoUrl: VID,
      audioUrl: 'https://example.com/a.mp3',
      watermark: false,
      cfgScale: 0.5,
    };
    const accepted = [...supportedFields(m), ...(m.inputs.some((i) => !i.shared) ? ['options'] : [])];
    for (const field of (Object.keys(sample) as SharedField[]).filter((f) => !supportedFields(m).includes(f))) {
      const e = rejection({ ...exampleInput(m), [field]: sample[field] });
      expect(e.details['field']).toBe(`input.${field}`);
      expect(e.details['allowedValues']).toEqual(accepted);
    }
  });
});

describe('supportedFields / requiredFields / allowedValues / defaultValue agree with the catalogue', () => {
  it('Veo 3: resolution 720p/1080p in lower case, default 720p; durations 4/6/8 default 8', () => {
    const m = model('google/veo3');
    expect(allowedValues(m, 'resolution')).toEqual(['720p', '1080p']);
    expect(defaultValue(m, 'resolution')).toBe('720p');
    expect(allowedValues(m, 'durationSeconds')).toEqual([4, 6, 8]);
    expect(defaultValue(m, 'durationSeconds')).toBe(8);
    expect(allowedValues(m, 'aspectRatio')).toEqual(['16:9', '9:16']);
    expect(defaultValue(m, 'generateAudio')).toBe(true);
    expect(supportedFields(m)).toEqual([
      'prompt',
      'negativePrompt',
      'durationSeconds',
      'aspectRatio',
      'resolution',
      'seed',
      'generateAudio',
      'enhancePrompt',
    ]);
    expect(requiredFields(m)).toEqual(['prompt']);
  });

  it('Veo 3.1: resolution default 1080p; provider lower-case with default auto', () => {
    const m = model('google/veo-3.1-t2v');
    expect(allowedValues(m, 'resolution')).toEqual(['720p', '1080p']);
    expect(defaultValue(m, 'resolution')).toBe('1080p');
    expect(allowedValues(m, 'provider')).toEqual(['auto', 'native', 'fal']);
    expect(defaultValue(m, 'provider')).toBe('auto');
    expect(defaultValue(m, 'autoFix')).toBe(true);
  });

  it('Veo 2: durations 5–8 default 5, no resolution, no audio', () => {
    const m = model('veo2');
    expect(allowedValues(m, 'durationSeconds')).toEqual([5, 6, 7, 8]);
    // The vendor's spec states no default (the older contract said 5).
    expect(defaultValue(m, 'durationSeconds')).toBeUndefined();
    expect(supportedFields(m)).not.toContain('resolution');
    expect(supportedFields(m)).not.toContain('generateAudio');
    expect(allowedValues(m, 'resolution')).toBeUndefined();
    expect(defaultValue(m, 'resolution')).toBeUndefined();
  });

  it('Veo 2 image-to-video maps lastImageUrl to tail_image_url; imageUrl is required', () => {
    const m = model('veo2/image-to-video');
    expect(supportedFields(m)).toEqual(expect.arrayContaining(['imageUrl', 'lastImageUrl']));
    expect(requiredFields(m)).toEqual(['prompt', 'imageUrl']);
  });

  it('Lite 001: personGeneration dont_allow/allow_adult default allow_adult; upper-case wire resolution served lower', () => {
    const m = model('veo-3.1-lite-generate-001');
    expect(allowedValues(m, 'personGeneration')).toEqual(['dont_allow', 'allow_adult']);
    expect(defaultValue(m, 'personGeneration')).toBe('allow_adult');
    expect(allowedValues(m, 'resolution')).toEqual(['720p', '1080p']);
    expect(defaultValue(m, 'resolution')).toBe('720p');
    expect(supportedFields(m)).not.toContain('provider');
    expect(requiredFields(m)).toEqual(['prompt']);
  });

  it('personGeneration is a Lite 001 field only', () => {
    for (const m of MODELS) {
      expect(supportedFields(m).includes('personGeneration')).toBe(m.id === 'veo-3.1-lite-generate-001');
    }
  });

  it('extend models: durations [7], resolution [720p], aspect ratios include auto, videoUrl required', () => {
    for (const id of ['google/veo3-1-extend-video', 'google/veo3-1-fast-extend-video']) {
      const m = model(id);
      expect(allowedValues(m, 'durationSeconds')).toEqual([7]);
      expect(defaultValue(m, 'durationSeconds')).toBe(7);
      expect(allowedValues(m, 'resolution')).toEqual(['720p']);
      expect(allowedValues(m, 'aspectRatio')).toEqual(['auto', '16:9', '9:16']);
      expect(defaultValue(m, 'aspectRatio')).toBe('auto');
      expect(defaultValue(m, 'autoFix')).toBe(false);
      expect(requiredFields(m)).toEqual(['prompt', 'videoUrl']);
    }
  });

  it('reference-to-video: imageUrls required, duration [8] without a default', () => {
    const m = model('google/veo-3.1-reference-to-video');
    expect(requiredFields(m)).toEqual(['prompt', 'imageUrls']);
    expect(allowedValues(m, 'durationSeconds')).toEqual([8]);
    expect(defaultValue(m, 'durationSeconds')).toBeUndefined();
  });

  it('first/last frame models require both frames', () => {
    expect(requiredFields(model('google/veo-3.1-first-last-image-to-video'))).toEqual(['prompt', 'imageUrl', 'lastImageUrl']);
    expect(requiredFields(model('google/veo-3.1-first-last-image-to-video-fast'))).toEqual(['prompt', 'imageUrl', 'lastImageUrl']);
  });
});

describe('validateInput: rejections are BAD_USER_INPUT naming the field', () => {
  it.each(INVALID_CREATE_REQUESTS.map((r) => [r.name, r.body]))('fixture %s is rejected', (_name, body) => {
    rejection(toDomain(body as Record<string, unknown>));
  });

  it('unknown model: field input.model, pointing at videoModels (143 ids are too many to list)', () => {
    const e = rejection(base('google/veo-9'));
    expect(e.details).toEqual({ field: 'input.model' });
    expect(e.message).toMatch(/videoModels/);
  });

  it('a former GraphQL enum name is not an upstream id', () => {
    expect(rejection(base('VEO3')).details['field']).toBe('input.model');
  });

  it('bad duration names durationSeconds with the allowed values', () => {
    const e = rejection(base('google/veo3', { durationSeconds: 5 }));
    expect(e.details).toEqual({ field: 'input.durationSeconds', allowedValues: [4, 6, 8] });
  });

  it('bad aspect ratio', () => {
    const e = rejection(base('google/veo-3.1-t2v', { aspectRatio: '1:1' as never }));
    expect(e.details).toEqual({ field: 'input.aspectRatio', allowedValues: ['16:9', '9:16'] });
  });

  it("'auto' aspect ratio only for extend models", () => {
    expect(rejection(base('google/veo3', { aspectRatio: 'auto' })).details['field']).toBe('input.aspectRatio');
    expect(validateInput(base('google/veo3-1-extend-video', { videoUrl: VID, aspectRatio: 'auto' })).aspectRatio).toBe('auto');
  });

  it('resolution is canonical lower case: the wire spelling 1080P is rejected', () => {
    const e = rejection(base('google/veo3', { resolution: '1080P' as never }));
    expect(e.details).toEqual({ field: 'input.resolution', allowedValues: ['720p', '1080p'] });
  });

  it('extend: 1080p is not allowed', () => {
    const e = rejection(base('google/veo3-1-extend-video', { videoUrl: VID, resolution: '1080p' }));
    expect(e.details).toEqual({ field: 'input.resolution', allowedValues: ['720p'] });
  });

  it('extend: durations other than 7 are rejected', () => {
    const e = rejection(base('google/veo3-1-extend-video', { videoUrl: VID, durationSeconds: 8 }));
    expect(e.details).toEqual({ field: 'input.durationSeconds', allowedValues: [7] });
  });

  it('Lite 001: bad personGeneration', () => {
    const e = rejection(base('veo-3.1-lite-generate-001', { personGeneration: 'allow_all' as never }));
    expect(e.details).toEqual({ field: 'input.personGeneration', allowedValues: ['dont_allow', 'allow_adult'] });
  });

  it("provider is auto, native or fal: the maker's own name is the wire's, not ours", () => {
    const e = rejection(base('google/veo-3.1-t2v', { provider: 'google' as never }));
    expect(e.details).toEqual({ field: 'input.provider', allowedValues: ['auto', 'native', 'fal'] });
  });

  it('missing required fields name the field', () => {
    expect(rejection(base('google/veo-3.1-i2v')).details['field']).toBe('input.imageUrl');
    expect(rejection(base('google/veo-3.1-first-last-image-to-video', { imageUrl: IMG })).details['field']).toBe('input.lastImageUrl');
    expect(rejection(base('google/veo-3.1-reference-to-video')).details['field']).toBe('input.imageUrls');
    expect(rejection(base('google/veo3-1-extend-video')).details['field']).toBe('input.videoUrl');
  });

  it('null optional fields count as absent', () => {
    const input = { ...base('google/veo3'), durationSeconds: null, seed: null } as unknown as GenerationInput;
    expect(validateInput(input)).toEqual(base('google/veo3'));
  });

  it('Lite preview: a last frame requires 8 s (explicit or by default)', () => {
    const e = rejection(base('google/veo-3-1-lite-generate-preview', { imageUrl: IMG, lastImageUrl: IMG2, durationSeconds: 4 }));
    expect(e.details).toEqual({ field: 'input.durationSeconds', allowedValues: [8] });
    expect(validateInput(base('google/veo-3-1-lite-generate-preview', { imageUrl: IMG, lastImageUrl: IMG2 }))).toBeTruthy();
    expect(validateInput(base('google/veo-3-1-lite-generate-preview', { durationSeconds: 4 })).durationSeconds).toBe(4);
  });

  it('reference images: at least one, at most three, each a valid URL', () => {
    const id = 'google/veo-3.1-reference-to-video';
    expect(rejection(base(id, { imageUrls: [] })).details['field']).toBe('input.imageUrls');
    expect(rejection(base(id, { imageUrls: [IMG, IMG, IMG, IMG] })).details['field']).toBe('input.imageUrls');
    expect(validateInput(base(id, { imageUrls: [IMG, IMG, IMG] })).imageUrls).toHaveLength(3);
    expect(rejection(base(id, { imageUrls: [IMG, 'ftp://x/y.png'] })).details).toEqual({
      field: 'input.imageUrls.1',
      allowedValues: ['http', 'https'],
    });
  });

  it('media URLs: http(s) or a data URI of the right media type', () => {
    const id = 'google/veo-3.1-i2v';
    expect(validateInput(base(id, { imageUrl: 'http://example.com/a.png' })).imageUrl).toBe('http://example.com/a.png');
    expect(validateInput(base(id, { imageUrl: 'data:image/png;base64,iVBORw0KGgo=' })).imageUrl).toBeTruthy();
    for (const bad of ['data:video/mp4;base64,AAAA', 'data:image/png,notbase64', 'not a url', '', 'javascript:alert(1)', 'file:///etc/passwd']) {
      expect(rejection(base(id, { imageUrl: bad })).details['field']).toBe('input.imageUrl');
    }
    expect(rejection(base(id, { imageUrl: `https://example.com/${'a'.repeat(2100)}` })).details['field']).toBe('input.imageUrl');
    const extend = 'google/veo3-1-extend-video';
    expect(validateInput(base(extend, { videoUrl: 'data:video/mp4;base64,AAAA' })).videoUrl).toBeTruthy();
    expect(rejection(base(extend, { videoUrl: 'data:image/png;base64,AAAA' })).details['field']).toBe('input.videoUrl');
  });

  it('seed: an integer from 0 to 2^31-1', () => {
    expect(validateInput(base('google/veo3', { seed: 0 })).seed).toBe(0);
    expect(validateInput(base('google/veo3', { seed: 2_147_483_647 })).seed).toBe(2_147_483_647);
    for (const seed of [-1, 2_147_483_648, 1.5, Number.NaN]) {
      expect(rejection(base('google/veo3', { seed })).details['field']).toBe('input.seed');
    }
  });

  it('negative prompt is trimmed and must not be blank', () => {
    expect(validateInput(base('google/veo3', { negativePrompt: '  blur  ' })).negativePrompt).toBe('blur');
    expect(rejection(base('google/veo3', { negativePrompt: '   ' })).details['field']).toBe('input.negativePrompt');
  });
});

describe('validateInput: prompt', () => {
  it('is trimmed', () => {
    expect(validateInput({ model: 'google/veo3', prompt: '  \n\ta cat\t ' }).prompt).toBe('a cat');
  });

  it('must not be missing or blank', () => {
    expect(rejection({ model: 'google/veo3' }).details['field']).toBe('input.prompt');
    expect(rejection({ model: 'google/veo3', prompt: '' }).details['field']).toBe('input.prompt');
    expect(rejection({ model: 'google/veo3', prompt: ' \n ' }).details['field']).toBe('input.prompt');
    expect(rejection({ model: 'google/veo3', prompt: 42 }).details['field']).toBe('input.prompt');
  });

  it(`takes up to ${PROMPT_MAX_LENGTH} code points, counted after trimming`, () => {
    expect(PROMPT_MAX_LENGTH).toBe(4000);
    const max = 'a'.repeat(4000);
    expect(validateInput({ model: 'google/veo3', prompt: `  ${max}  ` }).prompt).toBe(max);
    expect(rejection({ model: 'google/veo3', prompt: 'a'.repeat(4001) }).details['field']).toBe('input.prompt');
  });

  it('counts an emoji (two UTF-16 units) once', () => {
    const emoji = '🎬'.repeat(4000);
    expect(emoji.length).toBe(8000);
    expect(validateInput({ model: 'google/veo3', prompt: emoji }).prompt).toBe(emoji);
    expect(rejection({ model: 'google/veo3', prompt: emoji + '🎬' }).details['field']).toBe('input.prompt');
  });

  it('accepts any language and script unchanged', () => {
    for (const prompt of [
      'Un phare sur une côte rocheuse',
      '岩だらけの海岸の灯台',
      'منارة على ساحل صخري',
      'Маяк на скалистом берегу',
      'e\u0301 combining',
      '👩‍👩‍👧 family',
    ]) {
      expect(validateInput({ model: 'google/veo3', prompt }).prompt).toBe(prompt);
    }
  });

  it('returns only the fields that were set, with the upstream model id', () => {
    expect(validateInput({ model: 'veo2', prompt: 'x' })).toEqual({ model: 'veo2', prompt: 'x' });
  });
});

describe('checkIdempotencyKey', () => {
  it('accepts 1–255 printable ASCII characters', () => {
    expect(checkIdempotencyKey('a')).toBe('a');
    expect(checkIdempotencyKey('k'.repeat(255))).toHaveLength(255);
    expect(checkIdempotencyKey('order-42_retry:1')).toBe('order-42_retry:1');
  });

  it.each([[''], ['k'.repeat(256)], ['with space'], ['ключ'], ['tab\t']])('rejects %j', (key) => {
    expect(() => checkIdempotencyKey(key)).toThrow(GatewayError);
    try {
      checkIdempotencyKey(key);
    } catch (e) {
      expect((e as GatewayError).code).toBe(ErrorCode.BAD_USER_INPUT);
      expect((e as GatewayError).details['field']).toBe('input.idempotencyKey');
    }
  });
});
