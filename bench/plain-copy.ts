/**
 * The media bench's baseline, in its own process (forked, so its memory is measured apart from the
 * bench's): the same downloads done the plainest streaming way, an undici `stream()` into a file per
 * link, all at once, with no checks, no digest and no store. It talks over IPC: see PlainCopyRequest.
 */
import { createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { stream } from 'undici';
import { preciseNow } from './stats';

export type PlainCopyRequest =
  /** Download every link at once into `dir` (one file each); replies with a PlainCopyReport. */
  { type: 'copy'; urls: string[]; dir: string } | { type: 'stop' };

export interface PlainCopyReport {
  /** Wall-clock ms (preciseNow) of the first request and of the last file closed. */
  startedAt: number;
  endedAt: number;
  /** Bytes written, per link. */
  bytes: number[];
}

async function copy(url: string, file: string): Promise<number> {
  await stream(url, { method: 'GET' }, ({ statusCode }) => {
    if (statusCode !== 200) throw new Error(`plain copy: ${url} answered ${statusCode}`);
    return createWriteStream(file);
  });
  return (await stat(file)).size;
}

async function handle(req: PlainCopyRequest): Promise<unknown> {
  switch (req.type) {
    case 'copy': {
      const startedAt = preciseNow();
      const bytes = await Promise.all(req.urls.map((url, i) => copy(url, path.join(req.dir, `plain-${i}.mp4`))));
      return { startedAt, endedAt: preciseNow(), bytes } satisfies PlainCopyReport;
    }
    case 'stop':
      setImmediate(() => process.exit(0));
      return {};
  }
}

process.on('message', (msg: { seq: number; req: PlainCopyRequest }) => {
  handle(msg.req).then(
    (reply) => process.send!({ seq: msg.seq, reply }),
    (err: unknown) => process.send!({ seq: msg.seq, error: String((err as Error)?.stack ?? err) }),
  );
});
process.send!({ type: 'ready', pid: process.pid });
