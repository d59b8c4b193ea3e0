/**
 * The two kinds of call a frontend needs, typed by the generated documents: `request` (fetch, for
 * queries and mutations) and `subscribe` (graphql-ws, GraphQL over SSE or Apollo's multipart HTTP,
 * as chosen). Both send the API key.
 */
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print, type ExecutionResult } from 'graphql';
import { createClient as createSseClient, NetworkError } from 'graphql-sse';
import { CloseCode, createClient, type Client } from 'graphql-ws';
import { MultipartTransportError, subscribeMultipart } from './multipart-subscription';

/** What carries a page's subscriptions. */
export type Transport = 'websocket' | 'sse' | 'multipart';

export class GraphQLRequestError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
    /** For BAD_USER_INPUT: the input field at fault, e.g. `input.imageUrl`. */
    readonly field?: string,
  ) {
    super(message);
  }
}

/**
 * The chosen transport could not carry a subscription at all (blocked, or not reachable): a page
 * may try another. A refused key or document is not this: it would be refused on any transport.
 */
export class TransportUnavailableError extends Error {
  constructor(
    readonly transport: Transport,
    override readonly cause: unknown,
  ) {
    super(`${transport} could not connect`);
  }
}

export class GatewayClient {
  private ws: Client | null = null;
  private readonly sse: ReturnType<typeof createSseClient> | null = null;
  /** Has the transport ever connected? Until it has, a failure means it is unusable here. */
  private connected = false;

  constructor(
    private readonly url: string,
    /** Empty: anonymous (enough for `videoModels`). */
    private readonly apiKey: string,
    readonly transport: Transport = 'websocket',
  ) {
    if (transport === 'websocket') {
      const wsUrl = new URL(url);
      wsUrl.protocol = wsUrl.protocol === 'https:' ? 'wss:' : 'ws:';
      this.ws = createClient({
        url: wsUrl.href,
        connectionParams: { authorization: `Bearer ${apiKey}` },
        on: { connected: () => (this.connected = true) },
        // Reconnect through gateway restarts; a re-subscription starts again from the current state.
        // A refused key (4403) stays refused: retrying it would only repeat the refusal forever.
        // A socket that never opened is reported, so the page can say so or try another transport.
        retryAttempts: Infinity,
        shouldRetry: (event) => this.connected && !(isCloseEvent(event) && event.code === CloseCode.Forbidden),
      });
    } else if (transport === 'sse') {
      this.sse = createSseClient({
        url,
        headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {},
        on: { connected: () => (this.connected = true) },
        // Reconnects (the default: 5 tries with randomised back-off) resume from the current state.
      });
    }
  }

  /** Runs a query or mutation over HTTP; throws the first GraphQL error with its code. */
  async request<Result, Variables>(document: TypedDocumentNode<Result, Variables>, variables: Variables): Promise<Result> {
    const response = await fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {}) },
      body: JSON.stringify({ query: print(document), variables, documentId: documentId(document) }),
    });
    const result = (await response.json()) as ExecutionResult<Result>;
    const error = result.errors?.[0];
    if (error) {
      const field = error.extensions?.field;
      throw new GraphQLRequestError(error.message, error.extensions?.code as string | undefined, typeof field === 'string' ? field : undefined);
    }
    if (!result.data) throw new GraphQLRequestError(`HTTP ${response.status}`, undefined);
    return result.data;
  }

  /** Calls `onData` with every result of a subscription; returns the function that ends it. */
  subscribe<Result, Variables extends Record<string, unknown>>(
    document: TypedDocumentNode<Result, Variables>,
    variables: Variables,
    onData: (data: Result) => void,
    onError: (error: unknown) => void,
  ): () => void {
    const request = { query: print(document), variables, documentId: documentId(document) } as { query: string; variables: Variables };
    const sink = {
      next: (result: ExecutionResult<Result>) => (result.data ? onData(result.data) : onError(result.errors)),
      error: (err: unknown) => onError(this.unavailable(err) ? new TransportUnavailableError(this.transport, err) : err),
      complete: () => {},
    };
    if (this.ws) return this.ws.subscribe<Result>(request, sink);
    if (this.sse) return this.sse.subscribe<Result>(request, sink);
    const headers: Record<string, string> = this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {};
    return subscribeMultipart<Result>(this.url, headers, request, sink);
  }

  /** Did `err` end a transport that never connected, for a reason other than a refusal? */
  private unavailable(err: unknown): boolean {
    if (err instanceof MultipartTransportError) return err.neverOpened;
    if (this.connected) return false;
    // graphql-sse: no answer at all, or not from a gateway that serves SSE.
    if (err instanceof NetworkError) {
      const status = (err.response as { status: number } | undefined)?.status;
      return status === undefined || status >= 500 || status === 404;
    }
    // graphql-ws: anything but the refusal of the key (a close event, or a WebSocket that could not be made).
    return !(isCloseEvent(err) && err.code === CloseCode.Forbidden);
  }

  close(): void {
    // dispose() waits for a connection attempt in flight, and that attempt rejects when it is
    // abandoned (a refused key's close event, or graphql-ws's 'All Subscriptions Gone' once its
    // retry wait ends with nothing left to subscribe). Closing is what we asked for, so that
    // rejection is expected; left alone it would surface as an unhandled rejection in the page.
    if (this.ws) Promise.resolve(this.ws.dispose()).catch(() => {});
    this.sse?.dispose();
  }
}

/**
 * The document's id in the gateway's trusted-documents manifest (codegen embeds it as `__meta__.hash`).
 * Sent beside the text: a gateway that requires trusted documents runs the manifest's copy by this
 * id (the printed text differs from it in layout), and one that does not reads the text.
 */
function documentId(document: TypedDocumentNode<unknown, never>): string | undefined {
  return (document as { __meta__?: { hash?: string } }).__meta__?.hash;
}

function isCloseEvent(value: unknown): value is { code: number } {
  return typeof value === 'object' && value !== null && 'code' in value && typeof value.code === 'number';
}
