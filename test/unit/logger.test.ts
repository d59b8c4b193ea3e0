/** The process logger's two formats, and the upstream-key scrub in both. */
import { Writable } from 'node:stream';
import { createLogger, lazyChild } from '../../src/logger';

// Random-looking like a real key: the scrub also removes any 8-character run of the key, so a key that
// spelled words would redact those words too.
const UPSTREAM_KEY = 'sk-9f3a5d1c9e7a2b4f8036c1e7';

function capture(): { lines: string[]; destination: Writable } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      callback();
    },
  });
  return { lines, destination };
}

it('writes one JSON object per line by default, with the upstream key scrubbed', async () => {
  const { lines, destination } = capture();
  const log = await createLogger('info', [UPSTREAM_KEY], destination);
  log.info({ generationId: 'g1', reason: `upstream said Bearer ${UPSTREAM_KEY}` }, 'generation created');
  expect(lines).toHaveLength(1);
  const line = JSON.parse(lines[0]!) as Record<string, unknown>;
  expect(line).toMatchObject({ msg: 'generation created', generationId: 'g1', reason: 'upstream said Bearer [redacted]' });
  expect(lines[0]).not.toContain(UPSTREAM_KEY);
});

it('writes readable single lines in the pretty format, with the same scrub and the same fields', async () => {
  const { lines, destination } = capture();
  const log = (await createLogger('info', [UPSTREAM_KEY], destination, 'pretty')).child({ instance: 'host-1-abc' });
  log.info({ generationId: 'g1', reason: `key ${UPSTREAM_KEY}` }, 'generation completed after 41.5 s');
  log.debug('a detail nobody asked for');
  log.warn({ authorization: `Bearer ${UPSTREAM_KEY}` }, 'poll failed; will retry');
  expect(lines).toHaveLength(2);
  expect(() => JSON.parse(lines[0]!)).toThrow();
  expect(lines[0]).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: generation completed after 41\.5 s \{.*"generationId":"g1"/);
  expect(lines[0]).toContain('[redacted]');
  expect(lines[0]).not.toContain('host-1-abc');
  expect(lines[1]).toMatch(/WARN: poll failed; will retry/);
  expect(lines.join('\n')).not.toContain(UPSTREAM_KEY);
});

it('chooses JSON in the auto format when lines go anywhere but a terminal', async () => {
  const { lines, destination } = capture();
  (await createLogger('info', [], destination, 'auto')).info('gateway ready');
  expect(JSON.parse(lines[0]!)).toMatchObject({ msg: 'gateway ready' });
});

it('makes a lazy child logger once, on first use, with its bindings on every line', async () => {
  const { lines, destination } = capture();
  const log = await createLogger('info', [], destination);
  const child = jest.spyOn(log, 'child');
  const requestLog = lazyChild(log, { requestId: 'r-1' });
  expect(child).not.toHaveBeenCalled();
  requestLog().info('first');
  requestLog().warn('second');
  expect(child).toHaveBeenCalledTimes(1);
  expect(lines.map((l) => JSON.parse(l) as Record<string, unknown>)).toMatchObject([
    { msg: 'first', requestId: 'r-1' },
    { msg: 'second', requestId: 'r-1' },
  ]);
});
