/**
 * All configuration, read from the environment in one place and validated at start-up.
 * A bad value fails fast with the variable's name; nothing else in the code reads `process.env`.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import * as v from 'valibot';
import { parseCorsOrigins, type CorsOrigins } from './cors-origins';

// The builders every setting is written with (scripts/config-doc.mjs reads them to describe each one).
// Messages say what is accepted and never echo the value, which may be a secret.
// A default (`v.optional(schema, default)`) goes through its schema too, so numbers also take numbers.
const bool = v.pipe(
  v.picklist(['true', 'false', '1', '0', 'yes', 'no'], 'must be true or false (or 1/0, yes/no)'),
  v.transform((x) => x === 'true' || x === '1' || x === 'yes'),
);
const number = (min: number, max: number) =>
  v.pipe(
    v.union([v.string(), v.number()]),
    v.toNumber('must be a number'),
    v.finite('must be a number'),
    v.minValue(min, `must be at least ${min}`),
    v.maxValue(max, `must be at most ${max}`),
  );
const int = (min: number, max: number) => v.pipe(number(min, max), v.integer('must be an integer'));
const positive = v.pipe(number(0, 1_000_000), v.gtValue(0, 'must be greater than 0'));
/** A URL whose scheme (without its colon) matches `protocol`. */
const url = (protocol: RegExp) =>
  v.pipe(
    v.string(),
    v.check(
      (value) => URL.canParse(value) && protocol.test(new URL(value).protocol.slice(0, -1)),
      `must be a URL (${protocol.source
        .replace(/^\^|\$$/g, '')
        .replace('(ql)?', '')
        .replace('s?', '(s)')}://…)`,
    ),
  );

const schema = v.object({
  /** `production` turns introspection, the playground and the development key off (INTROSPECTION and PLAYGROUND can turn theirs back on) and refuses `/metrics` without METRICS_TOKEN. */
  NODE_ENV: v.optional(v.string(), 'development'),
  /** HTTP and WebSocket port. 0 picks a free port. */
  PORT: v.optional(int(0, 65_535), 4000),
  /** Interface to listen on. The container image sets 0.0.0.0. */
  HOST: v.optional(v.string(), '127.0.0.1'),
  /** Where the embedded store (and the simulator's job file) live. */
  DATA_DIR: v.optional(v.string(), './data'),
  /** Keep the embedded store in memory only (tests, throwaway runs). */
  DATA_IN_MEMORY: v.optional(bool, 'false'),
  /**
   * PostgreSQL's shared_buffers (MB) for the embedded store in DATA_DIR. Default 16 (MB). PGlite's own
   * default, 128 MB, stays in the process's WASM memory once touched and was most of its idle RSS; pages
   * beyond it are read from the data folder through the OS's page cache. Not applied with DATA_IN_MEMORY
   * (the in-memory store loads a saved template and keeps its settings).
   */
  EMBEDDED_SHARED_BUFFERS_MB: v.optional(int(1, 4096), 16),
  /**
   * Owners whose list pages and usage reports the embedded store keeps in memory until one of their
   * generations changes (the least recently read owner goes first). Default 200; 0 turns the cache off.
   * Unused with DATABASE_URL: other instances write to PostgreSQL, so a kept read could be stale.
   */
  EMBEDDED_READ_CACHE_OWNERS: v.optional(int(0, 1_000_000), 200),
  /**
   * Distinct reads (a list page with its filters and cursor, or a usage report) kept per owner by that
   * cache; the oldest goes first. Default 20. A full page (100 ids and versions) takes about 10 KB, so
   * the defaults hold at most ~40 MB.
   */
  EMBEDDED_READ_CACHE_READS_PER_OWNER: v.optional(int(1, 1000), 20),
  /**
   * With the embedded store in DATA_DIR, listen on the Unix socket DATA_DIR/admin.sock (mode 0600,
   * never on the network) so that `npm run keys` works while the gateway runs. Default true.
   */
  ADMIN_SOCKET: v.optional(bool, 'true'),
  /** The AI/ML API key. When unset, an in-process simulator stands in for the upstream. */
  AIMLAPI_API_KEY: v.optional(v.string()),
  /** Upstream base URL. */
  AIMLAPI_BASE_URL: v.optional(url(/^https?$/), 'https://api.aimlapi.com'),
  /** Prefer the legacy `/v2/generate/video/google/generation` path for the models the catalogue lists there (`legacyPath`). Default false. */
  AIMLAPI_LEGACY_PATHS: v.optional(bool, 'false'),
  /** Port of the in-process simulator (fixed by default so video URLs survive a restart). */
  SIMULATOR_PORT: v.optional(int(0, 65_535), 4010),
  /**
   * Multiplies simulated generation times, and the poller's expectations with them (0.01 makes a
   * 2-minute job take 1.2 s). Only used with the simulator; the real upstream runs at 1.
   */
  SIMULATOR_TIME_SCALE: v.optional(positive, 1),
  /**
   * Multiplies the poller's expectations of upstream times when talking to a time-scaled simulator
   * over AIMLAPI_BASE_URL (tests, benchmarks). Leave at 1 for the real upstream.
   */
  UPSTREAM_TIME_SCALE: v.optional(positive, 1),
  /** Shortest gap between two polls of one generation, in ms (at time scale 1). */
  POLL_MIN_INTERVAL_MS: v.optional(int(10, 600_000), 2_000),
  /** Longest gap between two polls of one generation, in ms (at time scale 1). */
  POLL_MAX_INTERVAL_MS: v.optional(int(10, 3_600_000), 60_000),
  /** Upstream status polls in flight at once, across all generations. */
  POLL_CONCURRENCY: v.optional(int(1, 1_000), 8),
  /** How long a claimed generation stays leased to this instance, in ms. */
  POLL_LEASE_MS: v.optional(int(1_000, 3_600_000), 60_000),
  /** A generation still pending after this many seconds (at time scale 1) ends TIMED_OUT. */
  GENERATION_DEADLINE_SECONDS: v.optional(int(10, 86_400), 900),
  /**
   * The completion-notice delay the poll schedule aims at, in ms (at time scale 1): it plans the
   * fewest polls that notice 97 % of completions within this long, given the learned times.
   */
  POLL_NOTICE_TARGET_MS: v.optional(int(100, 600_000), 4_500),
  /**
   * Finished generations (of one model, clip length and resolution; recency-weighted) from which the
   * learned time distribution replaces the catalogue's stated time entirely; fewer blend the two. Times the
   * stated one says never happen (past 1.6× its range) count as a plainly wrong figure: 3 of them replace it.
   */
  TIMING_MIN_SAMPLES: v.optional(int(1, 10_000), 10),
  /** Finished generations after which one counts half in the learned times: how fast an old regime fades. */
  TIMING_HALF_LIFE_SAMPLES: v.optional(int(1, 100_000), 20),
  /**
   * How often each instance re-reads the learned times the others write to PostgreSQL, and the least time
   * between two rebuilds of one model's learned distribution (each makes a new poll plan), in ms.
   */
  TIMING_REFRESH_MS: v.optional(int(100, 3_600_000), 15_000),
  /**
   * Past its deadline a generation is polled once more before it ends TIMED_OUT (the job may have
   * finished while the gateway was down). When that last look fails, it is retried; after this many
   * failed polls in a row it ends TIMED_OUT without an answer. Count; default 5.
   */
  GENERATION_DEADLINE_LAST_LOOKS: v.optional(int(1, 1_000), 5),
  /**
   * When the store fails just after the upstream accepted a create, its answer is kept in memory and
   * the write retried for this long, in seconds (default 3600); the client is never told to retry.
   */
  CREATE_RECORD_RETRY_SECONDS: v.optional(int(1, 604_800), 3_600),
  /** Timeout for the paid create call, in ms: past it the outcome is unknown and the generation FAILED. */
  UPSTREAM_CREATE_TIMEOUT_MS: v.optional(int(100, 600_000), 60_000),
  /** Timeout for one status poll attempt, in ms. */
  UPSTREAM_POLL_TIMEOUT_MS: v.optional(int(100, 600_000), 15_000),
  /**
   * Accept media URLs (imageUrl, videoUrl…) that point at loopback, private, link-local or internal
   * hosts. Default false: the upstream fetches them, and such URLs aim it at networks it must not reach.
   * Turn on only for tests or a private deployment whose upstream fetches from a private network.
   */
  MEDIA_URL_ALLOW_PRIVATE: v.optional(bool, 'false'),
  /** Accept plain http webhook endpoint URLs. Default false (https only); for tests and private networks. */
  WEBHOOK_ALLOW_HTTP: v.optional(bool, 'false'),
  /**
   * Accept webhook endpoints that are, or resolve to, loopback, private, link-local or metadata
   * addresses. Default false: the gateway itself calls them, from inside its network. Checked at
   * registration and again before every delivery.
   */
  WEBHOOK_ALLOW_PRIVATE: v.optional(bool, 'false'),
  /** Most webhook endpoints one owner may register. Default 20. */
  WEBHOOK_MAX_ENDPOINTS_PER_OWNER: v.optional(int(1, 10_000), 20),
  /** Longest wait for one webhook attempt (connect, answer and the start of its body), in ms. Default 10000. */
  WEBHOOK_TIMEOUT_MS: v.optional(int(100, 120_000), 10_000),
  /**
   * Waits between webhook attempts, in seconds, comma-separated: after the first failed attempt the
   * first wait, and so on; each wait is varied by ±20 % (jitter) so that retries to one receiver
   * spread out. When the list runs out the delivery is FAILED. Default
   * `5,300,1800,7200,18000,36000,36000`: 8 attempts over about 27.5 hours.
   */
  WEBHOOK_RETRY_SCHEDULE_SECONDS: v.optional(
    v.pipe(v.string(), v.regex(/^\s*\d+(\.\d+)?(\s*,\s*\d+(\.\d+)?)*\s*$/, 'a comma-separated list of seconds, e.g. 5,300,1800')),
    '5,300,1800,7200,18000,36000,36000',
  ),
  /**
   * An endpoint whose attempts have failed for this long, with no success in between, is disabled (its
   * `disabledReason` says so), in seconds. Default 432000 (5 days); 0 = never.
   */
  WEBHOOK_DISABLE_AFTER_FAILING_SECONDS: v.optional(int(0, 365 * 86_400), 432_000),
  /** Webhook attempts in flight at once per instance; a slow endpoint holds one for at most WEBHOOK_TIMEOUT_MS. Default 16. */
  WEBHOOK_CONCURRENCY: v.optional(int(1, 1_000), 16),
  /**
   * Webhook attempts in flight at once to one endpoint (or one per-generation webhook URL), counted over
   * every instance's claims; its other deliveries wait, so that a slow or dead endpoint cannot take all
   * of WEBHOOK_CONCURRENCY from the others. Two instances claiming at the same moment may each reach it. Default 2.
   */
  WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT: v.optional(int(1, 1_000), 2),
  /** How often an idle webhook sender looks for due deliveries, in ms. Default 500. */
  WEBHOOK_POLL_INTERVAL_MS: v.optional(int(10, 60_000), 500),
  /** After a secret rotation, deliveries carry signatures with the old secret too for this long, in seconds. Default 86400 (a day). */
  WEBHOOK_SECRET_ROTATION_GRACE_SECONDS: v.optional(int(0, 30 * 86_400), 86_400),
  /** Largest accepted HTTP request body, in bytes. */
  HTTP_MAX_BODY_BYTES: v.optional(int(1_024, 64 * 1024 * 1024), 1024 * 1024),
  /**
   * Largest GraphQL document (query text), in UTF-8 bytes, comments and whitespace included; checked
   * before parsing, on HTTP (POST and GET) and WebSocket. Default 32 768.
   */
  GRAPHQL_MAX_DOCUMENT_BYTES: v.optional(int(256, 16 * 1024 * 1024), 32 * 1024),
  /**
   * Bytes each cache of parsed documents may hold (Apollo's document store for HTTP, and the
   * WebSocket path's), counting source text and an AST estimate. Default 16 MiB; 0 = no caching.
   */
  GRAPHQL_DOCUMENT_CACHE_BYTES: v.optional(int(0, 1024 * 1024 * 1024), 16 * 1024 * 1024),
  /**
   * Which documents the gateway runs: `off` (any; Apollo's automatic persisted queries as usual),
   * `allow` (any, and a document of TRUSTED_DOCUMENTS_MANIFESTS may be sent by id alone) or
   * `require` (only documents of TRUSTED_DOCUMENTS_MANIFESTS, by id or identical text; APQ off).
   * Default: `require` when NODE_ENV=production, else `off`.
   */
  TRUSTED_DOCUMENTS: v.optional(v.picklist(['off', 'allow', 'require'])),
  /**
   * Comma-separated paths of persisted-document manifests (JSON objects of id → document text, as
   * GraphQL Code Generator's client preset writes them); `project` is the gateway's own (the progress
   * page's and playground's operations). Read and checked at start. Default `project`.
   */
  TRUSTED_DOCUMENTS_MANIFESTS: v.optional(v.string(), 'project'),
  /**
   * Bytes Apollo's automatic persisted queries (APQ) may keep, counting each entry's hash key, text
   * and bookkeeping. Default 4 MiB; 0 = APQ off. Always off when TRUSTED_DOCUMENTS=require.
   */
  APQ_CACHE_BYTES: v.optional(int(0, 1024 * 1024 * 1024), 4 * 1024 * 1024),
  /** Deepest nesting of `variables` (the object itself is level 1), and of an HTTP JSON body (one more). Default 16 levels. */
  GRAPHQL_MAX_VARIABLES_DEPTH: v.optional(int(2, 1_000), 16),
  /** Most items in one list, or fields in one object, in variables and in document literals. Default 200. */
  GRAPHQL_MAX_LIST_ITEMS: v.optional(int(1, 1_000_000), 200),
  /**
   * GraphQL operations per client address per minute without a valid credential (anonymous HTTP
   * requests, refused credentials, and WebSocket connections that fail to authenticate). Default 120; 0 = unlimited.
   */
  ANONYMOUS_REQUESTS_PER_MINUTE: v.optional(int(0, 1_000_000), 120),
  /**
   * Reverse proxies in front of the gateway that append to `X-Forwarded-For`; the client address is
   * the entry that many places from its right end. Default 0: the socket's peer address, the header is ignored.
   */
  TRUST_PROXY_HOPS: v.optional(int(0, 32), 0),
  /** How long a client may take to send a request's headers, in ms. Default 10 000 (Node's: 60 000). */
  HTTP_HEADERS_TIMEOUT_MS: v.optional(int(1_000, 600_000), 10_000),
  /** How long a client may take to send a whole request (headers and body), in ms. Default 30 000 (Node's: 300 000). */
  HTTP_REQUEST_TIMEOUT_MS: v.optional(int(1_000, 3_600_000), 30_000),
  /** How long an idle keep-alive connection stays open, in ms. Default 5 000; set above a load balancer's idle timeout. */
  HTTP_KEEP_ALIVE_TIMEOUT_MS: v.optional(int(100, 600_000), 5_000),
  /**
   * Open connections served at once, HTTP and WebSocket together; above it new connections get a
   * 503 and are closed. Default: the process's open-file limit minus room for the store, Redis,
   * the upstream and the shed connections (10 000 where the limit cannot be read).
   */
  MAX_CONNECTIONS: v.optional(int(1, 10_000_000)),
  /** How long one HTTP response may take to reach the client, in ms; then the connection is destroyed. Default 30 000. */
  HTTP_WRITE_TIMEOUT_MS: v.optional(int(100, 3_600_000), 30_000),
  /**
   * Response bytes one HTTP connection may hold unsent while its client takes none; above it the
   * connection is destroyed once two looks in a row (up to 1 s apart) find nothing taken, without
   * waiting for HTTP_WRITE_TIMEOUT_MS. Default 8 MiB.
   */
  HTTP_MAX_UNSENT_BYTES: v.optional(int(1_024, 1024 * 1024 * 1024), 8 * 1024 * 1024),
  /** Answer introspection queries. Defaults to on outside production. */
  INTROSPECTION: v.optional(bool),
  /** Serve the GraphiQL playground to browsers at the GraphQL path. Defaults to on outside production. */
  PLAYGROUND: v.optional(bool),
  /** Create a development API key when the key store is empty (never in production). */
  DEV_API_KEY: v.optional(bool),
  /** Least severe log level written; `silent` writes nothing. */
  LOG_LEVEL: v.optional(v.picklist(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']), 'info'),
  /** `pretty` (coloured, one readable line per event), `json` (one JSON object per line), or `auto`: pretty when stdout is a terminal, JSON otherwise. Default auto. */
  LOG_FORMAT: v.optional(v.picklist(['auto', 'pretty', 'json']), 'auto'),
  /** How long in-flight HTTP requests and WebSockets get to finish on shutdown, in ms. */
  SHUTDOWN_GRACE_MS: v.optional(int(0, 600_000), 10_000),
  /** PostgreSQL (postgres://user:pass@host:5432/db). When set, it replaces the embedded store; needed to run several instances. */
  DATABASE_URL: v.optional(url(/^postgres(ql)?$/)),
  /** Most connections this instance opens to PostgreSQL. */
  DATABASE_POOL_SIZE: v.optional(int(1, 1_000), 10),
  /** Redis (redis:// or rediss://). When set, events and the upstream back-off are shared by every instance through it. */
  REDIS_URL: v.optional(url(/^rediss?$/)),
  /**
   * How long a Redis command for shared state (rate limits, readiness) may wait for an answer, in ms;
   * past it the rate limits count in this process's memory. Default 500.
   */
  REDIS_COMMAND_TIMEOUT_MS: v.optional(int(50, 60_000), 500),
  /** Names this instance in leases and logs. Default: hostname-pid-random. */
  INSTANCE_ID: v.optional(v.pipe(v.string(), v.maxLength(200, 'must be at most 200 characters'))),
  /** Consecutive failed upstream calls (5xx, timeouts, connection errors) that open the circuit breaker. 0 = off. */
  UPSTREAM_BREAKER_FAILURES: v.optional(int(0, 10_000), 5),
  /** How long an open circuit stays open before one probe call is let through, in ms. */
  UPSTREAM_BREAKER_HALF_OPEN_MS: v.optional(int(100, 3_600_000), 30_000),
  /**
   * The upstream request budget: requests per second (polls and creates together) that all instances
   * together may send with the upstream key; shared through Redis when REDIS_URL is set. Fractions
   * allowed; 0 = no budget. Default 50.
   */
  UPSTREAM_REQUESTS_PER_SECOND: v.optional(number(0, 1_000_000), 50),
  /** The largest burst of upstream requests the budget allows, in requests (at least 1). Default 20. */
  UPSTREAM_REQUEST_BURST: v.optional(int(1, 1_000_000), 20),
  /**
   * Longest a create waits for the upstream budget, in ms; past it the mutation fails with
   * RATE_LIMITED (retryAfterSeconds) and nothing is stored or sent. Default 5000.
   */
  UPSTREAM_BUDGET_CREATE_WAIT_MS: v.optional(int(0, 600_000), 5_000),
  /** Creations per owner per minute. 0 = unlimited. */
  QUOTA_CREATES_PER_MINUTE: v.optional(int(0, 1_000_000), 10),
  /** Generations per owner not yet ended (QUEUED or GENERATING), across all instances. 0 = unlimited. */
  QUOTA_MAX_IN_FLIGHT: v.optional(int(0, 1_000_000), 10),
  /** GraphQL operations per owner per second (HTTP requests and WebSocket subscribes). 0 = unlimited. */
  QUOTA_REQUESTS_PER_SECOND: v.optional(int(0, 1_000_000), 20),
  /**
   * Subscriptions one owner may have open at once on this instance, over WebSocket, SSE and
   * multipart HTTP together; one more is refused with RATE_LIMITED. Default 100; 0 = unlimited.
   */
  QUOTA_MAX_SUBSCRIPTIONS: v.optional(int(0, 1_000_000), 100),
  /** HS256 secret for JWT bearer tokens (at least 32 characters). Unset = no shared-secret JWTs. */
  JWT_SECRET: v.optional(v.pipe(v.string(), v.minLength(32, 'must be at least 32 characters'))),
  /** JWKS URL whose keys verify JWT bearer tokens (RS256, ES256, EdDSA…). Unset = no JWKS. */
  JWT_JWKS_URL: v.optional(url(/^https?$/)),
  /** Required `iss` of JWTs. Unset = not checked. */
  JWT_ISSUER: v.optional(v.string()),
  /** Required `aud` of JWTs. Unset = not checked. */
  JWT_AUDIENCE: v.optional(v.string()),
  /** The JWT claim that names the owner. */
  JWT_OWNER_CLAIM: v.optional(v.string(), 'sub'),
  /**
   * How long a successful API-key lookup is reused by this process, in ms. 0 = ask the store on every
   * request. A revocation through another process (key CLI, another instance) is seen within it.
   */
  API_KEY_CACHE_MS: v.optional(int(0, 600_000), 5_000),
  /** How long a new WebSocket may wait before sending `connection_init`, in ms; then it is closed with 4408. */
  WS_CONNECTION_INIT_TIMEOUT_MS: v.optional(int(100, 600_000), 3_000),
  /** WebSocket ping interval, in ms; a client that has not answered a ping by the next one is dropped. */
  WS_KEEPALIVE_MS: v.optional(int(100, 600_000), 12_000),
  /**
   * How often an open WebSocket's (or SSE or multipart subscription stream's) credential is checked
   * again, in ms; a revoked key's sockets then close with 4403, its streams end with UNAUTHENTICATED.
   * 0 = only when the socket connects.
   */
  WS_CREDENTIAL_RECHECK_MS: v.optional(int(0, 86_400_000), 30_000),
  /**
   * Most bytes one WebSocket may have waiting to be written (ws's `bufferedAmount`), in bytes; a send
   * past it closes the socket with 1013. Default 1 MiB. An SSE or multipart subscription stream holding
   * more unsent, while its client takes nothing, is dropped.
   */
  WS_MAX_BUFFERED_BYTES: v.optional(int(64 * 1024, 1024 * 1024 * 1024), 1024 * 1024),
  /**
   * Longest a WebSocket's unsent data may wait to be written out completely, in ms; then the socket
   * is closed with 1013. Default 10 000. An SSE or multipart subscription stream is dropped once its
   * unsent data made no progress for this long.
   */
  WS_WRITE_TIMEOUT_MS: v.optional(int(100, 600_000), 10_000),
  /**
   * Time between heartbeats (an empty `{}` part) on a multipart HTTP subscription, in ms. Default
   * 5 000, as Apollo Router. GraphQL over SSE sends graphql-sse's own keep-alive comment every 12 s.
   */
  HTTP_SUBSCRIPTION_HEARTBEAT_MS: v.optional(int(100, 600_000), 5_000),
  /**
   * Bearer token `/metrics` requires (at least 16 characters). Unset: `/metrics` is open outside
   * production and refused (403) in production.
   */
  METRICS_TOKEN: v.optional(v.pipe(v.string(), v.minLength(16, 'must be at least 16 characters'))),
  /** Origins (comma-separated `scheme://host[:port]`, or `*` alone) whose pages may call GraphQL over HTTP. Unset = none. */
  CORS_ORIGINS: v.optional(
    v.pipe(
      v.string(),
      v.rawTransform(({ dataset, addIssue, NEVER }) => {
        try {
          return parseCorsOrigins(dataset.value);
        } catch (error) {
          addIssue({ message: (error as Error).message });
          return NEVER;
        }
      }),
    ),
  ),
  /**
   * Where finished videos are kept, so they outlive the upstream's expiring links: `folder` (MEDIA_DIR),
   * `s3` (an S3-compatible bucket, MEDIA_S3_*; for several instances), or `off` (video.url stays the
   * upstream's link).
   */
  MEDIA_STORE: v.optional(v.picklist(['folder', 's3', 'off']), 'folder'),
  /** The media folder. Default DATA_DIR/media; with DATA_IN_MEMORY, a temporary folder removed at stop. */
  MEDIA_DIR: v.optional(v.string()),
  /** The bucket, with MEDIA_STORE=s3. Credentials come from the AWS SDK's own chain (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a profile, an instance role). */
  MEDIA_S3_BUCKET: v.optional(v.string()),
  /** Prepended to every object key in the bucket (for example `gateway/`). Default none. */
  MEDIA_S3_PREFIX: v.optional(v.string(), ''),
  /** The bucket's region. */
  MEDIA_S3_REGION: v.optional(v.string(), 'us-east-1'),
  /** An S3-compatible server's URL (MinIO, R2, Ceph…). Unset = AWS S3. */
  MEDIA_S3_ENDPOINT: v.optional(url(/^https?$/)),
  /** Path-style bucket addressing (`endpoint/bucket/key`), which most S3-compatible servers need. Default false. */
  MEDIA_S3_FORCE_PATH_STYLE: v.optional(bool, 'false'),
  /** Largest video copied, in bytes; a larger one stays at the upstream's link (copy FAILED, TOO_LARGE). Default 2 GiB. */
  MEDIA_MAX_BYTES: v.optional(int(1, 1024 ** 4), 2 * 1024 ** 3),
  /** Longest one copy of a video may take, headers to last byte, in ms. Default 10 minutes. */
  MEDIA_COPY_TIMEOUT_MS: v.optional(int(1_000, 3_600_000), 600_000),
  /** Attempts at copying one video before it is given up (copy FAILED, ATTEMPTS_EXHAUSTED). */
  MEDIA_COPY_ATTEMPTS: v.optional(int(1, 100), 6),
  /** Delay before the first retry of a failed copy, in ms; it doubles (with jitter) per attempt, up to 10 minutes. */
  MEDIA_COPY_RETRY_MS: v.optional(int(10, 3_600_000), 5_000),
  /**
   * Retries of a copy are due at least this long before the upstream link's own expiry (read from the
   * link, e.g. `Expires=`), in seconds, even when the backoff would wait longer. Default 60.
   */
  MEDIA_COPY_EXPIRY_MARGIN_SECONDS: v.optional(int(0, 86_400), 60),
  /** How long a stored video's signed link (`video.url`) stays valid, in seconds; each read of a generation gives a fresh one. */
  MEDIA_LINK_TTL_SECONDS: v.optional(int(60, 7 * 86_400), 3_600),
  /**
   * The key that signs video links (at least 32 characters). Unset: a random one per process, so links
   * die with it; set the same value on every instance when there are several.
   */
  MEDIA_LINK_SECRET: v.optional(v.pipe(v.string(), v.minLength(32, 'must be at least 32 characters'))),
  /** Video copies in flight at once per instance (each holds a few 64 KiB chunks, or two 5 MiB parts with S3). */
  MEDIA_COPY_CONCURRENCY: v.optional(int(1, 100), 4),
  /**
   * The gateway's public URL as clients reach it (`https://videos.example.com`, a path prefix allowed), put in
   * front of stored videos' links in `video.url`. Unset: the links are relative (`/media/<id>?exp=…&sig=…`),
   * which pages served by the gateway play as they are and other clients resolve against the URL they called.
   * The request's Host header is never used: a client could choose it.
   */
  PUBLIC_BASE_URL: v.optional(url(/^https?$/)),
  /**
   * How long stored videos are kept, in days (fractions allowed) after they were stored; then a sweep
   * removes the file, the generation stays with its copy EXPIRED and `video.url` back on the upstream's
   * link. Default 0: kept forever.
   */
  MEDIA_RETENTION_DAYS: v.optional(number(0, 36_500), 0),
  /** How often the retention sweep runs (with MEDIA_RETENTION_DAYS), in seconds. Default 3600. */
  MEDIA_RETENTION_SWEEP_SECONDS: v.optional(number(0.1, 86_400), 3_600),
  /** Most stored videos one retention sweep removes; the rest wait for the next run. Default 100. */
  MEDIA_RETENTION_SWEEP_BATCH: v.optional(int(1, 10_000), 100),
});

/**
 * The upstream timeouts' defaults, for an upstream client built without a Config (tests, tools,
 * benchmarks), so that it waits as long as the gateway does.
 */
export const DEFAULT_UPSTREAM_TIMEOUTS: Readonly<Config['upstreamTimeouts']> = {
  createMs: v.parse(schema.entries.UPSTREAM_CREATE_TIMEOUT_MS, undefined),
  pollMs: v.parse(schema.entries.UPSTREAM_POLL_TIMEOUT_MS, undefined),
};

/** One per process: the random part tells apart two processes that reuse a pid (containers). */
const DEFAULT_INSTANCE_ID = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;

/** Every environment variable the gateway reads (compose.yaml and the Dockerfile are checked against it). */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(schema.entries);

export interface Config {
  production: boolean;
  port: number;
  host: string;
  dataDir: string | undefined;
  /** shared_buffers (MB) of the embedded store in a data folder (EMBEDDED_SHARED_BUFFERS_MB). */
  embeddedSharedBuffersMb: number;
  /** The embedded store's kept owner reads (EMBEDDED_READ_CACHE_OWNERS, EMBEDDED_READ_CACHE_READS_PER_OWNER). */
  embeddedReadCache: { owners: number; readsPerOwner: number };
  /** Listen on DATA_DIR/admin.sock for key management (embedded store in a folder only). */
  adminSocket: boolean;
  /** Null means: run the in-process simulator. */
  upstream: { apiKey: string; baseUrl: string; legacyPaths: boolean } | null;
  simulator: { port: number; timeScale: number };
  /** Scale applied to every upstream-time expectation (poll schedule, deadline, progress). */
  timeScale: number;
  poll: { minIntervalMs: number; maxIntervalMs: number; concurrency: number; leaseMs: number };
  deadlineMs: number;
  /** The poll schedule's notice target and the learned generation times (generations/timing-learner.ts). */
  timing: { noticeTargetMs: number; minSamples: number; halfLifeSamples: number; refreshMs: number };
  /** Failed polls in a row after which a generation past its deadline ends TIMED_OUT unseen. */
  deadlineLastLooks: number;
  /** Media URL targets accepted in create inputs. */
  mediaUrls: { allowPrivate: boolean };
  /** Webhook endpoints: URL policy, per-owner cap, secret rotation grace (ms). */
  webhooks: {
    allowHttp: boolean;
    allowPrivate: boolean;
    maxEndpointsPerOwner: number;
    secretRotationGraceMs: number;
    timeoutMs: number;
    /** Waits between attempts, in ms; its length + 1 is the most attempts. */
    retryScheduleMs: number[];
    concurrency: number;
    maxInFlightPerEndpoint: number;
    pollIntervalMs: number;
    /** 0 = never. */
    disableAfterFailingMs: number;
  };
  /** How long the write of an accepted create is retried after a store failure, in ms. */
  createRecordRetryMs: number;
  upstreamTimeouts: { createMs: number; pollMs: number };
  http: {
    maxBodyBytes: number;
    graphqlPath: string;
    /** Node's server timeouts, in ms. */
    headersTimeoutMs: number;
    requestTimeoutMs: number;
    keepAliveTimeoutMs: number;
    /** Null: derived from the open-file limit (server/connection-limits.ts). */
    maxConnections: number | null;
    writeTimeoutMs: number;
    maxUnsentBytes: number;
    /** Proxies whose `X-Forwarded-For` entries are believed; 0 = the socket's address. */
    trustProxyHops: number;
  };
  /** Size and shape limits of GraphQL requests, on both transports. */
  graphql: { maxDocumentBytes: number; documentCacheBytes: number; maxVariablesDepth: number; maxListItems: number };
  /** Operations per client address per minute without a valid credential; 0 = unlimited. */
  anonymousRequestsPerMinute: number;
  introspection: boolean;
  playground: boolean;
  devApiKey: boolean;
  logLevel: string;
  logFormat: 'auto' | 'pretty' | 'json';
  shutdownGraceMs: number;
  /** Null means: the embedded store. */
  databaseUrl: string | null;
  databasePoolSize: number;
  /** Null means: in-process events and back-off. */
  redisUrl: string | null;
  /** Longest wait for a shared-state Redis command, in ms. */
  redisCommandTimeoutMs: number;
  instanceId: string;
  /** Circuit breaker around upstream calls; `failureThreshold` 0 = off. */
  breaker: { failureThreshold: number; halfOpenAfterMs: number };
  /** The upstream request budget (polls and creates); `ratePerSecond` 0 = off. `createWaitMs`: a create's longest wait for it. */
  upstreamBudget: { ratePerSecond: number; burst: number; createWaitMs: number };
  /** Per-owner limits; 0 = unlimited. */
  quotas: { createsPerMinute: number; maxInFlight: number; requestsPerSecond: number; maxSubscriptions: number };
  /** JWT bearer tokens; null when neither JWT_SECRET nor JWT_JWKS_URL is set. */
  jwt: { secret: string | null; jwksUrl: string | null; issuer: string | null; audience: string | null; ownerClaim: string } | null;
  /** graphql-ws timings, in ms. */
  websocket: {
    connectionInitTimeoutMs: number;
    keepAliveMs: number;
    credentialRecheckMs: number;
    /** Most unsent bytes per socket. */
    maxBufferedBytes: number;
    writeTimeoutMs: number;
  };
  /** Subscriptions over SSE and multipart HTTP (they share the WebSocket's credential recheck and write limits). */
  httpSubscriptions: { heartbeatMs: number };
  /** Trusted documents: the mode and the manifest files (absolute paths), read at start. */
  trustedDocuments: { mode: 'off' | 'allow' | 'require'; manifests: string[] };
  /** Bytes Apollo's APQ cache may hold; 0 = APQ off. */
  apqCacheBytes: number;
  /** What `/metrics` asks for: a bearer token, nothing (open), or refused outright. */
  metricsAccess: MetricsAccess;
  /** Origins allowed to call the GraphQL path over HTTP from a browser; empty = same-origin only. */
  cors: { origins: CorsOrigins };
  /** How long a successful API-key lookup is reused, in ms (0 = never). */
  apiKeyCacheMs: number;
  /** Null: MEDIA_STORE=off. */
  media: {
    store:
      | { kind: 'folder'; dir: string | null }
      | { kind: 's3'; bucket: string; prefix: string; region: string; endpoint: string | null; forcePathStyle: boolean };
    maxBytes: number;
    copyTimeoutMs: number;
    copyAttempts: number;
    copyRetryMs: number;
    /** Retries are due this long before the upstream link's expiry, in ms. */
    copyExpiryMarginMs: number;
    copyConcurrency: number;
    linkTtlSeconds: number;
    /** Null: a random key for this process. */
    linkSecret: string | null;
    /** Put in front of stored videos' links, without a trailing slash; null: relative links. */
    publicBaseUrl: string | null;
    /** Stored files older than this are removed, in ms; 0: kept forever. */
    retentionMs: number;
    /** Between retention sweeps, in ms. */
    retentionSweepMs: number;
    retentionSweepBatch: number;
  } | null;
}

/**
 * Who may read `/metrics`: holders of a bearer token, anyone (outside production, without a token),
 * or no one (production without a token: the metrics name owners' activity and the process's state).
 * Defined here, with the setting that decides it, so the configuration imports nothing above it.
 */
export type MetricsAccess = { token: string } | 'open' | 'refused';

/**
 * The project's own manifest (codegen writes it beside the typed documents; the build copies it to
 * dist/web/generated/), found from src/, from dist/ and from the benchmarks' dist-bench/src/ alike.
 */
const PROJECT_MANIFEST =
  [
    path.resolve(__dirname, 'web/generated/persisted-documents.json'),
    path.resolve(__dirname, '../src/web/generated/persisted-documents.json'),
    path.resolve(__dirname, '../../src/web/generated/persisted-documents.json'),
  ].find((file) => existsSync(file)) ?? path.resolve(__dirname, 'web/generated/persisted-documents.json');

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads and validates configuration; throws `ConfigError` naming each bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // An empty (or blank) variable means "unset", as in most shells' `VAR= cmd`; a blank one would
  // otherwise coerce to 0 (PORT=" " would listen on a random port).
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v.trim() !== ''));
  // Every builder above words its own messages; this is the fallback for any other check, and like
  // them it says what was expected, never what was received.
  const parsed = v.safeParse(schema, cleaned, {
    abortPipeEarly: true, // one message per setting
    message: (issue) => (issue.expected ? `expected ${issue.expected}` : 'is invalid'),
  });
  if (!parsed.success) {
    const lines = parsed.issues.map((i) => `  ${v.getDotPath(i) ?? '(configuration)'}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.output;
  if (e.POLL_MIN_INTERVAL_MS > e.POLL_MAX_INTERVAL_MS) {
    throw new ConfigError('Invalid configuration:\n  POLL_MIN_INTERVAL_MS: must not exceed POLL_MAX_INTERVAL_MS');
  }
  if (e.JWT_SECRET && e.JWT_JWKS_URL) {
    throw new ConfigError('Invalid configuration:\n  JWT_SECRET: set either JWT_SECRET or JWT_JWKS_URL, not both');
  }
  if (e.MEDIA_STORE === 's3' && !e.MEDIA_S3_BUCKET) {
    throw new ConfigError('Invalid configuration:\n  MEDIA_S3_BUCKET: MEDIA_STORE=s3 needs a bucket');
  }
  if ((e.JWT_ISSUER || e.JWT_AUDIENCE) && !e.JWT_SECRET && !e.JWT_JWKS_URL) {
    throw new ConfigError('Invalid configuration:\n  JWT_SECRET: JWT_ISSUER and JWT_AUDIENCE need JWT_SECRET or JWT_JWKS_URL');
  }
  const production = e.NODE_ENV === 'production';
  const trustedDocuments = {
    mode: e.TRUSTED_DOCUMENTS ?? (production ? 'require' : 'off'),
    manifests: e.TRUSTED_DOCUMENTS_MANIFESTS.split(',')
      .map((entry) => entry.trim())
      .filter((entry) => entry !== '')
      .map((entry) => (entry === 'project' ? PROJECT_MANIFEST : path.resolve(entry))),
  } as const;
  if (trustedDocuments.mode !== 'off' && trustedDocuments.manifests.length === 0) {
    throw new ConfigError(
      `Invalid configuration:\n  TRUSTED_DOCUMENTS_MANIFESTS: TRUSTED_DOCUMENTS=${trustedDocuments.mode} needs at least one manifest`,
    );
  }
  const upstream = e.AIMLAPI_API_KEY
    ? { apiKey: e.AIMLAPI_API_KEY, baseUrl: e.AIMLAPI_BASE_URL.replace(/\/+$/, ''), legacyPaths: e.AIMLAPI_LEGACY_PATHS }
    : null;
  return {
    production,
    port: e.PORT,
    host: e.HOST,
    dataDir: e.DATA_IN_MEMORY ? undefined : path.resolve(e.DATA_DIR),
    embeddedSharedBuffersMb: e.EMBEDDED_SHARED_BUFFERS_MB,
    embeddedReadCache: { owners: e.EMBEDDED_READ_CACHE_OWNERS, readsPerOwner: e.EMBEDDED_READ_CACHE_READS_PER_OWNER },
    adminSocket: e.ADMIN_SOCKET,
    upstream,
    simulator: { port: e.SIMULATOR_PORT, timeScale: e.SIMULATOR_TIME_SCALE },
    timeScale: upstream ? e.UPSTREAM_TIME_SCALE : e.SIMULATOR_TIME_SCALE,
    poll: {
      minIntervalMs: e.POLL_MIN_INTERVAL_MS,
      maxIntervalMs: e.POLL_MAX_INTERVAL_MS,
      concurrency: e.POLL_CONCURRENCY,
      leaseMs: e.POLL_LEASE_MS,
    },
    deadlineMs: e.GENERATION_DEADLINE_SECONDS * 1000,
    timing: {
      noticeTargetMs: e.POLL_NOTICE_TARGET_MS,
      minSamples: e.TIMING_MIN_SAMPLES,
      halfLifeSamples: e.TIMING_HALF_LIFE_SAMPLES,
      refreshMs: e.TIMING_REFRESH_MS,
    },
    deadlineLastLooks: e.GENERATION_DEADLINE_LAST_LOOKS,
    mediaUrls: { allowPrivate: e.MEDIA_URL_ALLOW_PRIVATE },
    webhooks: {
      allowHttp: e.WEBHOOK_ALLOW_HTTP,
      allowPrivate: e.WEBHOOK_ALLOW_PRIVATE,
      maxEndpointsPerOwner: e.WEBHOOK_MAX_ENDPOINTS_PER_OWNER,
      secretRotationGraceMs: e.WEBHOOK_SECRET_ROTATION_GRACE_SECONDS * 1000,
      timeoutMs: e.WEBHOOK_TIMEOUT_MS,
      retryScheduleMs: e.WEBHOOK_RETRY_SCHEDULE_SECONDS.split(',').map((seconds) => Math.round(Number(seconds) * 1000)),
      concurrency: e.WEBHOOK_CONCURRENCY,
      maxInFlightPerEndpoint: e.WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT,
      pollIntervalMs: e.WEBHOOK_POLL_INTERVAL_MS,
      disableAfterFailingMs: e.WEBHOOK_DISABLE_AFTER_FAILING_SECONDS * 1000,
    },
    createRecordRetryMs: e.CREATE_RECORD_RETRY_SECONDS * 1000,
    upstreamTimeouts: { createMs: e.UPSTREAM_CREATE_TIMEOUT_MS, pollMs: e.UPSTREAM_POLL_TIMEOUT_MS },
    http: {
      maxBodyBytes: e.HTTP_MAX_BODY_BYTES,
      graphqlPath: '/graphql',
      headersTimeoutMs: e.HTTP_HEADERS_TIMEOUT_MS,
      // Node refuses a headers timeout above the request timeout.
      requestTimeoutMs: Math.max(e.HTTP_REQUEST_TIMEOUT_MS, e.HTTP_HEADERS_TIMEOUT_MS),
      keepAliveTimeoutMs: e.HTTP_KEEP_ALIVE_TIMEOUT_MS,
      maxConnections: e.MAX_CONNECTIONS ?? null,
      writeTimeoutMs: e.HTTP_WRITE_TIMEOUT_MS,
      maxUnsentBytes: e.HTTP_MAX_UNSENT_BYTES,
      trustProxyHops: e.TRUST_PROXY_HOPS,
    },
    graphql: {
      maxDocumentBytes: e.GRAPHQL_MAX_DOCUMENT_BYTES,
      documentCacheBytes: e.GRAPHQL_DOCUMENT_CACHE_BYTES,
      maxVariablesDepth: e.GRAPHQL_MAX_VARIABLES_DEPTH,
      maxListItems: e.GRAPHQL_MAX_LIST_ITEMS,
    },
    anonymousRequestsPerMinute: e.ANONYMOUS_REQUESTS_PER_MINUTE,
    introspection: e.INTROSPECTION ?? !production,
    playground: e.PLAYGROUND ?? !production,
    devApiKey: !production && (e.DEV_API_KEY ?? true),
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT,
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    databaseUrl: e.DATABASE_URL ?? null,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    redisUrl: e.REDIS_URL ?? null,
    redisCommandTimeoutMs: e.REDIS_COMMAND_TIMEOUT_MS,
    instanceId: e.INSTANCE_ID ?? DEFAULT_INSTANCE_ID,
    breaker: { failureThreshold: e.UPSTREAM_BREAKER_FAILURES, halfOpenAfterMs: e.UPSTREAM_BREAKER_HALF_OPEN_MS },
    upstreamBudget: {
      ratePerSecond: e.UPSTREAM_REQUESTS_PER_SECOND,
      burst: e.UPSTREAM_REQUEST_BURST,
      createWaitMs: e.UPSTREAM_BUDGET_CREATE_WAIT_MS,
    },
    quotas: {
      createsPerMinute: e.QUOTA_CREATES_PER_MINUTE,
      maxInFlight: e.QUOTA_MAX_IN_FLIGHT,
      requestsPerSecond: e.QUOTA_REQUESTS_PER_SECOND,
      maxSubscriptions: e.QUOTA_MAX_SUBSCRIPTIONS,
    },
    jwt:
      e.JWT_SECRET || e.JWT_JWKS_URL
        ? {
            secret: e.JWT_SECRET ?? null,
            jwksUrl: e.JWT_JWKS_URL ?? null,
            issuer: e.JWT_ISSUER ?? null,
            audience: e.JWT_AUDIENCE ?? null,
            ownerClaim: e.JWT_OWNER_CLAIM,
          }
        : null,
    websocket: {
      connectionInitTimeoutMs: e.WS_CONNECTION_INIT_TIMEOUT_MS,
      keepAliveMs: e.WS_KEEPALIVE_MS,
      credentialRecheckMs: e.WS_CREDENTIAL_RECHECK_MS,
      maxBufferedBytes: e.WS_MAX_BUFFERED_BYTES,
      writeTimeoutMs: e.WS_WRITE_TIMEOUT_MS,
    },
    httpSubscriptions: { heartbeatMs: e.HTTP_SUBSCRIPTION_HEARTBEAT_MS },
    trustedDocuments: { mode: trustedDocuments.mode, manifests: [...trustedDocuments.manifests] },
    apqCacheBytes: trustedDocuments.mode === 'require' ? 0 : e.APQ_CACHE_BYTES,
    metricsAccess: e.METRICS_TOKEN ? { token: e.METRICS_TOKEN } : production ? 'refused' : 'open',
    cors: { origins: e.CORS_ORIGINS ?? [] },
    apiKeyCacheMs: e.API_KEY_CACHE_MS,
    media:
      e.MEDIA_STORE === 'off'
        ? null
        : {
            store:
              e.MEDIA_STORE === 's3'
                ? {
                    kind: 's3',
                    bucket: e.MEDIA_S3_BUCKET!,
                    prefix: e.MEDIA_S3_PREFIX,
                    region: e.MEDIA_S3_REGION,
                    endpoint: e.MEDIA_S3_ENDPOINT ?? null,
                    forcePathStyle: e.MEDIA_S3_FORCE_PATH_STYLE,
                  }
                : {
                    kind: 'folder',
                    dir: e.MEDIA_DIR ? path.resolve(e.MEDIA_DIR) : e.DATA_IN_MEMORY ? null : path.join(path.resolve(e.DATA_DIR), 'media'),
                  },
            maxBytes: e.MEDIA_MAX_BYTES,
            copyTimeoutMs: e.MEDIA_COPY_TIMEOUT_MS,
            copyAttempts: e.MEDIA_COPY_ATTEMPTS,
            copyRetryMs: e.MEDIA_COPY_RETRY_MS,
            copyExpiryMarginMs: e.MEDIA_COPY_EXPIRY_MARGIN_SECONDS * 1000,
            copyConcurrency: e.MEDIA_COPY_CONCURRENCY,
            linkTtlSeconds: e.MEDIA_LINK_TTL_SECONDS,
            linkSecret: e.MEDIA_LINK_SECRET ?? null,
            publicBaseUrl: e.PUBLIC_BASE_URL ? e.PUBLIC_BASE_URL.replace(/\/+$/, '') : null,
            retentionMs: Math.round(e.MEDIA_RETENTION_DAYS * 86_400_000),
            retentionSweepMs: Math.round(e.MEDIA_RETENTION_SWEEP_SECONDS * 1000),
            retentionSweepBatch: e.MEDIA_RETENTION_SWEEP_BATCH,
          },
  };
}
