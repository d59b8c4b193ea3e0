/**
 * Bad input is refused with BAD_USER_INPUT (field path, allowed values) before anything is stored
 * or sent: the simulator never sees a create.
 */
import { CREATE, gql, type GraphQLResponse, useGateway } from '../helpers/gateway';

const IMG = 'https://example.com/assets/first-frame-1280x720.jpg';
const IMG2 = 'https://example.com/assets/last-frame-1280x720.jpg';
const VIDEO = 'https://example.com/assets/clip-to-extend.mp4';
const PNG_DATA = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';
const MP4_DATA = 'data:video/mp4;base64,AAAAIGZ0eXBpc29tAAACAGlzb21pc28yYXZjMW1wNDE=';

const LIST = `query { videoGenerations(first: 100) { nodes { id } } }`;

describe('create input validation', () => {
  const gw = useGateway();
  let key: string;

  beforeAll(async () => {
    key = await gw.keyFor('validator');
  });

  const creates = () => gw.simulator.control.counts().create;

  /** Sends a create and expects BAD_USER_INPUT on `field`, with no upstream create and nothing stored. */
  async function expectBadInput(input: Record<string, unknown>, field: string, allowedValues?: unknown[]): Promise<GraphQLResponse> {
    const before = creates();
    const res = await gql(gw, key, CREATE, { input });
    expect(res.body.data ?? null).toBeNull();
    expect(res.body.errors).toHaveLength(1);
    const ext = res.body.errors![0]!.extensions!;
    expect(ext.code).toBe('BAD_USER_INPUT');
    expect(ext.field).toBe(field);
    if (allowedValues) expect(ext.allowedValues).toEqual(allowedValues);
    expect(creates()).toBe(before);
    return res;
  }

  async function expectAccepted(input: Record<string, unknown>) {
    const before = creates();
    const res = await gql(gw, key, CREATE, { input });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data.createVideoGeneration.status).toMatch(/^(QUEUED|GENERATING)$/);
    expect(creates()).toBe(before + 1);
    return res.body.data.createVideoGeneration;
  }

  describe('durations', () => {
    it('should refuse 4 seconds on veo2 and list 5 to 8', async () => {
      await expectBadInput({ model: 'veo2', prompt: 'a cat', durationSeconds: 4 }, 'input.durationSeconds', [5, 6, 7, 8]);
    });

    it('should refuse 5 seconds on google/veo3 and list 4, 6, 8', async () => {
      await expectBadInput({ model: 'google/veo3', prompt: 'a cat', durationSeconds: 5 }, 'input.durationSeconds', [4, 6, 8]);
    });

    it('should refuse 6 seconds on the reference model and list only 8', async () => {
      await expectBadInput(
        { model: 'google/veo-3.1-reference-to-video', prompt: 'a cat', imageUrls: [IMG], durationSeconds: 6 },
        'input.durationSeconds',
        [8],
      );
    });

    it('should refuse 8 seconds on the extend model and list only 7', async () => {
      await expectBadInput(
        { model: 'google/veo3-1-extend-video', prompt: 'go on', videoUrl: VIDEO, durationSeconds: 8 },
        'input.durationSeconds',
        [7],
      );
    });
  });

  describe('aspect ratio and resolution', () => {
    it('should refuse AUTO on google/veo3 and list the ratios it takes, spelled as the client sends them', async () => {
      await expectBadInput({ model: 'google/veo3', prompt: 'a cat', aspectRatio: 'AUTO' }, 'input.aspectRatio', ['LANDSCAPE_16_9', 'PORTRAIT_9_16']);
    });

    it('should refuse any aspect ratio on the reference model, which takes none', async () => {
      const res = await expectBadInput(
        { model: 'google/veo-3.1-reference-to-video', prompt: 'a cat', imageUrls: [IMG], aspectRatio: 'LANDSCAPE_16_9' },
        'input.aspectRatio',
      );
      expect(res.body.errors![0]!.extensions!.allowedValues).not.toContain('aspectRatio');
    });

    it('should refuse RES_1080P on the extend model and list RES_720P', async () => {
      await expectBadInput({ model: 'google/veo3-1-extend-video', prompt: 'go on', videoUrl: VIDEO, resolution: 'RES_1080P' }, 'input.resolution', [
        'RES_720P',
      ]);
    });

    it('should accept AUTO on the extend model', async () => {
      await expectAccepted({ model: 'google/veo3-1-extend-video', prompt: 'go on', videoUrl: VIDEO, aspectRatio: 'AUTO' });
    });
  });

  describe('fields a model does not take', () => {
    it.each([
      ['seed', 'google/veo-3.1-i2v', { imageUrl: IMG, seed: 7 }],
      ['imageUrl', 'veo2', { imageUrl: IMG }],
      ['personGeneration', 'google/veo3', { personGeneration: 'DONT_ALLOW' }],
    ])('should refuse %s on %s and list the fields it does take', async (field, model, extra) => {
      const res = await expectBadInput({ model, prompt: 'a cat', ...extra }, `input.${field}`);
      const allowed = res.body.errors![0]!.extensions!.allowedValues as string[];
      expect(Array.isArray(allowed)).toBe(true);
      expect(allowed).not.toContain(field);
      expect(allowed).toContain('durationSeconds');
    });
  });

  describe('required media', () => {
    it.each([
      ['google/veo-3.1-i2v', {}, 'imageUrl'],
      ['google/veo-3.1-first-last-image-to-video', { imageUrl: IMG }, 'lastImageUrl'],
      ['google/veo-3.1-reference-to-video', {}, 'imageUrls'],
      ['google/veo3-1-extend-video', {}, 'videoUrl'],
    ])('should refuse %s without its media and name the missing field', async (model, extra, field) => {
      await expectBadInput({ model, prompt: 'a cat', ...extra }, `input.${field}`);
    });

    it('should refuse an empty list of reference images', async () => {
      await expectBadInput({ model: 'google/veo-3.1-reference-to-video', prompt: 'a cat', imageUrls: [] }, 'input.imageUrls');
    });

    it('should refuse four reference images', async () => {
      await expectBadInput({ model: 'google/veo-3.1-reference-to-video', prompt: 'a cat', imageUrls: [IMG, IMG2, IMG, IMG2] }, 'input.imageUrls');
    });
  });

  describe('prompt', () => {
    it.each([
      ['empty', ''],
      ['whitespace only', ' \t\n  '],
    ])('should refuse an %s prompt', async (_name, prompt) => {
      await expectBadInput({ model: 'google/veo-3.0-fast', prompt }, 'input.prompt');
    });

    it('should refuse a prompt over 4000 code points', async () => {
      await expectBadInput({ model: 'google/veo-3.0-fast', prompt: 'a'.repeat(4001) }, 'input.prompt');
      await expectBadInput({ model: 'google/veo-3.0-fast', prompt: '🎬'.repeat(4001) }, 'input.prompt');
    });

    it('should accept exactly 4000 emoji (code points, not UTF-16 units)', async () => {
      const prompt = '🎬'.repeat(4000);
      expect(prompt.length).toBe(8000);
      const g = await expectAccepted({ model: 'google/veo-3.0-fast', prompt });
      expect(g.prompt).toBe(prompt);
    });

    it.each([
      ['Japanese', '夕暮れの灯台、波が岩に砕ける'],
      ['right-to-left', 'منارة عند الغسق والأمواج تتكسر'],
      ['emoji', '🌊🗼🌅 a lighthouse 👩‍👩‍👧'],
      ['combining marks', 'Cafe\u0301 at dusk, n\u0303 and a\u030A'],
    ])('should accept a %s prompt unchanged', async (_name, prompt) => {
      const g = await expectAccepted({ model: 'google/veo-3.0-fast', prompt });
      expect(g.prompt).toBe(prompt);
    });
  });

  describe('media URLs', () => {
    it.each([
      ['ftp://', 'ftp://example.com/frame.jpg'],
      ['javascript:', 'javascript:alert(1)'],
      ['not a URL', 'not a url at all'],
      ['data:text/plain', 'data:text/plain;base64,aGVsbG8='],
      ['a video data URI', MP4_DATA],
    ])('should refuse %s as an image URL', async (_name, url) => {
      await expectBadInput({ model: 'google/veo-3.1-i2v', prompt: 'a cat', imageUrl: url }, 'input.imageUrl');
    });

    it('should list http and https for a URL with another scheme', async () => {
      await expectBadInput({ model: 'google/veo-3.1-i2v', prompt: 'a cat', imageUrl: 'ftp://example.com/frame.jpg' }, 'input.imageUrl', [
        'http',
        'https',
      ]);
    });

    it('should name the bad item of a reference image list', async () => {
      await expectBadInput(
        { model: 'google/veo-3.1-reference-to-video', prompt: 'a cat', imageUrls: [IMG, 'javascript:alert(1)'] },
        'input.imageUrls.1',
      );
    });

    it('should refuse an image data URI as the video to extend', async () => {
      await expectBadInput({ model: 'google/veo3-1-extend-video', prompt: 'go on', videoUrl: PNG_DATA }, 'input.videoUrl');
    });

    it('should accept an image data URI as a first frame', async () => {
      await expectAccepted({ model: 'google/veo-3.1-i2v', prompt: 'a cat', imageUrl: PNG_DATA });
    });
  });

  describe('rules and ranges', () => {
    it('should refuse a last frame with 4 seconds on the Lite preview and list 8', async () => {
      await expectBadInput(
        { model: 'google/veo-3-1-lite-generate-preview', prompt: 'a cat', imageUrl: IMG, lastImageUrl: IMG2, durationSeconds: 4 },
        'input.durationSeconds',
        [8],
      );
    });

    it('should accept a last frame with 8 seconds on the Lite preview', async () => {
      await expectAccepted({
        model: 'google/veo-3-1-lite-generate-preview',
        prompt: 'a cat',
        imageUrl: IMG,
        lastImageUrl: IMG2,
        durationSeconds: 8,
      });
    });

    it('should refuse a negative seed', async () => {
      await expectBadInput({ model: 'veo2', prompt: 'a cat', seed: -1 }, 'input.seed');
    });
  });

  describe('idempotency key', () => {
    it.each([
      ['empty', ''],
      ['256 characters long', 'k'.repeat(256)],
      ['with spaces', 'my key 1'],
      ['with a non-ASCII character', 'clé-1'],
    ])('should refuse a key that is %s', async (_name, idempotencyKey) => {
      await expectBadInput({ model: 'google/veo-3.0-fast', prompt: 'a cat', idempotencyKey }, 'input.idempotencyKey');
    });

    it('should accept a 255 character key', async () => {
      await expectAccepted({ model: 'google/veo-3.0-fast', prompt: 'a cat', idempotencyKey: 'k'.repeat(255) });
    });
  });

  describe('GraphQL-level errors', () => {
    async function expectRefusedBeforeResolving(query: string, variables: Record<string, unknown> | undefined, codes: string[]) {
      const before = creates();
      const res = await gql(gw, key, query, variables);
      expect(res.status).toBe(400);
      expect(res.body.data).toBeUndefined();
      expect(res.body.errors!.length).toBeGreaterThan(0);
      expect(codes).toContain(res.body.errors![0]!.extensions!.code);
      expect(creates()).toBe(before);
      return res;
    }

    // `model` is a String (the vendor id) and `prompt` is optional (not every model takes one):
    // the domain refuses these, with the field, rather than variable coercion.
    it('should refuse an unknown model in variables', async () => {
      await expectBadInput({ model: 'VEO9', prompt: 'a cat' }, 'input.model');
    });

    it('should refuse an unknown model written in the document', async () => {
      await expectRefusedBeforeResolving(`mutation { createVideoGeneration(input: { model: VEO9, prompt: "a cat" }) { id } }`, undefined, [
        'GRAPHQL_VALIDATION_FAILED',
      ]);
    });

    it('should refuse a former GraphQL enum name where the vendor id is expected', async () => {
      await expectBadInput({ model: 'VEO3', prompt: 'a cat' }, 'input.model');
    });

    it.each([
      ['a string duration', { durationSeconds: 'eight' }],
      ['a fractional seed', { seed: 1.5 }],
      ['a seed beyond 32 bits', { seed: 2 ** 31 }],
      ['a numeric prompt', { prompt: 123 }],
      ['a string for imageUrls', { imageUrls: 5 }],
      ['an unknown input field', { colour: 'blue' }],
      ['an aspect ratio in wire spelling', { aspectRatio: '16:9' }],
    ])('should refuse %s in variables', async (_name, extra) => {
      await expectRefusedBeforeResolving(CREATE, { input: { model: 'google/veo-3.0-fast', prompt: 'a cat', ...extra } }, ['BAD_USER_INPUT']);
    });

    it('should refuse a missing prompt where the model requires one', async () => {
      await expectBadInput({ model: 'google/veo-3.0-fast' }, 'input.prompt');
    });
  });

  describe('media URL targets', () => {
    it.each([
      ['imageUrl', 'google/veo-3.1-i2v', { imageUrl: 'http://169.254.169.254/latest/meta-data/iam' }, 'input.imageUrl'],
      ['imageUrl', 'google/veo-3.1-i2v', { imageUrl: 'http://0x7f000001:4000/graphql' }, 'input.imageUrl'],
      ['imageUrl', 'google/veo-3.1-i2v', { imageUrl: 'http://[::1]/a.png' }, 'input.imageUrl'],
      ['imageUrl', 'google/veo-3.1-i2v', { imageUrl: 'https://user:secret@example.com/a.png' }, 'input.imageUrl'],
      ['lastImageUrl', 'google/veo-3.1-first-last-image-to-video', { imageUrl: IMG, lastImageUrl: 'http://localhost/a.png' }, 'input.lastImageUrl'],
      ['imageUrls', 'google/veo-3.1-reference-to-video', { imageUrls: [IMG, 'http://10.0.0.1/b.png'] }, 'input.imageUrls.1'],
      ['videoUrl', 'google/veo3-1-extend-video', { videoUrl: 'http://metadata.google.internal/v.mp4' }, 'input.videoUrl'],
    ])('should refuse a private or credentialed %s (%s) before anything is sent', async (_field, model, extra, field) => {
      await expectBadInput({ model, prompt: 'a cat', ...extra }, field);
    });
  });

  it('should have stored only the accepted generations', async () => {
    const res = await gql(gw, key, LIST);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data.videoGenerations.nodes).toHaveLength(creates());
  });
});
