/**
 * Key management: `npm run keys -- create --owner alice [--label "ci"]`, `list`, `revoke <id|prefix>`.
 * It opens the configured store directly; with the embedded store, stop the gateway first
 * (an embedded database has one user at a time).
 */
import { loadConfig } from '../config';
import { createStore } from '../store/create-store';
import { createApiKey, revokeApiKey } from './api-keys';

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
  const store = createStore(loadConfig());
  await store.start();
  try {
    if (command === 'create') {
      const owner = flag(args, 'owner');
      if (!owner) {
        console.error(USAGE);
        return 2;
      }
      const { key, record } = await createApiKey(store, owner, flag(args, 'label') ?? null);
      console.log(`Created key ${record.id} for owner "${record.owner}".`);
      console.log(`Key (shown once, store it now): ${key}`);
    } else if (command === 'list') {
      const keys = await store.listApiKeys();
      if (keys.length === 0) console.log('No keys.');
      for (const k of keys) {
        const state = k.revokedAt ? `revoked ${k.revokedAt.toISOString()}` : 'active';
        console.log(`${k.id}  ${k.prefix}…  owner=${k.owner}  ${state}  created ${k.createdAt.toISOString()}${k.label ? `  "${k.label}"` : ''}`);
      }
    } else {
      // `list` prints prefixes followed by "…"; accept one pasted with it.
      const target = args[0]?.replace(/…$/, '');
      if (!target) {
        console.error(USAGE);
        return 2;
      }
      const count = await revokeApiKey(store, target);
      console.log(count ? `Revoked ${count} key(s).` : `No active key matches "${target}".`);
      return count ? 0 : 1;
    }
    return 0;
  } finally {
    await store.stop();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
