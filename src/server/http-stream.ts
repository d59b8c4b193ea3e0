/**
 * One subscription served as a long-lived HTTP response (GraphQL over SSE, Apollo's multipart
 * protocol), with the life a WebSocket has: it can be closed with a close code (a revoked or
 * expired credential, shutdown), which each protocol turns into its own last words, and it emits
 * 'close' once, when it ends for any reason, the client's going away included.
 */
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { ClosableConnection } from './credential-expiry';

/** The protocol's last words for a close code, written before the response ends; null: none. */
export type LastWords = (code: number, reason: string) => string | null;

export class HttpStream extends EventEmitter implements ClosableConnection {
  private ended = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly lastWords: LastWords,
  ) {
    super();
    res.once('close', () => {
      this.ended = true;
      this.emit('close');
    });
  }

  get open(): boolean {
    return !this.ended && !this.res.destroyed;
  }

  write(chunk: string): void {
    if (this.open) this.res.write(chunk);
  }

  /** Ends the response normally, after `chunk` (the protocol's end of stream). */
  end(chunk = ''): void {
    if (!this.open) return;
    this.ended = true;
    this.res.end(chunk);
  }

  close(code: number, reason: string): void {
    this.end(this.lastWords(code, reason) ?? '');
  }
}

/** The open streams, so shutdown can end them at once instead of waiting out the drain's grace. */
export class HttpStreams {
  private readonly open = new Set<HttpStream>();

  track(stream: HttpStream): void {
    this.open.add(stream);
    stream.once('close', () => this.open.delete(stream));
  }

  get size(): number {
    return this.open.size;
  }

  closeAll(code: number, reason: string): void {
    for (const stream of [...this.open]) stream.close(code, reason);
  }
}
