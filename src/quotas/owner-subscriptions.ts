/**
 * Subscriptions one owner holds open at once, counted over every transport together (graphql-ws,
 * GraphQL over SSE, Apollo's multipart HTTP), so that moving to another transport buys no more.
 * Each open subscription holds a listener, a timer or a socket's buffers: without a cap one owner's
 * runaway client could hold thousands. Counted in this process's memory: a count shared through
 * Redis would outlive an instance that dies with subscriptions open.
 */
import { ErrorCode, GatewayError } from '../errors';

/** Gives the slot back; safe to call more than once. */
export type ReleaseSubscription = () => void;

export class OwnerSubscriptions {
  private readonly open = new Map<string, number>();

  constructor(
    /** Most open at once per owner; 0 = unlimited. */
    private readonly max: number,
    /** Called for every refusal (for metrics). Default: none. */
    private readonly onRefused?: () => void,
  ) {}

  /** Takes one of `owner`'s slots; throws RATE_LIMITED when all are taken. */
  acquire(owner: string): ReleaseSubscription {
    const held = this.open.get(owner) ?? 0;
    if (this.max > 0 && held >= this.max) {
      this.onRefused?.();
      throw new GatewayError(
        ErrorCode.RATE_LIMITED,
        `Too many open subscriptions: at most ${this.max} at once (WebSocket, SSE and multipart HTTP together); end one first`,
        // No window to wait out: a slot frees when one of the owner's subscriptions ends.
        { retryAfterSeconds: 5, limit: this.max },
      );
    }
    this.open.set(owner, held + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.open.get(owner) ?? 1) - 1;
      if (left > 0) this.open.set(owner, left);
      else this.open.delete(owner);
    };
  }

  /** Subscriptions `owner` holds open now. */
  held(owner: string): number {
    return this.open.get(owner) ?? 0;
  }
}
