/**
 * Node's compile cache (NODE_COMPILE_CACHE, set by `npm start` and the image; docs/operations.md) is written
 * once the gateway is ready, not only at a graceful exit: a first start that is killed still leaves it for
 * the next. Node 23 and later (CI's second Node); Node 20 has no compile cache. Needs the build in dist/.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startGatewayProcess } from '../helpers/services';

jest.setTimeout(60_000);

const hasFlush = Number(process.versions.node.split('.')[0]) >= 23;

/** Every file under `dir`, at any depth. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name));
}

(hasFlush ? it : it.skip)('the compile cache is on disk once the gateway is ready, before it exits', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'veo-compile-cache-'));
  try {
    const gateway = await startGatewayProcess('compile-cache', { DATA_IN_MEMORY: 'true', NODE_COMPILE_CACHE: dir }, { startTimeoutMs: 40_000 });
    try {
      // The banner is printed right after the flush; give the file system a moment, bounded.
      const deadline = Date.now() + 5_000;
      while (filesUnder(dir).length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(gateway.alive).toBe(true);
      expect(filesUnder(dir).length).toBeGreaterThan(0);
    } finally {
      await gateway.kill();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
