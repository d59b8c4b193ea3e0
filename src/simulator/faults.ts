/**
 * Injected failures: the ways a real upstream (or the network in front of it) misbehaves.
 */

/**
 * `file` is a finished video's download link; `any` means create or poll only, so the API faults a
 * test injects leave the downloads alone.
 */
export type FaultEndpoint = 'create' | 'poll' | 'file' | 'any';

export type FaultAction =
  /** Answer with this status; `body` defaults to the standard error envelope for it. */
  | { kind: 'status'; status: number; body?: unknown; retryAfter?: string }
  /** Wait `ms` milliseconds, then answer normally. */
  | { kind: 'delay'; ms: number }
  /** Read the request and never answer; the socket stays open until the client gives up or the simulator closes. */
  | { kind: 'stall' }
  /** An HTML error page, as a proxy or CDN would send. `status` defaults to 502. */
  | { kind: 'html'; status?: number }
  /**
   * A truncated JSON body. `status` defaults to 200, and then the request is really served first
   * (a create really creates its job): the answer was produced and lost on the way.
   */
  | { kind: 'malformed'; status?: number }
  /** Destroy the socket without answering. */
  | { kind: 'drop' }
  /**
   * Serve the request for real, then send a 200 whose JSON body is padded to `bytes` (default
   * 4 MiB), chunked, without a Content-Length: only a client that caps what it reads stays small.
   */
  | { kind: 'oversized'; bytes?: number }
  /**
   * Serve the request for real, send the headers and half the body, then reset the connection
   * (TCP RST): the answer was produced and lost mid-flight.
   */
  | { kind: 'reset' }
  /** Create only: really create the job, then destroy the socket (the "outcome unknown" case). */
  | { kind: 'dropAfterCreate' }
  /** File only: declare the whole video's length, send `bytes` of it (default half), then close the connection. */
  | { kind: 'truncated'; bytes?: number }
  /** File only: send the video in `chunkBytes` pieces (default 16 KiB), `chunkDelayMs` apart. */
  | { kind: 'slowBody'; chunkDelayMs: number; chunkBytes?: number }
  /** File only: the video's bytes under another content type (a sign-in page, a JSON error). */
  | { kind: 'contentType'; contentType: string };

export interface Fault {
  endpoint: FaultEndpoint;
  /** Only requests for this model / generation id (both, when both are given). */
  match?: { model?: string; generationId?: string };
  /** How many matching requests it affects. Default 1; `Infinity` for all (`-1` over HTTP). */
  times?: number;
  action: FaultAction;
}

export interface RequestFacts {
  endpoint: 'create' | 'poll' | 'file';
  model?: string;
  generationId?: string;
}

interface ActiveFault {
  id: string;
  fault: Fault;
  remaining: number;
}

const KINDS = new Set([
  'status',
  'delay',
  'stall',
  'html',
  'malformed',
  'drop',
  'dropAfterCreate',
  'oversized',
  'reset',
  'truncated',
  'slowBody',
  'contentType',
]);
/** What a download can suffer; on `file`, `oversized` sends a video of `bytes` (declared) instead of padded JSON. */
const FILE_KINDS = new Set(['status', 'delay', 'stall', 'html', 'drop', 'oversized', 'truncated', 'slowBody', 'contentType']);
const FILE_ONLY_KINDS = new Set(['truncated', 'slowBody', 'contentType']);

export class FaultRegistry {
  private faults: ActiveFault[] = [];
  private nextId = 1;

  add(fault: Fault): string {
    const problem = faultProblem(fault);
    if (problem) throw new TypeError(`Invalid fault: ${problem}`);
    const id = `fault-${this.nextId++}`;
    this.faults.push({ id, fault: structuredClone(fault), remaining: fault.times ?? 1 });
    return id;
  }

  remove(id: string): boolean {
    const before = this.faults.length;
    this.faults = this.faults.filter((f) => f.id !== id);
    return this.faults.length !== before;
  }

  clear(): void {
    this.faults = [];
  }

  /** The first matching fault's action, consuming one of its uses. Oldest fault wins. */
  take(facts: RequestFacts): FaultAction | undefined {
    const active = this.faults.find((f) => matches(f.fault, facts));
    if (!active) return undefined;
    active.remaining -= 1;
    if (active.remaining <= 0) this.remove(active.id);
    return active.fault.action;
  }
}

function matches(fault: Fault, facts: RequestFacts): boolean {
  if (fault.endpoint === 'any' ? facts.endpoint === 'file' : fault.endpoint !== facts.endpoint) return false;
  if (fault.action.kind === 'dropAfterCreate' && facts.endpoint !== 'create') return false;
  if (fault.match?.model !== undefined && fault.match.model !== facts.model) return false;
  if (fault.match?.generationId !== undefined && fault.match.generationId !== facts.generationId) return false;
  return true;
}

/** Why this value is not a usable fault, or null. Also guards the HTTP control route. */
export function faultProblem(value: unknown): string | null {
  if (typeof value !== 'object' || value === null) return 'expected an object';
  const f = value as Partial<Fault>;
  if (f.endpoint !== 'create' && f.endpoint !== 'poll' && f.endpoint !== 'file' && f.endpoint !== 'any') {
    return 'endpoint must be "create", "poll", "file" or "any"';
  }
  if (f.times !== undefined && f.times !== Infinity && !(Number.isInteger(f.times) && f.times > 0)) {
    return 'times must be a positive integer or Infinity';
  }
  if (f.match !== undefined) {
    if (typeof f.match !== 'object' || f.match === null) return 'match must be an object';
    for (const key of ['model', 'generationId'] as const) {
      if (f.match[key] !== undefined && typeof f.match[key] !== 'string') return `match.${key} must be a string`;
    }
  }
  const a = f.action as Record<string, unknown> | undefined;
  if (typeof a !== 'object' || a === null || !KINDS.has(a.kind as string)) {
    return `action.kind must be one of ${[...KINDS].join(', ')}`;
  }
  if (a.kind === 'status' && !isHttpStatus(a.status)) return 'action.status must be an HTTP status (200-599)';
  if ((a.kind === 'html' || a.kind === 'malformed') && a.status !== undefined && !isHttpStatus(a.status)) {
    return 'action.status must be an HTTP status (200-599)';
  }
  if (a.kind === 'status' && a.retryAfter !== undefined && typeof a.retryAfter !== 'string') {
    return 'action.retryAfter must be a string (the Retry-After header value)';
  }
  if (a.kind === 'delay' && !(typeof a.ms === 'number' && Number.isFinite(a.ms) && a.ms >= 0)) {
    return 'action.ms must be a non-negative number of milliseconds';
  }
  if (
    a.kind === 'oversized' &&
    a.bytes !== undefined &&
    !(Number.isInteger(a.bytes) && (a.bytes as number) > 0 && (a.bytes as number) <= 256 * 1024 * 1024)
  ) {
    return 'action.bytes must be a positive integer up to 256 MiB';
  }
  if (a.kind === 'dropAfterCreate' && f.endpoint !== 'create') return 'dropAfterCreate needs endpoint "create"';
  if (f.endpoint === 'file' && !FILE_KINDS.has(a.kind as string)) return `endpoint "file" takes ${[...FILE_KINDS].join(', ')}`;
  if (FILE_ONLY_KINDS.has(a.kind as string) && f.endpoint !== 'file') return `${String(a.kind)} needs endpoint "file"`;
  if (a.kind === 'truncated' && a.bytes !== undefined && !(Number.isInteger(a.bytes) && (a.bytes as number) >= 0)) {
    return 'action.bytes must be a non-negative integer';
  }
  if (a.kind === 'slowBody') {
    if (!(typeof a.chunkDelayMs === 'number' && Number.isFinite(a.chunkDelayMs) && a.chunkDelayMs >= 0 && a.chunkDelayMs <= 60_000)) {
      return 'action.chunkDelayMs must be 0-60000 milliseconds';
    }
    if (a.chunkBytes !== undefined && !(Number.isInteger(a.chunkBytes) && (a.chunkBytes as number) > 0))
      return 'action.chunkBytes must be a positive integer';
  }
  if (a.kind === 'contentType' && (typeof a.contentType !== 'string' || a.contentType === '')) return 'action.contentType must be a non-empty string';
  return null;
}

function isHttpStatus(value: unknown): boolean {
  return Number.isInteger(value) && (value as number) >= 200 && (value as number) <= 599;
}
