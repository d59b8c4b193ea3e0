/**
 * A WebSocket load driver, forked by the fan-out benchmark: one graphql-ws connection per
 * generation id, each with one subscription, and the wall-clock time each one receives COMPLETED.
 */
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { GENERATION_FIELDS } from './bare-servers';
import { preciseNow } from './stats';

export type DriverRequest =
  { type: 'subscribe'; wsUrl: string; key: string; ids: string[] } | { type: 'collect'; timeoutMs: number } | { type: 'stop' };

const WATCH = `subscription Watch($id: ID!) { videoGenerationUpdated(id: $id) { ${GENERATION_FIELDS} } }`;
/** Connections opened at once; the server's listen backlog (511) must not overflow. */
const OPEN_BATCH = 200;

const clients: Client[] = [];
const receipts: number[] = [];
let expected = 0;
let errors = 0;
let onReceipt: (() => void) | null = null;

async function subscribe(req: Extract<DriverRequest, { type: 'subscribe' }>): Promise<{ subscribed: number; errors: number }> {
  expected = req.ids.length;
  let subscribed = 0;
  for (let i = 0; i < req.ids.length; i += OPEN_BATCH) {
    await Promise.all(
      req.ids.slice(i, i + OPEN_BATCH).map(
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
                  if (result.data?.videoGenerationUpdated.status === 'COMPLETED') {
                    receipts.push(preciseNow());
                    onReceipt?.();
                  }
                },
                error: () => {
                  errors++;
                  resolve();
                },
                complete: () => resolve(),
              },
            );
          }),
      ),
    );
  }
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
      case 'collect':
        return collect(msg.req.timeoutMs);
      case 'stop':
        await Promise.all(clients.map((c) => c.dispose()));
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
