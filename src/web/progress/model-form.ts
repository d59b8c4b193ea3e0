/**
 * The "new video" form, rendered purely from the `videoModels` query result: models grouped by
 * vendor, and for the chosen model only the inputs it takes, with only the values it allows.
 * Words the schema does not carry come from ./labels. It checks what it can before sending (so a
 * person sees the problem next to the field) and places the API's BAD_USER_INPUT errors the same way.
 */
import type { CreateVideoGenerationInput, VideoModelFieldsFragment as Model } from '../generated/graphql';
import { el } from './element';
import { FIELDS, GROUPS, MODEL_KINDS, valueName, type FieldGroup, type FieldWords } from './labels';

/** The prompt's limit as the API documents it (1 to 4000 characters after trimming). */
const PROMPT_MAX = 4000;
const SEED_MAX = 2147483647;
/** Choices with at most this many values are shown as buttons in a row; more as a drop-down. */
const MAX_CHIPS = 4;

interface Choices {
  values: readonly (string | number)[];
  /** The model's default, pre-selected; null when the schema does not say (a "Default" choice is offered). */
  preset: string | number | null;
}

/** The allowed values of a choice input, from the model. The one place to switch to per-input data later. */
function choicesFor(model: Model, field: string): Choices {
  switch (field) {
    case 'durationSeconds':
      return { values: model.durations, preset: model.defaultDurationSeconds };
    case 'aspectRatio':
      return { values: model.aspectRatios, preset: model.defaultAspectRatio };
    case 'resolution':
      return { values: model.resolutions, preset: model.defaultResolution };
    case 'personGeneration':
      return { values: model.personGenerations, preset: null };
    case 'provider':
      return { values: model.providers, preset: null };
    default:
      return { values: [], preset: null };
  }
}

/** Words for an input this page has no entry for: the API still validates it, so it is offered as text. */
const fallbackWords = (name: string): FieldWords => ({ label: name, kind: 'text', group: 'advanced' });

export class ModelForm {
  private readonly modelSelect: HTMLSelectElement;
  private readonly about: HTMLElement;
  private readonly prompt: HTMLTextAreaElement;
  private readonly promptCount: HTMLElement;
  private readonly options: HTMLElement;
  private readonly formError: HTMLElement;

  constructor(
    private readonly form: HTMLFormElement,
    private readonly models: readonly Model[],
  ) {
    this.modelSelect = form.querySelector<HTMLSelectElement>('#model')!;
    this.about = form.querySelector<HTMLElement>('#model-about')!;
    this.prompt = form.querySelector<HTMLTextAreaElement>('#prompt')!;
    this.promptCount = form.querySelector<HTMLElement>('#prompt-count')!;
    this.options = form.querySelector<HTMLElement>('#options')!;
    this.formError = form.querySelector<HTMLElement>('#create-error')!;

    const vendors = new Map<string, Model[]>();
    for (const model of models) vendors.set(model.vendor, [...(vendors.get(model.vendor) ?? []), model]);
    this.modelSelect.replaceChildren(
      ...[...vendors].map(([vendor, list]) => el('optgroup', { label: vendor }, ...list.map((m) => el('option', { value: m.id, textContent: m.name })))),
    );
    this.modelSelect.addEventListener('change', () => this.renderOptions());
    this.prompt.addEventListener('input', () => {
      this.countPrompt();
      this.clearError(this.prompt);
    });
    // A corrected field loses its message as soon as it changes.
    this.options.addEventListener('input', (event) => this.clearError(event.target as HTMLElement));
    this.renderOptions();
    this.countPrompt();
  }

  get model(): Model {
    return this.models.find((m) => m.id === this.modelSelect.value) ?? this.models[0]!;
  }

  private countPrompt(): void {
    const length = this.prompt.value.trim().length;
    this.promptCount.textContent = `${length} / ${PROMPT_MAX}`;
    this.promptCount.classList.toggle('over', length > PROMPT_MAX);
  }

  private renderOptions(): void {
    const model = this.model;
    const minutes = model.typicalGenerationSeconds >= 90 ? `about ${Math.round(model.typicalGenerationSeconds / 60)} min` : `about ${model.typicalGenerationSeconds} s`;
    this.about.replaceChildren(
      el('span', { textContent: [MODEL_KINDS[model.kind] ?? model.kind, `usually ready in ${minutes}`, model.supportsAudio ? 'can add sound' : ''].filter(Boolean).join(' · ') }),
      ...model.rules.map((rule) => el('span', { className: 'rule', textContent: rule })),
    );
    const groups = new Map<FieldGroup, HTMLElement[]>();
    for (const input of model.inputs) {
      const words = FIELDS[input.name] ?? fallbackWords(input.name);
      const field = this.field(model, input.name, input.required, words);
      if (field) groups.set(words.group, [...(groups.get(words.group) ?? []), field]);
    }
    this.options.replaceChildren(
      ...(['media', 'video', 'advanced'] as const).flatMap((group) => {
        const fields = groups.get(group);
        if (!fields) return [];
        // Optional extras fold away; anything required stays in view.
        if (group === 'advanced' && !model.inputs.some((i) => i.required && (FIELDS[i.name]?.group ?? 'advanced') === 'advanced')) {
          return [el('details', { className: 'group' }, el('summary', { textContent: GROUPS[group] }), el('div', { className: 'fields' }, ...fields))];
        }
        return [el('section', { className: 'group', attrs: { 'aria-label': GROUPS[group] } }, el('h3', { textContent: GROUPS[group] }), el('div', { className: 'fields' }, ...fields))];
      }),
    );
  }

  /** One input: its control with a label, a hint and a place for its error message. */
  private field(model: Model, name: string, required: boolean, words: FieldWords): HTMLElement | null {
    const id = `field-${name}`;
    const describedBy = [words.hint ? `${id}-hint` : '', `${id}-error`].filter(Boolean).join(' ');
    const hint = words.hint ? el('p', { className: 'hint', id: `${id}-hint`, textContent: words.hint }) : null;
    const error = el('p', { className: 'field-error', id: `${id}-error` });
    const label = (): (Node | string)[] => [words.label, ...(required ? [el('span', { className: 'required', textContent: 'required' })] : [])];
    const wrap = (control: HTMLElement, asGroup: boolean): HTMLElement =>
      asGroup
        ? el('fieldset', { className: 'field', dataset: { field: name }, attrs: { 'aria-describedby': describedBy } }, el('legend', {}, ...label()), control, ...(hint ? [hint] : []), error)
        : el('div', { className: 'field', dataset: { field: name } }, el('label', { htmlFor: id }, ...label()), control, ...(hint ? [hint] : []), error);
    const common = { id, name, required, attrs: { 'aria-describedby': describedBy } };

    switch (words.kind) {
      case 'choice': {
        const { values, preset } = choicesFor(model, name);
        if (values.length === 0) return null;
        const options: [string, string][] = [...(preset === null ? [['', 'Default'] as [string, string]] : []), ...values.map((v): [string, string] => [String(v), valueName(name, v)])];
        const selected = preset === null ? '' : String(preset);
        if (options.length <= MAX_CHIPS) {
          return wrap(
            el('div', { className: 'chips' }, ...options.map(([value, text]) => el('label', { className: 'chip' }, el('input', { type: 'radio', name, value, checked: value === selected }), el('span', { textContent: text })))),
            true,
          );
        }
        return wrap(el('select', common, ...options.map(([value, text]) => el('option', { value, textContent: text, selected: value === selected }))), false);
      }
      case 'switch':
        if (name === 'generateAudio' && !model.supportsAudio) return null;
      {
        const known = words.defaultOn === undefined ? null : String(words.defaultOn);
        const options = [...(known === null ? [['', 'Default']] : []), ['true', 'On'], ['false', 'Off']] as const;
        return wrap(
          el('div', { className: 'chips' }, ...options.map(([value, text]) => el('label', { className: 'chip' }, el('input', { type: 'radio', name, value, checked: value === (known ?? '') }), el('span', { textContent: text })))),
          true,
        );
      }
      case 'integer':
        return wrap(el('input', { ...common, type: 'number', inputMode: 'numeric', min: '0', max: String(SEED_MAX), step: '1' }), false);
      case 'urls':
        return wrap(el('textarea', { ...common, rows: 2, placeholder: `https://…\n(at most ${model.maxReferenceImages ?? 3})`, spellcheck: false }), false);
      case 'url':
        return wrap(el('input', { ...common, type: 'text', inputMode: 'url', placeholder: 'https://…', spellcheck: false, autocomplete: 'off' }), false);
      case 'text':
        return wrap(el('input', { ...common, type: 'text' }), false);
    }
  }

  /** The create input, or null after marking each problem next to its field and focusing the first. */
  read(): CreateVideoGenerationInput | null {
    this.clearErrors();
    const model = this.model;
    const problems: [string, string][] = [];
    const prompt = this.prompt.value.trim();
    if (!prompt) problems.push(['prompt', 'Describe the video you want.']);
    else if (prompt.length > PROMPT_MAX) problems.push(['prompt', `Keep the prompt to ${PROMPT_MAX} characters (it has ${prompt.length}).`]);

    const input: Record<string, unknown> = { model: model.id, prompt };
    const data = new FormData(this.form);
    for (const { name, required } of model.inputs) {
      const words = FIELDS[name] ?? fallbackWords(name);
      const raw = data.getAll(name).map((v) => String(v).trim()).find((v) => v !== '') ?? '';
      if (raw === '') {
        if (required) problems.push([name, `${words.label} is needed for this model.`]);
        continue;
      }
      switch (words.kind) {
        case 'choice':
          input[name] = name === 'durationSeconds' ? Number(raw) : raw;
          break;
        case 'switch':
          // The upstream's own default is left unsent, so the request says only what the person chose.
          if (words.defaultOn === undefined || raw !== String(words.defaultOn)) input[name] = raw === 'true';
          break;
        case 'integer': {
          const n = Number(raw);
          if (!Number.isInteger(n) || n < 0 || n > SEED_MAX) problems.push([name, `Use a whole number from 0 to ${SEED_MAX}.`]);
          else input[name] = n;
          break;
        }
        case 'url':
          if (!isMediaLink(raw, words.media)) problems.push([name, `Use an https:// link or a data:${words.media ?? 'image'}/… URI.`]);
          else input[name] = raw;
          break;
        case 'urls': {
          const links = raw.split(/\s+/).filter(Boolean);
          const max = model.maxReferenceImages ?? links.length;
          if (links.some((link) => !isMediaLink(link, words.media))) problems.push([name, 'Put one https:// link (or data:image/… URI) per line.']);
          else if (links.length > max) problems.push([name, `At most ${max} pictures (there are ${links.length}).`]);
          else input[name] = links;
          break;
        }
        case 'text':
          input[name] = raw;
          break;
      }
    }
    for (const [name, message] of problems) this.showError(name, message);
    if (problems.length) {
      this.focus(problems[0]![0]);
      return null;
    }
    return input as unknown as CreateVideoGenerationInput;
  }

  /**
   * Shows an error from the API: next to its field when the API names one (`input.<field>`),
   * else under the button.
   */
  showApiError(message: string, field: string | undefined): void {
    const name = field?.replace(/^input\./, '');
    if (name && this.showError(name, message)) this.focus(name);
    else this.formError.textContent = message;
  }

  private showError(name: string, message: string): boolean {
    const target = name === 'prompt' ? this.prompt.parentElement : this.options.querySelector<HTMLElement>(`[data-field="${CSS.escape(name)}"]`);
    const slot = target?.querySelector<HTMLElement>('.field-error');
    if (!target || !slot) return false;
    slot.textContent = message;
    target.classList.add('invalid');
    for (const control of target.querySelectorAll('input, select, textarea')) control.setAttribute('aria-invalid', 'true');
    const details = target.closest('details');
    if (details) details.open = true;
    return true;
  }

  private focus(name: string): void {
    const target = name === 'prompt' ? this.prompt : this.options.querySelector<HTMLElement>(`[data-field="${CSS.escape(name)}"] input, [data-field="${CSS.escape(name)}"] select, [data-field="${CSS.escape(name)}"] textarea`);
    target?.focus();
  }

  private clearError(control: HTMLElement): void {
    const field = control.closest<HTMLElement>('.field');
    if (!field?.classList.contains('invalid')) return;
    field.classList.remove('invalid');
    field.querySelector('.field-error')!.textContent = '';
    for (const c of field.querySelectorAll('[aria-invalid]')) c.removeAttribute('aria-invalid');
  }

  clearErrors(): void {
    this.formError.textContent = '';
    for (const field of this.form.querySelectorAll<HTMLElement>('.field.invalid')) this.clearError(field.querySelector('input, select, textarea') ?? field);
  }
}

/** An http(s) link, or a data URI of the expected media type (the API checks the rest). */
function isMediaLink(value: string, media: 'image' | 'video' = 'image'): boolean {
  if (value.startsWith('data:')) return value.startsWith(`data:${media}/`);
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}
