/**
 * The GraphiQL playground, served by the gateway at its GraphQL path to browsers. Queries and
 * mutations go over HTTP, subscriptions over graphql-ws to the same path. The API key field adds
 * `Authorization: Bearer <key>` to both (the WebSocket gets it in connectionParams); a header
 * typed into the headers pane wins over it.
 */
import { createGraphiQLFetcher, type Fetcher } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import 'graphiql/style.css';
import { createRoot } from 'react-dom/client';
import { loadApiKey, saveApiKey } from '../api-key';
import { EXAMPLE_TABS } from './examples';
import { sentOperation } from './sent-operation';
import './monaco-workers';

const graphqlUrl = new URL(location.pathname, location.href);
const wsUrl = new URL(graphqlUrl);
wsUrl.protocol = graphqlUrl.protocol === 'https:' ? 'wss:' : 'ws:';

const keyInput = document.querySelector<HTMLInputElement>('#api-key')!;
keyInput.value = loadApiKey();
keyInput.addEventListener('change', () => saveApiKey(keyInput.value.trim()));

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
  return gatewayFetcher({ ...params, operationName: sent.operationName }, { ...options, headers, documentAST: sent.documentAST });
};

createRoot(document.querySelector('#graphiql')!).render(
  <GraphiQL fetcher={fetcher} defaultTabs={EXAMPLE_TABS} defaultEditorToolsVisibility="variables" />,
);
