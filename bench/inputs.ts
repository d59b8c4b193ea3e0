/** A valid `CreateVideoGenerationInput` (GraphQL) and create body (wire) for every model. */
import { MODELS, type ModelSpec } from '../src/upstream/models';

const IMAGE = 'https://example.com/bench/frame.jpg';
const VIDEO = 'https://example.com/bench/clip.mp4';
const PROMPT = 'A lighthouse on a rocky coast at dusk, slow aerial orbit.';

export function graphqlInput(model: ModelSpec): Record<string, unknown> {
  const input: Record<string, unknown> = { model: model.graphqlName, prompt: PROMPT };
  if (model.required.includes('image_url')) input.imageUrl = IMAGE;
  if (model.required.includes('last_image_url')) input.lastImageUrl = IMAGE;
  if (model.required.includes('image_urls')) input.imageUrls = [IMAGE];
  if (model.required.includes('video_url')) input.videoUrl = VIDEO;
  return input;
}

export function wireBody(model: ModelSpec): Record<string, unknown> {
  const body: Record<string, unknown> = { model: model.id, prompt: PROMPT };
  for (const field of model.required) {
    body[field] = field === 'image_urls' ? [IMAGE] : field === 'video_url' ? VIDEO : IMAGE;
  }
  return body;
}

/** `perModel` of each model, interleaved (veo2, veo2/i2v, …, veo2, …), so every run has the same order. */
export function modelMix(perModel: number): ModelSpec[] {
  const out: ModelSpec[] = [];
  for (let i = 0; i < perModel; i++) out.push(...MODELS);
  return out;
}
