/**
 * The webhook outbox: every reported change of a generation leaves one pending delivery per enabled
 * endpoint of its owner that takes the event, written with the change itself; the same event has the
 * same message id (`webhook-id`) at every endpoint.
 */
import { CREATE, GET, gql, gqlData, useGateway, waitFor } from '../helpers/gateway';

const CANCEL = `mutation Cancel($id: ID!) { cancelVideoGeneration(id: $id) { id status } }`;

const CREATE_ENDPOINT = `mutation C($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { endpoint { id } } }`;
const DISABLE = `mutation D($id: ID!) { updateWebhookEndpoint(id: $id, input: { enabled: false }) { id enabled } }`;
const DELIVERIES = `query W($endpointId: ID, $generationId: ID, $first: Int) {
  webhookDeliveries(endpointId: $endpointId, generationId: $generationId, first: $first) {
    id messageId endpointId generationId generationVersion eventType status attempts nextAttemptAt createdAt
  }
}`;

describe('the webhook outbox', () => {
  const gw = useGateway({ env: { WEBHOOK_ALLOW_HTTP: 'true', WEBHOOK_ALLOW_PRIVATE: 'true' } });

  const endpoint = async (key: string, input: Record<string, unknown>): Promise<string> =>
    (await gqlData(gw, key, CREATE_ENDPOINT, { input: { url: 'http://127.0.0.1:9/hook', ...input } })).createWebhookEndpoint.endpoint.id;

  it('should queue one delivery per reported status change for each endpoint that takes it', async () => {
    const key = await gw.keyFor('outbox-owner');
    const all = await endpoint(key, {});
    const completedOnly = await endpoint(key, { events: ['GENERATION_COMPLETED'] });
    const disabled = await endpoint(key, {});
    await gqlData(gw, key, DISABLE, { id: disabled });
    const otherKey = await gw.keyFor('outbox-neighbour');
    const neighbours = await endpoint(otherKey, {});

    const created = (await gqlData(gw, key, CREATE, { input: { model: 'google/veo-3.0-fast', prompt: 'a lighthouse at dusk' } }))
      .createVideoGeneration;
    const done = await waitFor(
      'the generation to complete',
      async () => {
        const g = (await gqlData(gw, key, GET, { id: created.id })).videoGeneration;
        return g.status === 'COMPLETED' && g;
      },
      20_000,
      100,
    );

    const toAll = (await gqlData(gw, key, DELIVERIES, { endpointId: all })).webhookDeliveries.reverse();
    // Every status the generation went through, the initial QUEUED included (reported once the upstream accepted it).
    const statuses: string[] = done.transitions.map((t: { status: string }) => t.status);
    expect(toAll.map((d: any) => d.eventType)).toEqual(statuses.map((s) => `GENERATION_${s}`));
    const versions = toAll.map((d: any) => d.generationVersion);
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
    expect(new Set(versions).size).toBe(versions.length);
    expect(versions.at(-1)).toBe(done.version);
    // Nothing listens at port 9: the sender's attempts fail, and each delivery waits for its next one.
    for (const d of toAll) {
      expect(d).toMatchObject({ generationId: created.id, messageId: `msg_${created.id}_${d.generationVersion}`, status: 'PENDING' });
      expect(d.nextAttemptAt).not.toBeNull();
    }

    const toCompletedOnly = (await gqlData(gw, key, DELIVERIES, { endpointId: completedOnly })).webhookDeliveries;
    expect(toCompletedOnly.map((d: any) => [d.eventType, d.messageId])).toEqual([['GENERATION_COMPLETED', toAll.at(-1).messageId]]);
    expect((await gqlData(gw, key, DELIVERIES, { endpointId: disabled })).webhookDeliveries).toEqual([]);
    expect((await gqlData(gw, otherKey, DELIVERIES, { endpointId: neighbours })).webhookDeliveries).toEqual([]);
    expect((await gqlData(gw, otherKey, DELIVERIES, { generationId: created.id })).webhookDeliveries).toEqual([]);
    expect((await gqlData(gw, key, DELIVERIES, { generationId: created.id })).webhookDeliveries).toHaveLength(toAll.length + 1);

    // The payload's data is the generation as the API shows it, at the version it reports.
    const [completed] = await gw.app.store.listWebhookDeliveries({ owner: 'outbox-owner', endpointId: completedOnly, limit: 1 });
    expect(completed!.data).toEqual({
      id: done.id,
      status: 'COMPLETED',
      version: done.version,
      model: 'google/veo-3.0-fast',
      video: done.video,
      error: null,
      usage: done.usage,
    });
  }, 30_000);

  it('should report a cancellation, and nothing for changes that are not events', async () => {
    const key = await gw.keyFor('cancelling-owner');
    const all = await endpoint(key, {});
    const created = (await gqlData(gw, key, CREATE, { input: { model: 'google/veo-3.0-fast', prompt: 'a slow tide' } })).createVideoGeneration;
    await gqlData(gw, key, CANCEL, { id: created.id });
    // Cancelling again changes nothing, and so reports nothing.
    await gqlData(gw, key, CANCEL, { id: created.id });
    const events = (await gqlData(gw, key, DELIVERIES, { endpointId: all })).webhookDeliveries.map((d: any) => d.eventType);
    expect(events.at(0)).toBe('GENERATION_CANCELLED');
    expect(events.filter((e: string) => e === 'GENERATION_CANCELLED')).toHaveLength(1);
  });

  it('should refuse a page over 100, and an endpoint that is not yours', async () => {
    const key = await gw.keyFor('paging-owner');
    expect((await gql(gw, key, DELIVERIES, { first: 101 })).body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
    expect((await gql(gw, key, DELIVERIES, { endpointId: 'whe_unknown' })).body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });
});
