/**
 * Which transport carries subscriptions, chosen on the progress page or in the playground and kept
 * in localStorage (as the API key is), so both pages and a reload use the same one.
 */
import type { Transport } from './graphql-client';

/** In the order a page falls back through when one cannot connect. */
export const TRANSPORTS: ReadonlyArray<{ id: Transport; label: string }> = [
  { id: 'websocket', label: 'WebSocket' },
  { id: 'sse', label: 'SSE' },
  { id: 'multipart', label: 'Multipart HTTP' },
];

const STORAGE_KEY = 'veo-gateway.transport';

export function transportLabel(transport: Transport): string {
  return TRANSPORTS.find((t) => t.id === transport)!.label;
}

export function isTransport(value: unknown): value is Transport {
  return TRANSPORTS.some((t) => t.id === value);
}

export function loadTransport(): Transport {
  const stored = localStorage.getItem(STORAGE_KEY);
  return isTransport(stored) ? stored : 'websocket';
}

export function saveTransport(transport: Transport): void {
  localStorage.setItem(STORAGE_KEY, transport);
}

/** Fills a `<select>` with the transports, shows the saved one, and saves every change. */
export function bindTransportSelect(select: HTMLSelectElement, onChange: (transport: Transport) => void): Transport {
  select.replaceChildren(...TRANSPORTS.map(({ id, label }) => new Option(label, id)));
  select.value = loadTransport();
  select.addEventListener('change', () => {
    if (!isTransport(select.value)) return;
    saveTransport(select.value);
    onChange(select.value);
  });
  return select.value as Transport;
}
