/**
 * The shape of the gateway's model catalogue, in the gateway's own terms (field names such as
 * `durationSeconds`, canonical values such as `720p`). The wire names live apart, in the wire map.
 */

/** A JSON Schema fragment (draft 7 / OpenAPI 3.0 subset), as ajv takes it. */
export type JsonSchema = { [keyword: string]: unknown };

/** What a URL input may point at; the schema's `MediaKind` enum is built from this list. */
export const MEDIA_KINDS = ['image', 'video', 'audio'] as const;
export type MediaKind = (typeof MEDIA_KINDS)[number];

/** What a model makes from what; the schema's `ModelKind` enum is built from this list. */
export const MODEL_KINDS = [
  'TEXT_TO_VIDEO',
  'IMAGE_TO_VIDEO',
  'FIRST_LAST_FRAME_TO_VIDEO',
  'REFERENCE_TO_VIDEO',
  'VIDEO_TO_VIDEO',
  'EXTEND_VIDEO',
  'AVATAR_LIP_SYNC',
] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];

/** One input a model takes. */
export interface CatalogueInput {
  /** The gateway's name: a typed field of the create input when `shared`, else a key of `options`. */
  name: string;
  /** One of the concepts most models share (typed field) rather than a model-specific option. */
  shared: boolean;
  required: boolean;
  /** Set on URL inputs (and arrays of them): what a data URI must contain. */
  media?: MediaKind;
  /** The value's schema, canonicalised (integer seconds, lower-case resolutions, provider `native`). */
  schema: JsonSchema;
}

/** A model as derived from the vendor's spec. */
export interface CatalogueModel {
  /** The vendor's model id, exactly as it spells it. */
  id: string;
  /** The vendor's name for its maker (from the vendor's catalogue list, else the id's prefix). */
  vendor: string;
  /** What it does, derived from which inputs it requires; the overlay may override. */
  kinds: ModelKind[];
  inputs: CatalogueInput[];
}

/** How one gateway input travels on the wire for one model. */
export interface WireEntry {
  /** The upstream's field name. */
  wire: string;
  /** Canonical value → wire value, where the spelling differs (`720p` → `720P`, `native` → `google`). */
  values?: Record<string, string>;
  /** The declared wire type, where it differs from the canonical one (a duration sent as a string). */
  as?: 'string' | 'number';
}

/** Model id → gateway input name → wire entry. Options are keyed `options.<name>`. */
export type WireMap = Record<string, Record<string, WireEntry>>;
