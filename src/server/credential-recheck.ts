/**
 * An API key can be revoked while sockets (or HTTP subscription streams) opened with it are still streaming. Each such socket
 * checks its credential again at an interval and is closed with 4403, like a refused connection,
 * once the credential no longer names the same owner. A check that fails for another reason (the
 * database is away) keeps the socket: an outage is not a revocation.
 */
import { SocketCloseCode } from './close-codes';
import type { ClosableConnection } from './credential-expiry';

export interface CredentialRecheck {
  /** The owner the credential names now, or null when it is refused. */
  ownerNow: () => Promise<string | null>;
  /** The owner the socket was opened for. */
  owner: string;
  /** Time between checks, in ms. */
  everyMs: number;
  /** Called with a check's unexpected failure; the socket stays open. */
  onCheckFailed: (err: unknown) => void;
}

export function closeWhenRevoked(socket: ClosableConnection, o: CredentialRecheck): void {
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const check = async (): Promise<void> => {
    try {
      if ((await o.ownerNow()) !== o.owner) {
        socket.close(SocketCloseCode.Forbidden, 'Forbidden: credential revoked');
        return;
      }
    } catch (err) {
      o.onCheckFailed(err);
    }
    if (!closed) arm();
  };
  const arm = (): void => {
    timer = setTimeout(() => void check(), o.everyMs);
    timer.unref();
  };
  arm();
  socket.once('close', () => {
    closed = true;
    clearTimeout(timer);
  });
}
