/**
 * Derives the gateway's catalogue and wire map from the vendor's own create-request schemas
 * (`vendor/aimlapi-video-specs.json`). Pure: `npm run catalogue` writes its output to the
 * `*.generated.ts` files, and a unit test derives again to catch a stale commit.
 *
 * Renaming happens here and nowhere else: each model's wire fields become either one of the
 * shared, typed gateway fields (`SHARED_FIELDS`) or a camelCased key of `options`; values are
 * canonicalised (durations as integer seconds, resolutions in lower case, the provider's own
 * name as `native`) and the wire map remembers how to turn them back.
 */
import type { CatalogueInput, CatalogueModel, JsonSchema, MediaKind, ModelKind, WireEntry, WireMap } from './catalogue-types';
import { VENDOR_BY_ID_PREFIX } from './catalogue-overlay';

export interface VendorSpecs {
  source: unknown;
  models: Record<string, { model: string; request: JsonSchema }>;
  catalogueList: { name: string; vendor: string }[];
}

/**
 * The concepts most models share, each one typed field of the create input: gateway name →
 * the wire names that mean it, in preference order (a model with two takes the first; the other
 * stays reachable as an option).
 */
export const SHARED_FIELDS: Readonly<Record<string, readonly string[]>> = {
  prompt: ['prompt'],
  negativePrompt: ['negative_prompt'],
  durationSeconds: ['duration'],
  aspectRatio: ['aspect_ratio', 'ratio'],
  resolution: ['resolution'],
  seed: ['seed'],
  generateAudio: ['generate_audio'],
  enhancePrompt: ['enhance_prompt', 'enable_prompt_expansion'],
  autoFix: ['auto_fix'],
  personGeneration: ['person_generation'],
  provider: ['provider'],
  imageUrl: ['image_url', 'first_frame_image'],
  lastImageUrl: ['last_image_url', 'tail_image_url'],
  imageUrls: ['image_urls', 'reference_image_urls', 'reference_images', 'image_list'],
  videoUrl: ['video_url'],
  audioUrl: ['audio_url'],
  watermark: ['watermark'],
  cfgScale: ['cfg_scale'],
};

/** OpenAPI annotations that say nothing a validator or a form needs. */
const DROPPED_KEYWORDS = new Set(['example', 'title']);

export function deriveCatalogue(specs: VendorSpecs): { models: CatalogueModel[]; wire: WireMap } {
  const vendorOf = vendorNames(specs);
  const models: CatalogueModel[] = [];
  const wire: WireMap = {};
  for (const id of Object.keys(specs.models).sort()) {
    const request = specs.models[id]!.request;
    const properties = (request['properties'] ?? {}) as Record<string, JsonSchema>;
    const required = new Set((request['required'] as string[] | undefined) ?? []);
    const inputs: CatalogueInput[] = [];
    const entries: Record<string, WireEntry> = {};
    const taken = new Map<string, string>();
    for (const [name, candidates] of Object.entries(SHARED_FIELDS)) {
      const wireName = candidates.find((c) => properties[c] !== undefined);
      if (wireName) taken.set(wireName, name);
    }
    for (const [wireName, raw] of Object.entries(properties)) {
      if (wireName === 'model') continue;
      const shared = taken.get(wireName);
      const name = shared ?? camelCase(wireName);
      if (!shared && SHARED_FIELDS[name]) throw new Error(`${id}: option ${wireName} would shadow the shared field ${name}`);
      const { schema, entry } = canonicalise(name, wireName, raw);
      const media = mediaKind(wireName, raw);
      inputs.push({
        name,
        shared: shared !== undefined,
        required: required.has(wireName) || raw['required'] === true,
        ...(media ? { media } : {}),
        schema,
      });
      entries[shared ? name : `options.${name}`] = entry;
    }
    models.push({ id, vendor: vendorOf(id), kinds: deriveKinds(id, inputs), inputs });
    wire[id] = entries;
  }
  return { models, wire };
}

function canonicalise(name: string, wireName: string, raw: JsonSchema): { schema: JsonSchema; entry: WireEntry } {
  let schema = clean(raw);
  const entry: WireEntry = { wire: wireName };
  if (name === 'durationSeconds') {
    if (schema['type'] === 'string' || schema['type'] === 'number') entry.as = schema['type'] as 'string' | 'number';
    schema = { ...schema, type: 'integer' };
    if (Array.isArray(schema['enum'])) schema['enum'] = (schema['enum'] as unknown[]).map(Number);
    if (typeof schema['default'] === 'string') schema['default'] = Number(schema['default']);
    if (schema['minimum'] === undefined && schema['enum'] === undefined) schema['minimum'] = 1;
  } else if (name === 'resolution' && Array.isArray(schema['enum'])) {
    const values: Record<string, string> = {};
    schema['enum'] = (schema['enum'] as string[]).map((v) => {
      const canonical = v.toLowerCase();
      if (canonical !== v) values[canonical] = v;
      return canonical;
    });
    if (typeof schema['default'] === 'string') schema['default'] = schema['default'].toLowerCase();
    if (Object.keys(values).length > 0) entry.values = values;
  } else if (name === 'provider') {
    // The specs give the choices only in prose: "`google` runs native Google…; `fal` runs…; `auto`".
    const named = [...String(raw['description'] ?? '').matchAll(/`([a-z]+)`/g)].map((m) => m[1]!);
    const native = named.find((n) => n !== 'fal' && n !== 'auto');
    if (!native) throw new Error(`provider of ${wireName}: no native provider named in its description`);
    schema = {
      type: 'string',
      enum: ['auto', 'native', ...(named.includes('fal') ? ['fal'] : [])],
      default: 'auto',
      description: raw['description'],
    };
    entry.values = { native };
  } else if (name === 'imageUrl' && Array.isArray(schema['anyOf'])) {
    // The typed field carries one URL; a model that also takes a list of them gets it as `imageUrls` elsewhere.
    const single = (schema['anyOf'] as JsonSchema[]).find((s) => s['type'] === 'string');
    if (single) schema = { ...single, description: schema['description'] };
  }
  return { schema, entry };
}

/** Drops annotations, repairs the specs' quirks, turns string defaults of numeric fields into numbers, and removes `format: uri` (media are checked by the gateway's own rules). */
function clean(schema: JsonSchema): JsonSchema {
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (DROPPED_KEYWORDS.has(key) || key.startsWith('x-')) continue;
    if (key === 'format' && value === 'uri') continue;
    // Quirk: one spec marks a property `required: true` (Swagger 2 style); the caller reads it.
    if (key === 'required' && !Array.isArray(value)) continue;
    if (key === 'properties' && value && typeof value === 'object') {
      out[key] = Object.fromEntries(Object.entries(value as Record<string, JsonSchema>).map(([k, v]) => [k, clean(v)]));
    } else if ((key === 'items' || key === 'not') && value && typeof value === 'object' && !Array.isArray(value)) {
      out[key] = clean(value as JsonSchema);
    } else if ((key === 'anyOf' || key === 'oneOf' || key === 'allOf') && Array.isArray(value)) {
      out[key] = value.map((v) => clean(v as JsonSchema));
    } else {
      out[key] = value;
    }
  }
  // Quirk: `{ nullable: true }` alone (an anyOf branch) means null; ajv refuses nullable without a type.
  if (out['nullable'] === true && out['type'] === undefined && Object.keys(out).length === 1) return { type: 'null' };
  if ((out['type'] === 'integer' || out['type'] === 'number') && typeof out['default'] === 'string') {
    const n = Number(out['default']);
    if (Number.isFinite(n)) out['default'] = n;
  }
  return out;
}

/** A URL input (or a list of them) and what it must point at, judged by name: `*_url(s)` or `format: uri`. */
function mediaKind(wireName: string, raw: JsonSchema): MediaKind | undefined {
  const items = raw['items'] as JsonSchema | undefined;
  const uri =
    raw['format'] === 'uri' ||
    items?.['format'] === 'uri' ||
    /_urls?$/.test(wireName) ||
    (Array.isArray(raw['anyOf']) && (raw['anyOf'] as JsonSchema[]).some((s) => s['format'] === 'uri'));
  if (!uri || raw['type'] === 'object' || items?.['type'] === 'object') return undefined;
  return mediaOfName(wireName);
}

export function mediaOfName(name: string): MediaKind {
  if (/audio/i.test(name)) return 'audio';
  if (/video/i.test(name)) return 'video';
  return 'image';
}

function deriveKinds(id: string, inputs: CatalogueInput[]): ModelKind[] {
  const has = (name: string) => inputs.find((i) => i.name === name);
  const requires = (name: string) => has(name)?.required === true;
  const kinds: ModelKind[] = [];
  const add = (k: ModelKind) => {
    if (!kinds.includes(k)) kinds.push(k);
  };
  const videoInput = inputs.find((i) => i.media === 'video' && (i.required || i.name === 'videoUrl'));
  if (/lip-?sync|avatar|omnihuman|fabric|act-two|live2d/i.test(id) || requires('audioUrl')) add('AVATAR_LIP_SYNC');
  if (/extend/i.test(id) && videoInput) add('EXTEND_VIDEO');
  if (inputs.some((i) => i.media === 'video' && i.required)) add('VIDEO_TO_VIDEO');
  if (requires('imageUrl') && requires('lastImageUrl')) add('FIRST_LAST_FRAME_TO_VIDEO');
  if (requires('imageUrls')) add('REFERENCE_TO_VIDEO');
  if (requires('imageUrl')) add('IMAGE_TO_VIDEO');
  const needsMedia = inputs.some((i) => i.required && i.media !== undefined);
  if (has('prompt') && !needsMedia) add('TEXT_TO_VIDEO');
  if (!requires('imageUrl') && has('imageUrl')) add('IMAGE_TO_VIDEO');
  if (has('lastImageUrl') && has('imageUrl')) add('FIRST_LAST_FRAME_TO_VIDEO');
  if (has('imageUrls')) add('REFERENCE_TO_VIDEO');
  if (videoInput) add('VIDEO_TO_VIDEO');
  if (kinds.length === 0) add(inputs.some((i) => i.media === 'image') ? 'IMAGE_TO_VIDEO' : 'TEXT_TO_VIDEO');
  return kinds;
}

function vendorNames(specs: VendorSpecs): (id: string) => string {
  const byId = new Map(specs.catalogueList.map((c) => [c.name, c.vendor]));
  const prefix = (id: string) => (id.includes('/') ? id.slice(0, id.indexOf('/')) : id);
  const byPrefix = new Map<string, string>();
  for (const [id, vendor] of byId) if (!byPrefix.has(prefix(id))) byPrefix.set(prefix(id), vendor);
  return (id) => {
    const vendor = VENDOR_BY_ID_PREFIX[prefix(id)] ?? byId.get(id) ?? byPrefix.get(prefix(id));
    if (!vendor) throw new Error(`${id}: no vendor known; add its id prefix to VENDOR_BY_ID_PREFIX in catalogue-overlay.ts`);
    return vendor;
  };
}

function camelCase(wireName: string): string {
  return wireName.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

const HEADER = (what: string) =>
  `// Generated by \`npm run catalogue\` from src/upstream/vendor/aimlapi-video-specs.json: do not edit.\n// ${what}\n`;

/** The generated modules' text; the test compares it with the committed files. */
export function renderGenerated(specs: VendorSpecs): { catalogue: string; wireMap: string } {
  const { models, wire } = deriveCatalogue(specs);
  return {
    catalogue:
      HEADER("Every model the vendor documents, in the gateway's terms (see catalogue-derivation.ts).") +
      `import type { CatalogueModel } from './catalogue-types';\n\n` +
      `export const CATALOGUE: readonly CatalogueModel[] = ${JSON.stringify(models, null, 1)};\n`,
    wireMap:
      HEADER('How each gateway input is named and spelled on the wire, per model.') +
      `import type { WireMap } from './catalogue-types';\n\n` +
      `export const WIRE_MAP: WireMap = ${JSON.stringify(wire, null, 1)};\n`,
  };
}
