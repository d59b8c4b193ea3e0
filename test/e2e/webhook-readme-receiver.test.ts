/**
 * The receiver the README shows, run as written (extracted from README.md) against a real gateway: it
 * verifies the signature with the standardwebhooks library and prints each event once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort } from '../helpers/free-port';
import { CREATE, GET, gqlData, useGateway, waitFor } from '../helpers/gateway';

const ROOT = path.join(__dirname, '../..');

/** The first js block of the README's Webhooks section. */
function readmeReceiver(): string {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Webhooks'));
  const match = /```js\n([\s\S]*?)```/.exec(section);
  if (!match) throw new Error('README.md has no receiver under "## Webhooks"');
  return match[1]!;
}

describe("the README's webhook receiver", () => {
  const gw = useGateway({ env: { WEBHOOK_ALLOW_HTTP: 'true', WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_POLL_INTERVAL_MS: '50' } });
  let child: ChildProcess | null = null;
  afterEach(() => {
    child?.kill('SIGKILL');
    child = null;
  });

  it('should verify and print each event once', async () => {
    const code = readmeReceiver();
    expect(code.split('\n').length).toBeLessThanOrEqual(25);
    // Under node_modules/ so that `standardwebhooks` resolves from the project, as after `npm install`.
    const dir = path.join(ROOT, 'node_modules/.cache/readme-receiver');
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `receiver-${process.pid}.mjs`);
    writeFileSync(file, code);

    const port = await freePort();
    const key = await gw.keyFor('readme-owner');
    const { secret } = (
      await gqlData(gw, key, `mutation C($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { secret } }`, {
        input: { url: `http://127.0.0.1:${port}/`, events: ['GENERATION_COMPLETED'] },
      })
    ).createWebhookEndpoint;
    let out = '';
    child = spawn(process.execPath, [file], { env: { ...process.env, WEBHOOK_SECRET: secret, PORT: String(port), HOST: '127.0.0.1' } });
    child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    await waitFor('the receiver to listen', async () => {
      try {
        return (await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: '{}' })).status === 400;
      } catch {
        return false;
      }
    });

    const created = (await gqlData(gw, key, CREATE, { input: { model: 'google/veo-3.0-fast', prompt: 'a receiver test' } })).createVideoGeneration;
    const done = await waitFor(
      'completion',
      async () => {
        const g = (await gqlData(gw, key, GET, { id: created.id })).videoGeneration;
        return g.status === 'COMPLETED' && g;
      },
      20_000,
      100,
    );
    await waitFor('the receiver to print the event', () => out.includes('generation.completed'), 10_000);
    expect(out.trim().split('\n')).toEqual([`generation.completed ${done.id} ${done.video.url}`]);
  }, 40_000);
});
