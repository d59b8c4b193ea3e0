/**
 * Subscription clients over plain HTTP, shaped like `collect()` for graphql-ws: graphql-sse's own
 * client (distinct connections mode), Apollo Client's HttpLink (multipart), and a fetch-based
 * multipart reader that also sees the heartbeats and the raw parts.
 */
import { print } from 'graphql';
import { createClient } from 'graphql-sse';
import type { App } from '../../src/app';
import { collectFrom, type Collected, type Operation, type TestGateway } from './gateway';

// Apollo Client's types are ES module declarations; its CommonJS build is what Jest runs.
const {
  ApolloClient,
  HttpLink,
  InMemoryCache,
  gql: apolloGql,
  // eslint-disable-next-line @typescript-eslint/no-require-imports
} = require('@apollo/client/core') as typeof import('@apollo/client/core', {
  with: { 'resolution-mode': 'import' },
});

const operationText = (query: Operation): string => (typeof query === 'string' ? query : print(query));
const appOf = (gateway: TestGateway | App): App => ('app' in gateway ? gateway.app : gateway);

export type HttpTransport = 'sse' | 'multipart';

/** graphql-sse's client: one stream per subscription, no retries unless asked. */
export function collectSse<T = any>(
  gateway: TestGateway | App,
  key: string | null,
  query: Operation<T>,
  variables?: Record<string, unknown>,
  options: { retryAttempts?: number } = {},
): Collected<T> {
  const client = createClient({
    url: appOf(gateway).url,
    headers: key ? { authorization: `Bearer ${key}` } : {},
    retryAttempts: options.retryAttempts ?? 0,
    retry: () => new Promise((r) => setTimeout(r, 50)),
  });
  const collected = collectFrom<T>((sink) => client.subscribe<T>({ query: operationText(query), variables }, sink));
  return { ...collected, done: collected.done.finally(() => client.dispose()) };
}

/** Apollo Client's HttpLink, which speaks the multipart subscription protocol for subscriptions. */
export function collectApolloMultipart<T = any>(
  gateway: TestGateway | App,
  key: string | null,
  query: Operation<T>,
  variables?: Record<string, unknown>,
): Collected<T> {
  const client = new ApolloClient({
    link: new HttpLink({ uri: appOf(gateway).url, headers: key ? { authorization: `Bearer ${key}` } : {}, fetch }),
    cache: new InMemoryCache(),
  });
  const collected = collectFrom<T>((sink) => {
    const subscription = client.subscribe<T>({ query: apolloGql(operationText(query)), variables, fetchPolicy: 'no-cache' }).subscribe(sink);
    return () => subscription.unsubscribe();
  });
  return { ...collected, done: collected.done.finally(() => client.stop()) };
}

export interface MultipartStream {
  status: number;
  headers: Headers;
  /** Every JSON part in order, heartbeats (`{}`) included. */
  parts: Array<Record<string, unknown>>;
  /** True once the closing boundary arrived. */
  closed: boolean;
  /** Resolves when the response ends. */
  done: Promise<void>;
  abort(): void;
}

/** A fetch-based multipart subscription reader that keeps every part, as the wire carries it. */
export function readMultipart(
  gateway: TestGateway | App,
  key: string | null,
  query: Operation,
  variables?: Record<string, unknown>,
  accept = 'multipart/mixed;subscriptionSpec="1.0",application/json',
): Promise<MultipartStream> {
  const controller = new AbortController();
  return fetch(appOf(gateway).url, {
    method: 'POST',
    signal: controller.signal,
    headers: { 'content-type': 'application/json', accept, ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify({ query: operationText(query), variables }),
  }).then((res) => {
    const stream: MultipartStream = {
      status: res.status,
      headers: res.headers,
      parts: [],
      closed: false,
      done: Promise.resolve(),
      abort: () => controller.abort(),
    };
    if (!/^multipart\/mixed/.test(res.headers.get('content-type') ?? '')) {
      stream.done = res.text().then((text) => void stream.parts.push(JSON.parse(text) as Record<string, unknown>));
      return stream;
    }
    const boundary = '\r\n--graphql';
    stream.done = (async () => {
      const decoder = new TextDecoder();
      let buffer = '';
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          buffer += decoder.decode(chunk, { stream: true });
          let at: number;
          while ((at = buffer.indexOf(boundary)) !== -1) {
            const part = buffer.slice(0, at);
            buffer = buffer.slice(at + boundary.length);
            const bodyAt = part.indexOf('\r\n\r\n');
            if (bodyAt !== -1) stream.parts.push(JSON.parse(part.slice(bodyAt + 4)) as Record<string, unknown>);
          }
          if (buffer.startsWith('--')) stream.closed = true;
        }
      } catch (err) {
        if (!controller.signal.aborted) throw err;
      }
    })();
    return stream;
  });
}

/** The client for a transport, by name. */
export const httpSubscriber: Record<HttpTransport, typeof collectSse> = { sse: collectSse, multipart: collectApolloMultipart };

/**
 * The `extensions.code` of each error a client reported, wherever its library put it: graphql-sse
 * hands GraphQL errors on as they are, Apollo Client wraps them (graphQLErrors, protocolErrors).
 */
export function subscriptionErrorCodes(errors: unknown[]): unknown[] {
  type Coded = { extensions?: { code?: unknown } };
  return errors.map((e) => {
    const err = e as Coded & { graphQLErrors?: Coded[]; protocolErrors?: Coded[] };
    return err.extensions?.code ?? err.graphQLErrors?.[0]?.extensions?.code ?? err.protocolErrors?.[0]?.extensions?.code;
  });
}
