/**
 * Every kind of constraint the vendor's specs (and the overlay) state is enforced before any
 * upstream call, for a sample of models that covers every vendor: each case starts from the
 * model's minimal valid input (which the lifecycle suite shows is accepted) and breaks one thing.
 */
import { exampleInput } from '../../src/generations/example-input';
import { AspectRatio, PersonGeneration, Resolution, UpstreamProvider } from '../../src/graphql/enums';
import { MODELS, type CatalogueInput, type ModelSpec } from '../../src/upstream/models';
import { CREATE, gql, useGateway } from '../helpers/gateway';

type Input = Record<string, unknown>;
interface Case {
  input: Input;
  field: string;
  allowedValues?: unknown[];
}

const ENUMS: Record<string, Record<string, string>> = {
  aspectRatio: AspectRatio,
  resolution: Resolution,
  provider: UpstreamProvider,
  personGeneration: PersonGeneration,
};
const nameOf = (field: string, value: unknown) => Object.entries(ENUMS[field]!).find(([, v]) => v === value)![0];

/** The model's minimal input as a client sends it (enum-typed values by their GraphQL names). */
function baseInput(model: ModelSpec): Input {
  const input = { ...exampleInput(model) } as Input;
  for (const k of Object.keys(input)) if (ENUMS[k]) input[k] = nameOf(k, input[k]);
  return input;
}

function withValue(model: ModelSpec, i: CatalogueInput, value: unknown): Input {
  const input = baseInput(model);
  if (i.shared) return { ...input, [i.name]: value };
  return { ...input, options: { ...((input['options'] as Input | undefined) ?? {}), [i.name]: value } };
}
const pathOf = (i: CatalogueInput) => (i.shared ? `input.${i.name}` : `input.options.${i.name}`);
const schemaOf = (i: CatalogueInput) => i.schema as Record<string, unknown>;
const numeric = (i: CatalogueInput) => ['integer', 'number'].includes(String(schemaOf(i)['type']));

/** Builds the violation of one kind for a model, or undefined when the model has no such constraint. */
const KINDS: Record<string, (m: ModelSpec) => Case | undefined> = {
  'an allowed-values list (enum)': (m) => {
    for (const i of m.inputs) {
      const allowed = schemaOf(i)['enum'] as unknown[] | undefined;
      if (!allowed || i.media) continue;
      if (i.shared && ENUMS[i.name]) {
        const outside = Object.entries(ENUMS[i.name]!).find(([, v]) => !allowed.includes(v));
        if (!outside) continue;
        return { input: withValue(m, i, outside[0]), field: pathOf(i), allowedValues: allowed.map((v) => nameOf(i.name, v)) };
      }
      if (numeric(i)) return { input: withValue(m, i, Math.max(...(allowed as number[])) + 1), field: pathOf(i), allowedValues: allowed };
      if (schemaOf(i)['type'] === 'string' && !i.shared)
        return { input: withValue(m, i, 'not-a-listed-value'), field: pathOf(i), allowedValues: allowed };
    }
    return undefined;
  },
  'a numeric range': (m) => {
    for (const i of m.inputs) {
      const s = schemaOf(i);
      if (!numeric(i) || s['enum']) continue;
      if (typeof s['maximum'] === 'number' && (i.name !== 'seed' || s['maximum'] < 2_147_483_647)) {
        return { input: withValue(m, i, s['type'] === 'integer' ? s['maximum'] + 1 : s['maximum'] + 0.5), field: pathOf(i) };
      }
      if (typeof s['minimum'] === 'number') return { input: withValue(m, i, s['minimum'] - 1), field: pathOf(i) };
    }
    return undefined;
  },
  'a string length': (m) => {
    const i = m.inputs.find((x) => typeof schemaOf(x)['maxLength'] === 'number' && !x.media);
    return i && { input: withValue(m, i, 'a'.repeat(Number(schemaOf(i)['maxLength']) + 1)), field: pathOf(i) };
  },
  'an array size': (m) => {
    const i = m.inputs.find((x) => x.media && typeof schemaOf(x)['maxItems'] === 'number');
    if (!i) return undefined;
    const urls = Array.from({ length: Number(schemaOf(i)['maxItems']) + 1 }, (_, n) => `https://example.com/ref-${n}.jpg`);
    return { input: withValue(m, i, urls), field: pathOf(i) };
  },
  'a required field': (m) => {
    const i = m.inputs.find((x) => x.required);
    if (!i) return undefined;
    const input = baseInput(m);
    if (i.shared) delete input[i.name];
    else delete (input['options'] as Input)[i.name];
    return { input, field: pathOf(i) };
  },
  'a type (model option)': (m) => {
    const i = m.inputs.find((x) => !x.shared && schemaOf(x)['type'] === 'boolean');
    return i && { input: withValue(m, i, 'yes'), field: pathOf(i) };
  },
  'a field the model does not take': (m) => {
    if (!m.inputs.some((i) => i.name === 'personGeneration')) {
      return { input: { ...baseInput(m), personGeneration: 'ALLOW_ADULT' }, field: 'input.personGeneration' };
    }
    return {
      input: { ...baseInput(m), options: { ...((baseInput(m)['options'] as Input) ?? {}), notAnOption: 1 } },
      field: 'input.options.notAnOption',
    };
  },
  'a media URL': (m) => {
    const i = m.inputs.find((x) => x.media);
    if (!i) return undefined;
    const bad = 'ftp://example.com/frame.jpg';
    const array = schemaOf(i)['type'] === 'array';
    return { input: withValue(m, i, array ? [bad] : bad), field: `${pathOf(i)}${array ? '.0' : ''}`, allowedValues: ['http', 'https'] };
  },
  'a cross-field rule (overlay)': (m) => {
    const rule = m.rules[0];
    if (!rule) return undefined;
    const value =
      rule.field === 'durationSeconds'
        ? (schemaOf(m.inputs.find((i) => i.name === rule.field)!)['enum'] as number[]).find((v) => !rule.allowed.includes(v))
        : undefined;
    if (value === undefined) return undefined;
    return {
      input: { ...baseInput(m), [rule.ifPresent]: 'https://example.com/last.jpg', imageUrl: 'https://example.com/first.jpg', [rule.field]: value },
      field: `input.${rule.field}`,
      allowedValues: [...rule.allowed],
    };
  },
};

/** For each vendor and kind of constraint, the first of the vendor's models that has it. */
function sample(): Array<[string, string, string, Case]> {
  const cases: Array<[string, string, string, Case]> = [];
  const vendors = [...new Set(MODELS.map((m) => m.vendor))].sort();
  for (const vendor of vendors) {
    for (const [kind, build] of Object.entries(KINDS)) {
      for (const m of MODELS.filter((x) => x.vendor === vendor)) {
        const c = build(m);
        if (c) {
          cases.push([vendor, kind, m.id, c]);
          break;
        }
      }
    }
  }
  return cases;
}

const CASES = sample();

describe('every kind of constraint, for every vendor, refused before any upstream call', () => {
  const gw = useGateway();
  let key: string;

  beforeAll(async () => {
    key = await gw.keyFor('catalogue-validator');
  });

  it('samples every vendor and every kind of constraint', () => {
    expect(new Set(CASES.map(([vendor]) => vendor))).toEqual(new Set(MODELS.map((m) => m.vendor)));
    expect(new Set(CASES.map(([, kind]) => kind))).toEqual(new Set(Object.keys(KINDS)));
  });

  it('refuses an unknown or withdrawn model id, and a near miss of a real one', async () => {
    for (const model of ['klingai/video-v9-ultra', 'google/veo-3.1-T2V', 'VEO3_FAST']) {
      const before = gw.simulator.control.counts().create;
      const res = await gql(gw, key, CREATE, { input: { model, prompt: 'a cat' } });
      expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.model' });
      expect(gw.simulator.control.counts().create).toBe(before);
    }
  });

  it.each(CASES)('%s: %s (%s)', async (_vendor, _kind, _model, c) => {
    const before = gw.simulator.control.counts().create;
    const res = await gql(gw, key, CREATE, { input: c.input });
    expect(res.body.data ?? null).toBeNull();
    expect(res.body.errors).toHaveLength(1);
    const ext = res.body.errors![0]!.extensions!;
    expect({ code: ext.code, field: ext.field }).toEqual({ code: 'BAD_USER_INPUT', field: c.field });
    if (c.allowedValues) expect(ext.allowedValues).toEqual(c.allowedValues);
    expect(gw.simulator.control.counts().create).toBe(before);
  });

  it('stored none of them', async () => {
    const res = await gql(gw, key, 'query { videoGenerations(first: 100) { nodes { id } } }');
    expect(res.body.data.videoGenerations.nodes).toEqual([]);
  });
});
