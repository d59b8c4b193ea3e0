/**
 * Retention and deletion of stored videos, end to end: a real gateway, the simulator as the upstream,
 * the folder store and an S3 bucket (s3rver). `deleteVideoGeneration` removes the owner's generation
 * and its file at once without lowering usage; another owner's id is NOT_FOUND; one in flight is
 * refused. MEDIA_RETENTION_DAYS (a tiny fraction here) expires stored files: the generation stays,
 * its copy EXPIRED as a new version, `video.url` back on the upstream's link. A generation deleted while
 * its copy still streams loses that copy too: the copier removes what it stored once it ends.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mediaKey } from '../../src/generations/media-copier';
import { GenerationStatus } from '../../src/model/generation';
import { gql, gqlData, useGateway, waitFor, type TestGateway } from '../helpers/gateway';
import { useS3Server } from '../helpers/s3-server';

jest.setTimeout(120_000);

const CREATE = 'mutation C($input: CreateVideoGenerationInput!) { createVideoGeneration(input: $input) { id } }';
const DELETE = 'mutation D($id: ID!) { deleteVideoGeneration(id: $id) }';
const GET = 'query G($id: ID!) { videoGeneration(id: $id) { version video { url upstreamUrl copy { state expiredAt } } } }';
const USAGE = 'query { usage { generations byStatus { status count } videoSeconds credits usd } }';

async function createStored(gw: TestGateway, key: string): Promise<string> {
  const { createVideoGeneration } = await gqlData(gw, key, CREATE, { input: { model: 'google/veo-3.0-fast', prompt: 'a lighthouse at dusk' } });
  const id: string = createVideoGeneration.id;
  await waitFor(
    'the copy to be stored',
    async () => ((await gw.app.store.getGeneration(id))?.video?.copy?.state === 'STORED' ? true : undefined),
    60_000,
    50,
  );
  expect(await gw.app.media!.head(mediaKey(id))).not.toBeNull();
  return id;
}

function deletionTests(gw: TestGateway) {
  it("deletes the owner's generation and its stored video at once, and usage still counts what was paid", async () => {
    const key = await gw.keyFor('alice');
    const id = await createStored(gw, key);
    const before = (await gqlData(gw, key, USAGE)).usage;
    expect(before.generations).toBeGreaterThan(0);

    expect(await gqlData(gw, key, DELETE, { id })).toEqual({ deleteVideoGeneration: id });
    expect(await gw.app.media!.head(mediaKey(id))).toBeNull();
    expect(await gw.app.store.getGeneration(id)).toBeNull();
    const read = await gql(gw, key, GET, { id });
    expect(read.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect((await gqlData(gw, key, USAGE)).usage).toEqual(before);
    // Deleting again: gone, like an id that never was.
    expect((await gql(gw, key, DELETE, { id })).body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it("answers another owner's id as it answers an unknown one (NOT_FOUND), and deletes nothing", async () => {
    const alice = await gw.keyFor('alice');
    const mallory = await gw.keyFor('mallory');
    const id = await createStored(gw, alice);
    const theirs = await gql(gw, mallory, DELETE, { id });
    const unknown = await gql(gw, mallory, DELETE, { id: randomUUID() });
    expect(theirs.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(theirs.body.errors?.[0]?.message).toBe(unknown.body.errors?.[0]?.message);
    expect(theirs.body.data).toBeNull();
    expect(await gw.app.store.getGeneration(id)).not.toBeNull();
    expect(await gw.app.media!.head(mediaKey(id))).not.toBeNull();
  });
}

describe('deletion: the folder store', () => {
  const mediaDir = mkdtempSync(join(tmpdir(), 'vgw-media-delete-'));
  const gw = useGateway({ env: { MEDIA_STORE: 'folder', MEDIA_DIR: mediaDir } });
  deletionTests(gw);
  afterAll(() => rmSync(mediaDir, { recursive: true, force: true }));

  it('deletes a generation whose copy is still streaming: the copier removes what it stored when it ends, nothing is left, no error', async () => {
    const key = await gw.keyFor('alice');
    const partial = join(mediaDir, '.partial');
    // The file comes in 4 KiB pieces 100 ms apart (about 3 s for the clip), so the delete lands mid-copy.
    gw.simulator.control.injectFault({ endpoint: 'file', action: { kind: 'slowBody', chunkDelayMs: 100, chunkBytes: 4 * 1024 } });
    const logsBefore = gw.logs.length;
    try {
      const { createVideoGeneration } = await gqlData(gw, key, CREATE, { input: { model: 'google/veo-3.0-fast', prompt: 'deleted mid-copy' } });
      const id: string = createVideoGeneration.id;
      await waitFor('the copy to be streaming into the folder', async () => (readdirSync(partial).length > 0 ? true : undefined), 60_000, 20);

      expect(await gqlData(gw, key, DELETE, { id })).toEqual({ deleteVideoGeneration: id });
      const logs = () => gw.logs.slice(logsBefore).map((line) => JSON.parse(line) as { level: number; msg: string; generationId?: string });
      await waitFor(
        "the copier to end the deleted generation's copy",
        async () => logs().some((l) => l.generationId === id && /after its generation was deleted/.test(l.msg)) || undefined,
        60_000,
        50,
      );
      expect(await gw.app.media!.head(mediaKey(id))).toBeNull();
      const left = readdirSync(mediaDir, { recursive: true, encoding: 'utf8' }).filter((f) => f.includes(id) || f.startsWith('.partial/'));
      expect(left).toEqual([]);
      expect((await gql(gw, key, GET, { id })).body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
      expect(logs().filter((l) => l.level >= 50)).toEqual([]);
    } finally {
      gw.simulator.control.clearFaults();
    }
  });

  it('refuses a generation still in flight with GENERATION_IN_FLIGHT, and keeps it', async () => {
    const key = await gw.keyFor('alice');
    const id = randomUUID();
    const now = new Date();
    // Recorded but never sent: it stays QUEUED for the length of this test.
    await gw.app.store.insertGeneration({
      id,
      owner: 'alice',
      input: { model: 'google/veo-3.0-fast', prompt: 'still running' },
      inputHash: 'in-flight-test',
      idempotencyKey: null,
      status: GenerationStatus.QUEUED,
      createdAt: now,
      deadlineAt: new Date(now.getTime() + 3_600_000),
    });
    const res = await gql(gw, key, DELETE, { id });
    expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: 'GENERATION_IN_FLIGHT', status: 'QUEUED' });
    expect(await gw.app.store.getGeneration(id)).not.toBeNull();
  });
});

describe('deletion: an S3 bucket (s3rver)', () => {
  const s3 = useS3Server();
  const gw = useGateway(() => ({ env: s3.gatewayEnv() }));
  deletionTests(gw);
});

describe('retention: MEDIA_RETENTION_DAYS', () => {
  // Three seconds, swept five times a second.
  const gw = useGateway({ env: { MEDIA_STORE: 'folder', MEDIA_RETENTION_DAYS: String(3 / 86_400), MEDIA_RETENTION_SWEEP_SECONDS: '0.2' } });

  it('removes a stored video past its retention: the generation stays, its copy EXPIRED as a new version, video.url the upstream link again', async () => {
    const key = await gw.keyFor('alice');
    const id = await createStored(gw, key);
    const stored = (await gqlData(gw, key, GET, { id })).videoGeneration;
    expect(stored.video.url).not.toBe(stored.video.upstreamUrl);
    const expired = await waitFor(
      'the retention sweep',
      async () => {
        const g = (await gqlData(gw, key, GET, { id })).videoGeneration;
        return g.video.copy.state === 'EXPIRED' ? g : undefined;
      },
      60_000,
      100,
    );
    expect(expired.version).toBe(stored.version + 1);
    expect(expired.video.url).toBe(expired.video.upstreamUrl);
    expect(Date.parse(expired.video.copy.expiredAt)).toBeGreaterThan(0);
    expect(await gw.app.media!.head(mediaKey(id))).toBeNull();
    expect(await gw.app.store.getGeneration(id)).not.toBeNull();
  });
});
