/**
 * What has started and how to stop it. Each part records its stop the moment it holds something
 * (a port, a connection, a folder lock), as Apollo Server's `toDispose` does, so a start that fails
 * half-way and a normal stop run the same stops, last started first: the order is never kept by
 * hand apart from the start order.
 */
import type { Logger } from 'pino';

type Stop = () => Promise<void> | void;

export class Lifecycle {
  private readonly stops: Array<{ part: string; stop: Stop }> = [];
  private stopping: Promise<void> | null = null;
  private current: string | null = null;

  constructor(private readonly log: Logger) {}

  /** The start step running now (named in the log line of a failed start). */
  get step(): string | null {
    return this.current;
  }

  /** Runs the start step `name`; what it starts records its stops with `started`. */
  async run<T>(name: string, start: () => Promise<T> | T): Promise<T> {
    this.current = name;
    const result = await start();
    this.current = null;
    return result;
  }

  /** Records how to stop `part`, which has just started (or opened something a failed start must close). */
  started(part: string, stop: Stop): void {
    if (this.stopping) throw new Error(`${part} started after the stop began`);
    this.stops.push({ part, stop });
  }

  /**
   * Stops every recorded part once, in reverse order of start. A stop that fails is logged with its
   * part and does not keep the earlier parts open (a store left locked is worse than a late error);
   * the first failure rejects once every stop has run. Later calls return the same promise.
   */
  stop(): Promise<void> {
    return (this.stopping ??= this.stopAll());
  }

  private async stopAll(): Promise<void> {
    let first: { error: unknown } | null = null;
    for (const { part, stop } of this.stops.reverse()) {
      try {
        await stop();
      } catch (error) {
        this.log.error({ err: error, part }, `${part} did not stop cleanly`);
        first ??= { error };
      }
    }
    if (first) throw first.error;
  }
}
