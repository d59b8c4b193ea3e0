/**
 * The local admin channel: a Unix domain socket in the data folder through which `npm run keys`
 * manages keys while the gateway holds that folder (no other process may open it). It is not a
 * network listener; who may connect is decided by the file's mode, 0600: the gateway's own user
 * (and root). One request per connection: a JSON line in, a JSON line out.
 */
import { chmod, unlink } from 'node:fs/promises';
import { connect, createServer, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { KeyAdminInputError, type KeyAdmin, type KeyView } from '../auth/key-admin';

export const ADMIN_SOCKET_NAME = 'admin.sock';
/** Longest request line, in bytes: a create with a label is a few hundred. */
const MAX_REQUEST_BYTES = 64 * 1024;
/** How long a connection may take to send its request, and a caller waits for the answer, in ms. */
const REQUEST_TIMEOUT_MS = 10_000;
/** sun_path holds 108 bytes on Linux (104 on macOS), including the terminating NUL. */
const MAX_SOCKET_PATH_BYTES = 103;

type Request = { command: 'create'; owner: string; label: string | null } | { command: 'list' } | { command: 'revoke'; target: string };
type Response = { ok: true; result: unknown } | { ok: false; error: string };

export interface AdminSocket {
  readonly path: string;
  stop(): Promise<void>;
}

/**
 * Listens on `socketPath` for key management on `admin`. Returns null (with a warning) when the
 * path is too long for a Unix socket: the gateway runs, and the key CLI says to stop it first.
 */
export async function startAdminSocket(socketPath: string, admin: KeyAdmin, log: Logger): Promise<AdminSocket | null> {
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH_BYTES) {
    log.warn(
      { path: socketPath },
      'admin socket not opened: its path is too long for a Unix socket (use a shorter DATA_DIR); npm run keys needs the gateway stopped',
    );
    return null;
  }
  // The caller holds the data folder's lock, so a socket file left here is a crashed process's.
  await unlink(socketPath).catch(() => undefined);
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    serve(socket, admin, log);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // The socket is created with the umask's mode; 0177 makes it 0600 from its first instant,
    // rather than briefly open until the chmod below.
    const umask = process.umask(0o177);
    try {
      server.listen(socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    } finally {
      process.umask(umask);
    }
  });
  await chmod(socketPath, 0o600);
  return {
    path: socketPath,
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function serve(socket: Socket, admin: KeyAdmin, log: Logger): void {
  socket.setTimeout(REQUEST_TIMEOUT_MS, () => socket.destroy());
  let buffered = '';
  const onData = (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    const end = buffered.indexOf('\n');
    if (end < 0) {
      if (buffered.length > MAX_REQUEST_BYTES) {
        socket.off('data', onData);
        buffered = '';
        reply(socket, { ok: false, error: `request longer than ${MAX_REQUEST_BYTES} bytes` });
      }
      return;
    }
    socket.off('data', onData);
    void answer(buffered.slice(0, end), admin, log).then((response) => reply(socket, response));
  };
  socket.on('data', onData);
  socket.on('error', () => socket.destroy());
}

async function answer(line: string, admin: KeyAdmin, log: Logger): Promise<Response> {
  const request = parseRequest(line);
  if (!request) return { ok: false, error: 'malformed request' };
  try {
    if (request.command === 'create') return { ok: true, result: await admin.create(request.owner, request.label) };
    if (request.command === 'list') return { ok: true, result: await admin.list() };
    const revoked = await admin.revoke(request.target);
    log.info({ component: 'admin', revoked }, 'API key revocation through the admin socket');
    return { ok: true, result: revoked };
  } catch (err) {
    if (err instanceof KeyAdminInputError) return { ok: false, error: err.message };
    log.error({ component: 'admin', err, command: request.command }, 'admin socket request failed');
    return { ok: false, error: 'internal error (see the gateway log)' };
  }
}

function parseRequest(line: string): Request | null {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const r = value as Record<string, unknown>;
  if (r.command === 'list') return { command: 'list' };
  if (r.command === 'revoke' && typeof r.target === 'string') return { command: 'revoke', target: r.target };
  if (r.command === 'create' && typeof r.owner === 'string' && (r.label === null || typeof r.label === 'string')) {
    return { command: 'create', owner: r.owner, label: r.label };
  }
  return null;
}

function reply(socket: Socket, response: Response): void {
  if (!socket.destroyed) socket.end(JSON.stringify(response) + '\n');
}

/**
 * Key management through the gateway listening on `socketPath`, or null when none does there (no
 * socket file, or one left by a process that is gone).
 */
export async function connectAdminSocket(socketPath: string): Promise<KeyAdmin | null> {
  const probe = await open(socketPath).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') return null;
    throw err;
  });
  if (!probe) return null;
  probe.destroy();
  const call = async (request: Request): Promise<unknown> => {
    const response = await exchange(socketPath, request);
    if (!response.ok) throw new KeyAdminInputError(response.error);
    return response.result;
  };
  return {
    create: async (owner, label) => {
      const { key, record } = (await call({ command: 'create', owner, label })) as { key: string; record: Record<string, unknown> };
      return { key, record: reviveKey(record) };
    },
    list: async () => ((await call({ command: 'list' })) as Record<string, unknown>[]).map(reviveKey),
    revoke: async (target) => Number(await call({ command: 'revoke', target })),
  };
}

function open(socketPath: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

async function exchange(socketPath: string, request: Request): Promise<Response> {
  const socket = await open(socketPath);
  return new Promise((resolve, reject) => {
    let text = '';
    socket.setTimeout(REQUEST_TIMEOUT_MS, () => {
      socket.destroy();
      reject(new Error(`the gateway did not answer on ${socketPath} within ${REQUEST_TIMEOUT_MS / 1000} s`));
    });
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    socket.once('error', reject);
    socket.once('end', () => {
      try {
        resolve(JSON.parse(text) as Response);
      } catch {
        reject(new Error(`the gateway answered on ${socketPath} with something unreadable`));
      }
    });
    socket.write(JSON.stringify(request) + '\n');
  });
}

/** Dates travel as ISO strings. */
function reviveKey(r: Record<string, unknown>): KeyView {
  return {
    id: String(r.id),
    owner: String(r.owner),
    prefix: String(r.prefix),
    label: typeof r.label === 'string' ? r.label : null,
    createdAt: new Date(String(r.createdAt)),
    revokedAt: r.revokedAt ? new Date(String(r.revokedAt)) : null,
  };
}
