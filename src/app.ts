/**
 * The composition root: builds every part from the configuration in small named steps. Each part
 * records its stop as it starts (lifecycle.ts), so a failed step stops what had started and `stop()`
 * stops everything in reverse order. Nothing else wires parts together.
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled';
import type { GraphQLSchema } from 'graphql';
import type { DestinationStream, Logger } from 'pino';
import { bearerToken, ensureDevelopmentKey, revokeApiKey } from './auth/api-keys';
import { JwtVerifier } from './auth/jwt';
import { createCredentialCheck } from './auth/principal';
import { ApiKeyCache } from './auth/api-key-cache';
import { storeKeyAdmin } from './auth/key-admin';
import { ConfigError, type Config } from './config';
import { Lifecycle } from './lifecycle';
import { ErrorCode, GatewayError } from './errors';
import { GenerationEvents } from './generations/events';
import { Poller } from './generations/poller';
import { GenerationService } from './generations/service';
import { PollSchedule } from './generations/timing';
import { TimingLearner } from './generations/timing-learner';
import { UpstreamBackoff } from './upstream/health/backoff';
import { LocalRequestBudget, UnlimitedRequestBudget, type RequestBudget } from './upstream/budget/request-budget';
import { SharedRequestBudget } from './upstream/budget/shared-request-budget';
import { createContext, type GraphQLContext } from './graphql/context';
import { noStorePlugin } from './graphql/no-store';
import { apolloDocumentProtection } from './graphql/document-limits';
import { createErrorFormatter, internalErrorStatusPlugin } from './graphql/errors';
import { PersistedQueryCache } from './graphql/persisted-query-cache';
import { buildGatewaySchema } from './graphql/schema';
import { ManifestError, TrustedDocuments } from './graphql/trusted-documents';
import { createLogger } from './logger';
import { createCors } from './server/cors';
import { ADMIN_SOCKET_NAME, startAdminSocket } from './server/admin-socket';
import { clientAddress } from './server/client-address';
import { capConnections, defaultMaxConnections, serverOptions } from './server/connection-limits';
import { INVALID_CREDENTIALS, createHttpHandler } from './server/http';
import { createHttpSubscriptions } from './server/http-subscriptions';
import { createReadiness } from './server/readiness';
import { Metrics } from './server/metrics';
import { createStaticAssets } from './server/static-assets';
import { attachWebSocketServer } from './server/websocket';
import type { Simulator } from './simulator/server';
import type { UpstreamClient } from './upstream/types';
import { openStore } from './store/create-store';
import type { Store } from './store/store';
import { AnonymousQuota } from './quotas/anonymous-quota';
import { OwnerQuotas } from './quotas/owner-quotas';
import { OwnerSubscriptions } from './quotas/owner-subscriptions';
import { UpstreamCircuit } from './upstream/health/circuit-breaker';
import { createUpstreamClient } from './upstream/client';
import type { Redis } from 'ioredis';
import type { RedisFanout } from './scale/redis-fanout';
import { resolveWithSystemDns } from './webhooks/endpoint-url';
import { WebhookDeliveries } from './webhooks/deliveries';
import { WebhookEndpoints } from './webhooks/endpoints';
import { GenerationWebhooks } from './webhooks/generation-webhooks';
import { WebhookSender } from './webhooks/sender';
import { openMediaStore } from './media/create-media-store';
import type { MediaStore } from './media/media-store';
import { MediaCopier } from './generations/media-copier';
import { MediaRetention } from './generations/media-retention';
import type { Generation } from './model/generation';
import { VideoDownloader } from './upstream/video-download';
import { MediaLinks } from './media/media-links';
import { createMediaRoute } from './server/media-route';

/** Longest idle sleep of the poller over the embedded store, in ms (see `idleMs` below). */
const EMBEDDED_POLLER_IDLE_MS = 10_000;

export interface AppOptions {
  /** Where log lines go. Default: stdout. */
  logDestination?: DestinationStream;
  /**
   * The store, already opening (main.ts opens the embedded one before it loads this module); else
   * opened here. Either way its failure stops the start at the 'store' step, and the app stops it.
   */
  store?: Promise<Store>;
}

export interface App {
  /** GraphQL over HTTP, e.g. `http://127.0.0.1:4000/graphql`. */
  readonly url: string;
  /** GraphQL over WebSocket (graphql-ws), same path. */
  readonly wsUrl: string;
  readonly config: Config;
  readonly log: Logger;
  readonly store: Store;
  /** Where finished videos are kept (MEDIA_STORE), null when off. */
  readonly media: MediaStore | null;
  /** Signs the links to stored videos (`/media/<id>?exp&sig`), null without a media store. */
  readonly mediaLinks: MediaLinks | null;
  readonly service: GenerationService;
  readonly poller: Poller;
  /** Where generation changes are published (benchmarks drive subscriptions through it). */
  readonly events: GenerationEvents;
  readonly metrics: Metrics;
  /** The in-process simulator, when no upstream key is configured. */
  readonly simulator: Simulator | null;
  /**
   * The shared Redis command client when REDIS_URL is set (for shared state such as rate limits), else
   * null. It fails commands fast while Redis is away; the app closes it on stop.
   */
  readonly redis: Redis | null;
  /** Apollo's cache of parsed HTTP documents (null when GRAPHQL_DOCUMENT_CACHE_BYTES is 0); `bytes` is what it holds. */
  readonly documentCache: { readonly bytes: number; readonly size: number } | null;
  /** Apollo's APQ store (null when APQ is off: APQ_CACHE_BYTES 0 or TRUSTED_DOCUMENTS=require); `bytes` is what it holds. */
  readonly apqCache: { readonly bytes: number; readonly size: number; readonly maxBytes: number } | null;
  /** A development key created at this start (empty key store, not production), else null. */
  readonly devApiKey: string | null;
  /**
   * Revokes an API key by id or shown prefix; returns how many were revoked. This instance refuses
   * the key at once; other instances within their API_KEY_CACHE_MS (the key CLI does the same).
   */
  revokeApiKey(idOrPrefix: string): Promise<number>;
  /**
   * Stops every part in reverse order of start: the admin socket, then HTTP drains and WebSockets close
   * with 1001, the poller, the upstream client, the simulator, Redis and the store. Safe to call twice.
   */
  stop(): Promise<void>;
}

export async function startApp(config: Config, options: AppOptions = {}): Promise<App> {
  const secrets = config.upstream ? [config.upstream.apiKey] : [];
  const log = (await createLogger(config.logLevel, secrets, options.logDestination, config.logFormat)).child({ instance: config.instanceId });
  const lifecycle = new Lifecycle(log);
  try {
    return await compose(config, log, lifecycle, options.store);
  } catch (error) {
    // Logged here, once, with the step that failed; callers (main.ts, tests) get the error itself.
    const step = lifecycle.step ?? 'start';
    log.error({ err: error, step }, `the gateway did not start (${step}): ${error instanceof Error ? error.message : String(error)}`);
    await lifecycle.stop().catch(() => undefined); // each failed stop was logged with its part
    throw error;
  }
}

async function compose(config: Config, log: Logger, lifecycle: Lifecycle, opening?: Promise<Store>): Promise<App> {
  const storeStarted = lifecycle.run('store', () => startStore(config, log, lifecycle, opening));
  // Built here, on this thread, while the store opens (the embedded one on a thread of its own);
  // a failure is reported by the 'graphql' step, which awaits it.
  const schema = buildGatewaySchema();
  schema.catch(() => undefined);
  const store = await storeStarted;
  const redis = await lifecycle.run('redis', () => startRedis(config, log, lifecycle));
  const media = await lifecycle.run('media store', () => startMediaStore(config, lifecycle));
  if (media?.kind === 'folder' && config.databaseUrl) {
    log.warn(
      'MEDIA_STORE=folder with DATABASE_URL: each instance keeps the videos it copied in its own folder; use MEDIA_STORE=s3 (or one shared folder) for several instances',
    );
  }
  const mediaLinks = createMediaLinks(config, log);
  const devApiKey = await lifecycle.run('development key', () => (config.devApiKey ? ensureDevelopmentKey(store) : null));
  const { target, simulator } = await lifecycle.run('simulator', () => chooseUpstream(config, lifecycle));
  const metrics = new Metrics(store);
  const budget = createRequestBudget(config, redis, log);
  const { upstream, circuit } = await lifecycle.run('upstream client', () => createUpstream(config, target, budget, metrics, log, lifecycle));
  const access = await lifecycle.run('access', () => createAccess(config, store, redis, metrics, log));
  const generations = await lifecycle.run('generations', () =>
    startGenerations(config, { store, redis, media, mediaLinks, upstream, budget, circuit, quotas: access.quotas, metrics, log }, lifecycle),
  );
  const webhookSender = await lifecycle.run('webhook sender', () => startWebhookSender(config, store, metrics, log, lifecycle, mediaLinks));
  const graphql = await lifecycle.run('graphql', () =>
    startGraphQL(config, { schema, store, media, mediaLinks, redis, circuit, target, metrics, access, generations, webhookSender, log }, lifecycle),
  );
  const httpServer = graphql.httpServer;
  await lifecycle.run('http', () => listen(httpServer, config));
  await lifecycle.run('admin socket', () => startAdmin(config, store, access.apiKeyCache, log, lifecycle));

  const { port } = httpServer.address() as AddressInfo;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  const base = `${host}:${port}${config.http.graphqlPath}`;
  return {
    url: `http://${base}`,
    wsUrl: `ws://${base}`,
    config,
    log,
    store,
    media,
    mediaLinks,
    service: generations.service,
    poller: generations.poller,
    events: generations.events,
    metrics,
    simulator,
    redis: redis?.commands ?? null,
    documentCache: graphql.documentCache,
    apqCache: graphql.apqCache,
    devApiKey,
    revokeApiKey: (idOrPrefix) => revokeApiKey(store, idOrPrefix, access.apiKeyCache),
    stop: () => lifecycle.stop(),
  };
}

async function startStore(config: Config, log: Logger, lifecycle: Lifecycle, opening?: Promise<Store>): Promise<Store> {
  const store = await (opening ?? openStore(config, log.child({ component: 'store' })));
  lifecycle.started('store', () => store.stop());
  return store;
}

function createMediaLinks(config: Config, log: Logger): MediaLinks | null {
  if (!config.media) return null;
  if (!config.media.linkSecret && config.databaseUrl) {
    log.warn('MEDIA_LINK_SECRET is not set: each instance signs video links with its own key, so a link works only on the instance that made it');
  }
  const secret = config.media.linkSecret ? Buffer.from(config.media.linkSecret) : randomBytes(32);
  return new MediaLinks(secret, config.media.linkTtlSeconds, config.media.publicBaseUrl);
}

async function startMediaStore(config: Config, lifecycle: Lifecycle): Promise<MediaStore | null> {
  const opened = await openMediaStore(config.media);
  if (!opened) return null;
  lifecycle.started('media store', opened.stop);
  return opened.store;
}

async function startRedis(config: Config, log: Logger, lifecycle: Lifecycle): Promise<RedisFanout | null> {
  if (!config.redisUrl) return null;
  // ioredis and the Redis event target are loaded only by deployments that use Redis.
  const { RedisFanout } = await import('./scale/redis-fanout.js');
  const redis = new RedisFanout(config.redisUrl, log.child({ component: 'redis' }), config.redisCommandTimeoutMs);
  // Its clients connect (and keep retrying) from construction on: a start that fails must close them too.
  lifecycle.started('redis', () => redis.stop());
  await redis.start();
  return redis;
}

type UpstreamTarget = NonNullable<Config['upstream']>;

/** The configured upstream, or an in-process simulator when no upstream key is set. */
async function chooseUpstream(config: Config, lifecycle: Lifecycle): Promise<{ target: UpstreamTarget; simulator: Simulator | null }> {
  if (config.upstream) return { target: config.upstream, simulator: null };
  // Loaded only when it runs: the simulator brings the vendor's specs and their validators.
  const { startSimulator } = await import('./simulator/server.js');
  const apiKey = randomBytes(18).toString('base64url');
  const simulator = await startSimulator({
    port: config.simulator.port,
    host: '127.0.0.1',
    apiKey,
    timeScale: config.simulator.timeScale,
    stateFile: config.dataDir ? path.join(config.dataDir, 'simulator-jobs.json') : undefined,
  });
  lifecycle.started('simulator', () => simulator.stop());
  return { target: { apiKey, baseUrl: simulator.url, legacyPaths: false }, simulator };
}

/** The upstream client behind the circuit breaker: what the service and the poller call. */
function createUpstream(
  config: Config,
  target: UpstreamTarget,
  budget: RequestBudget,
  metrics: Metrics,
  log: Logger,
  lifecycle: Lifecycle,
): { upstream: UpstreamClient; circuit: UpstreamCircuit } {
  const client = createUpstreamClient({
    baseUrl: target.baseUrl,
    apiKey: target.apiKey,
    legacyPaths: target.legacyPaths,
    createHeadersTimeoutMs: config.upstreamTimeouts.createMs,
    headersTimeoutMs: config.upstreamTimeouts.pollMs,
    bodyTimeoutMs: config.upstreamTimeouts.pollMs,
    // Retries count against the budget like every other request; first attempts are paid by their callers.
    retryBudget: budget,
    observer: metrics.upstreamCall,
  });
  lifecycle.started('upstream client', () => client.stop());
  const circuit = new UpstreamCircuit({
    ...config.breaker,
    onStateChange: (state) => log.warn({ component: 'upstream', circuit: state }, `upstream circuit ${state}`),
  });
  metrics.watchCircuit(circuit);
  return { upstream: circuit.wrap(client), circuit };
}

/** Who a request is (API keys, JWTs) and how much it may do (per-owner quotas). */
function createAccess(config: Config, store: Store, redis: RedisFanout | null, metrics: Metrics, log: Logger) {
  const quotas = new OwnerQuotas(config.quotas, store, redis?.commands, metrics.quotaRefused);
  const apiKeyCache = new ApiKeyCache({ ttlMs: config.apiKeyCacheMs });
  const checkCredential = createCredentialCheck({
    store,
    jwt: config.jwt ? new JwtVerifier(config.jwt) : null,
    onJwtRejected: (reason) => log.info({ component: 'auth', reason }, 'JWT refused'),
    apiKeyCache,
  });
  return { quotas, apiKeyCache, checkCredential };
}
type Access = ReturnType<typeof createAccess>;

interface GenerationDeps {
  store: Store;
  redis: RedisFanout | null;
  media: MediaStore | null;
  mediaLinks: MediaLinks | null;
  upstream: UpstreamClient;
  /** The upstream request budget, shared by the poller, creates and the client's retries. */
  budget: RequestBudget;
  circuit: UpstreamCircuit;
  quotas: OwnerQuotas;
  metrics: Metrics;
  log: Logger;
}

/** The domain: events, the service, and the poller, started. */
async function startGenerations(config: Config, deps: GenerationDeps, lifecycle: Lifecycle) {
  const { store, redis, upstream, budget, circuit, metrics, log } = deps;
  const events = new GenerationEvents(redis?.eventTarget);
  redis?.resyncAfterReconnects(events);
  const learner = new TimingLearner({
    store,
    minSamples: config.timing.minSamples,
    halfLifeSamples: config.timing.halfLifeSamples,
    shared: Boolean(config.databaseUrl),
    // Scaled like every upstream time, so a time-scaled simulator's runs learn quickly too.
    refreshMs: Math.max(100, config.timing.refreshMs * Math.min(1, config.timeScale)),
    log: log.child({ component: 'timing' }),
  });
  await learner.start();
  lifecycle.started('timing learner', () => learner.stop());
  const schedule = new PollSchedule(
    {
      timeScale: config.timeScale,
      minIntervalMs: config.poll.minIntervalMs,
      maxIntervalMs: config.poll.maxIntervalMs,
      noticeTargetMs: config.timing.noticeTargetMs,
      planInBackground: true,
    },
    learner,
  );
  const backoff = redis?.backoff ?? new UpstreamBackoff();
  const copier = startMediaCopier(config, deps, events, lifecycle);
  const poller = new Poller({
    store,
    upstream,
    pause: circuit,
    events,
    schedule,
    backoff,
    budget,
    log: log.child({ component: 'poller' }),
    concurrency: config.poll.concurrency,
    leaseMs: config.poll.leaseMs,
    idleMs: config.databaseUrl
      ? Math.min(1_000, Math.max(20, config.poll.minIntervalMs * config.timeScale))
      : // The embedded store has no other instance adding work, and this one's creates wake the poller:
        // an idle look is only a safety net (at time scale 0.001 it was 50 queries a second).
        EMBEDDED_POLLER_IDLE_MS,
    staleSubmissionMs: config.upstreamTimeouts.createMs * 2,
    lastLookAttempts: config.deadlineLastLooks,
    onPoll: metrics.poll,
    instanceId: config.instanceId,
    keepVideos: copier ? { onVideoFinished: () => copier.wake() } : undefined,
  });
  const service = new GenerationService({
    store,
    upstream,
    quota: deps.quotas,
    mediaUrls: config.mediaUrls,
    mediaLinks: deps.mediaLinks,
    media: deps.media,
    recordRetryMs: config.createRecordRetryMs,
    events,
    schedule,
    backoff,
    budget,
    budgetCreateWaitMs: config.upstreamBudget.createWaitMs,
    log: log.child({ component: 'generations' }),
    deadlineMs: config.deadlineMs * config.timeScale,
    onScheduled: () => poller.wake(),
  });
  lifecycle.started('generation service', () => service.stop());
  startMediaRetention(config, deps, lifecycle, (g) => {
    service.changedElsewhere(g);
    events.publish(g);
  });
  // Started before HTTP listens, so that it stops after HTTP has drained: requests finishing during
  // the drain still see their generations polled.
  poller.start();
  lifecycle.started('poller', () => poller.stop());
  return { events, backoff, poller, service };
}
type Generations = Awaited<ReturnType<typeof startGenerations>>;

/** The upstream request budget: in Redis when instances share it, in this process otherwise; none at rate 0. */
function createRequestBudget(config: Config, redis: RedisFanout | null, log: Logger): RequestBudget {
  const { ratePerSecond, burst } = config.upstreamBudget;
  if (ratePerSecond <= 0) return new UnlimitedRequestBudget();
  if (redis) return new SharedRequestBudget({ ratePerSecond, burst }, redis.commands, log.child({ component: 'upstream-budget' }));
  return new LocalRequestBudget({ ratePerSecond, burst });
}

/** Sends the webhook outbox; like the poller, started before HTTP so that it stops after HTTP drained. */
function startWebhookSender(
  config: Config,
  store: Store,
  metrics: Metrics,
  log: Logger,
  lifecycle: Lifecycle,
  mediaLinks: MediaLinks | null,
): WebhookSender {
  const sender = new WebhookSender({
    store,
    policy: config.webhooks,
    resolve: resolveWithSystemDns,
    timeoutMs: config.webhooks.timeoutMs,
    retryScheduleMs: config.webhooks.retryScheduleMs,
    concurrency: config.webhooks.concurrency,
    maxInFlightPerEndpoint: config.webhooks.maxInFlightPerEndpoint,
    pollIntervalMs: config.webhooks.pollIntervalMs,
    disableAfterFailingMs: config.webhooks.disableAfterFailingMs,
    mediaLinks,
    instanceId: config.instanceId,
    log: log.child({ component: 'webhooks' }),
    onAttempt: metrics.webhookAttempt,
  });
  metrics.watchWebhookOutbox(store);
  sender.start();
  lifecycle.started('webhook sender', () => sender.stop());
  return sender;
}

/** Copies finished videos into the media store; stops after the poller (which wakes it) and before the store. */
function startMediaCopier(config: Config, deps: GenerationDeps, events: GenerationEvents, lifecycle: Lifecycle): MediaCopier | null {
  if (!deps.media || !config.media) return null;
  const settings = config.media;
  const downloader = new VideoDownloader({ maxBytes: settings.maxBytes, timeoutMs: settings.copyTimeoutMs });
  lifecycle.started('video downloader', () => downloader.stop());
  const copier = new MediaCopier({
    queue: deps.store,
    media: deps.media,
    downloader,
    publish: (g) => events.publish(g),
    log: deps.log.child({ component: 'media' }),
    instanceId: config.instanceId,
    concurrency: settings.copyConcurrency,
    attempts: settings.copyAttempts,
    retryBaseMs: settings.copyRetryMs,
    retryMaxMs: Math.max(settings.copyRetryMs, 600_000),
    expiryMarginMs: settings.copyExpiryMarginMs,
    // A copy never outlives its lease: the download's own deadline ends it first.
    leaseMs: settings.copyTimeoutMs + 60_000,
    idleMs: config.databaseUrl ? 1_000 : EMBEDDED_POLLER_IDLE_MS,
    // The embedded store's data folder lock: no other process shares these copy jobs.
    releaseLeasesAtStart: !config.databaseUrl,
  });
  copier.start();
  lifecycle.started('media copier', () => copier.stop());
  return copier;
}

/** Removes stored videos past MEDIA_RETENTION_DAYS (when set); stops before the store. */
function startMediaRetention(config: Config, deps: GenerationDeps, lifecycle: Lifecycle, publish: (g: Generation) => void): void {
  if (!deps.media || !config.media || config.media.retentionMs <= 0) return;
  const retention = new MediaRetention({
    queue: deps.store,
    media: deps.media,
    publish,
    log: deps.log.child({ component: 'media-retention' }),
    retentionMs: config.media.retentionMs,
    intervalMs: config.media.retentionSweepMs,
    batch: config.media.retentionSweepBatch,
  });
  retention.start();
  lifecycle.started('media retention', () => retention.stop());
}

interface GraphQLDeps {
  /** The gateway's schema, being built (see compose). */
  schema: Promise<GraphQLSchema>;
  store: Store;
  media: MediaStore | null;
  /** Signs and checks stored videos' links; null without a media store. */
  mediaLinks: MediaLinks | null;
  redis: RedisFanout | null;
  circuit: UpstreamCircuit;
  target: UpstreamTarget;
  metrics: Metrics;
  access: Access;
  generations: Generations;
  webhookSender: WebhookSender;
  log: Logger;
}

/** The schema served over HTTP (Apollo) and WebSocket (graphql-ws), on an HTTP server not yet listening. */
async function startGraphQL(config: Config, deps: GraphQLDeps, lifecycle: Lifecycle) {
  const { metrics, log } = deps;
  const { quotas, checkCredential } = deps.access;
  const { service, poller, backoff } = deps.generations;
  const schema = await deps.schema;
  const formatError = createErrorFormatter(log);
  const httpServer: Server = createServer(serverOptions(config.http));
  const connectionCap = capConnections(httpServer, {
    maxConnections: config.http.maxConnections ?? defaultMaxConnections(),
    log: log.child({ component: 'http' }),
    onShed: () => metrics.connectionsDropped.inc({ reason: 'over_capacity' }),
  });
  const documentProtection = { documentCacheBytes: config.graphql.documentCacheBytes, limits: config.graphql };
  const trustedDocuments = loadTrustedDocuments(config.trustedDocuments);
  log.info({ mode: trustedDocuments.mode, documents: trustedDocuments.size }, 'trusted documents');
  const apqCache = config.apqCacheBytes > 0 ? new PersistedQueryCache(config.apqCacheBytes) : null;
  const protection = apolloDocumentProtection(documentProtection);
  const anonymousQuota = new AnonymousQuota(config.anonymousRequestsPerMinute, deps.redis?.commands);
  const anonymousOperation = async (req: IncomingMessage) => {
    try {
      await anonymousQuota.request(clientAddress(req, config.http.trustProxyHops));
    } catch (error) {
      if (error instanceof GatewayError && error.code === ErrorCode.RATE_LIMITED) metrics.anonymousRefusals.inc();
      throw error;
    }
  };
  const ownerSubscriptions = new OwnerSubscriptions(config.quotas.maxSubscriptions, () => metrics.quotaRefused('subscriptions'));
  const admitSubscription = (owner: string) => ownerSubscriptions.acquire(owner);
  const webhooks = {
    endpoints: new WebhookEndpoints(deps.store, config.webhooks, resolveWithSystemDns),
    deliveries: new WebhookDeliveries(deps.store, () => deps.webhookSender.wake()),
    generations: new GenerationWebhooks(deps.store, config.webhooks, resolveWithSystemDns),
  };
  const context = (owner: string | null, requestId: string, requestLog: () => Logger): GraphQLContext =>
    createContext(service, webhooks, owner, requestId, requestLog);

  const ws = attachWebSocketServer({
    httpServer,
    schema,
    path: config.http.graphqlPath,
    authenticate: async (params) => {
      const key = bearerToken(params?.authorization ?? params?.Authorization);
      return key ? checkCredential(key) : null;
    },
    beforeOperation: (owner) => quotas.request(owner),
    admitSubscription,
    context,
    introspection: config.introspection,
    formatError,
    metrics,
    log: log.child({ component: 'websocket' }),
    keepAliveMs: config.websocket.keepAliveMs,
    connectionInitTimeoutMs: config.websocket.connectionInitTimeoutMs,
    credentialRecheckMs: config.websocket.credentialRecheckMs,
    documentProtection,
    trustedDocuments,
    admitUpgrade: (req) => !connectionCap.isShed(req.socket),
    onUnauthenticated: anonymousOperation,
    maxBufferedBytes: config.websocket.maxBufferedBytes,
    writeTimeoutMs: config.websocket.writeTimeoutMs,
  });
  // Normally stopped by Apollo's drain below (together with HTTP); this covers a failed Apollo start.
  lifecycle.started('websocket', () => ws.stop());

  const httpSubscriptions = createHttpSubscriptions({
    schema,
    introspection: config.introspection,
    documentProtection,
    context,
    log: log.child({ component: 'http-subscriptions' }),
    authenticate: async (authorization) => {
      const key = bearerToken(authorization);
      return key ? checkCredential(key) : null;
    },
    formatError,
    metrics,
    credentialRecheckMs: config.websocket.credentialRecheckMs,
    heartbeatMs: config.httpSubscriptions.heartbeatMs,
    admitSubscription,
    delivery: {
      writeTimeoutMs: config.websocket.writeTimeoutMs,
      maxUnsentBytes: config.websocket.maxBufferedBytes,
      onDropped: (reason) => metrics.connectionsDropped.inc({ reason }),
    },
  });
  lifecycle.started('http subscriptions', () => httpSubscriptions.stop());

  const apollo = new ApolloServer<GraphQLContext>({
    schema,
    introspection: config.introspection,
    csrfPrevention: true,
    allowBatchedHttpRequests: false,
    includeStacktraceInErrorResponses: false,
    hideSchemaDetailsFromClientErrors: true,
    stopOnTerminationSignals: false,
    formatError,
    logger: log.child({ component: 'apollo' }),
    validationRules: protection.validationRules,
    parseOptions: protection.parseOptions,
    documentStore: protection.documentStore,
    persistedQueries: apqCache ? { cache: apqCache } : false,
    plugins: [
      ...protection.plugins,
      ApolloServerPluginDrainHttpServer({ httpServer, stopGracePeriodMillis: config.shutdownGraceMs }),
      {
        serverWillStart: async () => ({
          drainServer: async () => {
            httpSubscriptions.stop();
            await ws.stop();
          },
        }),
      },
      // Apollo's default landing page loads from a CDN; the playground is our own (static-assets.ts).
      ApolloServerPluginLandingPageDisabled(),
      // No field sets a cache hint, so the plugin only ever answered `no-store`, which noStorePlugin
      // sends, yet it wrapped every field's resolver for the hints: 8-11 % of a list request's CPU.
      ApolloServerPluginCacheControlDisabled(),
      // Inline traces are for a federation gateway reading a subgraph's traces; this schema is no subgraph, so
      // Apollo's default plugin would do nothing but load its module (and the usage-reporting protobuf) at start.
      ApolloServerPluginInlineTraceDisabled(),
      noStorePlugin,
      internalErrorStatusPlugin,
    ],
  });
  await apollo.start();
  // Drains the HTTP server once it listens (and closes WebSockets with 1001 alongside).
  lifecycle.started('apollo', () => apollo.stop());

  const staticAssets = createStaticAssets({
    graphqlPath: config.http.graphqlPath,
    playground: config.playground,
    // Completed videos play from the upstream's file host (the simulator's origin, or an https CDN) until
    // stored, then from the gateway's public address and, with a bucket, its presigned GETs' host.
    mediaOrigins: [
      new URL(deps.target.baseUrl).origin,
      'https:',
      ...(config.media?.publicBaseUrl ? [new URL(config.media.publicBaseUrl).origin] : []),
      ...(config.media?.store.kind === 's3' && config.media.store.endpoint ? [new URL(config.media.store.endpoint).origin] : []),
    ],
  });
  if (staticAssets.size === 0)
    log.warn({ dir: staticAssets.root }, 'the browser pages were not built (npm run build): / and the playground answer 404');

  httpServer.on(
    'request',
    createHttpHandler({
      apollo,
      graphqlPath: config.http.graphqlPath,
      maxBodyBytes: config.http.maxBodyBytes,
      authenticate: async (authorization) => {
        if (authorization === undefined) return null;
        const key = bearerToken(authorization);
        return (key && (await checkCredential(key))?.owner) || INVALID_CREDENTIALS;
      },
      beforeOperation: (owner) => quotas.request(owner),
      context,
      readiness: createReadiness({ store: deps.store, redis: deps.redis, poller, backoff, circuit: deps.circuit }),
      metrics,
      metricsAccess: config.metricsAccess,
      log,
      staticAssets,
      cors: createCors(config.cors.origins),
      requestLimits: config.graphql,
      anonymousOperation,
      connectionCap,
      subscriptionStream: httpSubscriptions.serve,
      trustedDocuments,
      media:
        deps.media && config.media
          ? createMediaRoute({ links: deps.mediaLinks!, media: deps.media, generation: (id) => deps.store.getGeneration(id), log })
          : undefined,
      delivery: {
        writeTimeoutMs: config.http.writeTimeoutMs,
        maxUnsentBytes: config.http.maxUnsentBytes,
        onDropped: (reason) => metrics.connectionsDropped.inc({ reason }),
      },
    }),
  );
  return { httpServer, documentCache: protection.documentStore, apqCache };
}

/** The configured manifests, read and checked now: a bad file stops the start, naming the setting and the file. */
function loadTrustedDocuments({ mode, manifests }: Config['trustedDocuments']): TrustedDocuments {
  // Checked in every mode, so a bad path is found before someone turns the mode on in production.
  try {
    return TrustedDocuments.fromFiles(mode, manifests);
  } catch (error) {
    if (error instanceof ManifestError) throw new ConfigError(`Invalid configuration:\n  TRUSTED_DOCUMENTS_MANIFESTS: ${error.message}`);
    throw error;
  }
}

/** Listens on PORT/HOST; a taken port fails with the port and the setting to change. */
function listen(httpServer: Server, config: Config): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const refuse = (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EADDRINUSE') return reject(error);
      const taken = new Error(`port ${config.port} on ${config.host} is already in use: stop what listens there, or set PORT to a free port`, {
        cause: error,
      });
      reject(Object.assign(taken, { code: error.code }));
    };
    httpServer.once('error', refuse);
    httpServer.listen(config.port, config.host, () => {
      httpServer.off('error', refuse);
      resolve();
    });
  });
}

/**
 * Key management for `npm run keys` while this process holds the embedded store's folder
 * (data-folder-lock.ts). PostgreSQL is shared, and the key CLI uses it directly.
 */
async function startAdmin(config: Config, store: Store, apiKeyCache: ApiKeyCache, log: Logger, lifecycle: Lifecycle): Promise<void> {
  if (!config.adminSocket || config.databaseUrl || !config.dataDir) return;
  const socket = await startAdminSocket(
    path.join(config.dataDir, ADMIN_SOCKET_NAME),
    storeKeyAdmin(store, apiKeyCache),
    log.child({ component: 'admin' }),
  );
  if (socket) lifecycle.started('admin socket', () => socket.stop());
}
