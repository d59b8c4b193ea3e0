/**
 * The progress page: a reference for frontend developers. It builds its form from `videoModels`
 * (./model-form), creates generations, and follows all of the caller's generations live:
 *
 *   1. subscribe to `videoGenerationsUpdated` FIRST, then
 *   2. read the list with `videoGenerations`,
 *   3. keep, per generation, the highest `version` seen (events and the list may arrive in any order).
 *
 * Between events each card's bar moves on its own from `estimatedCompletionAt`, as the schema intends.
 */
import { CloseCode } from 'graphql-ws';
import { loadApiKey, saveApiKey } from '../api-key';
import { GatewayClient, GraphQLRequestError, TransportUnavailableError, type Transport } from '../graphql-client';
import {
  CancelVideoGenerationDocument,
  CreateVideoGenerationDocument,
  VideoGenerationsDocument,
  VideoGenerationsUpdatedDocument,
  VideoModelsDocument,
  type GenerationProgressFragment as Generation,
} from '../generated/graphql';
import { renderCard, TERMINAL, tickCard, titleOf } from './generation-card';
import { STATUSES } from './labels';
import { bindTransportSelect, TRANSPORTS, transportLabel } from '../transport-choice';
import { ModelForm } from './model-form';

const GRAPHQL_URL = new URL('/graphql', location.href).href;

const $ = <T extends HTMLElement>(selector: string) => document.querySelector<T>(selector)!;
const keyForm = $<HTMLFormElement>('#key-form');
const keyInput = $<HTMLInputElement>('#api-key');
const connection = $<HTMLParagraphElement>('#connection');
const transportSelect = $<HTMLSelectElement>('#transport');
const createForm = $<HTMLFormElement>('#create');
const submit = createForm.querySelector<HTMLButtonElement>('button[type=submit]')!;
const list = $<HTMLUListElement>('#generations');
const empty = $<HTMLParagraphElement>('#empty');
const announcer = $<HTMLParagraphElement>('#announcer');

let form: ModelForm;
let modelNames = new Map<string, string>();
let client: GatewayClient | null = null;
let connectedKey: string | null = null;
let chosenTransport: Transport = 'websocket';
let stopWatching: () => void = () => {};
const generations = new Map<string, { generation: Generation; item: HTMLLIElement }>();

function setConnection(text: string, tone: 'ok' | 'error' | 'info'): void {
  connection.textContent = text;
  connection.dataset.tone = tone;
  if (tone === 'error') keyInput.setAttribute('aria-invalid', 'true');
  else keyInput.removeAttribute('aria-invalid');
}

function showEmpty(text: string | null): void {
  empty.hidden = text === null;
  empty.textContent = text ?? '';
}

// ---- The list of generations -----------------------------------------------------------------

/** Shows a generation, unless a newer version of it is already shown. */
function show(g: Generation): void {
  const current = generations.get(g.id);
  if (current && current.generation.version >= g.version) return;
  // Only a video that finishes while someone watches starts by itself, and only if nothing else plays.
  const justFinished = !!current && !TERMINAL.has(current.generation.status) && g.status === 'COMPLETED';
  const item = renderCard(g, {
    modelName: modelNames.get(g.model) ?? g.model,
    autoplay: justFinished && !playing(),
    onCancel: cancel,
  });
  if (current) current.item.replaceWith(item);
  else list.prepend(item);
  generations.set(g.id, { generation: g, item });
  if (current && current.generation.status !== g.status && TERMINAL.has(g.status))
    announcer.textContent = `${STATUSES[g.status]}: ${titleOf(g, modelNames.get(g.model) ?? g.model)}`;
  showEmpty(null);
}

function playing(): boolean {
  return [...list.querySelectorAll('video')].some((video) => !video.paused);
}

// One video plays at a time: starting one pauses the others.
list.addEventListener(
  'play',
  (event) => {
    for (const video of list.querySelectorAll('video')) if (video !== event.target) video.pause();
  },
  true,
);

setInterval(() => {
  for (const { generation, item } of generations.values()) if (!TERMINAL.has(generation.status)) tickCard(item, generation);
}, 500);

async function cancel(id: string): Promise<void> {
  const { cancelVideoGeneration } = await client!.request(CancelVideoGenerationDocument, { id });
  show(cancelVideoGeneration);
}

// ---- Creating a generation ---------------------------------------------------------------------

createForm.addEventListener('submit', (event) => void createFromForm(event));

async function createFromForm(event: SubmitEvent): Promise<void> {
  event.preventDefault();
  const input = form.read();
  if (!input || !client) return;
  submit.disabled = true;
  submit.textContent = 'Starting…';
  try {
    const { createVideoGeneration } = await client.request(CreateVideoGenerationDocument, { input });
    show(createVideoGeneration);
    announcer.textContent = `Started: ${titleOf(createVideoGeneration, modelNames.get(createVideoGeneration.model) ?? createVideoGeneration.model)}`;
  } catch (err) {
    if (err instanceof GraphQLRequestError)
      form.showApiError(err.code === 'UNAUTHENTICATED' ? 'Your API key is no longer accepted.' : err.message, err.field);
    else form.showApiError('The gateway did not answer. Check the connection and try again.', undefined);
  } finally {
    submit.disabled = false;
    submit.textContent = 'Generate video';
  }
}

// ---- Connecting with a key ---------------------------------------------------------------------

/** Why live updates stopped, in words, from a graphql-ws close event or GraphQL errors. */
function reasonOf(err: unknown): string {
  if (err instanceof TransportUnavailableError) return reasonOf(err.cause);
  if (Array.isArray(err)) return err.map((e: { message?: string }) => e.message ?? '').join('; ');
  if (err && typeof err === 'object' && 'code' in err) {
    const { code, reason } = err as { code: number; reason?: string };
    return code === CloseCode.Forbidden ? 'the key was refused' : reason || `connection closed (${code})`;
  }
  return err instanceof Error ? err.message : 'the connection was lost';
}

function disconnect(): void {
  stopWatching();
  stopWatching = () => {};
  client?.close();
  client = null;
  connectedKey = null;
}

/**
 * Follows the key's generations over `transport`. A transport that cannot connect here (a proxy
 * that drops WebSockets, say) hands over to the next one in TRANSPORTS, and the page says so;
 * `failed` lists those that already could not.
 */
async function connect(key: string, transport = chosenTransport, failed: Transport[] = []): Promise<void> {
  if (key === connectedKey && !failed.length) return;
  disconnect();
  generations.clear();
  list.replaceChildren();
  createForm.hidden = true;
  if (!key) {
    setConnection('Enter your API key to see and make videos.', 'info');
    showEmpty('Your videos appear here once you connect.');
    return;
  }
  connectedKey = key;
  const over = transportLabel(transport);
  const fallback = failed.length ? ` (${failed.map(transportLabel).join(' and ')} could not connect here)` : '';
  setConnection(`Connecting over ${over}…`, 'info');
  connection.dataset.transport = transport;
  const current = new GatewayClient(GRAPHQL_URL, key, transport);
  client = current;
  stopWatching = current.subscribe(
    VideoGenerationsUpdatedDocument,
    {},
    (data) => show(data.videoGenerationsUpdated),
    (err) => {
      // A client that was replaced or closed has nothing more to say.
      if (client !== current) return;
      const next = TRANSPORTS.find((t) => t.id !== transport && !failed.includes(t.id));
      if (err instanceof TransportUnavailableError && next) {
        connectedKey = null;
        void connect(key, next.id, [...failed, transport]);
      } else setConnection(`Live updates over ${over} stopped: ${reasonOf(err)}. Reload the page to reconnect.`, 'error');
    },
  );
  try {
    const { videoGenerations } = await current.request(VideoGenerationsDocument, { first: 20 });
    if (client !== current) return;
    for (const { node } of [...videoGenerations.edges].reverse()) show(node);
    setConnection(`Connected over ${over}${fallback}. Updates arrive live.`, 'ok');
    showEmpty(generations.size ? null : 'No videos yet. Describe one above and press Generate video.');
    createForm.hidden = false;
  } catch (err) {
    if (client !== current) return;
    disconnect();
    showEmpty('Your videos appear here once you connect.');
    if (err instanceof GraphQLRequestError && err.code === 'UNAUTHENTICATED')
      setConnection('That API key is not valid. Check it and try again.', 'error');
    else setConnection(`Could not load your videos: ${err instanceof Error ? err.message : String(err)}`, 'error');
  }
}

function connectFromInput(): void {
  const key = keyInput.value.trim();
  saveApiKey(key);
  void connect(key);
}

async function start(): Promise<void> {
  // The catalogue needs no key.
  const { videoModels } = await new GatewayClient(GRAPHQL_URL, '').request(VideoModelsDocument, {});
  modelNames = new Map(videoModels.map((m) => [m.id, m.name]));
  form = new ModelForm(createForm, videoModels);
  keyInput.value = loadApiKey();
  chosenTransport = bindTransportSelect(transportSelect, (transport) => {
    chosenTransport = transport;
    connectedKey = null;
    void connect(keyInput.value.trim());
  });
  keyInput.addEventListener('change', connectFromInput);
  keyForm.addEventListener('submit', (event) => {
    event.preventDefault();
    // Enter on the same key reconnects only when something went wrong (e.g. live updates stopped).
    if (connection.dataset.tone === 'error') connectedKey = null;
    connectFromInput();
  });
  await connect(keyInput.value.trim());
}

start().catch((err: unknown) => {
  setConnection(`The gateway did not answer: ${err instanceof Error ? err.message : String(err)}`, 'error');
});
