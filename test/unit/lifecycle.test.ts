import { Writable } from 'node:stream';
import pino from 'pino';
import { Lifecycle } from '../../src/lifecycle';

function logged(): { lines: Array<Record<string, unknown>>; lifecycle: Lifecycle } {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      lines.push(JSON.parse(String(chunk)));
      callback();
    },
  });
  return { lines, lifecycle: new Lifecycle(pino({ level: 'info' }, destination)) };
}

describe('Lifecycle', () => {
  it('stops the recorded parts once, last started first', async () => {
    const { lifecycle } = logged();
    const order: string[] = [];
    for (const part of ['store', 'simulator', 'http']) lifecycle.started(part, async () => void order.push(part));
    await Promise.all([lifecycle.stop(), lifecycle.stop()]);
    await lifecycle.stop();
    expect(order).toEqual(['http', 'simulator', 'store']);
  });

  it('runs every stop when one fails, logs that one with its part, and rejects with its error', async () => {
    const { lifecycle, lines } = logged();
    const order: string[] = [];
    const broken = new Error('socket already gone');
    lifecycle.started('store', () => void order.push('store'));
    lifecycle.started('redis', () => {
      throw broken;
    });
    lifecycle.started('http', () => void order.push('http'));
    await expect(lifecycle.stop()).rejects.toBe(broken);
    expect(order).toEqual(['http', 'store']);
    expect(lines).toEqual([expect.objectContaining({ level: 50, part: 'redis', msg: 'redis did not stop cleanly' })]);
  });

  it('names the step that failed, and refuses parts started after the stop began', async () => {
    const { lifecycle } = logged();
    await lifecycle.run('store', () => lifecycle.started('store', () => undefined));
    expect(lifecycle.step).toBeNull();
    await expect(
      lifecycle.run('http', async () => {
        throw new Error('port taken');
      }),
    ).rejects.toThrow('port taken');
    expect(lifecycle.step).toBe('http');
    await lifecycle.stop();
    expect(() => lifecycle.started('late', () => undefined)).toThrow('late started after the stop began');
  });
});
