/**
 * `video.stored` end to end: a real gateway with the media store on (a folder), the simulator as the
 * upstream, and a real receiver on 127.0.0.1 verifying with the standardwebhooks library. Once the
 * copy is stored the receiver is told, and the link it gets is the gateway's own, which plays.
 */
import { sampleVideo } from '../../src/simulator/video';
import { CREATE, gqlData, useGateway, waitFor } from '../helpers/gateway';
import { Receiver } from '../helpers/webhook-receiver';

const CREATE_ENDPOINT = `mutation C($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { secret endpoint { id } } }`;

describe('webhooks: video.stored', () => {
  const gw = useGateway({
    env: { MEDIA_STORE: 'folder', WEBHOOK_ALLOW_HTTP: 'true', WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_POLL_INTERVAL_MS: '50' },
  });
  const receiver = new Receiver();
  afterAll(() => receiver.stop());

  it('should send a verified video.stored whose video.url is the gateway link, after generation.completed', async () => {
    const url = await receiver.start();
    const key = await gw.keyFor('stored-owner');
    const { secret } = (await gqlData(gw, key, CREATE_ENDPOINT, { input: { url, events: ['GENERATION_COMPLETED', 'VIDEO_STORED'] } }))
      .createWebhookEndpoint;
    const { createVideoGeneration: created } = await gqlData(gw, key, CREATE, {
      input: { model: 'google/veo-3.0-fast', prompt: 'a kite over dunes' },
    });

    await waitFor('both events', () => receiver.received.length >= 2, 30_000, 50);
    const events = receiver.verified(secret);
    expect(events.map((e) => e.type)).toEqual(['generation.completed', 'video.stored']);
    const [completed, stored] = events;
    const generation = (await gw.app.store.getGeneration(created.id))!;
    expect(stored!.id).toBe(`msg_${created.id}_${generation.version}`);
    expect(stored!.id).not.toBe(completed!.id);
    expect(stored!.data).toMatchObject({ id: created.id, status: 'COMPLETED', version: generation.version });
    expect(stored!.data.video.copy).toMatchObject({ state: 'STORED', sizeBytes: sampleVideo().length, contentType: 'video/mp4' });
    // The upstream's link stays visible as provenance; the one to use is the gateway's, and it plays.
    expect(stored!.data.video.upstreamUrl).toBe(completed!.data.video.url);
    expect(stored!.data.video.url).toMatch(new RegExp(`^/media/${created.id}\\?exp=\\d+&sig=`));
    const played = await fetch(new URL(stored!.data.video.url, gw.app.url));
    expect(played.status).toBe(200);
    expect(Buffer.from(await played.arrayBuffer()).equals(sampleVideo())).toBe(true);
  }, 45_000);
});
