/** A valid `CreateVideoGenerationInput` (GraphQL) and create body (wire) for every model. */
import { exampleInput } from '../src/generations/example-input';
import { MODELS, type ModelSpec } from '../src/upstream/models';
import { toWireBody } from '../src/upstream/wire';

export function graphqlInput(model: ModelSpec): Record<string, unknown> {
  return { ...exampleInput(model) };
}

export function wireBody(model: ModelSpec): Record<string, unknown> {
  return toWireBody(exampleInput(model));
}

/**
 * The Veo models the bench has always run, so its numbers stay comparable across runs (the other
 * vendors' models share every code path and differ only in data).
 */
const BENCH_MODELS = MODELS.filter((m) => m.family.startsWith('veo'));

/** `perModel` of each model, interleaved (veo2, veo2/i2v, …, veo2, …), so every run has the same order. */
export function modelMix(perModel: number): ModelSpec[] {
  const out: ModelSpec[] = [];
  for (let i = 0; i < perModel; i++) out.push(...BENCH_MODELS);
  return out;
}
