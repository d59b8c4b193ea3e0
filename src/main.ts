/**
 * Process entry: configuration → app → listen. SIGTERM/SIGINT stop it gracefully; any failure to
 * start exits non-zero with the reason.
 */
import nodeModule from 'node:module';
import 'reflect-metadata';
import { ConfigError, loadConfig } from './config';
import { openStore } from './store/create-store';
import { pgliteStartedElsewhere } from './store/pglite-thread';

/** Set once startApp runs: from then on its logger has reported any failure, with the step that failed. */
let appLogsFailures = false;

async function main(): Promise<void> {
  const config = loadConfig();
  // The embedded store opens first: its thread compiles and starts PGlite (a second or more of CPU)
  // while this one loads the gateway's modules below. PostgreSQL's open is a connection and a query,
  // and its pool logs through the app's logger: startApp opens it.
  const store = config.databaseUrl ? undefined : openStore(config);
  if (store) {
    // Not lost: startApp's first step awaits it and reports its failure.
    const settled = store.then(
      () => undefined,
      () => undefined,
    );
    await Promise.race([pgliteStartedElsewhere, settled]);
  }
  const { startApp } = await import('./app.js');
  appLogsFailures = true;
  const app = await startApp(config, { store });
  // Every module a start needs is loaded: Node's compile cache (NODE_COMPILE_CACHE, docs/operations.md) is
  // written now rather than at exit, which a killed or crashed process never reaches. Node 23+; nothing
  // without the cache.
  (nodeModule as { flushCompileCache?: () => void }).flushCompileCache?.();

  const lines = [
    '',
    `  Video generation gateway ready`,
    `    GraphQL (HTTP):      ${app.url}`,
    `    GraphQL (WebSocket): ${app.wsUrl}`,
    `    Health:              ${app.url.replace(/\/graphql$/, '/healthz')}  ·  metrics: /metrics`,
    `    Store:               ${config.databaseUrl ? `PostgreSQL at ${redactUrl(config.databaseUrl)}` : config.dataDir ? `embedded, in ${config.dataDir}` : 'embedded, in memory'}`,
    `    Events:              ${config.redisUrl ? `Redis at ${redactUrl(config.redisUrl)}` : 'in process'}  ·  instance ${config.instanceId}`,
    `    Progress page:       ${app.url.replace(/\/graphql$/, '/')}`,
  ];
  if (config.playground) lines.push(`    Playground:          ${app.url}  (open it in a browser)`);
  if (app.simulator) {
    lines.push(
      '',
      '  !! SIMULATED UPSTREAM: AIMLAPI_API_KEY is not set, so no real video is generated.',
      `  !! Requests go to the built-in simulator at ${app.simulator.url} (time scale ${config.simulator.timeScale}).`,
      '  !! Set AIMLAPI_API_KEY to use the real AI/ML API.',
    );
  } else {
    lines.push(`    Upstream:            ${config.upstream!.baseUrl}`);
  }
  lines.push(
    '',
    '  Authenticate with an API key: HTTP header `Authorization: Bearer <key>`,',
    '  or WebSocket connectionParams `{ "authorization": "Bearer <key>" }`.',
    '  Manage keys with `npm run keys -- create --owner <name>` (also while the gateway runs).',
  );
  if (app.devApiKey) {
    lines.push('', `  Development key (shown once, owner "dev"): ${app.devApiKey}`);
  }
  console.log(lines.join('\n') + '\n');
  // The banner is for whoever started it; this line is for the log a person or collector follows later.
  app.log.info(
    {
      url: app.url,
      store: config.databaseUrl ? 'postgresql' : config.dataDir ? 'embedded' : 'in-memory',
      events: config.redisUrl ? 'redis' : 'in-process',
      upstream: app.simulator ? 'simulator' : config.upstream!.baseUrl,
    },
    `gateway ready at ${app.url}${app.simulator ? ' (simulated upstream)' : ''}`,
  );

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'shutting down');
    app.stop().then(
      () => {
        app.log.info('stopped');
        process.exit(0);
      },
      () => {
        // Each part that failed to stop has been appLogsFailures with its error (lifecycle.ts).
        app.log.error('shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

/** host:port/db of a connection URL, without its password. */
function redactUrl(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
}

main().catch((err: unknown) => {
  if (!appLogsFailures) console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
