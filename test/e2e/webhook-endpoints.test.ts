/**
 * Webhook endpoints through the GraphQL API: create (secret shown once), list, read, change, disable
 * and enable, rotate, delete; the URL policy (https only, no private targets) and the per-owner cap.
 */
import { Webhook } from 'standardwebhooks';
import { gql, gqlData, useGateway } from '../helpers/gateway';
import { webhookEndpointRecord } from '../helpers/webhook-endpoint-record';

const ENDPOINT_FIELDS = 'id url description events enabled disabledReason previousSecretExpiresAt createdAt updatedAt';
const CREATE = `mutation Create($input: CreateWebhookEndpointInput!) {
  createWebhookEndpoint(input: $input) { secret endpoint { ${ENDPOINT_FIELDS} } }
}`;
const LIST = `query { webhookEndpoints { ${ENDPOINT_FIELDS} } }`;
const GET = `query Get($id: ID!) { webhookEndpoint(id: $id) { ${ENDPOINT_FIELDS} } }`;
const UPDATE = `mutation Update($id: ID!, $input: UpdateWebhookEndpointInput!) { updateWebhookEndpoint(id: $id, input: $input) { ${ENDPOINT_FIELDS} } }`;
const ROTATE = `mutation Rotate($id: ID!) { rotateWebhookEndpointSecret(id: $id) { secret endpoint { ${ENDPOINT_FIELDS} } } }`;
const DELETE = `mutation Delete($id: ID!) { deleteWebhookEndpoint(id: $id) }`;

/** The secret works with the library receivers verify with: a signature made with it verifies. */
function expectUsableSecret(secret: string): void {
  expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
  const hook = new Webhook(secret);
  const payload = '{"type":"generation.completed"}';
  const at = new Date();
  const headers = {
    'webhook-id': 'msg_1',
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': hook.sign('msg_1', at, payload),
  };
  expect(hook.verify(payload, headers)).toEqual({ type: 'generation.completed' });
}

describe('webhook endpoints (http and private targets allowed, as in tests and private networks)', () => {
  const gw = useGateway({ env: { WEBHOOK_ALLOW_HTTP: 'true', WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_MAX_ENDPOINTS_PER_OWNER: '3' } });

  it('should create an endpoint, show its secret once, and manage it to deletion', async () => {
    const key = await gw.keyFor('webhook-owner');
    const created = (
      await gqlData(gw, key, CREATE, {
        input: {
          url: 'http://127.0.0.1:9/hooks',
          description: '  job runner  ',
          events: ['GENERATION_COMPLETED', 'GENERATION_FAILED', 'GENERATION_COMPLETED'],
        },
      })
    ).createWebhookEndpoint;
    expectUsableSecret(created.secret);
    const endpoint = created.endpoint;
    expect(endpoint).toMatchObject({
      url: 'http://127.0.0.1:9/hooks',
      description: 'job runner',
      events: ['GENERATION_COMPLETED', 'GENERATION_FAILED'],
      enabled: true,
      disabledReason: null,
      previousSecretExpiresAt: null,
    });
    expect(endpoint.id).toMatch(/^whe_/);

    // The secret is not part of the endpoint type: no query can read it back.
    const secretField = await gql(gw, key, `query { webhookEndpoints { id secret } }`);
    expect(secretField.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect((await gqlData(gw, key, LIST)).webhookEndpoints).toEqual([endpoint]);
    expect(JSON.stringify(await gqlData(gw, key, LIST))).not.toContain(created.secret);

    const changed = (await gqlData(gw, key, UPDATE, { id: endpoint.id, input: { url: 'http://127.0.0.1:9/v2', events: null, description: null } }))
      .updateWebhookEndpoint;
    expect(changed).toMatchObject({ url: 'http://127.0.0.1:9/v2', events: null, description: null, enabled: true });

    const disabled = (await gqlData(gw, key, UPDATE, { id: endpoint.id, input: { enabled: false } })).updateWebhookEndpoint;
    expect(disabled).toMatchObject({ enabled: false, disabledReason: 'Disabled by its owner', url: 'http://127.0.0.1:9/v2' });
    const enabled = (await gqlData(gw, key, UPDATE, { id: endpoint.id, input: { enabled: true } })).updateWebhookEndpoint;
    expect(enabled).toMatchObject({ enabled: true, disabledReason: null });

    const rotated = (await gqlData(gw, key, ROTATE, { id: endpoint.id })).rotateWebhookEndpointSecret;
    expectUsableSecret(rotated.secret);
    expect(rotated.secret).not.toBe(created.secret);
    // The old secret keeps signing beside the new one for the grace period (a day by default).
    const graceEnds = Date.parse(rotated.endpoint.previousSecretExpiresAt);
    expect(graceEnds - Date.now()).toBeGreaterThan(86_400_000 - 60_000);
    expect(graceEnds - Date.now()).toBeLessThanOrEqual(86_400_000);

    expect((await gqlData(gw, key, DELETE, { id: endpoint.id })).deleteWebhookEndpoint).toBe(endpoint.id);
    expect((await gql(gw, key, GET, { id: endpoint.id })).body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect((await gql(gw, key, DELETE, { id: endpoint.id })).body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect((await gqlData(gw, key, LIST)).webhookEndpoints).toEqual([]);
  });

  it('should refuse bad input with the field, and keep the endpoint as it was', async () => {
    const key = await gw.keyFor('careful-owner');
    const { endpoint } = (await gqlData(gw, key, CREATE, { input: { url: 'http://127.0.0.1:9/a' } })).createWebhookEndpoint;
    const refusals: Array<[Record<string, unknown>, string]> = [
      [{ url: 'ftp://127.0.0.1/' }, 'input.url'],
      [{ url: null }, 'input.url'],
      [{ enabled: null }, 'input.enabled'],
      [{ events: [] }, 'input.events'],
      [{ description: 'x'.repeat(501) }, 'input.description'],
    ];
    for (const [input, field] of refusals) {
      const res = await gql(gw, key, UPDATE, { id: endpoint.id, input });
      expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
    const unknownEvent = await gql(gw, key, UPDATE, { id: endpoint.id, input: { events: ['GENERATION_EXPLODED'] } });
    expect(unknownEvent.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await gqlData(gw, key, GET, { id: endpoint.id })).webhookEndpoint).toEqual(endpoint);
  });

  it('should cap endpoints per owner (WEBHOOK_MAX_ENDPOINTS_PER_OWNER) without touching other owners', async () => {
    const key = await gw.keyFor('busy-owner');
    for (let i = 0; i < 3; i++) await gqlData(gw, key, CREATE, { input: { url: `http://127.0.0.1:9/${i}` } });
    const refused = await gql(gw, key, CREATE, { input: { url: 'http://127.0.0.1:9/3' } });
    expect(refused.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', limit: 3 });
    expect((await gqlData(gw, key, LIST)).webhookEndpoints).toHaveLength(3);
    const other = await gw.keyFor('quiet-owner');
    await expect(gqlData(gw, other, CREATE, { input: { url: 'http://127.0.0.1:9/other' } })).resolves.toBeDefined();
  });

  it('should ask for a key', async () => {
    const res = await gql(gw, null, LIST);
    expect(res.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});

describe('webhook endpoint URLs under the default policy (https, public hosts only)', () => {
  const gw = useGateway();

  it.each([
    'http://hooks.example.com/', // http is off by default
    'https://127.0.0.1/hook',
    'https://localhost:8443/hook',
    'https://[::1]/hook',
    'https://0x7f000001/hook',
    'https://169.254.169.254/latest/meta-data/',
    'https://192.168.1.10/hook',
    'https://user:secret@hooks.example.com/',
    'https://no-such-host.invalid/hook', // does not resolve
  ])('should refuse %s with BAD_USER_INPUT on input.url and store nothing', async (url) => {
    const key = await gw.keyFor('ssrf-owner');
    const res = await gql(gw, key, CREATE, { input: { url } });
    expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.url' });
    expect(res.body.data ?? null).toBeNull();
    expect((await gqlData(gw, key, LIST)).webhookEndpoints).toEqual([]);
  });

  it('should refuse a per-generation webhook to a name that resolves to loopback, creating nothing', async () => {
    const key = await gw.keyFor('ssrf-generation-owner');
    const res = await gql(gw, key, `mutation C($input: CreateVideoGenerationInput!) { createVideoGeneration(input: $input) { id } }`, {
      input: { model: 'google/veo-3.0-fast', prompt: 'a call home', webhook: { url: 'https://localhost:8443/hook' } },
    });
    expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.webhook.url' });
    expect((await gqlData(gw, key, `query { videoGenerations(first: 5) { nodes { id } } }`)).videoGenerations.nodes).toEqual([]);
  });

  it('should refuse a private target on update too, keeping the URL', async () => {
    // Registered through the store: under this policy no public https host is reachable from the test.
    const key = await gw.keyFor('moving-owner');
    await gw.app.store.insertWebhookEndpoint(
      webhookEndpointRecord({ id: 'whe_test_public', owner: 'moving-owner', url: 'https://hooks.example.com/' }),
      20,
    );
    const res = await gql(gw, key, UPDATE, { id: 'whe_test_public', input: { url: 'https://10.0.0.1/' } });
    expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.url' });
    expect((await gqlData(gw, key, GET, { id: 'whe_test_public' })).webhookEndpoint.url).toBe('https://hooks.example.com/');
  });
});
