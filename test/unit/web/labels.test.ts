/**
 * The progress page's words for every input and value of every model in the catalogue: the form
 * shows these, so none may be a camelCase name, a snake_case value or a GraphQL enum code.
 */
import { humanName, humanValue, labelOf, valueName } from '../../../src/web/progress/labels';
import { MODELS } from '../../../src/upstream/models';

const CODE_LIKE = /[a-z][A-Z]|_|^[A-Z0-9]+_[A-Z0-9_]+$/;

describe('progress page labels', () => {
  it('names every input of every model in words', () => {
    const labels = MODELS.flatMap((m) => m.inputs.map((input) => [input.name, labelOf(input)] as const));
    expect(labels.length).toBeGreaterThan(500);
    expect(labels.filter(([, label]) => CODE_LIKE.test(label) || label !== label.trim() || label === '')).toEqual([]);
  });

  it('names every allowed option value in words', () => {
    const values = MODELS.flatMap((m) =>
      m.inputs.filter((i) => !i.shared).flatMap((i) => ((i.schema['enum'] as unknown[] | undefined) ?? []).map((v) => humanValue(v as string))),
    );
    expect(values.length).toBeGreaterThan(50);
    expect(values.filter((v) => CODE_LIKE.test(v))).toEqual([]);
  });

  it('keeps readable values and makes names readable', () => {
    expect(humanName('numInferenceSteps')).toBe('Number of inference steps');
    expect(humanName('effectScene')).toBe('Effect scene');
    expect(humanName('audioUrls')).toBe('Audio links');
    expect(labelOf({ name: 'durationSeconds', shared: true })).toBe('Length');
    expect(humanValue('magic_fireball')).toBe('Magic fireball');
    expect(humanValue('16:9')).toBe('16:9');
    expect(humanValue('720p')).toBe('720p');
    expect(humanValue('3d_animation')).toBe('3d animation');
    expect(humanValue("let's_ride")).toBe("Let's ride");
    expect(humanValue('Times Square Billboard')).toBe('Times Square Billboard');
  });

  it('names enum codes a card shows, with or without a table entry', () => {
    expect(valueName('aspectRatio', 'LANDSCAPE_16_9')).toBe('16:9 wide');
    expect(valueName('aspectRatio', 'RATIO_4_3')).toBe('4:3');
    expect(valueName('resolution', 'RES_1080P')).toBe('1080p');
    expect(valueName('resolution', 'RES_FHD', 'fhd')).toBe('Full HD');
    expect(valueName('provider', 'NATIVE', 'native')).toBe('The vendor itself');
    expect(valueName('durationSeconds', 5)).toBe('5 s');
  });
});
