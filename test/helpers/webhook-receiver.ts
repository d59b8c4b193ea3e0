/**
 * A webhook receiver for tests: a real HTTP server on 127.0.0.1 that records every request and
 * verifies them with the standardwebhooks library, as a user's backend would.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface Received {
  headers: Record<string, string>;
  body: string;
  path: string;
}

/** A receiver: records every request; `answer` decides the reply (default 200), `hang` never replies. */
export class Receiver {
  readonly received: Received[] = [];
  answer: (req: Received, index: number) => number | 'hang' = () => 200;
  private server: Server | null = null;
  private readonly hanging = new Set<ServerResponse>();

  async start(): Promise<string> {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const got = { headers: req.headers as Record<string, string>, body: Buffer.concat(chunks).toString('utf8'), path: req.url ?? '' };
        this.received.push(got);
        const answer = this.answer(got, this.received.length - 1);
        if (answer === 'hang') {
          this.hanging.add(res);
          res.on('close', () => this.hanging.delete(res));
          return;
        }
        if (answer >= 300 && answer < 400) res.setHeader('location', `http://127.0.0.1:${this.port()}/redirected`);
        res.writeHead(answer, { 'content-type': 'text/plain' }).end(`answer ${answer}`);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${this.port()}/hook`;
  }

  /** Requests this receiver is holding unanswered ('hang') whose sender has not given up yet. */
  hangingNow(): number {
    return this.hanging.size;
  }

  port(): number {
    return (this.server!.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  /** Every received event that verifies with `secret`, parsed. Throws on one that does not. */
  verified(secret: string): Array<{ id: string; type: string; data: any }> {
    const hook = new Webhook(secret);
    return this.received
      .filter((r) => r.path === '/hook')
      .map((r) => ({ id: r.headers['webhook-id']!, ...(hook.verify(r.body, r.headers) as { type: string; data: any }) }));
  }
}
