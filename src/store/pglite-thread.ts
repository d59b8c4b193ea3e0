/**
 * The embedded database on a thread of its own, behind the same SqlDriver as every other database:
 * PGlite executes each query synchronously (WASM), so no query may run on the gateway's main thread,
 * where it would stop HTTP, WebSockets and the poller for as long as it runs. The main thread only
 * sends SQL and receives rows (structured clone); the thread holds the PGlite instance and its memory.
 */
import { fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import {
  INITIALISE_ARGUMENT,
  type PgliteFailure,
  type PgliteReply,
  type PgliteRequest,
  type PgliteThreadOptions,
  type PgliteWasm,
} from './pglite-thread-protocol';
import type { Row, SqlDriver, SqlSession } from './sql/session';

/** A request before call() numbers it (Omit over each member of the union). */
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

/** Opens a database thread and resolves once its database is open. */
export async function openPgliteThread(options: PgliteThreadOptions): Promise<SqlDriver> {
  // The thread starts first: Node's start of a thread and PGlite's JavaScript (0.1–0.2 s) run there
  // while this thread compiles the WASM, which the thread awaits as its first message.
  const worker = new Worker(await workerEntry(), { workerData: options });
  const pending = new Map<number, { resolve: (rows: unknown[] | undefined) => void; reject: (err: Error) => void }>();
  let nextId = 1;
  /** Set once the thread is gone: every later call fails with it. */
  let gone: Error | null = null;

  const opened = new Promise<void>((resolve, reject) => {
    worker.on('message', (reply: PgliteReply) => {
      switch (reply.kind) {
        case 'ready':
          return resolve();
        case 'failed-to-open':
          return reject(toError(reply.error));
        case 'done':
        case 'error': {
          const call = pending.get(reply.id);
          pending.delete(reply.id);
          if (reply.kind === 'done') call?.resolve(reply.rows);
          else call?.reject(toError(reply.error));
        }
      }
    });
    const end = (err: Error) => {
      gone ??= err;
      reject(gone);
      for (const call of pending.values()) call.reject(gone);
      pending.clear();
    };
    worker.on('error', (err) => end(new Error(`the embedded database thread failed: ${err.message}`, { cause: err })));
    worker.on('exit', (code) => end(new Error(`the embedded database thread exited (code ${code})`)));
  });
  // Not before the WASM is posted: the entry point loads the gateway's modules once this resolves,
  // which holds this thread (and the post) for up to a second.
  const posted = compiledWasm().then((wasm) => worker.postMessage({ kind: 'wasm', ...wasm } satisfies PgliteWasm));
  posted.then(markStartedElsewhere, () => undefined);
  try {
    // Both at once: a thread that fails while the WASM compiles must not leave `opened` rejected unawaited.
    await Promise.all([posted, opened]);
  } catch (err) {
    await worker.terminate();
    throw err;
  }

  function call(request: WithoutId<PgliteRequest>): Promise<unknown[] | undefined> {
    if (gone) return Promise.reject(gone);
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      worker.postMessage({ ...request, id } as PgliteRequest);
    });
  }

  function session(tx?: number): SqlSession {
    return {
      async query<T = Row>(sql: string, params?: readonly unknown[]): Promise<T[]> {
        return ((await call({ kind: 'query', sql, params, tx })) ?? []) as T[];
      },
      async exec(sql: string): Promise<void> {
        await call({ kind: 'exec', sql, tx });
      },
    };
  }

  return {
    ...session(),
    async transaction<T>(fn: (tx: SqlSession) => Promise<T>): Promise<T> {
      // The request's id names the transaction; the thread answers once BEGIN has run.
      const tx = nextId;
      await call({ kind: 'begin' });
      let result: T;
      try {
        result = await fn(session(tx));
      } catch (err) {
        await call({ kind: 'rollback', tx }).catch(() => undefined);
        throw err;
      }
      await call({ kind: 'commit', tx });
      return result;
    },
    async close(): Promise<void> {
      if (gone) return;
      try {
        await call({ kind: 'close' });
      } finally {
        await worker.terminate();
      }
    },
  };
}

/**
 * Runs a process that opens `dataDir` (PGlite runs initdb there when it is empty), applies the
 * migrations, closes it and exits. initdb grows PGlite's WASM memory to several hundred MB, and the C allocator keeps what a
 * thread used in its arenas after the thread ends (a thread for it left the gateway 80 MB larger for
 * good): a process of its own returns all of it, and the gateway opens a folder already initialised.
 * The process compiles PGlite's WASM for itself (a compiled module cannot cross to another process):
 * a first start only.
 */
export async function initialisePgliteDataDir(dataDir: string): Promise<void> {
  const child = fork(await workerEntry(), [INITIALISE_ARGUMENT, dataDir], {
    // Not the parent's flags (jest's, an inspector's): the script needs none.
    execArgv: [],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  markStartedElsewhere();
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });
  if (code !== 0) {
    throw new Error(`initialising the embedded database in ${dataDir} failed (exit code ${code}): ${stderr.trim() || 'no message'}`);
  }
}

let markStartedElsewhere!: () => void;

/**
 * Resolves once this process has handed PGlite's start to a thread (or initdb to a process). The
 * entry point waits for it before it loads the rest of the gateway: that load holds the main thread
 * for a second, and would hold back the few file operations before the hand-over instead of
 * running beside the work handed over.
 */
export const pgliteStartedElsewhere = new Promise<void>((resolve) => (markStartedElsewhere = resolve));

let compiled: Promise<Omit<PgliteWasm, 'kind'>> | undefined;

// Node has the WebAssembly global; the ES2023 lib this project compiles against declares only its types.
const wasmCompiler = (globalThis as unknown as { WebAssembly: { compile(bytes: Uint8Array): Promise<WebAssembly.Module> } }).WebAssembly;

/**
 * PGlite's two WASM programs (the database, and initdb for a new one), compiled once per process and
 * shared with every database thread: compiling them takes seconds of CPU, which every store start
 * (and every test's in-memory store) would otherwise pay again on its new thread.
 */
function compiledWasm(): Promise<Omit<PgliteWasm, 'kind'>> {
  compiled ??= (async () => {
    const dist = path.dirname(require.resolve('@electric-sql/pglite'));
    const [pglite, initdb] = await Promise.all(
      ['pglite.wasm', 'initdb.wasm'].map(async (name) => wasmCompiler.compile(await readFile(path.join(dist, name)))),
    );
    return { pglite: pglite!, initdb: initdb! };
  })();
  compiled.catch(() => (compiled = undefined));
  return compiled;
}

function toError(failure: PgliteFailure): Error {
  const err = new Error(failure.message) as Error & Partial<PgliteFailure>;
  if (failure.code !== undefined) err.code = failure.code;
  if (failure.detail !== undefined) err.detail = failure.detail;
  if (failure.constraint !== undefined) err.constraint = failure.constraint;
  return err;
}

/**
 * The thread's script (also run as a process to initialise a data folder): the compiled
 * pglite-thread-worker.js beside this file. Run from the TypeScript
 * sources (the tests), there is none: the worker's source is bundled once with esbuild (a development
 * dependency) into node_modules/.cache, where Node resolves PGlite from the project's node_modules.
 */
async function workerEntry(): Promise<string> {
  if (path.extname(__filename) !== '.ts') return path.join(__dirname, 'pglite-thread-worker.js');
  bundled ??= bundleWorkerFromSources();
  return bundled;
}

let bundled: Promise<string> | undefined;

async function bundleWorkerFromSources(): Promise<string> {
  const esbuild = await import('esbuild');
  const source = path.join(__dirname, 'pglite-thread-worker.ts');
  const result = await esbuild.build({
    entryPoints: [source],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // PGlite loads its WASM and data files from beside its own module.
    external: ['@electric-sql/pglite'],
    write: false,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0]!.text;
  const file = path.resolve(__dirname, `../../node_modules/.cache/veo-gateway/pglite-thread-worker-${hash(code)}.js`);
  if ((await readFile(file, 'utf8').catch(() => null)) !== code) {
    await mkdir(path.dirname(file), { recursive: true });
    // Written aside, then renamed: a parallel test process never runs half a file.
    const partial = `${file}.${process.pid}.partial`;
    await writeFile(partial, code);
    await rename(partial, file);
  }
  return file;
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}
