/**
 * The "new video" form, rendered from the `videoModels` query result: models grouped by vendor,
 * and for the chosen model only the inputs it takes (`inputs`), each as a control that fits its
 * type, limits and default. Shared typed fields go to the create input's own fields, the rest into
 * `options`. Words the schema does not carry come from ./labels. It checks what the data allows
 * before sending (so a person sees the problem next to the field) and places the API's
 * BAD_USER_INPUT errors the same way.
 */
import type { CreateVideoGenerationInput, VideoModelFieldsFragment as Model } from '../generated/graphql';
import { el } from './element';
import { FIELDS, GROUPS, labelOf, MODEL_KINDS, shortDescription, valueName, type FieldGroup } from './labels';

type Input = Model['inputs'][number];

/** The prompt's limit as the API documents it (1 to 4000 characters after trimming) where the model sets none. */
const PROMPT_MAX = 4000;
/** The seed range the API documents where a model states none. */
const SEED_RANGE = { minimum: 0, maximum: 2147483647 };
/** Choices with at most this many values are shown as buttons in a row; more as a drop-down. */
const MAX_CHIPS = 4;
/** Link fields offered for a list of media whose model states no maximum. */
const MAX_LINKS = 10;
/** The vendor the gateway was built for comes first; the others follow alphabetically. */
const FIRST_VENDOR = 'Google';

/** What a control holds: a value to send (undefined: leave it out) or a problem in words. */
type Reading = { value?: unknown; problem?: string };

/** One input's control, and how to read it. */
interface Control {
  input: Input;
  /** Where its value goes and how errors name it: the create input's field, or `options.<name>`. */
  key: string;
  label: string;
  element: HTMLElement;
  read(): Reading;
}

export class ModelForm {
  private readonly modelSelect: HTMLSelectElement;
  private readonly about: HTMLElement;
  private readonly prompt: HTMLTextAreaElement;
  private readonly promptField: HTMLElement;
  private readonly promptRequired: HTMLElement;
  private readonly promptCount: HTMLElement;
  private readonly options: HTMLElement;
  private readonly formError: HTMLElement;
  private controls: Control[] = [];

  constructor(
    private readonly form: HTMLFormElement,
    private readonly models: readonly Model[],
  ) {
    this.modelSelect = form.querySelector<HTMLSelectElement>('#model')!;
    this.about = form.querySelector<HTMLElement>('#model-about')!;
    this.prompt = form.querySelector<HTMLTextAreaElement>('#prompt')!;
    this.promptField = this.prompt.parentElement!;
    this.promptRequired = this.promptField.querySelector<HTMLElement>('label .required')!;
    this.promptCount = form.querySelector<HTMLElement>('#prompt-count')!;
    this.options = form.querySelector<HTMLElement>('#options')!;
    this.formError = form.querySelector<HTMLElement>('#create-error')!;

    this.modelSelect.replaceChildren(
      ...byVendor(models).map(([vendor, list]) =>
        el('optgroup', { label: vendor }, ...list.map((m) => el('option', { value: m.id, textContent: m.name }))),
      ),
    );
    this.modelSelect.addEventListener('change', () => this.renderOptions());
    this.prompt.addEventListener('input', () => {
      this.countPrompt();
      this.clearError(this.prompt);
    });
    // A corrected field loses its message as soon as it changes.
    this.options.addEventListener('input', (event) => this.clearError(event.target as HTMLElement));
    this.renderOptions();
  }

  get model(): Model {
    return this.models.find((m) => m.id === this.modelSelect.value) ?? this.models[0]!;
  }

  private get promptInput(): Input | undefined {
    return this.model.inputs.find((i) => i.shared && i.name === 'prompt');
  }

  private get promptMax(): number {
    return this.promptInput?.maxLength ?? PROMPT_MAX;
  }

  private countPrompt(): void {
    const length = this.prompt.value.trim().length;
    this.promptCount.textContent = `${length} / ${this.promptMax}`;
    this.promptCount.classList.toggle('over', length > this.promptMax);
  }

  private renderOptions(): void {
    const model = this.model;
    const minutes =
      model.typicalGenerationSeconds >= 90
        ? `about ${Math.round(model.typicalGenerationSeconds / 60)} min`
        : `about ${model.typicalGenerationSeconds} s`;
    this.about.replaceChildren(
      el('span', {
        textContent: [MODEL_KINDS[model.kind] ?? model.kind, `usually ready in ${minutes}`, model.supportsAudio ? 'can add sound' : '']
          .filter(Boolean)
          .join(' · '),
      }),
      ...model.rules.map((rule) => el('span', { className: 'rule', textContent: rule })),
    );
    // Models that animate a picture or lip-sync a voice take no prompt, or an optional one.
    const prompt = this.promptInput;
    this.promptField.hidden = !prompt;
    this.prompt.required = !!prompt?.required;
    this.promptRequired.hidden = !prompt?.required;
    this.countPrompt();

    this.controls = model.inputs.filter((i) => !(i.shared && i.name === 'prompt')).map((input) => control(input));
    const groups = new Map<FieldGroup, Control[]>();
    for (const c of this.controls) {
      const group = groupOf(c.input);
      groups.set(group, [...(groups.get(group) ?? []), c]);
    }
    this.options.replaceChildren(
      ...(['media', 'video', 'advanced'] as const).flatMap((group) => {
        const controls = groups.get(group);
        if (!controls) return [];
        const fields = controls.map((c) => c.element);
        // Optional extras fold away; anything required stays in view.
        if (group === 'advanced' && !controls.some((c) => c.input.required)) {
          return [
            el('details', { className: 'group' }, el('summary', { textContent: GROUPS[group] }), el('div', { className: 'fields' }, ...fields)),
          ];
        }
        return [
          el(
            'section',
            { className: 'group', attrs: { 'aria-label': GROUPS[group] } },
            el('h3', { textContent: GROUPS[group] }),
            el('div', { className: 'fields' }, ...fields),
          ),
        ];
      }),
    );
  }

  /** The create input, or null after marking each problem next to its field and focusing the first. */
  read(): CreateVideoGenerationInput | null {
    this.clearErrors();
    const model = this.model;
    const problems: [string, string][] = [];
    const input: Record<string, unknown> = { model: model.id };
    const options: Record<string, unknown> = {};

    const promptInput = this.promptInput;
    if (promptInput) {
      const prompt = this.prompt.value.trim();
      if (!prompt && promptInput.required) problems.push(['prompt', 'Describe the video you want.']);
      else if (prompt.length > this.promptMax)
        problems.push(['prompt', `Keep the prompt to ${this.promptMax} characters (it has ${prompt.length}).`]);
      else if (prompt) input['prompt'] = prompt;
    }
    for (const c of this.controls) {
      const { value, problem } = c.read();
      if (problem) problems.push([c.key, problem]);
      else if (value === undefined) {
        if (c.input.required) problems.push([c.key, `${c.label} is needed for this model.`]);
      } else (c.input.shared ? input : options)[c.input.name] = value;
    }
    if (Object.keys(options).length) input['options'] = options;

    for (const [key, message] of problems) this.showError(key, message);
    if (problems.length) {
      this.focus(problems[0]![0]);
      return null;
    }
    return input as unknown as CreateVideoGenerationInput;
  }

  /**
   * Shows an error from the API next to the control it names (`input.imageUrl`,
   * `input.options.cfgScale`, or deeper inside one, `input.options.elements.0.url`), else under the button.
   */
  showApiError(message: string, field: string | undefined): void {
    const path = field?.replace(/^input\./, '').split('.') ?? [];
    for (let n = path.length; n > 0; n--) {
      const key = path.slice(0, n).join('.');
      if (this.showError(key, message)) {
        this.focus(key);
        return;
      }
    }
    this.formError.textContent = message;
  }

  private fieldOf(key: string): HTMLElement | null {
    if (key === 'prompt') return this.promptField.hidden ? null : this.promptField;
    return this.options.querySelector<HTMLElement>(`[data-field="${CSS.escape(key)}"]`);
  }

  private showError(key: string, message: string): boolean {
    const target = this.fieldOf(key);
    const slot = target?.querySelector<HTMLElement>('.field-error');
    if (!target || !slot) return false;
    slot.textContent = message;
    target.classList.add('invalid');
    for (const control of target.querySelectorAll('input, select, textarea')) control.setAttribute('aria-invalid', 'true');
    const details = target.closest('details');
    if (details) details.open = true;
    return true;
  }

  private focus(key: string): void {
    this.fieldOf(key)?.querySelector<HTMLElement>('input:checked, input, select, textarea')?.focus();
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
    for (const field of this.form.querySelectorAll<HTMLElement>('.field.invalid'))
      this.clearError(field.querySelector('input, select, textarea') ?? field);
  }
}

/** Models by vendor: the gateway's first vendor, then the others alphabetically; each vendor's models as the API lists them. */
function byVendor(models: readonly Model[]): [string, Model[]][] {
  const vendors = new Map<string, Model[]>();
  for (const model of models) vendors.set(model.vendor, [...(vendors.get(model.vendor) ?? []), model]);
  const rank = (vendor: string) => (vendor === FIRST_VENDOR ? 0 : 1);
  return [...vendors].sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b));
}

function groupOf(input: Input): FieldGroup {
  if (input.media) return 'media';
  const group = input.shared ? FIELDS[input.name]?.group : undefined;
  return group ?? (input.required ? 'video' : 'advanced');
}

/** The control for one input, chosen by its type, with its words, limits and default. */
function control(input: Input): Control {
  const key = input.shared ? input.name : `options.${input.name}`;
  const words = input.shared ? FIELDS[input.name] : undefined;
  const label = labelOf(input);
  const id = `field-${key.replace('.', '-')}`;
  const range = rangeOf(input);
  const lengthWords = input.type === 'STRING' && input.maxLength != null ? `Up to ${input.maxLength} characters.` : '';
  const jsonWords =
    !input.allowedValues?.length && (input.type === 'OBJECT' || (input.type === 'ARRAY' && input.itemType !== 'STRING')) ? 'Written as JSON.' : '';
  const hintText = [words?.hint ?? shortDescription(input.description), rangeWords(input, range), lengthWords, jsonWords].filter(Boolean).join(' ');
  const describedBy = [hintText ? `${id}-hint` : '', `${id}-error`].filter(Boolean).join(' ');
  const hint = hintText ? [el('p', { className: 'hint', id: `${id}-hint`, textContent: hintText })] : [];
  const error = el('p', { className: 'field-error', id: `${id}-error` });
  const title = (): (Node | string)[] => [label, ...(input.required ? [el('span', { className: 'required', textContent: 'required' })] : [])];
  const wrapGroup = (content: HTMLElement): HTMLElement =>
    el(
      'fieldset',
      { className: 'field', dataset: { field: key }, attrs: { 'aria-describedby': describedBy } },
      el('legend', {}, ...title()),
      content,
      ...hint,
      error,
    );
  const wrapOne = (content: HTMLElement): HTMLElement =>
    el('div', { className: 'field', dataset: { field: key } }, el('label', { htmlFor: id }, ...title()), content, ...hint, error);
  const common = { id, name: key, required: input.required, attrs: { 'aria-describedby': describedBy } };
  const make = (element: HTMLElement, read: () => Reading): Control => ({ input, key, label, element, read });

  if (input.allowedValues?.length) {
    const values = input.allowedValues as (string | number | boolean)[];
    // Shared enum fields send the GraphQL enum name; everything else the value as the model lists it.
    const sent = (i: number) => input.enumValues?.[i] ?? values[i];
    const preset = input.default == null ? -1 : values.findIndex((v) => v === input.default);
    const choices: [string, string][] = [
      ...(preset === -1 ? [['', input.required ? 'Choose…' : 'Default'] as [string, string]] : []),
      ...values.map((v, i): [string, string] => [String(i), valueName(input.name, input.enumValues?.[i] ?? v, v)]),
    ];
    const selected = preset === -1 ? '' : String(preset);
    const picked = (raw: string): Reading => (raw === '' ? {} : { value: sent(Number(raw)) });
    if (choices.length <= MAX_CHIPS && !(input.required && preset === -1)) {
      const chips = el('div', { className: 'chips' }, ...choices.map(([value, text]) => chip(key, value, text, value === selected)));
      return make(wrapGroup(chips), () => picked(checkedIn(chips)));
    }
    const select = el('select', common, ...choices.map(([value, text]) => el('option', { value, textContent: text, selected: value === selected })));
    return make(wrapOne(select), () => picked(select.value));
  }

  switch (input.type) {
    case 'BOOLEAN': {
      const preset = typeof input.default === 'boolean' ? String(input.default) : '';
      const choices: [string, string][] = [...(preset === '' ? [['', 'Default'] as [string, string]] : []), ['true', 'On'], ['false', 'Off']];
      const chips = el('div', { className: 'chips' }, ...choices.map(([value, text]) => chip(key, value, text, value === preset)));
      // The model's own default is left unsent, so the request says only what the person chose.
      return make(wrapGroup(chips), () => {
        const raw = checkedIn(chips);
        return raw === '' || raw === preset ? {} : { value: raw === 'true' };
      });
    }
    case 'INTEGER':
    case 'NUMBER': {
      const integer = input.type === 'INTEGER';
      const field = el('input', {
        ...common,
        type: 'number',
        inputMode: integer ? 'numeric' : 'decimal',
        step: integer ? '1' : 'any',
        placeholder: input.default != null ? `Default: ${String(input.default)}` : '',
      });
      if (range.minimum != null) field.min = String(range.minimum);
      if (range.maximum != null) field.max = String(range.maximum);
      return make(wrapOne(field), () => {
        const raw = field.value.trim();
        // A number input reports text it cannot parse as empty; badInput tells the two apart.
        if (raw === '') return field.validity.badInput ? { problem: integer ? 'Use a whole number.' : 'Use a number.' } : {};
        const n = Number(raw);
        if (!Number.isFinite(n) || (integer && !Number.isInteger(n))) return { problem: integer ? 'Use a whole number.' : 'Use a number.' };
        if ((range.minimum != null && n < range.minimum) || (range.maximum != null && n > range.maximum))
          return { problem: `Use a number ${rangePhrase(range)}.` };
        return { value: n };
      });
    }
    case 'STRING': {
      if (input.media) {
        const media = input.media.toLowerCase();
        const field = el('input', { ...common, type: 'text', inputMode: 'url', placeholder: 'https://…', spellcheck: false, autocomplete: 'off' });
        return make(wrapOne(field), () => {
          const raw = field.value.trim();
          if (raw === '') return {};
          return isMediaLink(raw, media) ? { value: raw } : { problem: `Use an https:// link or a data:${media}/… URI.` };
        });
      }
      const long = /prompt|text|content/i.test(input.name) || (input.maxLength ?? 0) > 300;
      const field = long ? el('textarea', { ...common, rows: 2 }) : el('input', { ...common, type: 'text' });
      if (input.default != null) field.placeholder = `Default: ${String(input.default)}`;
      return make(wrapOne(field), () => {
        const raw = field.value.trim();
        if (raw === '') return {};
        if (input.maxLength != null && raw.length > input.maxLength)
          return { problem: `Keep it to ${input.maxLength} characters (it has ${raw.length}).` };
        return { value: raw };
      });
    }
    case 'ARRAY':
      if (input.itemType === 'STRING' && input.media) return make(...linkList(input, key, label, wrapGroup));
      if (input.itemType === 'STRING') {
        const field = el('textarea', { ...common, rows: 3, placeholder: 'One per line' });
        return make(wrapOne(field), () => {
          const lines = field.value
            .split('\n')
            .map((line) => line.trim())
            .filter(Boolean);
          return lines.length === 0 ? {} : (countProblem(input, lines.length) ?? { value: lines });
        });
      }
      return make(...jsonField(input, common, wrapOne));
    default:
      return make(...jsonField(input, common, wrapOne));
  }
}

/** A radio button shown as a pill. */
function chip(name: string, value: string, text: string, checked: boolean): HTMLElement {
  return el('label', { className: 'chip' }, el('input', { type: 'radio', name, value, checked }), el('span', { textContent: text }));
}

function checkedIn(chips: HTMLElement): string {
  return chips.querySelector<HTMLInputElement>('input:checked')?.value ?? '';
}

/** A list of media links: one field to start with, more on request up to the model's maximum. */
function linkList(input: Input, key: string, label: string, wrap: (content: HTMLElement) => HTMLElement): [HTMLElement, () => Reading] {
  const media = (input.media ?? 'IMAGE').toLowerCase();
  const max = input.maxItems ?? MAX_LINKS;
  const list = el('div', { className: 'links' });
  const add = el('button', { type: 'button', className: 'secondary add-link', textContent: `Add another link (up to ${max})` });
  const fields = (): HTMLInputElement[] => [...list.querySelectorAll('input')];
  const addField = (): void => {
    const n = fields().length + 1;
    const field = el('input', {
      type: 'text',
      name: key,
      inputMode: 'url',
      placeholder: 'https://…',
      spellcheck: false,
      autocomplete: 'off',
      attrs: { 'aria-label': `${label}, link ${n}` },
    });
    list.append(field);
    add.hidden = n >= max;
  };
  add.addEventListener('click', () => {
    addField();
    fields().at(-1)!.focus();
  });
  for (let i = 0; i < Math.max(1, Math.min(input.minItems ?? 1, max)); i++) addField();
  const element = wrap(el('div', {}, list, add));
  return [
    element,
    () => {
      const links = fields()
        .map((f) => f.value.trim())
        .filter(Boolean);
      if (links.length === 0) return {};
      if (links.some((link) => !isMediaLink(link, media))) return { problem: `Use https:// links or data:${media}/… URIs.` };
      return countProblem(input, links.length) ?? { value: links };
    },
  ];
}

/** Structured inputs (camera moves, multi-shot prompts…) are rare enough to be typed as JSON. */
function jsonField(
  input: Input,
  common: { id: string; name: string; required: boolean; attrs: Record<string, string> },
  wrap: (content: HTMLElement) => HTMLElement,
): [HTMLElement, () => Reading] {
  const wantsArray = input.type === 'ARRAY';
  const field = el('textarea', { ...common, rows: 3, className: 'json', spellcheck: false, placeholder: wantsArray ? '[ { … } ]' : '{ … }' });
  return [
    wrap(field),
    () => {
      const raw = field.value.trim();
      if (raw === '') return {};
      let value: unknown;
      try {
        value = JSON.parse(raw);
      } catch {
        return { problem: `This is not valid JSON: write ${wantsArray ? 'a list in [ ]' : 'an object in { }'}.` };
      }
      const isArray = Array.isArray(value);
      if (wantsArray ? !isArray : isArray || typeof value !== 'object' || value === null)
        return { problem: `Write ${wantsArray ? 'a JSON list in [ ]' : 'a JSON object in { }'}.` };
      return isArray ? (countProblem(input, (value as unknown[]).length) ?? { value }) : { value };
    },
  ];
}

function countProblem(input: Input, count: number): Reading | null {
  if (input.maxItems != null && count > input.maxItems) return { problem: `At most ${input.maxItems} (there are ${count}).` };
  if (input.minItems != null && count < input.minItems) return { problem: `At least ${input.minItems} (there are ${count}).` };
  return null;
}

interface Range {
  minimum: number | null | undefined;
  maximum: number | null | undefined;
}

function rangeOf(input: Input): Range {
  if (input.shared && input.name === 'seed' && input.minimum == null && input.maximum == null) return SEED_RANGE;
  return { minimum: input.minimum, maximum: input.maximum };
}

function rangePhrase({ minimum, maximum }: Range): string {
  if (minimum != null && maximum != null) return `from ${minimum} to ${maximum}`;
  if (minimum != null) return `of ${minimum} or more`;
  return `of ${maximum} or less`;
}

/** The allowed range in words, for a number input's hint. */
function rangeWords(input: Input, range: Range): string {
  if ((input.type !== 'INTEGER' && input.type !== 'NUMBER') || input.allowedValues?.length || (range.minimum == null && range.maximum == null))
    return '';
  const phrase = rangePhrase(range);
  return `${phrase.charAt(0).toUpperCase()}${phrase.slice(1)}.`;
}

/** An http(s) link, or a data URI of the expected media type (the API checks the rest). */
function isMediaLink(value: string, media: string): boolean {
  if (value.startsWith('data:')) return value.startsWith(`data:${media}/`);
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}
