import { CreateVideoGenerationDocument, VideoGenerationUpdatedDocument, collect, gqlData, wsClient, useGateway } from '../helpers/gateway';

describe('gateway smoke', () => {
  const gw = useGateway();

  it('should create a generation over HTTP and see it complete over WebSocket', async () => {
    const key = await gw.keyFor('alice');
    const { createVideoGeneration: g } = await gqlData(gw, key, CreateVideoGenerationDocument, {
      input: { model: 'google/veo-3.0-fast', prompt: 'a lighthouse at dusk' },
    });
    expect(g.status).toBe('QUEUED');
    const client = wsClient(gw, key);
    const sub = collect(client, VideoGenerationUpdatedDocument, { id: g.id });
    await sub.done;
    await client.dispose();
    expect(sub.errors).toEqual([]);
    const last = sub.values.at(-1)!.videoGenerationUpdated;
    expect(last.status).toBe('COMPLETED');
    expect(last.video!.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/files\/.+\.mp4\?Expires=\d+&Signature=[\w-]+$/);
  });

  it("tells every cache not to keep an owner's answer", async () => {
    const key = await gw.keyFor('alice');
    const res = await fetch(gw.app.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query: '{ videoGenerations(first: 1) { nodes { id } } }' }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
  });
});
