import { VENDOR_MODEL_IDS, usdPerSecond, type Simulator } from '../../../src/simulator';
import { CREATE_REQUESTS, INVALID_CREATE_REQUESTS } from '../../fixtures/upstream-requests';
import { CREATE, LEGACY, KEY, UUID, auth, create, createId, defaultDuration, expectEnvelope, poll, pollJson, start } from './helpers';

let sim: Simulator;
beforeAll(async () => {
  sim = await start({ timeScale: 1000 }); // nothing completes during these tests
});
afterAll(() => sim.stop());

describe('create', () => {
  it('has fixtures for vendor models only', () => {
    for (const model of Object.keys(CREATE_REQUESTS)) expect(VENDOR_MODEL_IDS).toContain(model);
  });

  it.each(Object.entries(CREATE_REQUESTS))('accepts the %s fixture with 201, queued and usage', async (model, body) => {
    const res = await create(sim, body);
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const json = (await res.json()) as { id: string; status: string; meta: { usage: { credits_used: number; usd_spent: number } } };
    expect(Object.keys(json).sort()).toEqual(['id', 'meta', 'status']);
    expect(json.status).toBe('queued');
    const duration = Number(body.duration ?? defaultDuration(model));
    expect(json.meta.usage.usd_spent).toBeCloseTo(usdPerSecond(model) * duration, 6);
    expect(json.meta.usage.credits_used).toBe(Math.round(json.meta.usage.usd_spent * 2_000_000));
    expect((await pollJson(sim, json.id)).id).toBe(json.id);
  });

  it('mints ids in the documented formats', async () => {
    const idOf = (model: string) => createId(sim, CREATE_REQUESTS[model]);
    const uuidPart = (id: string) => id.slice(0, id.indexOf(':'));
    const veo2 = await idOf('veo2');
    expect(veo2).toMatch(/:veo2$/);
    expect(uuidPart(veo2)).toMatch(UUID);
    expect(await idOf('veo2/image-to-video')).toMatch(/:veo2\/image-to-video$/);
    expect(await idOf('google/veo3')).toMatch(/:veo3$/);
    expect(await idOf('google/veo-3.0-fast')).toMatch(/:veo-3\.0-fast-generate-001$/);
    expect(await idOf('google/veo-3.0-i2v')).toMatch(/:veo-3\.0-generate-001$/);
    expect(await idOf('google/veo-3.1-t2v')).toMatch(/:google\/veo-3\.1-t2v$/);
    for (const model of ['google/veo-3-1-lite-generate-preview', 'veo-3.1-lite-generate-001', 'google/veo3-1-extend-video']) {
      expect(await idOf(model)).toMatch(/^[A-Za-z0-9_-]{21}$/);
    }
  });

  it('answers 200 instead of 201 when configured', async () => {
    const other = await start({ createStatus: 200 });
    try {
      expect((await create(other, CREATE_REQUESTS.veo2)).status).toBe(200);
    } finally {
      await other.stop();
    }
  });

  it.each(INVALID_CREATE_REQUESTS.map((c) => [c.name, c] as const))('rejects %s with a 400 envelope', async (_name, c) => {
    const message = await expectEnvelope(await create(sim, c.body), c.expected_status, CREATE);
    expect(message.startsWith('Body validation error!\n')).toBe(true);
    expect(message.split('\n').length).toBeGreaterThan(1);
  });

  it('words detail lines like zod', async () => {
    const bad = { ...CREATE_REQUESTS['google/veo3'], duration: 5 };
    expect(await expectEnvelope(await create(sim, bad), 400, CREATE)).toBe(
      'Body validation error!\nInvalid enum value. Expected 4 | 6 | 8, received 5 at "duration"',
    );
    const missing = await expectEnvelope(await create(sim, { model: 'google/veo3' }), 400, CREATE);
    expect(missing).toBe('Body validation error!\nRequired at "prompt"');
    const unknown = await expectEnvelope(await create(sim, { model: 'google/veo-9', prompt: 'x' }), 400, CREATE);
    expect(unknown).toMatch(
      /^Body validation error!\nInvalid enum value\. Expected 'alibaba\/happyhorse-1-0' \| .*, received 'google\/veo-9' at "model"$/,
    );
    // Every vendor model is listed, like zod's enum message.
    for (const model of VENDOR_MODEL_IDS) expect(unknown).toContain(`'${model}'`);
    const rule = await expectEnvelope(await create(sim, { ...CREATE_REQUESTS['google/veo-3-1-lite-generate-preview'], duration: 4 }), 400, CREATE);
    expect(rule).toContain('Expected 8, received 4 at "duration"');
  });

  it('reports every problem, one per line', async () => {
    const message = await expectEnvelope(await create(sim, { model: 'google/veo-3.1-i2v', prompt: 7, aspect_ratio: '1:1' }), 400, CREATE);
    expect(message.split('\n')).toEqual([
      'Body validation error!',
      'Required at "image_url"',
      'Expected string, received number at "prompt"',
      "Invalid enum value. Expected '16:9' | '9:16', received '1:1' at \"aspect_ratio\"",
    ]);
  });

  it('coerces numeric-string durations and ignores unknown keys', async () => {
    const body = { model: 'veo-3.1-lite-generate-001', prompt: 'p', duration: '6', tail_image_url: 'not even a url' };
    const res = await create(sim, body);
    expect(res.status).toBe(201);
    expect(((await res.json()) as any).meta.usage.usd_spent).toBeCloseTo(0.104 * 6, 6);
    expect((await create(sim, { ...body, duration: 'six' })).status).toBe(400);
    expect((await create(sim, { ...body, duration: 6.5 })).status).toBe(400);
  });

  it('keeps enum case per model; provider is free text in the vendor schema', async () => {
    const t2v = { model: 'google/veo-3.1-t2v', prompt: 'p' };
    expect((await create(sim, { ...t2v, resolution: '720p' })).status).toBe(201);
    expect((await create(sim, { ...t2v, resolution: '720P' })).status).toBe(400);
    expect((await create(sim, { model: 'google/veo3', prompt: 'p', resolution: '720P' })).status).toBe(201);
    expect((await create(sim, { model: 'google/veo3', prompt: 'p', resolution: '720p' })).status).toBe(400);
    expect((await create(sim, { ...t2v, provider: 'GOOGLE' })).status).toBe(201);
    // No enum in the vendor's schema: only its description names google, fal and auto.
    expect((await create(sim, { ...t2v, provider: 'openai' })).status).toBe(201);
    expect((await create(sim, { ...t2v, provider: 7 })).status).toBe(400);
  });

  it('accepts http(s) URLs and base64 data URIs of the right media type only', async () => {
    const i2v = { model: 'google/veo-3.1-i2v', prompt: 'p' };
    expect((await create(sim, { ...i2v, image_url: 'data:image/png;base64,iVBORw0KGgo=' })).status).toBe(201);
    expect((await create(sim, { ...i2v, image_url: 'http://example.com/a.jpg' })).status).toBe(201);
    for (const bad of ['ftp://example.com/a.jpg', 'example.com/a.jpg', 'data:video/mp4;base64,AAAA', 'data:image/png,raw']) {
      expect((await create(sim, { ...i2v, image_url: bad })).status).toBe(400);
    }
    const extend = { model: 'google/veo3-1-extend-video', prompt: 'p' };
    expect((await create(sim, { ...extend, video_url: 'data:video/mp4;base64,AAAA' })).status).toBe(201);
    expect((await create(sim, { ...extend, video_url: 'data:image/png;base64,AAAA' })).status).toBe(400);
  });

  it('checks image_urls items, and bounds them where the vendor does', async () => {
    const ref = { model: 'google/veo-3.1-reference-to-video', prompt: 'p' };
    const url = 'https://example.com/a.jpg';
    const nope = await expectEnvelope(await create(sim, { ...ref, image_urls: [url, 'nope'] }), 400, CREATE);
    expect(nope).toBe('Body validation error!\nInvalid url. Expected an http(s) URL or a base64 data:image/... URI at "image_urls[1]"');
    expect((await create(sim, { ...ref, image_urls: url })).status).toBe(400);
    // The vendor states no limit for Veo's reference images.
    expect((await create(sim, { ...ref, image_urls: [url, url, url, url] })).status).toBe(201);
    const horse = { model: 'alibaba/happyhorse-1-0', prompt: 'p' };
    expect((await create(sim, { ...horse, reference_image_urls: Array(9).fill(url) })).status).toBe(201);
    const many = await expectEnvelope(await create(sim, { ...horse, reference_image_urls: Array(10).fill(url) }), 400, CREATE);
    expect(many).toBe('Body validation error!\nArray must contain at most 9 element(s) at "reference_image_urls"');
  });

  it('rejects malformed and non-object bodies', async () => {
    const raw = await fetch(`${sim.url}${CREATE}`, { method: 'POST', headers: auth(), body: '{"model":' });
    expect(await expectEnvelope(raw, 400, CREATE)).toMatch(/^Body validation error!\n/);
    expect(await expectEnvelope(await create(sim, [1]), 400, CREATE)).toBe('Body validation error!\nExpected object, received array');
  });
});

describe('auth', () => {
  it.each([
    ['a wrong key', { authorization: 'Bearer nope' }],
    ['no header', {}],
    ['a non-Bearer scheme', { authorization: `Basic ${KEY}` }],
  ])('answers 401 to %s on create and poll', async (_what, headers) => {
    const c = await fetch(`${sim.url}${CREATE}`, { method: 'POST', headers, body: JSON.stringify(CREATE_REQUESTS.veo2) });
    expect(await expectEnvelope(c, 401, CREATE)).toContain('https://aimlapi.com/app/keys');
    const p = await fetch(`${sim.url}${CREATE}?generation_id=x`, { headers });
    await expectEnvelope(p, 401, CREATE);
  });

  it('never echoes the key', async () => {
    const text = await (await create(sim, CREATE_REQUESTS.veo2, CREATE, 'secret-123')).text();
    expect(text).not.toContain('secret-123');
  });
});

describe('legacy path', () => {
  it('creates and polls the legacy models with the same body', async () => {
    const res = await create(sim, CREATE_REQUESTS['google/veo3'], LEGACY);
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    const polled = await poll(sim, id, LEGACY);
    expect(polled.status).toBe(200);
    expect(((await polled.json()) as { id: string }).id).toBe(id);
  });

  it('rejects models the legacy path never documented', async () => {
    const message = await expectEnvelope(await create(sim, CREATE_REQUESTS['google/veo-3.1-t2v'], LEGACY), 400, LEGACY);
    expect(message).toMatch(/^Body validation error!\nInvalid enum value\. Expected .*'veo2'/);
    expect(message).not.toContain("'google/veo-3.1-t2v' |");
  });
});

describe('poll', () => {
  it('round-trips ids containing ":" and "/"', async () => {
    const id = await createId(sim, CREATE_REQUESTS['veo2/image-to-video']);
    expect(id).toContain('/');
    const body = await pollJson(sim, id);
    expect(body.id).toBe(id);
    expect(['queued', 'generating']).toContain(body.status);
  });

  it('answers 400 "Query validation error!" without generation_id', async () => {
    const res = await fetch(`${sim.url}${CREATE}`, { headers: auth() });
    expect(await expectEnvelope(res, 400, CREATE)).toBe('Query validation error!\nRequired at "generation_id"');
    const empty = await fetch(`${sim.url}${CREATE}?generation_id=`, { headers: auth() });
    expect(await expectEnvelope(empty, 400, CREATE)).toMatch(/^Query validation error!/);
  });

  it('answers 404 "Generation not found" for an unknown id', async () => {
    expect(await expectEnvelope(await poll(sim, 'nope:veo2'), 404, CREATE)).toBe('Generation not found');
  });

  it('answers 404 envelopes on other paths and methods', async () => {
    await expectEnvelope(await fetch(`${sim.url}/v2/other`, { headers: auth() }), 404, '/v2/other');
    await expectEnvelope(await fetch(`${sim.url}${CREATE}`, { method: 'DELETE', headers: auth() }), 404, CREATE);
    await expectEnvelope(await fetch(`${sim.url}${CREATE}/some-id`, { headers: auth() }), 404, `${CREATE}/some-id`);
  });
});
