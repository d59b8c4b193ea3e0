import path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config';

/** The ConfigError `loadConfig` throws for this environment. */
function configError(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error(`expected loadConfig to reject ${JSON.stringify(env)}`);
}

describe('loadConfig', () => {
  it('has development defaults with an empty environment', () => {
    expect(loadConfig({})).toEqual({
      production: false,
      port: 4000,
      host: '127.0.0.1',
      dataDir: path.resolve('./data'),
      adminSocket: true,
      upstream: null,
      simulator: { port: 4010, timeScale: 1 },
      timeScale: 1,
      poll: { minIntervalMs: 2_000, maxIntervalMs: 60_000, concurrency: 8, leaseMs: 60_000 },
      deadlineMs: 900_000,
      deadlineLastLooks: 5,
      mediaUrls: { allowPrivate: false },
      webhooks: {
        allowHttp: false,
        allowPrivate: false,
        maxEndpointsPerOwner: 20,
        secretRotationGraceMs: 86_400_000,
        timeoutMs: 10_000,
        retryScheduleMs: [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000],
        concurrency: 16,
        maxInFlightPerEndpoint: 2,
        pollIntervalMs: 500,
        disableAfterFailingMs: 432_000_000,
      },
      media: {
        store: { kind: 'folder', dir: path.join(path.resolve('./data'), 'media') },
        maxBytes: 2 * 1024 ** 3,
        copyTimeoutMs: 600_000,
        copyAttempts: 6,
        copyRetryMs: 5_000,
        copyExpiryMarginMs: 60_000,
        copyConcurrency: 4,
        linkTtlSeconds: 3_600,
        linkSecret: null,
        publicBaseUrl: null,
        retentionMs: 0,
        retentionSweepMs: 3_600_000,
        retentionSweepBatch: 100,
      },
      createRecordRetryMs: 3_600_000,
      upstreamTimeouts: { createMs: 60_000, pollMs: 15_000 },
      http: {
        maxBodyBytes: 1024 * 1024,
        graphqlPath: '/graphql',
        headersTimeoutMs: 10_000,
        requestTimeoutMs: 30_000,
        keepAliveTimeoutMs: 5_000,
        maxConnections: null,
        writeTimeoutMs: 30_000,
        maxUnsentBytes: 8 * 1024 * 1024,
        trustProxyHops: 0,
      },
      graphql: { maxDocumentBytes: 32 * 1024, documentCacheBytes: 16 * 1024 * 1024, maxVariablesDepth: 16, maxListItems: 200 },
      anonymousRequestsPerMinute: 120,
      timing: { halfLifeSamples: 20, minSamples: 10, noticeTargetMs: 4_500, refreshMs: 15_000 },
      trustedDocuments: { mode: 'off', manifests: [expect.stringMatching(/persisted-documents\.json$/)] },
      apqCacheBytes: 4 * 1024 * 1024,
      httpSubscriptions: { heartbeatMs: 5_000 },
      introspection: true,
      playground: true,
      devApiKey: true,
      embeddedSharedBuffersMb: 16,
      embeddedReadCache: { owners: 200, readsPerOwner: 20 },
      logLevel: 'info',
      logFormat: 'auto',
      shutdownGraceMs: 10_000,
      databaseUrl: null,
      databasePoolSize: 10,
      redisUrl: null,
      redisCommandTimeoutMs: 500,
      instanceId: expect.stringMatching(new RegExp(`^.+-${process.pid}-[0-9a-f]{6}$`)),
      breaker: { failureThreshold: 5, halfOpenAfterMs: 30_000 },
      upstreamBudget: { ratePerSecond: 50, burst: 20, createWaitMs: 5_000 },
      quotas: { createsPerMinute: 10, maxInFlight: 10, requestsPerSecond: 20, maxSubscriptions: 100 },
      jwt: null,
      websocket: {
        connectionInitTimeoutMs: 3_000,
        keepAliveMs: 12_000,
        credentialRecheckMs: 30_000,
        maxBufferedBytes: 1024 * 1024,
        writeTimeoutMs: 10_000,
      },
      metricsAccess: 'open',
      cors: { origins: [] },
      apiKeyCacheMs: 5_000,
    });
  });

  it('reads the webhook settings', () => {
    expect(
      loadConfig({
        WEBHOOK_ALLOW_HTTP: 'true',
        WEBHOOK_ALLOW_PRIVATE: 'yes',
        WEBHOOK_MAX_ENDPOINTS_PER_OWNER: '3',
        WEBHOOK_SECRET_ROTATION_GRACE_SECONDS: '60',
        WEBHOOK_RETRY_SCHEDULE_SECONDS: ' 0.5, 60 ,3600',
      }).webhooks,
    ).toMatchObject({
      allowHttp: true,
      allowPrivate: true,
      maxEndpointsPerOwner: 3,
      secretRotationGraceMs: 60_000,
      retryScheduleMs: [500, 60_000, 3_600_000],
    });
    expect(() => loadConfig({ WEBHOOK_RETRY_SCHEDULE_SECONDS: '5,,10' })).toThrow(/WEBHOOK_RETRY_SCHEDULE_SECONDS/);
    expect(() => loadConfig({ WEBHOOK_RETRY_SCHEDULE_SECONDS: '-1' })).toThrow(/WEBHOOK_RETRY_SCHEDULE_SECONDS/);
    expect(() => loadConfig({ WEBHOOK_MAX_ENDPOINTS_PER_OWNER: '0' })).toThrow(/WEBHOOK_MAX_ENDPOINTS_PER_OWNER/);
  });

  it('reads the generation safety settings', () => {
    expect(loadConfig({ GENERATION_DEADLINE_LAST_LOOKS: '2', MEDIA_URL_ALLOW_PRIVATE: 'true', CREATE_RECORD_RETRY_SECONDS: '60' })).toMatchObject({
      deadlineLastLooks: 2,
      mediaUrls: { allowPrivate: true },
      createRecordRetryMs: 60_000,
    });
    expect(() => loadConfig({ GENERATION_DEADLINE_LAST_LOOKS: '0' })).toThrow(/GENERATION_DEADLINE_LAST_LOOKS/);
    expect(() => loadConfig({ MEDIA_URL_ALLOW_PRIVATE: 'maybe' })).toThrow(/MEDIA_URL_ALLOW_PRIVATE/);
  });

  it('takes PostgreSQL, Redis and the instance name for running several instances', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres://gateway:secret@db:5432/gateway',
      DATABASE_POOL_SIZE: '4',
      REDIS_URL: 'redis://redis:6379',
      INSTANCE_ID: 'gw-a',
    });
    expect(config).toMatchObject({
      databaseUrl: 'postgres://gateway:secret@db:5432/gateway',
      databasePoolSize: 4,
      redisUrl: 'redis://redis:6379',
      instanceId: 'gw-a',
    });
    expect(loadConfig({ DATABASE_URL: 'postgresql://db/gateway', REDIS_URL: 'rediss://redis:6380' }).redisUrl).toBe('rediss://redis:6380');
  });

  it('names a DATABASE_URL or REDIS_URL of the wrong kind', () => {
    expect(() => loadConfig({ DATABASE_URL: 'mysql://db/gateway' })).toThrow(/DATABASE_URL/);
    expect(() => loadConfig({ REDIS_URL: 'http://redis:6379' })).toThrow(/REDIS_URL/);
    expect(() => loadConfig({ DATABASE_POOL_SIZE: '0' })).toThrow(/DATABASE_POOL_SIZE/);
  });

  it('does not read process.env when given an environment', () => {
    const saved = process.env['PORT'];
    process.env['PORT'] = '1234';
    try {
      expect(loadConfig({}).port).toBe(4000);
    } finally {
      if (saved === undefined) delete process.env['PORT'];
      else process.env['PORT'] = saved;
    }
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', '-1'],
    ['PORT', '80.5'],
    ['AIMLAPI_BASE_URL', 'ftp://x'],
    ['AIMLAPI_BASE_URL', 'not a url'],
    ['LOG_LEVEL', 'loud'],
    ['POLL_CONCURRENCY', '0'],
    ['SIMULATOR_TIME_SCALE', '0'],
    ['UPSTREAM_TIME_SCALE', '-1'],
    ['DATA_IN_MEMORY', 'maybe'],
    ['INTROSPECTION', 'on'],
    ['GENERATION_DEADLINE_SECONDS', '5'],
  ])('rejects %s=%s with a ConfigError naming it', (name, value) => {
    const e = configError({ [name]: value });
    expect(e.name).toBe('ConfigError');
    expect(e.message).toContain(name);
  });

  it('names every bad variable at once', () => {
    const e = configError({ PORT: 'abc', LOG_LEVEL: 'loud' });
    expect(e.message).toContain('PORT');
    expect(e.message).toContain('LOG_LEVEL');
  });

  it('rejects POLL_MIN_INTERVAL_MS above POLL_MAX_INTERVAL_MS, naming both', () => {
    const e = configError({ POLL_MIN_INTERVAL_MS: '5000', POLL_MAX_INTERVAL_MS: '1000' });
    expect(e.message).toContain('POLL_MIN_INTERVAL_MS');
    expect(e.message).toContain('POLL_MAX_INTERVAL_MS');
    expect(loadConfig({ POLL_MIN_INTERVAL_MS: '1000', POLL_MAX_INTERVAL_MS: '1000' }).poll).toMatchObject({
      minIntervalMs: 1000,
      maxIntervalMs: 1000,
    });
  });

  it('a minimum above the default maximum is rejected too', () => {
    expect(configError({ POLL_MIN_INTERVAL_MS: '70000' }).message).toContain('POLL_MIN_INTERVAL_MS');
  });

  it('production turns introspection and the development key off', () => {
    const c = loadConfig({ NODE_ENV: 'production' });
    expect(c.production).toBe(true);
    expect(c.introspection).toBe(false);
    expect(c.devApiKey).toBe(false);
    expect(c.playground).toBe(false);
  });

  it('production may turn introspection on, but never the development key', () => {
    const c = loadConfig({ NODE_ENV: 'production', INTROSPECTION: 'true', DEV_API_KEY: 'true' });
    expect(c.introspection).toBe(true);
    expect(c.devApiKey).toBe(false);
  });

  it('outside production both can be turned off', () => {
    const c = loadConfig({ INTROSPECTION: 'false', DEV_API_KEY: '0' });
    expect(c.introspection).toBe(false);
    expect(c.devApiKey).toBe(false);
  });

  it('without an API key, the simulator stands in and its time scale applies', () => {
    const c = loadConfig({ SIMULATOR_TIME_SCALE: '0.01', UPSTREAM_TIME_SCALE: '0.5', SIMULATOR_PORT: '5010' });
    expect(c.upstream).toBeNull();
    expect(c.timeScale).toBe(0.01);
    expect(c.simulator).toEqual({ port: 5010, timeScale: 0.01 });
  });

  it('with AIMLAPI_API_KEY the upstream is set and timeScale is UPSTREAM_TIME_SCALE', () => {
    const c = loadConfig({
      AIMLAPI_API_KEY: 'sk-test',
      AIMLAPI_BASE_URL: 'http://127.0.0.1:4010///',
      AIMLAPI_LEGACY_PATHS: 'yes',
      SIMULATOR_TIME_SCALE: '0.01',
      UPSTREAM_TIME_SCALE: '0.5',
    });
    expect(c.upstream).toEqual({ apiKey: 'sk-test', baseUrl: 'http://127.0.0.1:4010', legacyPaths: true });
    expect(c.timeScale).toBe(0.5);
  });

  it('with AIMLAPI_API_KEY alone, the real upstream at time scale 1', () => {
    const c = loadConfig({ AIMLAPI_API_KEY: 'sk-test' });
    expect(c.upstream).toEqual({ apiKey: 'sk-test', baseUrl: 'https://api.aimlapi.com', legacyPaths: false });
    expect(c.timeScale).toBe(1);
  });

  it('empty strings count as unset', () => {
    const c = loadConfig({ PORT: '', AIMLAPI_API_KEY: '', LOG_LEVEL: '', NODE_ENV: '', INTROSPECTION: '', DATA_DIR: '' });
    expect(c).toEqual(loadConfig({}));
  });

  it('blank strings count as unset too (a blank PORT must not become port 0)', () => {
    expect(loadConfig({ PORT: ' ', POLL_CONCURRENCY: '\t', AIMLAPI_API_KEY: '  ' })).toEqual(loadConfig({}));
  });

  it('parses numbers and booleans', () => {
    const c = loadConfig({
      PORT: '0',
      HOST: '0.0.0.0',
      DATA_IN_MEMORY: '1',
      POLL_CONCURRENCY: '3',
      POLL_LEASE_MS: '5000',
      GENERATION_DEADLINE_SECONDS: '60',
      LOG_LEVEL: 'silent',
    });
    expect(c.port).toBe(0);
    expect(c.host).toBe('0.0.0.0');
    expect(c.dataDir).toBeUndefined();
    expect(c.poll.concurrency).toBe(3);
    expect(c.poll.leaseMs).toBe(5000);
    expect(c.deadlineMs).toBe(60_000);
    expect(c.logLevel).toBe('silent');
  });

  it('reads API_KEY_CACHE_MS (0 turns the cache off) and names a bad one', () => {
    expect(loadConfig({ API_KEY_CACHE_MS: '0' }).apiKeyCacheMs).toBe(0);
    expect(loadConfig({ API_KEY_CACHE_MS: '250' }).apiKeyCacheMs).toBe(250);
    expect(() => loadConfig({ API_KEY_CACHE_MS: '-1' })).toThrow(/API_KEY_CACHE_MS/);
  });

  it('turns the admin socket off with ADMIN_SOCKET=false, and refuses a value that is not a boolean', () => {
    expect(loadConfig({ ADMIN_SOCKET: 'false' }).adminSocket).toBe(false);
    expect(() => loadConfig({ ADMIN_SOCKET: 'sometimes' })).toThrow(/ADMIN_SOCKET/);
  });

  it('reads the WebSocket write limits and the Redis command timeout, and names a bad one', () => {
    const c = loadConfig({ WS_MAX_BUFFERED_BYTES: '262144', WS_WRITE_TIMEOUT_MS: '2500', REDIS_COMMAND_TIMEOUT_MS: '200' });
    expect(c.websocket).toMatchObject({ maxBufferedBytes: 262_144, writeTimeoutMs: 2_500 });
    expect(c.redisCommandTimeoutMs).toBe(200);
    expect(() => loadConfig({ WS_MAX_BUFFERED_BYTES: '1000' })).toThrow(/WS_MAX_BUFFERED_BYTES/);
    expect(() => loadConfig({ WS_WRITE_TIMEOUT_MS: '0' })).toThrow(/WS_WRITE_TIMEOUT_MS/);
  });

  it('guards /metrics: a METRICS_TOKEN, else open outside production and refused in production', () => {
    expect(loadConfig({ METRICS_TOKEN: 'a-scraper-token-0123' }).metricsAccess).toEqual({ token: 'a-scraper-token-0123' });
    expect(loadConfig({ NODE_ENV: 'production', METRICS_TOKEN: 'a-scraper-token-0123' }).metricsAccess).toEqual({ token: 'a-scraper-token-0123' });
    expect(loadConfig({}).metricsAccess).toBe('open');
    expect(loadConfig({ NODE_ENV: 'production' }).metricsAccess).toBe('refused');
    expect(() => loadConfig({ METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN/);
  });

  it('resolves DATA_DIR to an absolute path', () => {
    expect(loadConfig({ DATA_DIR: 'some/where' }).dataDir).toBe(path.resolve('some/where'));
  });

  it('reads the breaker, quota and JWT settings, and names a bad one', () => {
    const c = loadConfig({
      UPSTREAM_BREAKER_FAILURES: '0',
      UPSTREAM_BREAKER_HALF_OPEN_MS: '1500',
      QUOTA_CREATES_PER_MINUTE: '0',
      QUOTA_MAX_IN_FLIGHT: '3',
      QUOTA_REQUESTS_PER_SECOND: '7',
      JWT_JWKS_URL: 'https://id.example.test/jwks.json',
      JWT_AUDIENCE: 'gw',
      JWT_OWNER_CLAIM: 'email',
    });
    expect(c.breaker).toEqual({ failureThreshold: 0, halfOpenAfterMs: 1500 });
    expect(c.quotas).toEqual({ createsPerMinute: 0, maxInFlight: 3, requestsPerSecond: 7, maxSubscriptions: 100 });
    expect(c.jwt).toEqual({ secret: null, jwksUrl: 'https://id.example.test/jwks.json', issuer: null, audience: 'gw', ownerClaim: 'email' });
    expect(configError({ QUOTA_MAX_IN_FLIGHT: '-1' }).message).toContain('QUOTA_MAX_IN_FLIGHT');
    expect(configError({ JWT_SECRET: 'short' }).message).toContain('JWT_SECRET');
    expect(configError({ JWT_SECRET: 'x'.repeat(32), JWT_JWKS_URL: 'https://id.example.test/jwks.json' }).message).toContain('not both');
    expect(configError({ JWT_ISSUER: 'https://id.example.test' }).message).toContain('JWT_ISSUER');
    expect(configError({ JWT_SECRET: 'short-secret-value' }).message).not.toContain('short-secret-value');
  });

  it('takes CORS origins, normalised, and names CORS_ORIGINS when one is not an origin', () => {
    expect(loadConfig({ CORS_ORIGINS: 'https://App.Example.com:443, http://localhost:5173' }).cors).toEqual({
      origins: ['https://app.example.com', 'http://localhost:5173'],
    });
    expect(loadConfig({ CORS_ORIGINS: '*' }).cors).toEqual({ origins: '*' });
    expect(loadConfig({ CORS_ORIGINS: ' ' }).cors).toEqual({ origins: [] });
    const withPassword = configError({ CORS_ORIGINS: 'https://ops:hunter2@app.example.com' });
    expect(withPassword.message).toContain('user name');
    expect(withPassword.message).not.toContain('hunter2');
    const bad = configError({ CORS_ORIGINS: 'https://app.example.com/app' });
    expect(bad.message).toContain('CORS_ORIGINS');
    expect(bad.message).toContain('path');
  });

  it('never puts the API key in the error message', () => {
    const e = configError({ AIMLAPI_API_KEY: 'sk-secret-value', PORT: 'abc' });
    expect(e.message).not.toContain('sk-secret-value');
  });

  it('says what a bad value should be, one line per setting, without echoing the value (a URL may hold a password)', () => {
    const e = configError({
      DATABASE_URL: 'mysql://gateway:hunter2-password@db/gateway',
      REDIS_URL: 'http://:redis-password@cache:6379',
      LOG_LEVEL: 'loud-level',
      MEDIA_RETENTION_DAYS: 'Infinity',
    });
    expect(e.message.split('\n').slice(1)).toEqual([
      '  LOG_LEVEL: expected ("fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent")',
      '  DATABASE_URL: must be a URL (postgres://…)',
      '  REDIS_URL: must be a URL (redis(s)://…)',
      '  MEDIA_RETENTION_DAYS: must be a number',
    ]);
  });

  describe('media store settings', () => {
    it('keeps videos in DATA_DIR/media, a temporary folder in memory, or a bucket; refuses s3 without a bucket', () => {
      expect(loadConfig({ DATA_DIR: '/srv/gw' }).media!.store).toEqual({ kind: 'folder', dir: '/srv/gw/media' });
      expect(loadConfig({ DATA_IN_MEMORY: 'true' }).media!.store).toEqual({ kind: 'folder', dir: null });
      expect(loadConfig({ MEDIA_STORE: 'off' }).media).toBeNull();
      expect(
        loadConfig({ MEDIA_STORE: 's3', MEDIA_S3_BUCKET: 'b', MEDIA_S3_ENDPOINT: 'http://127.0.0.1:9000', MEDIA_S3_FORCE_PATH_STYLE: 'true' }).media!
          .store,
      ).toEqual({
        kind: 's3',
        bucket: 'b',
        prefix: '',
        region: 'us-east-1',
        endpoint: 'http://127.0.0.1:9000',
        forcePathStyle: true,
      });
      expect(() => loadConfig({ MEDIA_STORE: 's3' })).toThrow('MEDIA_S3_BUCKET: MEDIA_STORE=s3 needs a bucket');
      expect(() => loadConfig({ MEDIA_STORE: 'tape' })).toThrow('MEDIA_STORE');
    });

    it('takes MEDIA_RETENTION_DAYS in days, fractions allowed, and refuses a negative one', () => {
      expect(loadConfig({ MEDIA_RETENTION_DAYS: '0.5', MEDIA_RETENTION_SWEEP_SECONDS: '0.2' }).media).toMatchObject({
        retentionMs: 43_200_000,
        retentionSweepMs: 200,
      });
      expect(() => loadConfig({ MEDIA_RETENTION_DAYS: '-1' })).toThrow('MEDIA_RETENTION_DAYS');
    });

    it('takes PUBLIC_BASE_URL without its trailing slash, and refuses one that is not an http(s) URL', () => {
      expect(loadConfig({ PUBLIC_BASE_URL: 'https://videos.example.com/gw/' }).media!.publicBaseUrl).toBe('https://videos.example.com/gw');
      expect(loadConfig({}).media!.publicBaseUrl).toBeNull();
      expect(() => loadConfig({ PUBLIC_BASE_URL: 'videos.example.com' })).toThrow('PUBLIC_BASE_URL');
      expect(() => loadConfig({ PUBLIC_BASE_URL: 'ftp://videos.example.com' })).toThrow('PUBLIC_BASE_URL');
    });
  });
});
