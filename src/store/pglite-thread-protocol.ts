/**
 * The messages between the gateway's main thread and the embedded database's thread
 * (pglite-thread.ts and pglite-thread-worker.ts). Values cross by structured clone, so rows keep
 * their Dates, objects and numbers as PGlite made them.
 */

/** How the thread opens its database: a data folder, or in memory from the saved template. */
export interface PgliteThreadOptions {
  /** A folder for the database files; undefined keeps everything in memory. */
  dataDir?: string;
  /** Where the in-memory template is kept (see pglite-template.ts); null: none. */
  templateFile: string | null;
  /**
   * shared_buffers (MB) when opening `dataDir`; undefined keeps PGlite's 128 MB. Ignored in memory: a
   * template restored with other start-up settings did not open (it hung) when tried.
   */
  sharedBuffersMb?: number;
}

/**
 * The first message to the thread: PGlite's WASM, compiled once per process (see pglite-thread.ts),
 * since each thread would compile it again. Sent after the thread is started, so that Node's start of
 * the thread and PGlite's JavaScript load while the main thread compiles.
 */
export interface PgliteWasm {
  kind: 'wasm';
  pglite: WebAssembly.Module;
  initdb: WebAssembly.Module;
}

/**
 * The worker's script run as a process with this argument and a folder initialises the folder
 * (PGlite runs initdb in it), closes it and exits: 0 when done, else 1 with the reason on stderr.
 */
export const INITIALISE_ARGUMENT = '--initialise-data-folder';

export type PgliteRequest =
  | { id: number; kind: 'query'; sql: string; params?: readonly unknown[]; tx?: number }
  | { id: number; kind: 'exec'; sql: string; tx?: number }
  /** Starts a transaction; its id is the request's, and `tx` names it in later requests. */
  | { id: number; kind: 'begin' }
  | { id: number; kind: 'commit' | 'rollback'; tx: number }
  | { id: number; kind: 'close' };

/** What crosses back for a failed request: enough of PGlite's error for callers that read its SQLSTATE. */
export interface PgliteFailure {
  message: string;
  code?: string;
  detail?: string;
  constraint?: string;
}

export type PgliteReply =
  /** The thread has opened its database. */
  | { kind: 'ready' }
  | { kind: 'failed-to-open'; error: PgliteFailure }
  | { kind: 'done'; id: number; rows?: unknown[] }
  | { kind: 'error'; id: number; error: PgliteFailure };
