import { readFileSync } from 'node:fs';
import path from 'node:path';
import { renderGenerated, type VendorSpecs } from '../../../src/upstream/catalogue-derivation';
import { OVERLAY } from '../../../src/upstream/catalogue-overlay';
import { findModel, MODELS } from '../../../src/upstream/models';
import specsJson from '../../../src/upstream/vendor/aimlapi-video-specs.json';
import { wireEntry } from '../../../src/upstream/wire';

const specs = specsJson as unknown as VendorSpecs;
const dir = path.resolve(__dirname, '../../../src/upstream');

describe('the committed catalogue', () => {
  it('is what `npm run catalogue` derives from the vendor specs today', () => {
    const fresh = renderGenerated(specs);
    const stale = 'src/upstream/*.generated.ts is stale: run `npm run catalogue` and commit the result';
    expect({
      file: 'catalogue.generated.ts',
      same: readFileSync(path.join(dir, 'catalogue.generated.ts'), 'utf8') === fresh.catalogue,
      stale,
    }).toEqual({ file: 'catalogue.generated.ts', same: true, stale });
    expect({ file: 'wire-map.generated.ts', same: readFileSync(path.join(dir, 'wire-map.generated.ts'), 'utf8') === fresh.wireMap, stale }).toEqual({
      file: 'wire-map.generated.ts',
      same: true,
      stale,
    });
  });

  it("holds every model the vendor documents, under the vendor's exact id", () => {
    expect(MODELS).toHaveLength(143);
    expect(MODELS.map((m) => m.id).sort()).toEqual(Object.keys(specs.models).sort());
    for (const id of ['google/veo-3.0-fast', 'alibaba/wan2.1-t2v-plus', 'kling-video/v1.6/pro/image-to-video', 'gen3a_turbo', 'runway/act_two']) {
      expect(findModel(id)?.id).toBe(id);
    }
    expect(findModel('GOOGLE/VEO3')).toBeUndefined();
  });

  it('overlays only models that exist', () => {
    for (const id of Object.keys(OVERLAY)) expect({ id, known: findModel(id) !== undefined }).toEqual({ id, known: true });
  });

  it.each(MODELS.map((m) => [m.id, m] as const))(
    '%s: every documented field is one input, under its wire name, with its required flag',
    (id, model) => {
      const request = specs.models[id]!.request as { properties: Record<string, Record<string, unknown>>; required?: string[] };
      const wireFields = Object.keys(request.properties)
        .filter((f) => f !== 'model')
        .sort();
      const reached = model.inputs.map((i) => wireEntry(id, i.shared ? i.name : `options.${i.name}`)!.wire).sort();
      expect(reached).toEqual(wireFields);
      for (const input of model.inputs) {
        const entry = wireEntry(id, input.shared ? input.name : `options.${input.name}`)!;
        const raw = request.properties[entry.wire]!;
        expect({ input: input.name, required: input.required }).toEqual({
          input: input.name,
          required: (request.required ?? []).includes(entry.wire) || raw['required'] === true,
        });
        // Allowed values: the vendor's, in the gateway's spelling, and back again on the wire.
        if (Array.isArray(raw['enum']) && input.name !== 'durationSeconds') {
          const toWire = (v: unknown) => (typeof v === 'string' && entry.values?.[v]) || v;
          expect((input.schema['enum'] as unknown[]).map(toWire)).toEqual(raw['enum']);
        }
      }
    },
  );

  it('speaks the gateway language: integer seconds, lower-case resolutions, native/fal/auto providers', () => {
    for (const m of MODELS) {
      for (const i of m.inputs) {
        if (i.name === 'durationSeconds') {
          expect(i.schema['type']).toBe('integer');
          for (const v of (i.schema['enum'] as unknown[] | undefined) ?? []) expect(Number.isInteger(v)).toBe(true);
          if (i.schema['default'] !== undefined) expect(Number.isInteger(i.schema['default'])).toBe(true);
        }
        if (i.name === 'resolution') {
          for (const v of (i.schema['enum'] as string[] | undefined) ?? []) expect(v).toBe(v.toLowerCase());
        }
        if (i.name === 'provider') expect(['auto', 'native', 'fal']).toEqual(expect.arrayContaining(i.schema['enum'] as string[]));
      }
    }
    // The quirks: a duration declared as a string, integer defaults written as strings.
    const stringDuration = MODELS.filter((m) => wireEntry(m.id, 'durationSeconds')?.as === 'string');
    expect(stringDuration.length).toBeGreaterThan(0);
    expect(findModel('alibaba/happyhorse-1-0')!.inputs.find((i) => i.name === 'durationSeconds')!.schema['default']).toBe(10);
  });

  it('keeps wire names out of the gateway catalogue: no input is named like a wire field', () => {
    for (const m of MODELS) for (const i of m.inputs) expect(i.name).not.toMatch(/_/);
  });

  it('has a vendor, a family, a display name and kinds for every model; provider on the 37 models whose spec has it', () => {
    for (const m of MODELS) {
      expect(m.vendor).toMatch(/\S/);
      expect(m.family).toMatch(/\S/);
      expect(m.displayName).toMatch(/\S/);
      expect(m.kinds.length).toBeGreaterThan(0);
    }
    expect(MODELS.filter((m) => m.inputs.some((i) => i.name === 'provider'))).toHaveLength(37);
    const vendors = new Map<string, number>();
    for (const m of MODELS) vendors.set(m.vendor, (vendors.get(m.vendor) ?? 0) + 1);
    expect(Object.fromEntries(vendors)).toMatchObject({ Kling: 44, Alibaba: 23, Google: 18, ByteDance: 13, MiniMax: 6, PixVerse: 6 });
    // 40 models do not require a prompt, 11 take none at all.
    expect(MODELS.filter((m) => !m.inputs.some((i) => i.name === 'prompt' && i.required))).toHaveLength(40);
    expect(MODELS.filter((m) => !m.inputs.some((i) => i.name === 'prompt'))).toHaveLength(11);
  });
});
