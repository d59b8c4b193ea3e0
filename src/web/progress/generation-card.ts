/**
 * One generation as a card: status in words, the prompt and settings, a progress bar with the time
 * left and its range, the failure in words, the video with a download link, and cancel while it runs.
 */
import type { GenerationProgressFragment as Generation } from '../generated/graphql';
import { el } from './element';
import { FAILURES, STATUSES, valueName } from './labels';
import { timeLeft } from './time-left';

export const TERMINAL = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'TIMED_OUT']);

export interface CardOptions {
  modelName: string;
  /** Start the video (muted, as browsers require for autoplay): only for a video that just finished. */
  autoplay: boolean;
  onCancel: (id: string) => Promise<void>;
}

/** Estimated progress now: between events it follows the clock toward `estimatedCompletionAt`. */
export function progressNow(g: Generation, now = Date.now()): number | null {
  if (TERMINAL.has(g.status) || !g.estimatedCompletionAt) return g.progress;
  const start = Date.parse(g.createdAt);
  const end = Date.parse(g.estimatedCompletionAt);
  const byClock = end > start ? (now - start) / (end - start) : 0;
  return Math.min(0.99, Math.max(g.progress ?? 0, byClock));
}

/** What a card and announcements call a generation: its prompt, or its model for the few that take none. */
export function titleOf(g: Generation, modelName: string): string {
  return g.prompt ?? `${modelName}, without a prompt`;
}

const relative = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });

function startedAt(iso: string, now = Date.now()): string {
  const seconds = Math.round((Date.parse(iso) - now) / 1000);
  if (seconds > -45) return 'just now';
  if (seconds > -3600) return relative.format(Math.round(seconds / 60), 'minute');
  if (seconds > -86_400) return relative.format(Math.round(seconds / 3600), 'hour');
  return new Date(iso).toLocaleDateString();
}

export function renderCard(g: Generation, options: CardOptions): HTMLLIElement {
  const settings = [
    options.modelName,
    g.settings.durationSeconds != null ? valueName('durationSeconds', g.settings.durationSeconds) : '',
    g.settings.aspectRatio ? valueName('aspectRatio', g.settings.aspectRatio) : '',
    g.settings.resolution ? valueName('resolution', g.settings.resolution) : '',
  ].filter(Boolean);
  const titleId = `card-${g.id}-prompt`;
  const item = el(
    'li',
    { className: `card status-${g.status}`, dataset: { id: g.id, status: g.status }, attrs: { 'aria-labelledby': titleId } },
    el(
      'div',
      { className: 'card-head' },
      el('span', { className: 'status', textContent: STATUSES[g.status] ?? g.status }),
      el('time', { className: 'started', dateTime: g.createdAt, textContent: startedAt(g.createdAt), title: new Date(g.createdAt).toLocaleString() }),
    ),
    el('p', { className: 'prompt', id: titleId, textContent: titleOf(g, options.modelName) }),
  );
  if (settings.length) item.append(el('p', { className: 'settings', textContent: settings.join(' · ') }));

  const progress = progressNow(g);
  if (!TERMINAL.has(g.status)) {
    const left = timeLeft(g);
    item.append(
      el(
        'div',
        { className: 'progress' },
        el('progress', { max: 1, value: progress ?? 0, attrs: { 'aria-label': 'Progress' } }),
        el('span', { className: 'eta', textContent: left.text }),
        el('span', { className: 'eta-basis', textContent: left.basis, hidden: !left.basis }),
      ),
    );
  }
  if (g.error) {
    const words = FAILURES[g.error.code];
    item.append(el('p', { className: 'error', textContent: words ?? g.error.message }));
    if (words && g.error.code !== 'CANCELLED_BY_OWNER')
      item.append(el('p', { className: 'error-detail', textContent: `Details: ${g.error.message}` }));
  } else if (g.status === 'CANCELLED') {
    item.append(el('p', { className: 'error', textContent: FAILURES.CANCELLED_BY_OWNER! }));
  }
  if (g.status === 'COMPLETED' && g.video) {
    item.append(
      el('video', {
        // A media fragment makes the browser show a first frame instead of a black box before play.
        src: g.video.url.includes('#') ? g.video.url : `${g.video.url}#t=0.1`,
        controls: true,
        preload: 'metadata',
        playsInline: true,
        loop: true,
        autoplay: options.autoplay,
        muted: options.autoplay,
        attrs: { 'aria-label': `Video: ${titleOf(g, options.modelName)}` },
      }),
    );
  }

  const actions = el('div', { className: 'actions' });
  if (g.status === 'COMPLETED' && g.video) {
    // Cross-origin links ignore `download` and open the file instead, which still lets people save it.
    actions.append(
      el('a', { className: 'button', href: g.video.url, download: `video-${g.id}.mp4`, target: '_blank', rel: 'noopener', textContent: 'Download' }),
    );
  }
  if (!TERMINAL.has(g.status)) {
    const cancel = el('button', {
      type: 'button',
      className: 'secondary',
      textContent: 'Cancel',
      title: 'Stop following this video. The video service may still finish it, and charge for it.',
    });
    const failure = el('span', { className: 'action-error', attrs: { role: 'alert' } });
    cancel.addEventListener('click', () => {
      cancel.disabled = true;
      cancel.textContent = 'Cancelling…';
      options.onCancel(g.id).catch((err: unknown) => {
        cancel.disabled = false;
        cancel.textContent = 'Cancel';
        failure.textContent = `Could not cancel: ${err instanceof Error ? err.message : String(err)}`;
      });
    });
    actions.append(cancel, failure);
  }
  if (actions.childElementCount) item.append(actions);
  return item;
}

/** Moves the bar and the time left between events. */
export function tickCard(item: HTMLLIElement, g: Generation): void {
  const bar = item.querySelector('progress');
  const value = progressNow(g);
  if (bar && value !== null) bar.value = value;
  const left = timeLeft(g);
  const eta = item.querySelector('.eta');
  if (eta) eta.textContent = left.text;
  const started = item.querySelector('.started');
  if (started) started.textContent = startedAt(g.createdAt);
}
