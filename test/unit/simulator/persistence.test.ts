import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CREATE_REQUESTS } from '../../fixtures/upstream-requests';
import { createId, pollJson, start, waitForStatus } from './helpers';

describe('stateFile', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'veo-sim-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps jobs, their progress and forced outcomes across a restart', async () => {
    const stateFile = join(dir, 'nested', 'sim-state.json');
    const first = await start({ stateFile, timeScale: 1000 });
    const running = await createId(first, CREATE_REQUESTS['google/veo3']);
    const failed = await createId(first, CREATE_REQUESTS['veo-3.1-lite-generate-001']);
    first.control.forceOutcome(failed, 'error');
    await first.stop();
    expect(JSON.parse(readFileSync(stateFile, 'utf8')).jobs).toHaveLength(2);

    const second = await start({ stateFile, timeScale: 0.0001 });
    try {
      expect(
        second.control
          .jobs()
          .map((j) => j.id)
          .sort(),
      ).toEqual([running, failed].sort());
      expect((await waitForStatus(second, running, 'completed')).video.url).toContain(second.url);
      expect((await pollJson(second, failed)).status).toBe('error');
    } finally {
      await second.stop();
    }
  });

  it('writes after each change, without waiting for close', async () => {
    const stateFile = join(dir, 'state.json');
    const sim = await start({ stateFile, timeScale: 1000 });
    try {
      const id = await createId(sim, CREATE_REQUESTS.veo2);
      await new Promise((r) => setImmediate(r));
      expect(JSON.parse(readFileSync(stateFile, 'utf8')).jobs.map((j: { id: string }) => j.id)).toEqual([id]);
    } finally {
      await sim.stop();
    }
  });

  it('refuses a state file it cannot read', async () => {
    const stateFile = join(dir, 'bad.json');
    writeFileSync(stateFile, '{"version":2}');
    await expect(start({ stateFile })).rejects.toThrow(/not a version 1 state file/);
  });
});
