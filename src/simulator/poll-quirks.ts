/**
 * Where a model's poll answers differ from the shared poll schema (`queued`, `generating`,
 * `completed`, `error` with `error: {name, message}`), as the vendor's notes and pages show.
 */
import { vendorModel } from './vendor-specs';

/** The `error` of a failed generation per the shared poll schema. */
export const DEFAULT_ERROR_BODY = {
  name: 'GenerationError',
  message: "The prompt was rejected by the provider's safety filter. Rephrase the prompt and try again.",
} as const;

/**
 * The one failed task the vendor's pages show (Kling v1.6 effects) carries the provider's own
 * FastAPI-style payload, passed through as `error` (contract §6.3).
 */
export const PASS_THROUGH_ERROR_BODY = {
  detail: [
    {
      loc: ['body', 'prompt'],
      msg: "The prompt was rejected by the provider's content filter.",
      type: 'content_policy_violation',
    },
  ],
} as const;

/**
 * The word a poll uses for "in progress". The old Luma schema says `dreaming` instead of
 * `generating` (`aimlapi-video-models.md`): Luma's Dream Machine API names the state so, and the
 * AI/ML API passes it through for the Luma models that still take Dream Machine's request shape
 * (`keyframes` with `frame0`/`frame1`). Ray 3.2's newer shape does not, so it says `generating`.
 */
export function generatingStatus(modelId: string): 'generating' | 'dreaming' {
  const properties = vendorModel(modelId)?.request.properties as Record<string, unknown> | undefined;
  return modelId.startsWith('luma/') && properties?.keyframes !== undefined ? 'dreaming' : 'generating';
}

/** The `error` a failed generation of this model reports when a test forces a failure without one. */
export function defaultErrorBody(modelId: string): unknown {
  return /^(klingai|kling-video)\//.test(modelId) ? PASS_THROUGH_ERROR_BODY : DEFAULT_ERROR_BODY;
}
