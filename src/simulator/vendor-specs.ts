/**
 * The vendor's own create-request schemas, read straight from the committed copy of its docs
 * (`src/upstream/vendor/aimlapi-video-specs.json`, see its README), never from the gateway's
 * derived catalogue: the simulator is an independent check of what the gateway sends, so a
 * mistake in the catalogue must not be mirrored here.
 */
import specsJson from '../upstream/vendor/aimlapi-video-specs.json';

/** A JSON Schema object as the vendor wrote it (OpenAPI 3.0 dialect, `$ref`s already resolved). */
export type JsonSchema = { [keyword: string]: unknown };

export interface VendorModel {
  /** The `model` value a create names; the key of the vendor file. */
  id: string;
  /** JSON Schema of the create body, unmodified. */
  request: JsonSchema;
  /** The create paths the vendor's spec files list for this model. */
  endpoints: readonly string[];
}

interface VendorSpecs {
  models: Record<string, { request: JsonSchema; endpoints: string[] }>;
}

export const CREATE_PATH = '/v2/video/generations';

/**
 * The Veo pages (not their spec files) say the legacy Google path still serves these models
 * (contract §2); the spec files list it only for `veo2`.
 */
const DOCUMENTED_ON_PAGES: Readonly<Record<string, readonly string[]>> = {
  '/v2/generate/video/google/generation': [
    'veo2',
    'veo2/image-to-video',
    'google/veo3',
    'google/veo-3.0-fast',
    'google/veo-3.0-i2v',
    'google/veo-3.0-i2v-fast',
  ],
};

const specs = specsJson as unknown as VendorSpecs;

const MODELS: ReadonlyMap<string, VendorModel> = new Map(
  Object.entries(specs.models).map(([id, m]) => [id, { id, request: m.request, endpoints: m.endpoints }]),
);

/** Every model id the vendor documents, in the file's order. */
export const VENDOR_MODEL_IDS: readonly string[] = [...MODELS.keys()];

export function vendorModel(id: string): VendorModel | undefined {
  return MODELS.get(id);
}

/**
 * Older per-vendor create paths (`/v2/generate/video/kling/generation`, `/v1/video/generations`…)
 * and the models each one serves. The current path serves every model and is not in this map.
 */
export const LEGACY_PATHS: ReadonlyMap<string, ReadonlySet<string>> = (() => {
  const paths = new Map<string, Set<string>>();
  const add = (path: string, id: string): void => {
    if (path === CREATE_PATH) return;
    let ids = paths.get(path);
    if (!ids) paths.set(path, (ids = new Set()));
    ids.add(id);
  };
  for (const model of MODELS.values()) for (const path of model.endpoints) add(path, model.id);
  for (const [path, ids] of Object.entries(DOCUMENTED_ON_PAGES)) for (const id of ids) add(path, id);
  return paths;
})();

/** The model ids a create on `path` may name. */
export function modelsServedAt(path: string): readonly string[] {
  if (path === CREATE_PATH) return VENDOR_MODEL_IDS;
  const ids = LEGACY_PATHS.get(path);
  return ids ? VENDOR_MODEL_IDS.filter((id) => ids.has(id)) : [];
}
