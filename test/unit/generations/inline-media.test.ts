import { createHash } from 'node:crypto';
import { summarizeDataUri, summarizeInlineMedia } from '../../../src/generations/inline-media';
import type { GenerationInput } from '../../../src/model/generation';

const png = Buffer.from('not really a png, but bytes all the same');
const uri = `data:image/png;base64,${png.toString('base64')}`;
const summary = `[data URI image/png, ${png.length} bytes, sha256 ${createHash('sha256').update(png).digest('hex')}]`;

describe('inline media summaries', () => {
  it('states the type, decoded size and SHA-256 of a data URI', () => {
    expect(summarizeDataUri(uri)).toBe(summary);
  });

  it('replaces data URIs in typed fields, lists and model options, however deep', () => {
    const input = {
      model: 'klingai/some-model',
      prompt: 'a prompt stays as it is',
      imageUrl: uri,
      imageUrls: ['https://cdn.example.com/a.png', uri],
      options: { maskUrl: uri, elements: [{ image_url: uri, weight: 1 }] },
    } as unknown as GenerationInput;
    expect(summarizeInlineMedia(input)).toEqual({
      model: 'klingai/some-model',
      prompt: 'a prompt stays as it is',
      imageUrl: summary,
      imageUrls: ['https://cdn.example.com/a.png', summary],
      options: { maskUrl: summary, elements: [{ image_url: summary, weight: 1 }] },
    });
  });

  it('returns an input without data URIs unchanged', () => {
    const input = { model: 'veo2', prompt: 'p', imageUrl: 'https://cdn.example.com/a.png', options: { x: [1, 2] } } as unknown as GenerationInput;
    expect(summarizeInlineMedia(input)).toBe(input);
  });
});
