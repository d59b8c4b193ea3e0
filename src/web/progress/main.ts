/**
 * The progress page: a reference for frontend developers. It builds its form from `videoModels`,
 * creates generations, and follows all of the caller's generations live:
 *
 *   1. subscribe to `videoGenerationsUpdated` FIRST, then
 *   2. read the list with `videoGenerations`,
 *   3. keep, per generation, the highest `version` seen (events and the list may arrive in any order).
 *
 * Between events the bar moves on its own from `estimatedCompletionAt`, as the schema intends.
 */
import { loadApiKey, saveApiKey } from '../api-key';
import { GatewayClient, GraphQLRequestError } from '../graphql-client';
import {
  CreateVideoGenerationDocument,
  VideoGenerationsDocument,
  VideoGenerationsUpdatedDocument,
  VideoModelsDocument,
  type CreateVideoGenerationInput,
  type GenerationProgressFragment as Generation,
  type VideoModelFieldsFragment as Model,
} from '../generated/graphql';

const GRAPHQL_URL = new URL('/graphql', location.href).href;
const TERMINAL = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'TIMED_OUT']);

const $ = <T extends Element>(selector: string) => document.querySelector<T>(selector)!;
const keyInput = $<HTMLInputElement>('#api-key');
const connection = $<HTMLParagraphElement>('#connection');
const form = $<HTMLFormElement>('#create');
const modelSelect = form.elements.namedItem('model') as HTMLSelectElement;
const list = $<HTMLUListElement>('#generations');

let models: Model[] = [];
let client: GatewayClient | null = null;
let stopWatching: () => void = () => {};
const generations = new Map<string, { generation: Generation; item: HTMLLIElement }>();

/** A new element with properties and children (text goes in through `textContent`, never as HTML). */
function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {}, ...children: Node[]): HTMLElementTagNameMap[K] {
  const node: HTMLElementTagNameMap[K] = document.createElement(tag);
  Object.assign(node, props);
  node.append(...children);
  return node;
}

// ---- The form, built from the chosen model's capabilities -------------------------------------

/** The control for one input the model takes; its `name` is the input field's name. */
function control(model: Model, input: { name: string; required: boolean }): HTMLElement | null {
  const choice = (values: readonly (string | number)[], selected: string | number | null) =>
    el('select', { name: input.name }, ...values.map((v) => el('option', { value: String(v), textContent: String(v), selected: v === selected })));
  const yesNo = () =>
    el('select', { name: input.name }, ...[['', 'model default'], ['true', 'yes'], ['false', 'no']].map(([value, text]) => el('option', { value, textContent: text })));
  const text = (placeholder: string) => el('input', { type: 'text', name: input.name, required: input.required, placeholder });
  switch (input.name) {
    case 'durationSeconds':
      return choice(model.durations, model.defaultDurationSeconds);
    case 'aspectRatio':
      return choice(model.aspectRatios, model.defaultAspectRatio);
    case 'resolution':
      return choice(model.resolutions, model.defaultResolution);
    case 'personGeneration':
      return choice(model.personGenerations, null);
    case 'provider':
      return choice(model.providers, null);
    case 'generateAudio':
    case 'enhancePrompt':
    case 'autoFix':
      return yesNo();
    case 'seed':
      return el('input', { type: 'number', name: input.name, min: '0', max: '2147483647' });
    case 'imageUrls':
      return el('textarea', { name: input.name, rows: 2, required: input.required, placeholder: `one URL per line, at most ${model.maxReferenceImages ?? 3}` });
    case 'imageUrl':
    case 'lastImageUrl':
    case 'videoUrl':
      return text('https://… or data: URI');
    case 'negativePrompt':
      return text('');
    default:
      return null; // an input this page does not know yet: the API still validates it
  }
}

function renderOptions(): void {
  const model = models.find((m) => m.id === modelSelect.value)!;
  $('#rules').textContent = [`About ${model.typicalGenerationSeconds} s.`, ...model.rules].join(' ');
  $('#options').replaceChildren(
    ...model.inputs.flatMap((input) => {
      const field = control(model, input);
      return field ? [el('label', { textContent: `${input.name}${input.required ? ' (required)' : ''} ` }, field)] : [];
    }),
  );
}

/** The create input from the form: only the fields the chosen model shows, typed by their control. */
function readInput(): CreateVideoGenerationInput {
  const data = new FormData(form);
  const input: Record<string, unknown> = {};
  for (const [name, raw] of data) {
    const value = String(raw).trim();
    if (value === '') continue;
    if (name === 'durationSeconds' || name === 'seed') input[name] = Number(value);
    else if (name === 'generateAudio' || name === 'enhancePrompt' || name === 'autoFix') input[name] = value === 'true';
    else if (name === 'imageUrls') input[name] = value.split(/\s+/).filter(Boolean);
    else input[name] = value;
  }
  return input as CreateVideoGenerationInput;
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const error = $<HTMLParagraphElement>('#create-error');
  error.textContent = '';
  try {
    const { createVideoGeneration } = await client!.request(CreateVideoGenerationDocument, { input: readInput() });
    show(createVideoGeneration);
  } catch (err) {
    error.textContent = err instanceof GraphQLRequestError && err.code ? `${err.code}: ${err.message}` : String(err);
  }
});

// ---- The list of generations -----------------------------------------------------------------

/** Estimated progress now: between events it follows the clock toward `estimatedCompletionAt`. */
function progressNow(g: Generation): number | null {
  if (TERMINAL.has(g.status) || !g.estimatedCompletionAt) return g.progress;
  const start = Date.parse(g.createdAt);
  const end = Date.parse(g.estimatedCompletionAt);
  const byClock = end > start ? (Date.now() - start) / (end - start) : 0;
  return Math.min(0.99, Math.max(g.progress ?? 0, byClock));
}

function render(g: Generation): HTMLLIElement {
  const progress = progressNow(g);
  const item = el(
    'li',
    { className: `generation status-${g.status}` },
    el(
      'div',
      { className: 'meta' },
      el('span', { className: 'model', textContent: g.model }),
      el('span', { className: 'status', textContent: g.status }),
      el('span', { className: 'eta', textContent: g.etaSeconds != null && !TERMINAL.has(g.status) ? `about ${g.etaSeconds} s left` : '' }),
    ),
    el('p', { className: 'prompt', textContent: g.prompt ?? '' }),
  );
  item.dataset.id = g.id;
  if (progress !== null) item.append(el('progress', { max: 1, value: progress }));
  if (g.error) item.append(el('p', { className: 'error', textContent: `${g.error.code}: ${g.error.message}` }));
  if (g.status === 'COMPLETED' && g.video) {
    // Muted so that browsers allow autoplay.
    item.append(el('video', { src: g.video.url, controls: true, autoplay: true, muted: true, loop: true, playsInline: true }));
  }
  return item;
}

/** Shows a generation, unless a newer version of it is already shown. */
function show(g: Generation): void {
  const current = generations.get(g.id);
  if (current && current.generation.version >= g.version) return;
  const item = render(g);
  if (current) current.item.replaceWith(item);
  else list.prepend(item);
  generations.set(g.id, { generation: g, item });
}

setInterval(() => {
  for (const { generation, item } of generations.values()) {
    const bar = item.querySelector('progress');
    const value = progressNow(generation);
    if (bar && value !== null) bar.value = value;
  }
}, 500);

// ---- Connecting with a key ---------------------------------------------------------------------

async function connect(key: string): Promise<void> {
  stopWatching();
  client?.close();
  client = null;
  generations.clear();
  list.replaceChildren();
  form.hidden = true;
  if (!key) {
    connection.textContent = 'Enter an API key to see and create generations.';
    return;
  }
  const current = new GatewayClient(GRAPHQL_URL, key);
  client = current;
  stopWatching = current.subscribe(VideoGenerationsUpdatedDocument, {}, (data) => show(data.videoGenerationsUpdated), (err) => {
    connection.textContent = `Live updates stopped: ${err instanceof Error ? err.message : JSON.stringify(err)}`;
  });
  try {
    const { videoGenerations } = await current.request(VideoGenerationsDocument, { first: 20 });
    for (const { node } of [...videoGenerations.edges].reverse()) show(node);
    connection.textContent = 'Connected: updates arrive live.';
    form.hidden = false;
  } catch (err) {
    connection.textContent = err instanceof GraphQLRequestError && err.code === 'UNAUTHENTICATED' ? 'That API key is not valid.' : `Could not load generations: ${String(err)}`;
  }
}

async function start(): Promise<void> {
  // The catalogue needs no key.
  models = (await new GatewayClient(GRAPHQL_URL, '').request(VideoModelsDocument, {})).videoModels;
  modelSelect.replaceChildren(...models.map((m) => el('option', { value: m.id, textContent: `${m.name} (${m.id})` })));
  modelSelect.addEventListener('change', renderOptions);
  renderOptions();
  keyInput.value = loadApiKey();
  keyInput.addEventListener('change', () => {
    saveApiKey(keyInput.value.trim());
    void connect(keyInput.value.trim());
  });
  await connect(keyInput.value.trim());
}

start().catch((err: unknown) => {
  connection.textContent = `The gateway did not answer: ${String(err)}`;
});
