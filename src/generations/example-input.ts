/**
 * A minimal valid create input for a model, built from its catalogue entry: every required input
 * with the simplest value its schema allows, nothing else. `videoModels` shows it so a client has
 * a working start; the tests and the bench create every model with it.
 */
import type { CatalogueInput, JsonSchema, MediaKind, ModelSpec } from '../upstream/models';
import type { GenerationInput } from '../model/generation';

const SAMPLE_MEDIA: Readonly<Record<MediaKind, string>> = {
  image: 'https://example.com/samples/frame.jpg',
  video: 'https://example.com/samples/clip.mp4',
  audio: 'https://example.com/samples/voice.mp3',
};
const SAMPLE_PROMPT = 'A lighthouse on a rocky coast at dusk, slow aerial orbit.';

export function exampleInput(model: ModelSpec): GenerationInput {
  const input: Record<string, unknown> = { model: model.id };
  const options: Record<string, unknown> = {};
  for (const i of model.inputs) {
    if (!i.required) continue;
    (i.shared ? input : options)[i.name] = exampleOf(i);
  }
  if (Object.keys(options).length > 0) input['options'] = options;
  return input as unknown as GenerationInput;
}

function exampleOf(input: CatalogueInput): unknown {
  if (input.name === 'prompt') return SAMPLE_PROMPT;
  if (input.media) {
    const url = SAMPLE_MEDIA[input.media];
    return input.schema['type'] === 'array' ? Array.from({ length: Math.max(1, Number(input.schema['minItems'] ?? 1)) }, () => url) : url;
  }
  return exampleValue(input.schema, input.name);
}

/** The simplest value a schema allows: its default, its first enum value, its minimum, or a built object. */
function exampleValue(schema: JsonSchema, name: string): unknown {
  if (schema['default'] !== undefined) return schema['default'];
  if (Array.isArray(schema['enum']) && schema['enum'].length > 0) return schema['enum'][0];
  const branches = (schema['oneOf'] ?? schema['anyOf']) as JsonSchema[] | undefined;
  if (Array.isArray(branches) && branches.length > 0) return exampleValue(branches[0]!, name);
  switch (schema['type']) {
    case 'integer':
    case 'number':
      return typeof schema['minimum'] === 'number' ? schema['minimum'] : 1;
    case 'boolean':
      return false;
    case 'array': {
      const items = (schema['items'] ?? {}) as JsonSchema;
      return Array.from({ length: Math.max(1, Number(schema['minItems'] ?? 1)) }, () => exampleValue(items, name));
    }
    case 'object': {
      const properties = (schema['properties'] ?? {}) as Record<string, JsonSchema>;
      const required = (schema['required'] ?? []) as string[];
      return Object.fromEntries(required.map((k) => [k, exampleValue(properties[k] ?? {}, k)]));
    }
    default:
      if (/(^|_)urls?$/i.test(name)) return SAMPLE_MEDIA[/audio/i.test(name) ? 'audio' : /video/i.test(name) ? 'video' : 'image'];
      return 'example';
  }
}
