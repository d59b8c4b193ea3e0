/**
 * Every model of the vendor's specs, over real HTTP: a minimal valid body, built here from the
 * model's raw schema (not from the gateway's catalogue, nor from the simulator's validator), is
 * accepted; each kind of violation is refused with the vendor's error envelope.
 */
import { DEFAULT_ERROR_BODY, LEGACY_PATHS, PASS_THROUGH_ERROR_BODY, VENDOR_MODEL_IDS, usdPerSecond, type Simulator } from '../../../src/simulator';
import { timelineSeconds } from '../../../src/simulator/timelines';
import { vendorModel, type JsonSchema } from '../../../src/simulator/vendor-specs';
import { CREATE, create, createId, defaultDuration, expectEnvelope, pollJson, sleep, start } from './helpers';

type Schema = JsonSchema & {
  type?: string;
  enum?: unknown[];
  default?: unknown;
  example?: unknown;
  format?: string;
  properties?: Record<string, Schema>;
  required?: string[] | boolean;
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
};

const schemaOf = (model: string): Schema => vendorModel(model)!.request as Schema;
const propertiesOf = (model: string): Record<string, Schema> => schemaOf(model).properties ?? {};

/** The vendor family a model id belongs to: its first path segment (`klingai`, `google`, `veo2`…). */
const vendorOf = (model: string): string => model.split('/')[0]!;

/** A value the schema accepts, from its enum, default or example first, else made up from its type. */
function sample(schema: Schema, name: string): unknown {
  const branch = schema.anyOf?.[0] ?? schema.oneOf?.[0];
  if (branch) return sample(branch, name);
  if (schema.enum && schema.enum.length > 0) return schema.enum[0];
  switch (schema.type) {
    case 'string':
      if (schema.format === 'uri') return mediaUrl(name);
      if (schema.format === 'uuid') return '60ac7c34-3224-4b14-8e7d-0aa0db708325';
      if (typeof schema.default === 'string') return schema.default;
      if (typeof schema.example === 'string') return schema.example;
      return 'a'.repeat(Math.max(schema.minLength ?? 0, Math.min(12, schema.maxLength ?? 12)));
    case 'integer':
    case 'number': {
      const fromDefault = Number(schema.default);
      if (schema.default !== undefined && Number.isFinite(fromDefault)) return fromDefault;
      return schema.minimum ?? Math.min(1, schema.maximum ?? 1);
    }
    case 'boolean':
      return typeof schema.default === 'boolean' ? schema.default : false;
    case 'array':
      return Array.from({ length: Math.max(1, schema.minItems ?? 1) }, () => sample(schema.items ?? { type: 'string' }, name));
    case 'object':
      return minimalObject(schema);
    default:
      return 'a';
  }
}

function mediaUrl(name: string): string {
  if (name.includes('video')) return 'https://example.com/clip.mp4';
  if (name.includes('audio')) return 'https://example.com/voice.mp3';
  return 'https://example.com/frame.png';
}

/** Only the required properties (OpenAPI's `required: true` on a property counts too). */
function minimalObject(schema: Schema): Record<string, unknown> {
  const properties = schema.properties ?? {};
  const required = new Set(Array.isArray(schema.required) ? schema.required : []);
  for (const [name, sub] of Object.entries(properties)) if (sub.required === true) required.add(name);
  return Object.fromEntries([...required].map((name) => [name, sample(properties[name] ?? { type: 'string' }, name)]));
}

function minimalBody(model: string): Record<string, unknown> {
  return { ...minimalObject(schemaOf(model)), model };
}

let sim: Simulator;
beforeAll(async () => {
  sim = await start({ timeScale: 1000 }); // nothing completes during the create tests
});
afterAll(() => sim.stop());

describe('every vendor model', () => {
  it('is served: the specs hold 143 models', () => {
    expect(VENDOR_MODEL_IDS).toHaveLength(143);
  });

  it.each(VENDOR_MODEL_IDS.map((id) => [id]))('accepts a minimal valid %s body', async (model) => {
    const body = minimalBody(model);
    const res = await create(sim, body);
    if (res.status !== 201) throw new Error(`${model} ${JSON.stringify(body)} → ${res.status} ${await res.text()}`);
    const json = (await res.json()) as { id: string; status: string; meta: { usage: { credits_used: number; usd_spent: number } } };
    expect(json.status).toBe('queued');
    const seconds = defaultDuration(model) ?? (body.duration as number | undefined);
    if (seconds !== undefined) expect(json.meta.usage.usd_spent).toBeCloseTo(usdPerSecond(model) * seconds, 6);
    expect(json.meta.usage.credits_used).toBe(Math.round(json.meta.usage.usd_spent * 2_000_000));
  });
});

/** One kind of violation: where a model's schema allows it, the broken body and the field it names. */
interface Violation {
  kind: string;
  /** The field to break in this model, or undefined when its schema has nothing of the kind. */
  field(model: string): string | undefined;
  breaks(schema: Schema, body: Record<string, unknown>, field: string): void;
  message: RegExp;
}

const topLevel = (model: string, test: (s: Schema, name: string) => boolean): string | undefined =>
  Object.entries(propertiesOf(model)).find(([name, s]) => name !== 'model' && test(s, name))?.[0];

const VIOLATIONS: Violation[] = [
  {
    kind: 'wrong enum value',
    field: (m) => topLevel(m, (s) => s.type === 'string' && Array.isArray(s.enum) && s.enum.length > 0),
    breaks: (_s, body, field) => void (body[field] = 'no-such-value'),
    message: /^Invalid enum value\. Expected .+, received 'no-such-value'$/,
  },
  {
    kind: 'out of range',
    field: (m) => topLevel(m, (s) => (s.type === 'integer' || s.type === 'number') && typeof s.maximum === 'number' && !s.enum),
    breaks: (s, body, field) => void (body[field] = s.maximum! + 1),
    message: /^Number must be less than or equal to -?\d+(\.\d+)?$/,
  },
  {
    kind: 'wrong type',
    field: (m) => topLevel(m, (s, name) => s.type === 'string' && !s.enum && name !== 'duration'),
    breaks: (_s, body, field) => void (body[field] = 12345),
    message: /^Expected string, received number$/,
  },
  {
    kind: 'too long',
    field: (m) => topLevel(m, (s) => s.type === 'string' && typeof s.maxLength === 'number' && !s.format),
    breaks: (s, body, field) => void (body[field] = 'x'.repeat(s.maxLength! + 1)),
    message: /^String must contain at most \d+ character\(s\)$/,
  },
  {
    kind: 'too many items',
    field: (m) => topLevel(m, (s) => s.type === 'array' && typeof s.maxItems === 'number'),
    breaks: (s, body, field) => void (body[field] = Array.from({ length: s.maxItems! + 1 }, () => sample(s.items ?? { type: 'string' }, field))),
    message: /^Array must contain at most \d+ element\(s\)$/,
  },
  {
    kind: 'missing required field',
    field: (m) => Object.keys(minimalBody(m)).find((name) => name !== 'model'),
    breaks: (_s, body, field) => void delete body[field],
    message: /^Required$/,
  },
];

/** Per kind, the first model of each vendor family whose schema allows that kind of violation. */
const CASES = VIOLATIONS.flatMap((violation) => {
  const seen = new Set<string>();
  const cases: [string, string, string, Violation][] = [];
  for (const model of VENDOR_MODEL_IDS) {
    const field = violation.field(model);
    if (field === undefined || seen.has(vendorOf(model))) continue;
    seen.add(vendorOf(model));
    cases.push([violation.kind, model, field, violation]);
  }
  return cases;
});

describe('refusals', () => {
  it('cover every kind of violation across many vendors', () => {
    const vendors = new Set(VENDOR_MODEL_IDS.map(vendorOf));
    for (const violation of VIOLATIONS) {
      const covered = new Set(CASES.filter(([kind]) => kind === violation.kind).map(([, model]) => vendorOf(model)));
      expect({ kind: violation.kind, vendors: covered.size > 0 }).toEqual({ kind: violation.kind, vendors: true });
    }
    expect(new Set(CASES.map(([, model]) => vendorOf(model))).size).toBe(vendors.size);
  });

  it.each(CASES)('%s: %s (%s) is refused with the vendor envelope', async (_kind, model, field, violation) => {
    const body = minimalBody(model);
    violation.breaks(propertiesOf(model)[field] ?? {}, body, field);
    const message = await expectEnvelope(await create(sim, body), 400, CREATE);
    const [head, ...lines] = message.split('\n');
    expect(head).toBe('Body validation error!');
    const line = lines.find((l) => l.endsWith(` at "${field}"`));
    expect(line).toBeDefined();
    expect(line!.slice(0, -` at "${field}"`.length)).toMatch(violation.message);
  });

  it('refuses an unknown model, listing the known ones, and a missing one', async () => {
    const unknown = await expectEnvelope(await create(sim, { model: 'acme/no-such-model', prompt: 'p' }), 400, CREATE);
    expect(unknown).toMatch(/^Body validation error!\nInvalid enum value\. Expected '.+, received 'acme\/no-such-model' at "model"$/);
    expect(unknown).toContain("'klingai/v2-master-text-to-video'");
    const missing = await expectEnvelope(await create(sim, { prompt: 'p' }), 400, CREATE);
    expect(missing).toBe('Body validation error!\nRequired at "model"');
  });

  it('cuts a long received value instead of echoing it whole', async () => {
    const long = 'x'.repeat(100_000);
    const message = await expectEnvelope(await create(sim, { ...minimalBody('google/veo3'), aspect_ratio: long }), 400, CREATE);
    expect(message).toContain(`received '${'x'.repeat(100)}…' at "aspect_ratio"`);
    expect(message.length).toBeLessThan(500);
  });

  it('accepts unknown keys and media as http(s) URLs or data URIs of the right type', async () => {
    const body = minimalBody('klingai/v2.1-master-image-to-video');
    expect((await create(sim, { ...body, no_such_key: 1 })).status).toBe(201);
    expect((await create(sim, { ...body, image_url: 'data:image/jpeg;base64,/9j/4AAQ' })).status).toBe(201);
    const video = await expectEnvelope(await create(sim, { ...body, image_url: 'data:video/mp4;base64,AAAA' }), 400, CREATE);
    expect(video).toContain('at "image_url"');
    expect((await create(sim, { ...body, image_url: 'file:///etc/passwd' })).status).toBe(400);
  });

  it('checks nested shapes (Luma keyframes)', async () => {
    const base = minimalBody('luma/ray-2');
    const good = { ...base, keyframes: { frame0: { type: 'image', url: 'https://example.com/a.png' }, frame1: null } };
    expect((await create(sim, good)).status).toBe(201);
    const bad = await expectEnvelope(await create(sim, { ...base, keyframes: { frame0: { type: 'image' } } }), 400, CREATE);
    expect(bad).toBe('Body validation error!\nInvalid input at "keyframes.frame0"');
  });
});

describe('legacy per-vendor paths from the specs', () => {
  const KLING = '/v2/generate/video/kling/generation';

  it('serve the models that list them, and only those', async () => {
    expect([...LEGACY_PATHS.keys()]).toEqual(expect.arrayContaining([KLING, '/v2/generate/video/alibaba/generation', '/v1/video/generations']));
    const kling = minimalBody('kling-video/v1/standard/text-to-video');
    expect((await create(sim, kling, KLING)).status).toBe(201);
    const veo = await expectEnvelope(await create(sim, minimalBody('google/veo3'), KLING), 400, KLING);
    expect(veo).toMatch(
      /^Body validation error!\nInvalid enum value\. Expected .*'kling-video\/v1\/standard\/text-to-video'.*, received 'google\/veo3' at "model"$/,
    );
  });
});

describe('status spelling', () => {
  it("says 'dreaming' for the old Luma schema, 'generating' elsewhere, then completes with a video and usage", async () => {
    const paced = await start({ timeScale: 0.01, seed: 11 }); // Luma's default 37–75 s become 0.4–0.8 s
    try {
      const ids = {
        'luma/ray-2': await createId(paced, minimalBody('luma/ray-2')),
        'luma/ray-flash-2': await createId(paced, minimalBody('luma/ray-flash-2')),
        'luma/ray-3.2': await createId(paced, minimalBody('luma/ray-3.2')),
      };
      const seen: Record<string, Set<string>> = {};
      for (let i = 0; i < 300; i++) {
        const bodies = await Promise.all(Object.entries(ids).map(async ([model, id]) => [model, await pollJson(paced, id)] as const));
        for (const [model, body] of bodies) (seen[model] ??= new Set()).add(body.status as string);
        if (bodies.every(([, body]) => body.status === 'completed')) {
          for (const [, body] of bodies) {
            expect(body.video.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/files\/.+\.mp4\?Expires=\d+&Signature=[\w-]+$/);
            expect(body.meta.usage.credits_used).toBeGreaterThan(0);
          }
          break;
        }
        await sleep(10);
      }
      expect(seen['luma/ray-2']).toContain('dreaming');
      expect(seen['luma/ray-flash-2']).toContain('dreaming');
      expect(seen['luma/ray-3.2']).toContain('generating');
      expect(seen['luma/ray-3.2']).not.toContain('dreaming');
      for (const statuses of Object.values(seen)) expect(statuses).toContain('completed');
      // A job held in progress keeps its model's spelling.
      paced.control.forceOutcome(ids['luma/ray-2'], 'pending');
      expect((await pollJson(paced, ids['luma/ray-2'])).status).toBe('dreaming');
    } finally {
      await paced.stop();
    }
  });
});

describe('error shapes', () => {
  it('fail Kling generations with the pass-through provider payload, others with {name, message}', async () => {
    const kling = await createId(sim, minimalBody('klingai/kling-video-v1.6-pro-effects'));
    const veo = await createId(sim, minimalBody('google/veo-3.1-t2v'));
    sim.control.forceOutcome(kling, 'error');
    sim.control.forceOutcome(veo, 'error');
    expect(await pollJson(sim, kling)).toEqual({ id: kling, status: 'error', video: null, error: PASS_THROUGH_ERROR_BODY });
    expect(await pollJson(sim, veo)).toEqual({ id: veo, status: 'error', video: null, error: DEFAULT_ERROR_BODY });
  });
});

describe('timelines', () => {
  /** Seconds from create to completion of one job, at time scale 1 (nothing is waited for). */
  async function secondsToComplete(body: Record<string, unknown>): Promise<number> {
    const before = Date.now();
    const id = await createId(sim, body);
    return (sim.control.completesAt(id)!.getTime() - before) / 1000;
  }

  beforeAll(() => sim.control.setTimeScale(1));
  afterAll(() => sim.control.setTimeScale(1000));

  it.each([
    ['klingai/v2-master-text-to-video', 5, 10], // stated: 5–6 min for 5 s, 11–14 min for 10 s
    ['minimax/hailuo-02', 6, 10], // stated: 4–5 min for 6 s, 8–9 min for 10 s
    ['alibaba/wan2.2-t2v-plus', 5, 10], // no stated time: the default grows with the clip
  ])('are longer for a longer clip: %s, %i s vs %i s', async (model, short, long) => {
    // The ranges do not overlap, so any two draws compare the same way.
    const range = (duration: number): [number, number] => timelineSeconds({ modelId: model, duration });
    expect(range(long)[0]).toBeGreaterThanOrEqual(range(short)[1]);
    const base = minimalBody(model);
    const shortRun = await secondsToComplete({ ...base, duration: short });
    const longRun = await secondsToComplete({ ...base, duration: long });
    expect(longRun).toBeGreaterThan(shortRun);
  });

  it('follow the stated time of the model', async () => {
    // The upper bounds leave 5 s for the create's own round trip on a loaded machine.
    const kling = await secondsToComplete({ ...minimalBody('klingai/v2-master-text-to-video'), duration: 5 });
    expect(kling).toBeGreaterThanOrEqual(299.9);
    expect(kling).toBeLessThanOrEqual(365);
    const veo2 = await secondsToComplete({ ...minimalBody('veo2'), duration: 5 });
    expect(veo2).toBeGreaterThanOrEqual(39.9);
    expect(veo2).toBeLessThanOrEqual(55);
  });

  it('grow with the resolution', () => {
    const at = (resolution: string): [number, number] =>
      timelineSeconds({ modelId: 'pixverse/v5/text-to-video', duration: 5, resolution, defaultResolution: '720p' });
    expect(at('720p')).toEqual([30, 40]);
    expect(at('1080p')).toEqual([68, 82]);
    const fallback = (resolution: string): [number, number] =>
      timelineSeconds({ modelId: 'alibaba/wan2.2-t2v-plus', duration: 8, resolution, defaultResolution: '1080p' });
    expect(fallback('1080p')).toEqual([60, 120]);
    expect(fallback('480p')[1]).toBeLessThan(fallback('720p')[1]);
    expect(timelineSeconds({ modelId: 'luma/ray-2', duration: 5, resolution: '4k' })[0]).toBeGreaterThan(
      timelineSeconds({ modelId: 'luma/ray-2', duration: 5, resolution: '540p' })[0],
    );
  });
});
