/**
 * The embedded database's thread: PGlite runs every query synchronously in WASM, so on the gateway's
 * main thread a heavy query (a usage report over a long history) stopped HTTP, WebSockets and the
 * poller for its whole run. Here it blocks only this thread. Started by pglite-thread.ts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { migrations } from './migrations';
import { pgliteDriver } from './pglite-driver';
import { createInMemoryPglite } from './pglite-template';
import {
  INITIALISE_ARGUMENT,
  type PgliteFailure,
  type PgliteReply,
  type PgliteRequest,
  type PgliteThreadOptions,
  type PgliteWasm,
} from './pglite-thread-protocol';
import { migrate } from './sql/migrate';
import type { SqlDriver, SqlSession } from './sql/session';

/** As a thread: the port to the gateway's main thread. As a process (initialising a folder): null. */
const port = parentPort;
const options = workerData as PgliteThreadOptions;

function send(reply: PgliteReply): void {
  port!.postMessage(reply);
}

function failure(err: unknown): PgliteFailure {
  const { message, code, detail, constraint } = err as { message?: unknown; code?: unknown; detail?: unknown; constraint?: unknown };
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  return { message: text(message) ?? String(err), code: text(code), detail: text(detail), constraint: text(constraint) };
}

/** Thrown inside a transaction's callback to roll it back on request. */
/** PGlite's start-up parameters, plus shared_buffers when set (a start-up setting: PGlite runs single-user). */
function startParams(sharedBuffersMb: number | undefined): string[] | undefined {
  if (sharedBuffersMb === undefined) return undefined;
  return [...PGlite.defaultStartParams, '-c', `shared_buffers=${sharedBuffersMb}MB`];
}

class RollbackRequested extends Error {}

/** An open transaction: its session, and how to end it (PGlite commits when the callback resolves). */
interface OpenTransaction {
  tx: SqlSession;
  end(commit: boolean): Promise<void>;
}

async function main(): Promise<void> {
  let driver: SqlDriver;
  try {
    const wasm = await new Promise<PgliteWasm>((resolve) => port!.once('message', resolve));
    const compiled = { pgliteWasmModule: wasm.pglite, initdbWasmModule: wasm.initdb };
    const db =
      options.dataDir === undefined
        ? await createInMemoryPglite(options.templateFile, compiled)
        : await PGlite.create({ ...compiled, dataDir: options.dataDir, startParams: startParams(options.sharedBuffersMb) });
    driver = pgliteDriver(db);
  } catch (err) {
    send({ kind: 'failed-to-open', error: failure(err) });
    return;
  }
  const open = new Map<number, OpenTransaction>();

  const begin = (id: number) =>
    new Promise<void>((began, failedToBegin) => {
      let decide!: (commit: boolean) => void;
      const decided = new Promise<boolean>((resolve) => (decide = resolve));
      const settled: Promise<void> = driver.transaction(async (tx) => {
        open.set(id, {
          tx,
          end: async (commit) => {
            open.delete(id);
            decide(commit);
            await settled.catch((err: unknown) => {
              if (!(err instanceof RollbackRequested)) throw err;
            });
          },
        });
        began();
        if (!(await decided)) throw new RollbackRequested();
      });
      // BEGIN itself failed: the callback never ran (after it ran, this settles nothing).
      settled.catch((err: unknown) => {
        if (!(err instanceof RollbackRequested)) failedToBegin(err instanceof Error ? err : new Error(String(err)));
      });
    });

  const session = (tx: number | undefined): SqlSession => {
    if (tx === undefined) return driver;
    const transaction = open.get(tx);
    if (!transaction) throw new Error(`no open transaction ${tx}`);
    return transaction.tx;
  };

  const handle = async (request: PgliteRequest): Promise<unknown[] | undefined> => {
    switch (request.kind) {
      case 'query':
        return session(request.tx).query(request.sql, request.params);
      case 'exec':
        await session(request.tx).exec(request.sql);
        return undefined;
      case 'begin':
        await begin(request.id);
        return undefined;
      case 'commit':
      case 'rollback': {
        const transaction = open.get(request.tx);
        if (!transaction) throw new Error(`no open transaction ${request.tx}`);
        await transaction.end(request.kind === 'commit');
        return undefined;
      }
      case 'close':
        await driver.close();
        return undefined;
    }
  };

  port!.on('message', (request: PgliteRequest) => {
    handle(request).then(
      (rows) => send({ kind: 'done', id: request.id, rows }),
      (err: unknown) => send({ kind: 'error', id: request.id, error: failure(err) }),
    );
  });
  send({ kind: 'ready' });
}

/**
 * The process's work (see INITIALISE_ARGUMENT): PGlite runs initdb in an empty folder when it opens it;
 * the migrations run here too. Applied in the gateway's own process they left it idling 20-30 MB above a
 * later start (BENCHMARKS.md, section 6): memory a process that exits gives back.
 */
async function initialise(dataDir: string): Promise<void> {
  const db = await PGlite.create({ dataDir });
  try {
    await migrate(pgliteDriver(db), migrations);
  } finally {
    await db.close();
  }
}

if (port) {
  void main();
} else if (process.argv[2] === INITIALISE_ARGUMENT && process.argv[3]) {
  initialise(process.argv[3]).then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(failure(err).message);
      process.exit(1);
    },
  );
}
