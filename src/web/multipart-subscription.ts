/**
 * A subscription over Apollo's multipart HTTP protocol (`multipart/mixed;subscriptionSpec="1.0"`),
 * read with meros: each part is `{payload}` (a result), `{}` (a heartbeat) or `{payload: null,
 * errors}` (the stream ended with a transport error). The gateway ends a stream with
 * SERVICE_UNAVAILABLE when it shuts down; that, or a dropped connection after the stream had
 * opened, subscribes again (the gateway sends the current state first, so nothing is missed).
 */
import type { ExecutionResult, GraphQLFormattedError } from 'graphql';
import { meros } from 'meros/browser';

export const MULTIPART_ACCEPT = 'multipart/mixed;subscriptionSpec="1.0",application/json';

/** A stream that could not be opened, or ended with a transport error; `code` as the gateway sent it. */
export class MultipartTransportError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
    /** True when no stream was ever opened: the transport itself is unusable here. */
    readonly neverOpened: boolean,
  ) {
    super(message);
  }
}

interface Sink<T> {
  next: (result: ExecutionResult<T>) => void;
  error: (error: unknown) => void;
  complete: () => void;
}

type Part = { payload?: ExecutionResult | null; errors?: GraphQLFormattedError[] };

/** Retries after a drop, each wait doubling from 1 s up to 30 s; bounded so a gone gateway ends in an error. */
const MAX_RETRIES = 10;

export function subscribeMultipart<T>(
  url: string,
  headers: Record<string, string>,
  request: { query: string; variables?: Record<string, unknown>; operationName?: string | null },
  sink: Sink<T>,
): () => void {
  const controller = new AbortController();
  let opened = false;

  const once = async (): Promise<'completed' | 'retry'> => {
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        signal: controller.signal,
        headers: { 'content-type': 'application/json', accept: MULTIPART_ACCEPT, ...headers },
        body: JSON.stringify(request),
      });
    } catch (err) {
      if (opened) return 'retry';
      throw new MultipartTransportError(err instanceof Error ? err.message : String(err), undefined, true);
    }
    // Typed here: meros' declarations for the browser build do not resolve the same way in every tool.
    const parts = (await meros<Part>(response)) as Response | AsyncGenerator<{ json: true; body: Part } | { json: false; body: string }>;
    if (!(Symbol.asyncIterator in parts)) {
      // Refused before streaming (bad key, bad document): a JSON answer with its errors.
      const body = (await parts.json().catch(() => null)) as { errors?: GraphQLFormattedError[] } | null;
      const error = body?.errors?.[0];
      throw new MultipartTransportError(error?.message ?? `HTTP ${parts.status}`, error?.extensions?.code as string | undefined, !opened && !error);
    }
    opened = true;
    try {
      for await (const part of parts) {
        if (!part.json) continue;
        const { payload, errors } = part.body;
        if (payload) sink.next(payload as ExecutionResult<T>);
        else if (errors?.length) {
          const code = errors[0].extensions?.code as string | undefined;
          if (code === 'SERVICE_UNAVAILABLE') return 'retry';
          throw new MultipartTransportError(errors[0].message, code, false);
        }
      }
    } catch (err) {
      if (err instanceof MultipartTransportError) throw err;
      return 'retry';
    }
    return 'completed';
  };

  void (async () => {
    for (let retries = 0; ; retries++) {
      const outcome = await once();
      if (outcome === 'completed' || controller.signal.aborted) return sink.complete();
      if (retries >= MAX_RETRIES) throw new MultipartTransportError('The gateway stopped answering', undefined, false);
      await new Promise((resolve) => setTimeout(resolve, Math.min(30_000, 1000 * 2 ** retries)));
      if (controller.signal.aborted) return;
    }
  })().catch((err: unknown) => {
    if (!controller.signal.aborted) sink.error(err);
  });

  return () => controller.abort();
}
