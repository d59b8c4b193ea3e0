/**
 * The word a poll uses for "in progress". The shared poll schema says `generating`, but the old
 * Luma schema says `dreaming` (`aimlapi-video-models.md`): Luma's Dream Machine API names the state
 * so, and the AI/ML API passes it through for the Luma models that still take Dream Machine's
 * request shape (`keyframes` with `frame0`/`frame1`). Ray 3.2's newer shape does not, so it says
 * `generating` like everyone else.
 */
import { vendorModel } from './vendor-specs';

export function generatingStatus(modelId: string): 'generating' | 'dreaming' {
  const properties = vendorModel(modelId)?.request.properties as Record<string, unknown> | undefined;
  return modelId.startsWith('luma/') && properties?.keyframes !== undefined ? 'dreaming' : 'generating';
}
