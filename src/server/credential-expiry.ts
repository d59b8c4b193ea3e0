/**
 * A WebSocket or HTTP subscription stream authenticated with an expiring credential (a JWT) is closed with 4403 the moment
 * the credential expires, as graphql-ws closes a connection whose credentials are refused, so a
 * token cannot keep a subscription open past its lifetime.
 */
import { SocketCloseCode } from './close-codes';

/**
 * What the credential timers need of a connection: a WebSocket, or an HTTP subscription stream
 * (http-stream.ts), which turns the close code into its protocol's last words.
 */
export interface ClosableConnection {
  close(code: number, reason: string): void;
  once(event: 'close', listener: () => void): unknown;
}

/** setTimeout's longest delay (about 24.8 days); longer waits are re-armed in steps. */
const MAX_TIMER_MS = 2_147_483_647;

export function closeWhenExpired(socket: ClosableConnection, expiresAt: Date, now: () => number = Date.now): void {
  let timer: NodeJS.Timeout;
  const arm = (): void => {
    const left = expiresAt.getTime() - now();
    if (left <= 0) {
      socket.close(SocketCloseCode.Forbidden, 'Forbidden: credential expired');
      return;
    }
    // NaN is a Date beyond JavaScript's range (a JWT `exp` such as 1e13): as good as never. Left as
    // is, setTimeout would take it, like any delay over MAX_TIMER_MS, as 1 ms and re-arm without end.
    timer = setTimeout(arm, Number.isNaN(left) ? MAX_TIMER_MS : Math.min(left, MAX_TIMER_MS));
    timer.unref();
  };
  arm();
  socket.once('close', () => clearTimeout(timer));
}
