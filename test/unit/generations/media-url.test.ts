import { ErrorCode, GatewayError } from '../../../src/errors';
import { checkMediaUrl, checkMediaUrls, isPrivateHost } from '../../../src/generations/media-url';

const strict = { allowPrivate: false };

function refusal(url: string, policy = strict): GatewayError {
  try {
    checkMediaUrl('input.imageUrl', url, policy);
  } catch (e) {
    expect(e).toBeInstanceOf(GatewayError);
    return e as GatewayError;
  }
  throw new Error(`${url} was accepted`);
}

describe('media URL targets', () => {
  it.each([
    'http://169.254.169.254/latest/meta-data/',
    'http://127.0.0.1:4000/graphql',
    'http://[::1]/a.png',
    'http://0x7f000001/a.png',
    'http://2130706433/a.png',
    'http://0177.0.0.1/a.png',
    'http://127.1/a.png',
    'http://[::ffff:127.0.0.1]/a.png',
    'http://[::ffff:a9fe:a9fe]/',
    'http://10.0.0.5/a.png',
    'http://172.16.3.4/a.png',
    'http://192.168.1.1/a.png',
    'http://100.64.0.1/a.png',
    'http://0.0.0.0/a.png',
    'http://[fe80::1]/a.png',
    'http://[fd00::1]/a.png',
    'http://localhost/a.png',
    'http://LOCALHOST./a.png',
    'http://foo.localhost/a.png',
    'http://metadata.google.internal/computeMetadata/v1/',
    'http://metadata/computeMetadata/v1/',
    'http://printer.local/a.png',
  ])('refuses %s as BAD_USER_INPUT naming the field', (url) => {
    const err = refusal(url);
    expect(err.code).toBe(ErrorCode.BAD_USER_INPUT);
    expect(err.details).toMatchObject({ field: 'input.imageUrl' });
  });

  it('refuses credentials in the URL even when private hosts are allowed', () => {
    expect(refusal('https://user:pass@cdn.example.com/a.png').message).toContain('credentials');
    expect(refusal('https://user@cdn.example.com/a.png', { allowPrivate: true }).message).toContain('credentials');
  });

  it('accepts public hosts, public IP literals and data URIs', () => {
    for (const url of [
      'https://cdn.example.com/a.png',
      'http://8.8.8.8/a.png',
      'https://[2001:4860::8888]/a.png',
      'data:image/png;base64,iVBORw0KGgo=',
    ]) {
      expect(() => checkMediaUrl('input.imageUrl', url, strict)).not.toThrow();
    }
  });

  it('accepts private hosts when the policy allows them', () => {
    expect(() => checkMediaUrl('input.imageUrl', 'http://127.0.0.1:9000/a.png', { allowPrivate: true })).not.toThrow();
    expect(isPrivateHost('cdn.example.com')).toBe(false);
  });

  it('checks every *Url and *Urls field of an input, naming the list index', () => {
    const input = {
      model: 'm',
      prompt: 'http://127.0.0.1/ in a prompt is only text',
      imageUrls: ['https://cdn.example.com/a.png', 'http://10.1.2.3/b.png'],
    };
    try {
      checkMediaUrls(input, strict);
      throw new Error('accepted');
    } catch (e) {
      expect((e as GatewayError).details).toMatchObject({ field: 'input.imageUrls.1' });
    }
    expect(() => checkMediaUrls({ model: 'm', prompt: 'http://127.0.0.1/', videoUrl: 'https://cdn.example.com/v.mp4' }, strict)).not.toThrow();
  });

  it('checks URLs nested in model options too, in our names and in the vendor shape', () => {
    const named = (input: Record<string, unknown>) => {
      try {
        checkMediaUrls(input as never, strict);
        return 'accepted';
      } catch (e) {
        return (e as GatewayError).details['field'];
      }
    };
    expect(named({ model: 'm', options: { maskUrl: 'http://169.254.169.254/latest' } })).toBe('input.options.maskUrl');
    expect(named({ model: 'm', options: { elements: [{ image_url: 'https://cdn.example.com/a.png' }, { image_url: 'http://[::1]/b.png' }] } })).toBe(
      'input.options.elements.1.image_url',
    );
    expect(named({ model: 'm', options: { cameraControl: { type: 'http://127.0.0.1/ is not a URL field' } } })).toBe('accepted');
  });
});
