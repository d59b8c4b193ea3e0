import { EventEmitter } from 'node:events';
import type { WebSocket } from 'ws';
import { JwtVerifier } from '../../../src/auth/jwt';
import { closeWhenExpired } from '../../../src/server/credential-expiry';

type Jose = typeof import('jose', { with: { 'resolution-mode': 'import' } });

const SECRET = 'a-test-secret-of-at-least-32-characters!!';

/** Just what closeWhenExpired uses of a socket: close() and the 'close' event. */
function fakeSocket() {
  const socket = new EventEmitter() as EventEmitter & { closedWith?: [number, string]; close(code: number, reason: string): void };
  socket.close = (code, reason) => {
    socket.closedWith = [code, reason];
    socket.emit('close');
  };
  return socket;
}

/** The expiry the gateway derives from a real token with this `exp` claim (seconds). */
async function expiryOf(exp: number): Promise<Date> {
  const jose: Jose = await import('jose');
  const token = await new jose.SignJWT({ sub: 'alice', exp }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(SECRET));
  const verifier = new JwtVerifier({ secret: SECRET, jwksUrl: null, issuer: null, audience: null, ownerClaim: 'sub' });
  return (await verifier.verify(token)).expiresAt;
}

describe('closeWhenExpired', () => {
  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  it.each([
    ['exp 1e13 (a Date past JavaScript range)', 1e13],
    ['exp in 100 years (past setTimeout range)', Math.floor(Date.now() / 1000) + 100 * 365 * 86_400],
  ])('arms one timer, not one per millisecond, for a far-future token: %s', async (_name, exp) => {
    const expiresAt = await expiryOf(exp);
    jest.useFakeTimers({ now: Date.now() });
    const arms = jest.spyOn(global, 'setTimeout');
    const socket = fakeSocket();
    closeWhenExpired(socket as unknown as WebSocket, expiresAt);
    jest.advanceTimersByTime(1_000);
    expect(arms.mock.calls.length).toBeLessThanOrEqual(2);
    expect(socket.closedWith).toBeUndefined();
    socket.emit('close');
    expect(jest.getTimerCount()).toBe(0);
  });

  it('still closes with 4403 when a near token expires', async () => {
    const expiresAt = await expiryOf(Math.floor(Date.now() / 1000) + 2);
    jest.useFakeTimers({ now: Date.now() });
    const socket = fakeSocket();
    closeWhenExpired(socket as unknown as WebSocket, expiresAt);
    jest.advanceTimersByTime(1_000);
    expect(socket.closedWith).toBeUndefined();
    jest.advanceTimersByTime(2_500);
    expect(socket.closedWith).toEqual([4403, 'Forbidden: credential expired']);
  });
});
