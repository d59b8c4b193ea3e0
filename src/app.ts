/**
 * The composition root: builds every part from the configuration, starts them in order, and
 * stops them in reverse. Nothing else wires parts together.
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import type { DestinationStream, Logger } from 'pino';
import { bearerToken, ensureDevelopmentKey, revokeApiKey } from './auth/api-keys';
import { JwtVerifier } from './auth/jwt';
import { createCredentialCheck } from './auth/principal';
import { ApiKeyCache } from './auth/api-key-cache';
import { storeKeyAdmin } from './auth/key-admin';
import type { Config } from './config';
import { ErrorCode, GatewayError } from './errors';
import { GenerationEvents } from './generations/events';
import { Poller } from './generations/poller';
import { GenerationService } from './generations/service';
import { PollSchedule } from './generations/timing';
import { UpstreamBackoff } from './upstream/health/backoff';
import { createContext, type GraphQLContext } from './graphql/context';
import { apolloDocumentProtection } from './graphql/document-limits';
import { createErrorFormatter, internalErrorStatusPlugin } from './graphql/errors';
import { buildGatewaySchema } from './graphql/schema';
import { createLogger } from './logger';
import { createCors } from './server/cors';
import { ADMIN_SOCKET_NAME, startAdminSocket, type AdminSocket } from './server/admin-socket';
import { clientAddress } from './server/client-address';
import { capConnections, defaultMaxConnections, serverOptions } from './server/connection-limits';
import { INVALID_CREDENTIALS, createHttpHandler } from './server/http';
import { Metrics } from './server/metrics';
import { createStaticAssets } from './server/static-assets';
import { attachWebSocketServer } from './server/websocket';
import { startSimulator, type Simulator } from './simulator/server';
import { createStore } from './store/create-store';
import type { Store } from './store/store';
import { AnonymousQuota } from './quotas/anonymous-quota';
import { OwnerQuotas } from './quotas/owner-quotas';
import { UpstreamCircuit } from './upstream/health/circuit-breaker';
import { createUpstreamClient } from './upstream/client';
import type { Redis } from 'ioredis';
import { RedisFanout } from './scale/redis-fanout';

/** Longest idle sleep of the poller over the embedded store, in ms (see `idleMs` below). */
const EMBEDDED_POLLER_IDLE_MS = 10_000;

export interface AppOptions {
  /** Where log lines go. Default: stdout. */
  logDestination?: DestinationStream;
}

export interface App {
  /** GraphQL over HTTP, e.g. `http://127.0.0.1:4000/graphql`. */
  readonly url: string;
  /** GraphQL over WebSocket (graphql-ws), same path. */
  readonly wsUrl: string;
  readonly config: Config;
  readonly log: Logger;
  readonly store: Store;
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
  /** A development key created at this start (empty key store, not production), else null. */
  readonly devApiKey: string | null;
  /**
   * Revokes an API key by id or shown prefix; returns how many were revoked. This instance refuses
   * the key at once; other instances within their API_KEY_CACHE_MS (the key CLI does the same).
   */
  revokeApiKey(idOrPrefix: string): Promise<number>;
  /** Drains HTTP, closes WebSockets with 1001, stops the poller and closes the store. */
  stop(): Promise<void>;
}

export async function startApp(config: Config, options: AppOptions = {}): Promise<App> {
  const secrets = config.upstream ? [config.upstream.apiKey] : [];
  const log = createLogger(config.logLevel, secrets, options.logDestination, config.logFormat).child({ instance: config.instanceId });

  const store = createStore(config, log.child({ component: 'store' }));
  await store.start();
  const redis = config.redisUrl ? new RedisFanout(config.redisUrl, log.child({ component: 'redis' }), config.redisCommandTimeoutMs) : null;
  await redis?.start();
  const devApiKey = config.devApiKey ? await ensureDevelopmentKey(store) : null;

  let simulator: Simulator | null = null;
  let upstreamTarget = config.upstream;
  if (!upstreamTarget) {
    const apiKey = randomBytes(18).toString('base64url');
    simulator = await startSimulator({
      port: config.simulator.port,
      host: '127.0.0.1',
      apiKey,
      timeScale: config.simulator.timeScale,
      stateFile: config.dataDir ? path.join(config.dataDir, 'simulator-jobs.json') : undefined,
    });
    upstreamTarget = { apiKey, baseUrl: simulator.url, legacyPaths: false };
  }

  const metrics = new Metrics(store);
  const upstream = createUpstreamClient({
    baseUrl: upstreamTarget.baseUrl,
    apiKey: upstreamTarget.apiKey,
    legacyPaths: upstreamTarget.legacyPaths,
    createHeadersTimeoutMs: config.upstreamTimeouts.createMs,
    headersTimeoutMs: config.upstreamTimeouts.pollMs,
    bodyTimeoutMs: config.upstreamTimeouts.pollMs,
    observer: metrics.upstreamCall,
  });

  const circuit = new UpstreamCircuit({
    ...config.breaker,
    onStateChange: (state) => log.warn({ component: 'upstream', circuit: state }, `upstream circuit ${state}`),
  });
  const guardedUpstream = circuit.wrap(upstream);
  metrics.watchCircuit(circuit);
  const quotas = new OwnerQuotas(config.quotas, store, redis?.commands, metrics.quotaRefused);
  const jwt = config.jwt ? new JwtVerifier(config.jwt) : null;
  const apiKeyCache = new ApiKeyCache({ ttlMs: config.apiKeyCacheMs });
  const checkCredential = createCredentialCheck({
    store,
    jwt,
    onJwtRejected: (reason) => log.info({ component: 'auth', reason }, 'JWT refused'),
    apiKeyCache,
  });

  const events = new GenerationEvents(redis?.eventTarget);
  redis?.resyncAfterReconnects(events);
  const schedule = new PollSchedule({
    timeScale: config.timeScale,
    minIntervalMs: config.poll.minIntervalMs,
    maxIntervalMs: config.poll.maxIntervalMs,
  });
  const backoff = redis?.backoff ?? new UpstreamBackoff();
  const poller = new Poller({
    store,
    upstream: guardedUpstream,
    pause: circuit,
    events,
    schedule,
    backoff,
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
  });
  const service = new GenerationService({
    store,
    upstream: guardedUpstream,
    quota: quotas,
    mediaUrls: config.mediaUrls,
    recordRetryMs: config.createRecordRetryMs,
    events,
    schedule,
    backoff,
    log: log.child({ component: 'generations' }),
    deadlineMs: config.deadlineMs * config.timeScale,
    onScheduled: () => poller.wake(),
  });

  const schema = await buildGatewaySchema();
  const formatError = createErrorFormatter(log);
  const httpServer: Server = createServer(serverOptions(config.http));
  const connectionCap = capConnections(httpServer, {
    maxConnections: config.http.maxConnections ?? defaultMaxConnections(),
    log: log.child({ component: 'http' }),
    onShed: () => metrics.connectionsDropped.inc({ reason: 'over_capacity' }),
  });
  const documentProtection = { documentCacheBytes: config.graphql.documentCacheBytes, limits: config.graphql };
  const protection = apolloDocumentProtection(documentProtection);
  const anonymousQuota = new AnonymousQuota(config.anonymousRequestsPerMinute, redis?.commands);
  const anonymousOperation = async (req: IncomingMessage) => {
    try {
      await anonymousQuota.request(clientAddress(req, config.http.trustProxyHops));
    } catch (error) {
      if (error instanceof GatewayError && error.code === ErrorCode.RATE_LIMITED) metrics.anonymousRefusals.inc();
      throw error;
    }
  };
  const context = (owner: string | null, requestId: string, requestLog: Logger): GraphQLContext =>
    createContext(service, owner, requestId, requestLog);

  const ws = attachWebSocketServer({
    httpServer,
    schema,
    path: config.http.graphqlPath,
    authenticate: async (params) => {
      const key = bearerToken(params?.authorization ?? params?.Authorization);
      return key ? checkCredential(key) : null;
    },
    beforeOperation: (owner) => quotas.request(owner),
    context,
    introspection: config.introspection,
    formatError,
    metrics,
    log: log.child({ component: 'websocket' }),
    keepAliveMs: config.websocket.keepAliveMs,
    connectionInitTimeoutMs: config.websocket.connectionInitTimeoutMs,
    credentialRecheckMs: config.websocket.credentialRecheckMs,
    documentProtection,
    admitUpgrade: (req) => !connectionCap.isShed(req.socket),
    onUnauthenticated: anonymousOperation,
    maxBufferedBytes: config.websocket.maxBufferedBytes,
    writeTimeoutMs: config.websocket.writeTimeoutMs,
  });

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
    plugins: [
      ...protection.plugins,
      ApolloServerPluginDrainHttpServer({ httpServer, stopGracePeriodMillis: config.shutdownGraceMs }),
      { serverWillStart: async () => ({ drainServer: () => ws.dispose() }) },
      // Apollo's default landing page loads from a CDN; the playground is our own (static-assets.ts).
      ApolloServerPluginLandingPageDisabled(),
      internalErrorStatusPlugin,
    ],
  });
  await apollo.start();

  const staticAssets = createStaticAssets({
    graphqlPath: config.http.graphqlPath,
    playground: config.playground,
    // Completed videos play from the upstream's file host: the simulator's origin, or an https CDN.
    mediaOrigins: [new URL(upstreamTarget.baseUrl).origin, 'https:'],
  });
  if (staticAssets.size === 0) log.warn({ dir: staticAssets.root }, 'the browser pages were not built (npm run build): / and the playground answer 404');

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
      readiness: async () => {
        const checks: Record<string, string> = {};
        try {
          await store.ping();
          checks.store = 'ok';
        } catch {
          checks.store = 'unavailable';
        }
        if (redis) {
          try {
            await redis.ping();
            checks.redis = 'ok';
          } catch {
            checks.redis = 'unavailable';
          }
        }
        checks.poller = poller.running ? 'ok' : 'stopped';
        const pause = backoff.remainingMs();
        checks.upstream = pause > 0 ? `backing off ${Math.ceil(pause / 1000)}s` : 'ok';
        // Reported, but the gateway stays ready: every instance shares the upstream, so pulling them
        // from the load balancer would only add failed reads (which the store still serves) to it.
        if (circuit.state !== 'closed') checks.upstream = `circuit ${circuit.state}`;
        return { ready: checks.store === 'ok' && checks.poller === 'ok' && checks.redis !== 'unavailable', checks };
      },
      metrics,
      metricsAccess: config.metricsAccess,
      log,
      staticAssets,
      cors: createCors(config.cors.origins),
      requestLimits: config.graphql,
      anonymousOperation,
      connectionCap,
      delivery: {
        writeTimeoutMs: config.http.writeTimeoutMs,
        maxUnsentBytes: config.http.maxUnsentBytes,
        onDropped: (reason) => metrics.connectionsDropped.inc({ reason }),
      },
    }),
  );

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.port, config.host, () => {
      httpServer.off('error', reject);
      resolve();
    });
  });
  poller.start();
  // Only the embedded store needs it: this process alone may open its folder (data-folder-lock.ts).
  // PostgreSQL is shared, and the key CLI uses it directly.
  const adminSocket: AdminSocket | null =
    config.adminSocket && !config.databaseUrl && config.dataDir
      ? await startAdminSocket(path.join(config.dataDir, ADMIN_SOCKET_NAME), storeKeyAdmin(store, apiKeyCache), log.child({ component: 'admin' }))
      : null;

  const { port } = httpServer.address() as AddressInfo;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  const base = `${host}:${port}${config.http.graphqlPath}`;

  let stopping: Promise<void> | null = null;
  const stop = () =>
    (stopping ??= (async () => {
      await adminSocket?.close();
      await apollo.stop(); // drains HTTP and closes WebSockets with 1001
      await poller.stop();
      service.stop();
      await upstream.close();
      await simulator?.close();
      await redis?.stop();
      await store.stop();
    })());

  return {
    url: `http://${base}`,
    wsUrl: `ws://${base}`,
    config,
    log,
    store,
    service,
    poller,
    events,
    metrics,
    simulator,
    redis: redis?.commands ?? null,
    documentCache: protection.documentStore,
    devApiKey,
    revokeApiKey: (idOrPrefix) => revokeApiKey(store, idOrPrefix, apiKeyCache),
    stop,
  };
}
