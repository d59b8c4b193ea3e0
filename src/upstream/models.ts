/**
 * The model catalogue: every video model the AI/ML API documents, as data. Derived from the
 * vendor's specs (`catalogue.generated.ts`, `npm run catalogue`) plus the hand-written overlay
 * (`catalogue-overlay.ts`). Inputs are in the gateway's terms; only `wire.ts` knows the wire names.
 */
import { CATALOGUE } from './catalogue.generated';
import { DEFAULT_TYPICAL_TIME, OVERLAY, type FieldRule, type TypicalTime } from './catalogue-overlay';
import type { CatalogueInput, CatalogueModel, ModelKind } from './catalogue-types';

export type { CatalogueInput, FieldRule, ModelKind, TypicalTime };
export type { MediaKind, JsonSchema } from './catalogue-types';

export interface ModelSpec extends CatalogueModel {
  displayName: string;
  /** A model line (`veo3.1`, `kling-video/v1.6`): versions and speed/quality tiers of one model. */
  family: string;
  rules: readonly FieldRule[];
  typical: TypicalTime;
  /** Whether the contract documents this model on the legacy `/v2/generate/video/google/generation` path. */
  legacyPath: boolean;
}

/** Suffixes that name a mode or tier of a model rather than the model line. */
const MODE_SUFFIX =
  /[-/_](t2v|i2v|r2v|v2v|text-to-video|image-to-video|video-to-video|reference-to-video|multi-image-to-video|fast|flash|turbo|preview|plus|pro|standard|std|master|lite|draft|edit|reference|effects|\d{3,4}p|omni)$/i;

function familyOf(id: string): string {
  let family = id;
  for (let i = 0; i < 6 && MODE_SUFFIX.test(family); i++) family = family.replace(MODE_SUFFIX, '');
  return family;
}

function displayNameOf(model: CatalogueModel): string {
  const tail = model.id.includes('/') ? model.id.slice(model.id.indexOf('/') + 1) : model.id;
  const words = tail
    .split(/[/_-]+/)
    .filter(Boolean)
    .map((w) => (/^(t2v|i2v|r2v|v2v)$/i.test(w) ? w.toUpperCase() : w.charAt(0).toUpperCase() + w.slice(1)));
  return `${model.vendor} ${words.join(' ')}`;
}

function withOverlay(model: CatalogueModel): ModelSpec {
  const overlay = OVERLAY[model.id] ?? {};
  const limits = overlay.limits ?? {};
  const inputs = model.inputs.map((i) => {
    const limit = i.shared ? limits[i.name] : undefined;
    if (!limit) return i;
    const { reason: _reason, ...keywords } = limit;
    return { ...i, schema: { ...i.schema, ...keywords } };
  });
  return {
    ...model,
    inputs,
    kinds: overlay.kinds ? [...overlay.kinds] : model.kinds,
    displayName: overlay.displayName ?? displayNameOf(model),
    family: overlay.family ?? familyOf(model.id),
    rules: overlay.rules ?? [],
    typical: overlay.typical ?? DEFAULT_TYPICAL_TIME,
    legacyPath: overlay.legacyPath ?? false,
  };
}

export const MODELS: readonly ModelSpec[] = CATALOGUE.map(withOverlay);

const byId = new Map(MODELS.map((m) => [m.id, m]));

/** The model with this vendor id, or undefined (ids are matched exactly, as the vendor spells them). */
export function findModel(id: string): ModelSpec | undefined {
  return byId.get(id);
}

/** The model's input of this gateway name (a shared field, or an option when `option` is set). */
export function findInput(model: ModelSpec, name: string, option = false): CatalogueInput | undefined {
  return model.inputs.find((i) => i.name === name && i.shared === !option);
}
