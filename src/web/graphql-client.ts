/**
 * The two transports a frontend needs, typed by the generated documents: `request` (fetch, for
 * queries and mutations) and `subscribe` (graphql-ws). Both send the API key.
 */
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print, type ExecutionResult } from 'graphql';
import { createClient, type Client } from 'graphql-ws';

export class GraphQLRequestError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
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
      retryAttempts: Infinity,
      shouldRetry: () => true,
    });
  }

  /** Runs a query or mutation over HTTP; throws the first GraphQL error with its code. */
  async request<Result, Variables>(document: TypedDocumentNode<Result, Variables>, variables: Variables): Promise<Result> {
    const response = await fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {}) },
      body: JSON.stringify({ query: print(document), variables }),
    });
    const result = (await response.json()) as ExecutionResult<Result>;
    const error = result.errors?.[0];
    if (error) throw new GraphQLRequestError(error.message, error.extensions?.code as string | undefined);
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
      { query: print(document), variables },
      { next: (result) => (result.data ? onData(result.data) : onError(result.errors)), error: onError, complete: () => {} },
    );
  }

  close(): void {
    void this.ws.dispose();
  }
}
