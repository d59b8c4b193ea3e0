/**
 * The two transports a frontend needs, typed by the generated documents: `request` (fetch, for
 * queries and mutations) and `subscribe` (graphql-ws). Both send the API key.
 */
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print, type ExecutionResult } from 'graphql';
import { CloseCode, createClient, type Client } from 'graphql-ws';

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

export class GatewayClient {
  private ws: Client;

  constructor(
    private readonly url: string,
    /** Empty: anonymous (enough for `videoModels`). */
    private readonly apiKey: string,
  ) {
    const wsUrl = new URL(url);
    wsUrl.protocol = wsUrl.protocol === 'https:' ? 'wss:' : 'ws:';
    this.ws = createClient({
      url: wsUrl.href,
      connectionParams: { authorization: `Bearer ${apiKey}` },
      // Reconnect through gateway restarts; a re-subscription starts again from the current state.
      // A refused key (4403) stays refused: retrying it would only repeat the refusal forever.
      retryAttempts: Infinity,
      shouldRetry: (event) => !(isCloseEvent(event) && event.code === CloseCode.Forbidden),
    });
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
    return this.ws.subscribe<Result>(
      { query: print(document), variables, documentId: documentId(document) } as { query: string; variables: Variables },
      { next: (result) => (result.data ? onData(result.data) : onError(result.errors)), error: onError, complete: () => {} },
    );
  }

  close(): void {
    // dispose() waits for a connection attempt in flight, and that attempt rejects when it is
    // abandoned (a refused key's close event, or graphql-ws's 'All Subscriptions Gone' once its
    // retry wait ends with nothing left to subscribe). Closing is what we asked for, so that
    // rejection is expected; left alone it would surface as an unhandled rejection in the page.
    Promise.resolve(this.ws.dispose()).catch(() => {});
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
