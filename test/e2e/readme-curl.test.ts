/**
 * The README's `curl -N` subscription over Server-Sent Events, run as written against a real
 * gateway (only its address and `<id>` filled in): with curl when it is installed (CI installs only
 * what .ci/run names, which does not include curl), and always as the same request through fetch,
 * its URL, headers and body read from the README's command.
 */
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { CreateVideoGenerationDocument, gqlData, useGateway, within } from '../helpers/gateway';

// shell-quote ships no types; this is the part of its API used here.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { parse } = require('shell-quote') as { parse: (command: string, env: Record<string, string>) => Array<string | { op: string }> };

const README_URL = 'http://127.0.0.1:4000/graphql';

/** The README's shell block that starts with `curl -N`, as written. */
function readmeCommand(): string {
  const readme = readFileSync(path.resolve(__dirname, '../../README.md'), 'utf8');
  const block = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1].trim()).find((b) => b.startsWith('curl -N '));
  if (!block) throw new Error('README.md has no ```sh block starting with `curl -N`');
  return block;
}

/** The request a curl command line sends: its URL, every -H, and -d as the body. */
function curlRequest(command: string, env: Record<string, string>): { url: string; headers: Record<string, string>; body: string } {
  const words = parse(command.replace(/\\\n\s*/g, ' '), env).map((w) => (typeof w === 'string' ? w : w.op));
  const headers: Record<string, string> = {};
  let url = '';
  let body = '';
  for (let i = 1; i < words.length; i++) {
    if (words[i] === '-H') {
      const [name, ...value] = words[++i].split(':');
      headers[name.trim().toLowerCase()] = value.join(':').trim();
    } else if (words[i] === '-d') body = words[++i];
    else if (words[i] === '-N') continue;
    else if (/^https?:\/\//.test(words[i])) url = words[i];
    else throw new Error(`the test does not know curl's ${words[i]}: teach curlRequest or simplify the README`);
  }
  return { url, headers, body };
}

/** The events of a GraphQL over SSE stream: `event: next` data and the final `event: complete`. */
function sseEvents(text: string): Array<{ event: string; data: any }> {
  return text
    .split('\n\n')
    .filter((chunk) => chunk.startsWith('event:'))
    .map((chunk) => {
      const event = /^event: (\w+)/.exec(chunk)![1];
      const data = /^data: ?(.*)$/m.exec(chunk)?.[1];
      return { event, data: data ? (JSON.parse(data) as unknown) : null };
    });
}

describe('the README’s curl -N subscription', () => {
  const gw = useGateway({}, 60_000);
  let key: string;
  let command: string;

  beforeAll(async () => {
    key = await gw.keyFor('readme-reader');
  });

  /** A new generation, and the README's command aimed at it on this gateway. */
  async function aimed(): Promise<string> {
    const { createVideoGeneration: g } = await gqlData(gw, key, CreateVideoGenerationDocument, {
      input: { model: 'google/veo-3.0-fast', prompt: 'A lighthouse at dusk', durationSeconds: 4 },
    });
    command = readmeCommand();
    expect(command).toContain(README_URL);
    expect(command).toContain('<id>');
    return command.replace(README_URL, gw.app.url).replace('<id>', g.id);
  }

  function expectFollowedToVideo(text: string): void {
    const events = sseEvents(text);
    expect(events.at(-1)).toEqual({ event: 'complete', data: null });
    const updates = events.filter((e) => e.event === 'next').map((e) => e.data.data.videoGenerationUpdated);
    // The snapshot first (on a loaded machine the generation may already have finished), then every version once.
    expect(updates.length).toBeGreaterThan(0);
    expect(updates.map((u) => u.version)).toEqual(updates.map((_, i) => updates[0].version + i));
    expect(updates.at(-1)).toEqual({ status: 'COMPLETED', version: expect.any(Number), video: { url: expect.stringMatching(/^http/) } });
  }

  const hasCurl = (() => {
    try {
      execFileSync('curl', ['--version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  if (!hasCurl) console.warn('!! curl is missing: the README command runs only as the same request through fetch');

  (hasCurl ? it : it.skip)('runs as written with curl and follows the generation to its video', async () => {
    const { stdout } = await within(
      'curl to end the stream',
      promisify(execFile)('bash', ['-c', await aimed()], { env: { ...process.env, KEY: key }, timeout: 30_000 }),
      35_000,
    );
    expectFollowedToVideo(stdout);
  });

  it('sends the same request through fetch and follows the generation to its video', async () => {
    const request = curlRequest(await aimed(), { KEY: key });
    expect(request.headers.accept).toBe('text/event-stream');
    const response = await fetch(request.url, { method: 'POST', headers: request.headers, body: request.body, signal: AbortSignal.timeout(30_000) });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expectFollowedToVideo(await within('the stream to end', response.text(), 35_000));
  });
});
