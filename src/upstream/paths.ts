/**
 * The upstream's two URL paths for creating and polling video generations, and which one a model's
 * requests take. Both accept the same body, but the legacy path only knows the models that existed
 * when it was current (the catalogue's `legacyPath`); the Veo 3.1 family, Lite and Extend are refused
 * there (`shared/upstream/aimlapi-video-contract.md` §2), so even with the legacy paths preferred,
 * those go to the current path instead of failing upstream.
 */
import { findModel } from './models';

export const CURRENT_PATH = '/v2/video/generations';
export const LEGACY_PATH = '/v2/generate/video/google/generation';

/** The path for a model's create and polls; `preferLegacy` is the `AIMLAPI_LEGACY_PATHS` setting. */
export function pathForModel(modelId: string, preferLegacy: boolean): string {
  return preferLegacy && findModel(modelId)?.legacyPath === true ? LEGACY_PATH : CURRENT_PATH;
}
