/**
 * A subscription load driver, forked by the fan-out benchmark: per generation id, one graphql-ws
 * connection with one subscription, or one GraphQL over SSE stream (a POST answered with an event
 * stream, read here with node:http), and the wall-clock time each one receives COMPLETED.
 */
import { Agent, request, type ClientRequest } from 'node:http';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { GENERATION_FIELDS } from './bare-servers';
import { preciseNow } from './stats';

export type DriverRequest =
  | { type: 'subscribe'; wsUrl: string; key: string; ids: string[] }
  | { type: 'subscribeSse'; url: string; key: string; ids: string[] }
  | { type: 'collect'; timeoutMs: number }
  | { type: 'stop' };

const WATCH = `subscription Watch($id: ID!) { videoGenerationUpdated(id: $id) { ${GENERATION_FIELDS} } }`;
/** Connections opened at once; the server's listen backlog (511) must not overflow. */
const OPEN_BATCH = 200;

const clients: Client[] = [];
const streams: ClientRequest[] = [];
/** One socket per stream, none pooled or capped: each stream holds its connection for its whole life. */
const sseAgent = new Agent({ keepAlive: false, maxSockets: Infinity });
const receipts: number[] = [];
let expected = 0;
let errors = 0;
let onReceipt: (() => void) | null = null;

/** Records the time a stream received its generation's COMPLETED. */
function receiveCompleted(): void {
  receipts.push(preciseNow());
  onReceipt?.();
}

/** Opens one stream per id with `open`, OPEN_BATCH at a time; `open` resolves once its stream is subscribed or failed. */
async function openInBatches(ids: string[], open: (id: string) => Promise<void>): Promise<void> {
  for (let i = 0; i < ids.length; i += OPEN_BATCH) await Promise.all(ids.slice(i, i + OPEN_BATCH).map(open));
}

async function subscribe(req: Extract<DriverRequest, { type: 'subscribe' }>): Promise<{ subscribed: number; errors: number }> {
  expected = req.ids.length;
  let subscribed = 0;
  await openInBatches(
    req.ids,
    (id) =>
      new Promise<void>((resolve) => {
        const client = createClient({
          url: req.wsUrl,
          webSocketImpl: WebSocket,
          connectionParams: req.key ? { authorization: `Bearer ${req.key}` } : {},
          retryAttempts: 0,
          lazy: true,
          keepAlive: 0,
        });
        clients.push(client);
        let first = true;
        client.subscribe<{ videoGenerationUpdated: { status: string } }>(
          { query: WATCH, variables: { id } },
          {
            next: (result) => {
              if (first) {
                first = false;
                subscribed++;
                resolve();
                return;
              }
              if (result.data?.videoGenerationUpdated.status === 'COMPLETED') receiveCompleted();
            },
            error: () => {
              errors++;
              resolve();
            },
            complete: () => resolve(),
          },
        );
      }),
  );
  return { subscribed, errors };
}

/**
 * Opens one SSE stream per id; resolves once each has its snapshot or failed. A stream counts as
 * failed on a refusal, an error as its first event, or an end before any event, so no wait is left
 * without an end.
 */
async function subscribeSse(req: Extract<DriverRequest, { type: 'subscribeSse' }>): Promise<{ subscribed: number; errors: number }> {
  let subscribed = 0;
  await openInBatches(
    req.ids,
    (id) =>
      new Promise<void>((resolve) => {
        let settled = false;
        const settle = (ok: boolean) => {
          if (settled) return;
          settled = true;
          if (ok) subscribed++;
          else errors++;
          resolve();
        };
        const body = JSON.stringify({ query: WATCH, variables: { id } });
        const stream = request(
          req.url,
          {
            method: 'POST',
            agent: sseAgent,
            headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${req.key}` },
          },
          (res) => {
            if (res.statusCode !== 200) {
              res.resume();
              return settle(false);
            }
            res.setEncoding('utf8');
            let buffer = '';
            res.on('data', (chunk: string) => {
              buffer += chunk;
              let end: number;
              while ((end = buffer.indexOf('\n\n')) !== -1) {
                const event = buffer.slice(0, end);
                buffer = buffer.slice(end + 2);
                if (!event.startsWith('event: next')) continue;
                if (!settled) settle(!event.includes('"errors"'));
                else if (event.includes('"status":"COMPLETED"')) receiveCompleted();
              }
            });
            res.on('close', () => settle(false));
          },
        );
        stream.on('error', () => settle(false));
        streams.push(stream);
        stream.end(body);
      }),
  );
  // Only streams that received their snapshot can receive COMPLETED: collect waits for those.
  expected = subscribed;
  return { subscribed, errors };
}

function collect(timeoutMs: number): Promise<{ receipts: number[]; errors: number }> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      onReceipt = null;
      resolve({ receipts: [...receipts], errors });
    };
    const timer = setTimeout(done, timeoutMs);
    onReceipt = () => {
      if (receipts.length >= expected) done();
    };
    onReceipt();
  });
}

process.on('message', (msg: { seq: number; req: DriverRequest }) => {
  const run = async (): Promise<unknown> => {
    switch (msg.req.type) {
      case 'subscribe':
        return subscribe(msg.req);
      case 'subscribeSse':
        return subscribeSse(msg.req);
      case 'collect':
        return collect(msg.req.timeoutMs);
      case 'stop':
        await Promise.all(clients.map((c) => c.dispose()));
        for (const s of streams) s.destroy();
        setImmediate(() => process.exit(0));
        return {};
    }
  };
  run().then(
    (reply) => process.send!({ seq: msg.seq, reply }),
    (err: unknown) => process.send!({ seq: msg.seq, error: String(err) }),
  );
});
process.send!({ type: 'ready' });
