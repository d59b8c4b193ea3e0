/**
 * An S3-protocol server for the bucket tests: s3rver (no S3 server can be installed on our
 * machines), on 127.0.0.1 and a free port, with its files in a temporary folder. `useS3Server()` starts
 * one for the enclosing `describe`, with the gateway settings that store copies in it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  on(event: 'event', listener: (e: { Records: { eventName: string; s3: { object: { key: string } } }[] }) => void): void;
}
// s3rver ships no types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const S3rver = require('s3rver') as new (options: Record<string, unknown>) => S3rverInstance;

/** s3rver's fixed credentials. */
const ACCESS_KEY_ID = 'S3RVER';
const SECRET_ACCESS_KEY = 'S3RVER';

export interface S3Server {
  endpoint: string;
  bucket: string;
  /** The client settings that reach it (s3rver's fixed credentials, path-style). */
  client: { endpoint: string; region: string; forcePathStyle: true; credentials: { accessKeyId: string; secretAccessKey: string } };
  /**
   * The gateway settings that store copies in this bucket (MEDIA_STORE=s3 and MEDIA_S3_*, with `prefix`
   * when given), and s3rver's credentials as the AWS SDK's own chain reads them (config.ts names no
   * credentials): a gateway process gets them in its environment; `useS3Server()` also sets them in
   * this process's, for a gateway started in it.
   */
  gatewayEnv(prefix?: string): Record<string, string>;
  /** The key of every object written so far (PUT, POST or copy), once per write: how often each was uploaded. */
  writes(): string[];
  stop(): Promise<void>;
}

export async function startS3Server(bucket = 'videos'): Promise<S3Server> {
  const directory = mkdtempSync(path.join(tmpdir(), 'vgw-s3rver-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: [{ name: bucket, configs: [] }] });
  const writes: string[] = [];
  server.on('event', (e) => {
    for (const r of e.Records) if (r.eventName.startsWith('ObjectCreated:')) writes.push(r.s3.object.key);
  });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    bucket,
    client: { endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY } },
    gatewayEnv: (prefix) => ({
      MEDIA_STORE: 's3',
      MEDIA_S3_BUCKET: bucket,
      MEDIA_S3_ENDPOINT: endpoint,
      MEDIA_S3_FORCE_PATH_STYLE: 'true',
      ...(prefix === undefined ? {} : { MEDIA_S3_PREFIX: prefix }),
      AWS_ACCESS_KEY_ID: ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY,
    }),
    writes: () => [...writes],
    stop: async () => {
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

/**
 * An S3 server for the tests of the enclosing `describe` (or file): started in `beforeAll`, with
 * s3rver's credentials in `process.env` for a gateway started in this process (the SDK's chain reads
 * them there), and stopped in `afterAll`, the variables as they were. The handle is filled once that
 * `beforeAll` has run, so read it in tests and in hooks declared after this call (as for `useGateway`).
 */
export function useS3Server(bucket?: string): S3Server {
  let server: S3Server | null = null;
  const started = (): S3Server => {
    if (!server) throw new Error('the server of useS3Server() is not started: read it in a test, or in a hook declared after useS3Server()');
    return server;
  };
  const saved = { AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY };
  beforeAll(async () => {
    server = await startS3Server(bucket);
    process.env.AWS_ACCESS_KEY_ID = ACCESS_KEY_ID;
    process.env.AWS_SECRET_ACCESS_KEY = SECRET_ACCESS_KEY;
  }, 60_000);
  afterAll(async () => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await server?.stop();
  }, 60_000);
  return {
    get endpoint() {
      return started().endpoint;
    },
    get bucket() {
      return started().bucket;
    },
    get client() {
      return started().client;
    },
    gatewayEnv: (prefix) => started().gatewayEnv(prefix),
    writes: () => started().writes(),
    stop: () => started().stop(),
  };
}
