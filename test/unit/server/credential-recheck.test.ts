import { EventEmitter } from 'node:events';
import type { WebSocket } from 'ws';
import { closeWhenRevoked } from '../../../src/server/credential-recheck';
import { waitFor, sleep } from '../../helpers/gateway';

/** Just what closeWhenRevoked uses of a socket: close() and the 'close' event. */
function fakeSocket() {
  const socket = new EventEmitter() as EventEmitter & { closedWith?: [number, string]; close(code: number, reason: string): void };
  socket.close = (code, reason) => {
    socket.closedWith = [code, reason];
    socket.emit('close');
  };
  return socket;
}

describe('closeWhenRevoked', () => {
  it('closes with 4403 once the credential is refused, and checks no more', async () => {
    const socket = fakeSocket();
    let checks = 0;
    closeWhenRevoked(socket as unknown as WebSocket, {
      owner: 'alice',
      everyMs: 10,
      ownerNow: async () => (++checks < 3 ? 'alice' : null),
      onCheckFailed: () => {},
    });
    await waitFor('the close', () => socket.closedWith);
    expect(socket.closedWith).toEqual([4403, 'Forbidden: credential revoked']);
    await sleep(50);
    expect(checks).toBe(3);
  });

  it('closes when the credential now names another owner', async () => {
    const socket = fakeSocket();
    closeWhenRevoked(socket as unknown as WebSocket, { owner: 'alice', everyMs: 10, ownerNow: async () => 'mallory', onCheckFailed: () => {} });
    await waitFor('the close', () => socket.closedWith);
    expect(socket.closedWith?.[0]).toBe(4403);
  });

  it('keeps the socket open through failed checks (an outage is not a revocation) and checks again', async () => {
    const socket = fakeSocket();
    const failures: unknown[] = [];
    let checks = 0;
    closeWhenRevoked(socket as unknown as WebSocket, {
      owner: 'alice',
      everyMs: 10,
      ownerNow: async () => {
        if (++checks <= 3) throw new Error('database unavailable');
        return 'alice';
      },
      onCheckFailed: (err) => failures.push(err),
    });
    await waitFor('checks after the failures', () => checks >= 5);
    expect(failures).toHaveLength(3);
    expect(socket.closedWith).toBeUndefined();
    socket.emit('close');
    const after = checks;
    await sleep(50);
    expect(checks).toBe(after);
  });
});
