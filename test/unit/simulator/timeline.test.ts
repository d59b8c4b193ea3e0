import { statSync } from 'node:fs';
import { DEFAULT_ERROR_BODY, SAMPLE_VIDEO_PATH, type Simulator } from '../../../src/simulator';
import { CREATE_REQUESTS } from '../../fixtures/upstream-requests';
import { auth, createId, pollJson, sleep, start, waitForStatus } from './helpers';

const SAMPLE_SIZE = statSync(SAMPLE_VIDEO_PATH).size;

describe('timeline', () => {
  let sim: Simulator;
  beforeAll(async () => {
    // veo3's 100-150 s become 10-15 ms.
    sim = await start({ timeScale: 0.0001 });
  });
  afterAll(() => sim.stop());

  it('goes from queued to completed with a video and usage', async () => {
    const id = await createId(sim, CREATE_REQUESTS['google/veo3']);
    const done = await waitForStatus(sim, id, 'completed');
    expect(done).toEqual({
      id,
      status: 'completed',
      video: {
        url: expect.stringMatching(new RegExp(`^${sim.url}/files/${encodeURIComponent(id)}\\.mp4\\?Expires=\\d+&Signature=[\\w-]+$`)),
        content_type: 'video/mp4',
        file_name: 'output.mp4',
        file_size: SAMPLE_SIZE,
      },
      error: null,
      meta: { usage: { credits_used: 4_160_000, usd_spent: 2.08 } },
    });
  });

  it('completes every model', async () => {
    const ids = await Promise.all(Object.values(CREATE_REQUESTS).map((body) => createId(sim, body)));
    await sleep(30);
    for (const id of ids) expect((await pollJson(sim, id)).status).toBe('completed');
  });

  it('moves forward only: queued, then generating, then completed', async () => {
    const paced = await start({ timeScale: 0.005, seed: 3 }); // veo2: 200-250 ms
    try {
      const id = await createId(paced, CREATE_REQUESTS.veo2);
      const seen: string[] = [];
      for (let i = 0; i < 200 && seen.at(-1) !== 'completed'; i++) {
        const { status } = await pollJson(paced, id);
        if (seen.at(-1) !== status) seen.push(status);
        await sleep(5);
      }
      expect([
        ['queued', 'generating', 'completed'],
        ['generating', 'completed'],
      ]).toContainEqual(seen);
    } finally {
      await paced.stop();
    }
  });

  it('passes through queued and generating at real speed', async () => {
    const slow = await start({ timeScale: 1, seed: 7 });
    try {
      const id = await createId(slow, CREATE_REQUESTS.veo2);
      const body = await pollJson(slow, id);
      expect(body).toEqual({ id, status: expect.stringMatching(/^(queued|generating)$/) });
      // Speeding up applies to running jobs too.
      slow.control.setTimeScale(0.0001);
      expect((await waitForStatus(slow, id, 'completed', 2000)).status).toBe('completed');
      expect(slow.control.jobs()).toEqual([{ id, model: 'veo2', status: 'completed' }]);
    } finally {
      await slow.stop();
    }
  });

  it('tells when a job completes: inside the model range, generating just before, completed from then on', async () => {
    const paced = await start({ timeScale: 0.005, seed: 5 }); // veo2: 200-250 ms
    try {
      const before = Date.now();
      const id = await createId(paced, CREATE_REQUESTS.veo2);
      const at = paced.control.completesAt(id)!.getTime();
      expect(at - before).toBeGreaterThanOrEqual(195);
      expect(at - before).toBeLessThanOrEqual(260);
      await sleep(Math.max(0, at - Date.now() - 30));
      expect((await pollJson(paced, id)).status).toBe('generating');
      await sleep(Math.max(0, at - Date.now() + 1));
      expect((await pollJson(paced, id)).status).toBe('completed');
      const reply = await fetch(`${paced.url}/__control/jobs/${encodeURIComponent(id)}/completes-at`, { headers: auth() });
      expect(await reply.json()).toEqual({ completesAt: new Date(at).toISOString() });
      paced.control.forceOutcome(id, 'error');
      expect(paced.control.completesAt(id)).toBeNull();
      expect(() => paced.control.completesAt('nope')).toThrow('Unknown generation id');
    } finally {
      await paced.stop();
    }
  });

  it('uses publicUrl for video links', async () => {
    const other = await start({ timeScale: 0.0001, publicUrl: 'https://sim.example.test/base/' });
    try {
      const id = await createId(other, CREATE_REQUESTS.veo2);
      const done = await waitForStatus(other, id, 'completed');
      expect(done.video.url).toMatch(`https://sim.example.test/base/files/${encodeURIComponent(id)}.mp4?Expires=`);
    } finally {
      await other.stop();
    }
  });

  it('repeats ids and timings for the same seed', async () => {
    const run = async (): Promise<string[]> => {
      const s = await start({ seed: 'bench', timeScale: 1000 });
      try {
        return [await createId(s, CREATE_REQUESTS.veo2), await createId(s, CREATE_REQUESTS['veo-3.1-lite-generate-001'])];
      } finally {
        await s.stop();
      }
    };
    expect(await run()).toEqual(await run());
  });
});

describe('video files', () => {
  let sim: Simulator;
  let url: string;
  beforeAll(async () => {
    sim = await start({ timeScale: 0.0001 });
    const id = await createId(sim, CREATE_REQUESTS['google/veo-3.1-t2v']);
    url = (await waitForStatus(sim, id, 'completed')).video.url;
  });
  afterAll(() => sim.stop());

  it('serves the whole sample without auth', async () => {
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('video/mp4');
    expect(res.headers.get('accept-ranges')).toBe('bytes');
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(bytes.length).toBe(SAMPLE_SIZE);
    expect(bytes.subarray(4, 8).toString('latin1')).toBe('ftyp');
  });

  it('answers ranges with 206', async () => {
    const res = await fetch(url, { headers: { range: 'bytes=0-' } });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe(`bytes 0-${SAMPLE_SIZE - 1}/${SAMPLE_SIZE}`);
    await res.arrayBuffer();
    const part = await fetch(url, { headers: { range: 'bytes=100-199' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-length')).toBe('100');
    expect(part.headers.get('content-range')).toBe(`bytes 100-199/${SAMPLE_SIZE}`);
    expect((await part.arrayBuffer()).byteLength).toBe(100);
    const suffix = await fetch(url, { headers: { range: 'bytes=-10' } });
    expect(suffix.status).toBe(206);
    expect(suffix.headers.get('content-range')).toBe(`bytes ${SAMPLE_SIZE - 10}-${SAMPLE_SIZE - 1}/${SAMPLE_SIZE}`);
    await suffix.arrayBuffer();
    const beyond = await fetch(url, { headers: { range: `bytes=${SAMPLE_SIZE}-` } });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get('content-range')).toBe(`bytes */${SAMPLE_SIZE}`);
  });

  it('answers HEAD without a body', async () => {
    const res = await fetch(url, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe(String(SAMPLE_SIZE));
  });

  it('404s for unknown and unfinished jobs', async () => {
    expect((await fetch(sim.control.fileLink('nope'))).status).toBe(404);
    sim.control.setTimeScale(1000);
    const id = await createId(sim, CREATE_REQUESTS.veo2);
    expect((await fetch(sim.control.fileLink(id))).status).toBe(404);
    sim.control.setTimeScale(0.0001);
  });
});

describe('forceOutcome', () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await start({ timeScale: 1000 });
  });
  afterAll(() => sim.stop());

  it('completes a job at once', async () => {
    const id = await createId(sim, CREATE_REQUESTS.veo2);
    sim.control.forceOutcome(id, 'completed');
    const body = await pollJson(sim, id);
    expect(body.status).toBe('completed');
    expect((await fetch(body.video.url)).status).toBe(200);
  });

  it('fails a job with the default or a given error body', async () => {
    const id = await createId(sim, CREATE_REQUESTS.veo2);
    sim.control.forceOutcome(id, 'error');
    expect(await pollJson(sim, id)).toEqual({ id, status: 'error', video: null, error: DEFAULT_ERROR_BODY });
    const detail = { detail: [{ loc: ['body', 'image_url'], msg: 'Image could not be downloaded', type: 'image_load_error' }] };
    sim.control.forceOutcome(id, 'error', detail);
    expect((await pollJson(sim, id)).error).toEqual(detail);
  });

  it('completes without a url', async () => {
    const id = await createId(sim, CREATE_REQUESTS.veo2);
    sim.control.forceOutcome(id, 'completed_without_url');
    const body = await pollJson(sim, id);
    expect(body.status).toBe('completed');
    expect(body.video).toBeNull();
    expect((await fetch(sim.control.fileLink(id))).status).toBe(404);
  });

  it('reports a raw status, or never finishes', async () => {
    const id = await createId(sim, CREATE_REQUESTS.veo2);
    sim.control.forceOutcome(id, { status: 'mystery' });
    expect(await pollJson(sim, id)).toEqual({ id, status: 'mystery' });
    sim.control.forceOutcome(id, 'pending');
    sim.control.setTimeScale(0.0001);
    await sleep(10);
    expect(await pollJson(sim, id)).toEqual({ id, status: 'generating' });
    sim.control.setTimeScale(1000);
  });

  it('throws for an unknown id', () => {
    expect(() => sim.control.forceOutcome('nope', 'completed')).toThrow(/Unknown generation id/);
  });
});

describe('jobs created through the control interface', () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await start({ timeScale: 1, seed: 11 }); // veo2: 40-50 s
  });
  afterAll(() => sim.stop());

  it('starts a job under way: its timeline began startedAgoMs ago, and polls see where it is now', async () => {
    const before = Date.now();
    const fresh = sim.control.createJob(CREATE_REQUESTS.veo2);
    const halfway = sim.control.createJob(CREATE_REQUESTS.veo2, 30_000);
    const done = sim.control.createJob(CREATE_REQUESTS.veo2, 60_000);
    const fromNow = (id: string) => sim.control.completesAt(id)!.getTime() - before;
    expect(fromNow(fresh.id)).toBeGreaterThanOrEqual(39_900);
    expect(fromNow(halfway.id)).toBeGreaterThanOrEqual(9_900);
    expect(fromNow(halfway.id)).toBeLessThanOrEqual(20_100);
    expect(done.status).toBe('completed');
    expect((await pollJson(sim, halfway.id)).status).toBe('generating');
    expect((await pollJson(sim, done.id)).status).toBe('completed');
    // Not a request: the counts are the API's alone.
    expect(sim.control.counts().create).toBe(0);
  });

  it('refuses a body the create route would refuse, with its message; works over HTTP too', async () => {
    expect(() => sim.control.createJob({ model: 'veo2' })).toThrow(/Body validation error!/);
    const res = await fetch(`${sim.url}/__control/jobs`, {
      method: 'POST',
      headers: auth(),
      body: JSON.stringify({ body: CREATE_REQUESTS.veo2, startedAgoMs: 60_000 }),
    });
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ id: expect.any(String), model: 'veo2', status: 'completed' });
  });
});
