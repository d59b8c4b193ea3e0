/**
 * The GraphiQL playground, served by the gateway at its GraphQL path to browsers. Queries and
 * mutations go over HTTP, subscriptions over the transport chosen in the key bar (graphql-ws, GraphQL
 * over SSE or Apollo's multipart HTTP) to the same path. The API key field adds
 * `Authorization: Bearer <key>` to all of them (the WebSocket gets it in connectionParams); a header
 * typed into the headers pane wins over it.
 */
import { createGraphiQLFetcher, type Fetcher, type FetcherParams, type Observable } from '@graphiql/toolkit';
import { getOperationAST, OperationTypeNode, type DocumentNode, type ExecutionResult } from 'graphql';
import { GraphiQL } from 'graphiql';
import { createClient as createSseClient } from 'graphql-sse';
import 'graphiql/style.css';
import { createRoot } from 'react-dom/client';
import { loadApiKey, saveApiKey } from '../api-key';
import { subscribeMultipart } from '../multipart-subscription';
import { bindTransportSelect } from '../transport-choice';
import type { Transport } from '../graphql-client';
import { EXAMPLE_TABS } from './examples';
import { sentOperation } from './sent-operation';
import './monaco-workers';

const graphqlUrl = new URL(location.pathname, location.href);
const wsUrl = new URL(graphqlUrl);
wsUrl.protocol = graphqlUrl.protocol === 'https:' ? 'wss:' : 'ws:';

const keyInput = document.querySelector<HTMLInputElement>('#api-key')!;
keyInput.value = loadApiKey();
keyInput.addEventListener('change', () => saveApiKey(keyInput.value.trim()));
let transport: Transport = bindTransportSelect(document.querySelector<HTMLSelectElement>('#transport')!, (chosen) => (transport = chosen));

const gatewayFetcher = createGraphiQLFetcher({
  url: graphqlUrl.href,
  subscriptionUrl: wsUrl.href,
  // The gateway has no @defer/@stream: plain JSON answers.
  enableIncrementalDelivery: false,
});

const fetcher: Fetcher = (params, options) => {
  const key = keyInput.value.trim();
  const headers = { ...(key ? { Authorization: `Bearer ${key}` } : {}), ...options?.headers };
  // The operation goes out as the text being sent names it, not as GraphiQL last parsed it.
  const sent = sentOperation(params.query, params.operationName);
  if (!sent) return gatewayFetcher(params, { ...options, headers });
  const sentParams = { ...params, operationName: sent.operationName };
  if (transport !== 'websocket' && isSubscription(sent.documentAST, sent.operationName))
    return subscribeOverHttp(transport, sentParams, headers as Record<string, string>);
  return gatewayFetcher(sentParams, { ...options, headers, documentAST: sent.documentAST });
};

function isSubscription(document: DocumentNode, operationName: string | undefined): boolean {
  return getOperationAST(document, operationName)?.operation === OperationTypeNode.SUBSCRIPTION;
}

/** A subscription over SSE or multipart HTTP, as the Observable GraphiQL streams into its response pane. */
function subscribeOverHttp(
  over: Exclude<Transport, 'websocket'>,
  params: FetcherParams,
  headers: Record<string, string>,
): Observable<ExecutionResult> {
  const request = {
    query: params.query,
    variables: params.variables as Record<string, unknown> | undefined,
    operationName: params.operationName ?? undefined,
  };
  return {
    subscribe: (sink: { next: (value: ExecutionResult) => void; error: (error: unknown) => void; complete: () => void }) => {
      if (over === 'multipart') return { unsubscribe: subscribeMultipart(graphqlUrl.href, headers, request, sink) };
      // No retries: a playground run shows what happened rather than hiding it.
      const client = createSseClient({ url: graphqlUrl.href, headers, retryAttempts: 0 });
      const stop = client.subscribe(request, {
        next: sink.next,
        error: (err) => {
          sink.error(err);
          client.dispose();
        },
        complete: () => {
          sink.complete();
          client.dispose();
        },
      });
      return {
        unsubscribe: () => {
          stop();
          client.dispose();
        },
      };
    },
  } as Observable<ExecutionResult>;
}

createRoot(document.querySelector('#graphiql')!).render(
  <GraphiQL fetcher={fetcher} defaultTabs={EXAMPLE_TABS} defaultEditorToolsVisibility="variables" />,
);
