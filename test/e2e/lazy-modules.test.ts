/**
 * Optional modules are loaded only by the deployments that use them (issue 14's memory): the built
 * gateway runs with a preload that lists every module file it loads (helpers/loaded-modules.js), and
 * the list must not hold a package the configuration does not use. Needs the build in dist/.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startGatewayProcess } from '../helpers/services';

jest.setTimeout(120_000);

const PRELOAD = path.resolve(__dirname, '../helpers/loaded-modules.js');

/** The packages that only some deployments use, and which deployments. */
const REDIS = ['ioredis', '@graphql-yoga/redis-event-target'];
const POSTGRESQL = ['pg', 'pg-pool', 'pg-protocol'];
const S3 = ['@aws-sdk/client-s3', '@aws-sdk/lib-storage', '@aws-sdk/s3-request-presigner'];
const SSE = ['graphql-sse'];
/** Pretty log lines are for a person at a terminal; a gateway whose output is piped logs JSON. */
const PRETTY_LOGS = ['pino-pretty'];
/** The HTTP client of the upstream, webhooks and video copies: loaded at the first request it sends. */
const HTTP_CLIENT = ['undici'];

/** Starts the built gateway with `env`, runs `use` against it, stops it, and returns the files it loaded. */
async function loadedModules(env: Record<string, string>, use: (url: string, output: () => string) => Promise<void> = async () => {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'veo-lazy-'));
  const file = path.join(dir, 'loaded.txt');
  try {
    const gateway = await startGatewayProcess(
      'lazy',
      { NODE_OPTIONS: `--require ${PRELOAD}`, LOADED_MODULES_FILE: file, ...env },
      { startTimeoutMs: 90_000 },
    );
    try {
      await use(gateway.url, () => gateway.output());
    } finally {
      await gateway.stop();
    }
    return readFileSync(file, 'utf8').split('\n').filter(Boolean);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The packages of `names` that `files` hold a file of. */
function packagesIn(files: readonly string[], names: readonly string[]): string[] {
  return names.filter((name) => files.some((f) => f.includes(`/node_modules/${name}/`)));
}

describe('optional modules', () => {
  it('the embedded default with the simulator loads neither Redis, pg, the S3 SDK, graphql-sse, pino-pretty nor, with nothing sent, undici', async () => {
    const files = await loadedModules({ DATA_IN_MEMORY: 'true', SIMULATOR_PORT: '0', MEDIA_STORE: 'folder' });
    // The list is real: what this deployment does use is in it.
    expect(packagesIn(files, ['@apollo/server', 'graphql-ws'])).toEqual(['@apollo/server', 'graphql-ws']);
    expect(files.some((f) => f.endsWith(`${path.sep}dist${path.sep}simulator${path.sep}server.js`))).toBe(true);
    expect(packagesIn(files, [...REDIS, ...POSTGRESQL, ...S3, ...SSE, ...PRETTY_LOGS, ...HTTP_CLIENT])).toEqual([]);
  });

  it('with an upstream key the simulator is not loaded; graphql-sse is, at the first SSE subscription, and undici at the first create', async () => {
    const files = await loadedModules(
      { DATA_IN_MEMORY: 'true', AIMLAPI_API_KEY: 'test-upstream-key', AIMLAPI_BASE_URL: 'http://127.0.0.1:9', DEV_API_KEY: 'true' },
      async (url, output) => {
        const key = /Development key \(shown once, owner "dev"\): (\S+)/.exec(output())?.[1];
        expect(key).toBeDefined();
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${key}` },
          body: JSON.stringify({ query: 'subscription { videoGenerationUpdated(id: "no-such-generation") { id } }' }),
          signal: AbortSignal.timeout(30_000),
        });
        expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
        expect(await res.text()).toContain('NOT_FOUND');
        // Nothing listens at the upstream's address, so the create fails to connect: the client was loaded to try.
        const create = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
          body: JSON.stringify({
            query: 'mutation { createVideoGeneration(input: { model: "google/veo-3.1-t2v", prompt: "a lighthouse" }) { id } }',
          }),
          signal: AbortSignal.timeout(30_000),
        });
        const body = (await create.json()) as { errors?: { extensions?: { code?: string } }[] };
        expect(body.errors?.[0]?.extensions?.code).toBe('UPSTREAM_UNAVAILABLE');
      },
    );
    expect(files.filter((f) => f.includes(`${path.sep}dist${path.sep}simulator${path.sep}`))).toEqual([]);
    expect(packagesIn(files, [...SSE, ...HTTP_CLIENT])).toEqual([...SSE, ...HTTP_CLIENT]);
    expect(packagesIn(files, [...REDIS, ...POSTGRESQL, ...S3, ...PRETTY_LOGS])).toEqual([]);
  });
});
