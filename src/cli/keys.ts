/**
 * Key management: `npm run keys -- create --owner alice [--label "ci"]`, `list`, `revoke <id|prefix>`.
 * With PostgreSQL it uses the database directly (running instances see a revocation within
 * API_KEY_CACHE_MS). With the embedded store, a running gateway holds the data folder alone, so the
 * CLI asks it through its admin socket (a revocation is then refused at once); with no gateway
 * running, the CLI takes the folder's lock and opens it itself.
 */
import path from 'node:path';
import { loadConfig } from '../config';
import { ADMIN_SOCKET_NAME, connectAdminSocket } from '../server/admin-socket';
import { createStore } from '../store/create-store';
import type { Store } from '../store/store';
import { storeKeyAdmin, type KeyAdmin } from '../auth/key-admin';

const USAGE = `Usage:
  npm run keys -- create --owner <owner> [--label <text>]
  npm run keys -- list
  npm run keys -- revoke <key id or prefix>`;

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  if (!command || !['create', 'list', 'revoke'].includes(command)) {
    console.error(USAGE);
    return 2;
  }
  if (command === 'create' && !flag(args, 'owner')) {
    console.error(USAGE);
    return 2;
  }
  if (command === 'revoke' && !revokeTarget(args)) {
    console.error(USAGE);
    return 2;
  }
  const config = loadConfig();
  if (!config.databaseUrl && !config.dataDir) {
    // It would create keys in a database of its own that vanishes when it exits.
    console.error(
      "DATA_IN_MEMORY is set: the keys live in the running gateway's memory, out of this command's reach. Unset it (DATA_DIR) or use DATABASE_URL.",
    );
    return 1;
  }
  const socketPath = config.databaseUrl ? null : path.join(config.dataDir!, ADMIN_SOCKET_NAME);
  const remote = socketPath ? await connectAdminSocket(socketPath) : null;
  if (remote) {
    console.error(`(through the running gateway, on ${socketPath})`);
    return run(remote, command, args);
  }
  const store: Store = await createStore(config, undefined, 'keys CLI');
  await store.start();
  try {
    return await run(storeKeyAdmin(store), command, args);
  } finally {
    await store.stop();
  }
}

/** Carries out a command whose arguments `main` checked; returns the exit code. */
async function run(admin: KeyAdmin, command: string, args: string[]): Promise<number> {
  if (command === 'create') {
    const { key, record } = await admin.create(flag(args, 'owner')!, flag(args, 'label') ?? null);
    console.log(`Created key ${record.id} for owner "${record.owner}".`);
    console.log(`Key (shown once, store it now): ${key}`);
    return 0;
  }
  if (command === 'list') {
    const keys = await admin.list();
    if (keys.length === 0) console.log('No keys.');
    for (const k of keys) {
      const state = k.revokedAt ? `revoked ${k.revokedAt.toISOString()}` : 'active';
      console.log(`${k.id}  ${k.prefix}…  owner=${k.owner}  ${state}  created ${k.createdAt.toISOString()}${k.label ? `  "${k.label}"` : ''}`);
    }
    return 0;
  }
  const target = revokeTarget(args)!;
  const count = await admin.revoke(target);
  console.log(count ? `Revoked ${count} key(s).` : `No active key matches "${target}".`);
  return count ? 0 : 1;
}

/** `list` prints prefixes followed by "…"; accept one pasted with it. */
function revokeTarget(args: string[]): string | undefined {
  return args[0]?.replace(/…$/, '') || undefined;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
