/**
 * The attacker of the attack benchmark, in its own process so that its work never shares an event
 * loop with the legitimate client being timed. It runs issue 10's attacks 1–3 at once until a
 * deadline, and reports what it sent and how the gateway answered:
 *  1. anonymous POSTs of distinct valid documents: a tiny query behind a ~900 KB `# comment`;
 *  2. one owner's list requests (generations with a large `imageUrl`, echoed in `settings`) whose
 *     responses are never read, and a WebSocket that never reads while it sends unsolicited pongs;
 *  3. ~1 MB bodies of deeply nested arrays in `variables`, and a `filter.status` list of 90,000 values.
 */
import { connect, type Socket } from 'node:net';
import WebSocket from 'ws';

export interface AttackSizes {
  /** Attack 1: bytes of the comment before the query. */
  commentBytes: number;
  /** Attack 2: requests kept open, never read. */
  unreadRequests: number;
  /** Attack 2: subscriptions opened on the WebSocket that never reads. */
  unreadSubscriptions: number;
  /** Attack 3: nesting depth of the arrays in `variables`. */
  nestingDepth: number;
  /** Attack 3: values in `filter.status`. */
  statusValues: number;
  /** Requests in flight at once per attack loop (1 and 3). */
  concurrency: number;
}

export type AttackRequest =
  | { type: 'run'; url: string; wsUrl: string; attackerKey: string; generationIds: string[]; durationMs: number; sizes: AttackSizes }
  | { type: 'stop' };

/** Per attack: requests sent, and the answers by HTTP status ('error' for a connection failure). */
export type AttackReport = Record<string, { sent: number; answers: Record<string, number> }>;

const LIST_LARGE = '{ videoGenerations(first: 100) { nodes { id settings { imageUrl } } } }';
const WATCH_LARGE = 'subscription W($id: ID!) { videoGenerationUpdated(id: $id) { id settings { imageUrl } } }';
const BY_STATUS = 'query S($s: [GenerationStatus!]) { videoGenerations(first: 1, filter: { status: $s }) { nodes { id } } }';

async function run(req: Extract<AttackRequest, { type: 'run' }>): Promise<AttackReport> {
  const report: AttackReport = {};
  const note = (attack: string, answer: string) => {
    const r = (report[attack] ??= { sent: 0, answers: {} });
    r.answers[answer] = (r.answers[answer] ?? 0) + 1;
  };
  const sent = (attack: string) => void ((report[attack] ??= { sent: 0, answers: {} }).sent += 1);
  const { sizes } = req;
  const post = async (attack: string, body: string, key: string | null) => {
    sent(attack);
    try {
      const res = await fetch(req.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
        body,
        signal: AbortSignal.timeout(Math.max(1_000, deadline - Date.now() + 5_000)),
      });
      await res.arrayBuffer();
      note(attack, String(res.status));
    } catch {
      note(attack, 'error');
    }
  };
  const loop = async (attack: string, body: (i: number) => string, key: string | null) => {
    let i = 0;
    // At least one request each, however late a busy machine starts it.
    const worker = async () => {
      do await post(attack, body(i++), key);
      while (Date.now() < deadline);
    };
    await Promise.all(Array.from({ length: sizes.concurrency }, worker));
  };

  const comment = `# ${'x'.repeat(sizes.commentBytes)}`;
  const nested = '['.repeat(sizes.nestingDepth) + ']'.repeat(sizes.nestingDepth);
  const statuses = JSON.stringify({ query: BY_STATUS, variables: { s: Array.from({ length: sizes.statusValues }, () => 'QUEUED') } });
  const sockets: Socket[] = [];
  let deadline = Number.POSITIVE_INFINITY;
  // The WebSocket is connected before the clock starts, so that every run has it (bounded: 5 s).
  const unreadWs = await unreadWebSocket(
    req,
    sizes.unreadSubscriptions,
    () => deadline,
    () => sent('2 WebSocket, never read'),
  );
  deadline = Date.now() + req.durationMs;
  try {
    await Promise.all([
      // 1: each document distinct (a parse cache keyed by the text must miss).
      loop('1 anonymous 900 KB comment', (i) => JSON.stringify({ query: `${comment} ${i}\n{ __typename }` }), null),
      // 2: requests written in full, their answers never read; opened one after another, then held.
      (async () => {
        for (let i = 0; i < sizes.unreadRequests && (i === 0 || Date.now() < deadline); i++) {
          sockets.push(unreadRequest(req.url, req.attackerKey, LIST_LARGE));
          sent('2 list, never read');
          await new Promise((r) => setTimeout(r, 20));
        }
      })(),
      // 3: deep nesting (a recursive parser's stack) and a long enum list (validation and SQL).
      loop('3 nested variables', () => `{"query":"{ __typename }","variables":{"v":${nested}}}`, null),
      loop('3 filter.status list', () => statuses, req.attackerKey),
    ]);
    const remaining = deadline - Date.now();
    if (remaining > 0) await new Promise((r) => setTimeout(r, remaining));
  } finally {
    for (const s of sockets) s.destroy();
    unreadWs.close();
  }
  return report;
}

/** Writes one HTTP request on a raw socket and never reads the answer (the socket stays paused). */
function unreadRequest(url: string, key: string, query: string): Socket {
  const { hostname, port, pathname } = new URL(url);
  const body = JSON.stringify({ query });
  const socket = connect(Number(port), hostname);
  socket.pause();
  socket.on('error', () => undefined);
  socket.write(
    `POST ${pathname} HTTP/1.1\r\nhost: ${hostname}:${port}\r\ncontent-type: application/json\r\nauthorization: Bearer ${key}\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  return socket;
}

/**
 * A graphql-ws connection that subscribes to the large generations, then stops reading (its socket
 * paused) and keeps sending pongs nobody asked for, until the deadline. Resolves once it is
 * acknowledged and subscribed, or failed, or after 5 s.
 */
async function unreadWebSocket(
  req: Extract<AttackRequest, { type: 'run' }>,
  subscriptions: number,
  deadline: () => number,
  onSent: () => void,
): Promise<{ close(): void }> {
  const ws = new WebSocket(req.wsUrl, 'graphql-transport-ws');
  let timer: NodeJS.Timeout | undefined;
  const close = () => {
    clearInterval(timer);
    ws.terminate();
  };
  await new Promise<void>((resolve) => {
    const giveUp = setTimeout(resolve, 5_000);
    const done = () => {
      clearTimeout(giveUp);
      resolve();
    };
    ws.on('error', done);
    ws.on('close', done);
    ws.on('open', () => {
      ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${req.attackerKey}` } }));
      ws.once('message', () => {
        // connection_ack: from here on nothing is read.
        (ws as unknown as { _socket: Socket })._socket.pause();
        for (let i = 0; i < subscriptions; i++) {
          const id = req.generationIds[i % Math.max(1, req.generationIds.length)];
          ws.send(JSON.stringify({ id: String(i), type: 'subscribe', payload: { query: WATCH_LARGE, variables: { id } } }));
          onSent();
        }
        timer = setInterval(() => {
          if (Date.now() >= deadline() || ws.readyState !== WebSocket.OPEN) return;
          ws.pong();
          ws.send(JSON.stringify({ type: 'pong' }));
        }, 50);
        done();
      });
    });
  });
  return { close };
}

process.on('message', (msg: { seq: number; req: AttackRequest }) => {
  const { seq, req } = msg;
  if (req.type === 'stop') {
    process.send!({ seq, reply: {} });
    setImmediate(() => process.exit(0));
    return;
  }
  run(req).then(
    (reply) => process.send!({ seq, reply }),
    (err: unknown) => process.send!({ seq, error: String((err as Error)?.stack ?? err) }),
  );
});
process.send!({ type: 'ready' });
