import { ErrorCode, GatewayError } from '../../../src/errors';
import { checkEndpointUrl, type ResolveHost } from '../../../src/webhooks/endpoint-url';

const strict = { allowHttp: false, allowPrivate: false };

/** A resolver that answers from a table, as DNS would (names missing from it do not resolve). */
const dns =
  (table: Record<string, string[]>): ResolveHost =>
  async (hostname) => {
    const answer = table[hostname];
    if (!answer) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return answer;
  };

const PUBLIC_DNS = dns({
  'hooks.example.com': ['93.184.215.14'],
  'rebind.example.com': ['127.0.0.1'],
  'mixed.example.com': ['93.184.215.14', '10.0.0.7'],
  'metadata.example.com': ['169.254.169.254'],
  'v6-loopback.example.com': ['::1'],
  'v6-mapped.example.com': ['::ffff:192.168.0.1'],
});

async function refusal(url: string, policy = strict, resolve = PUBLIC_DNS): Promise<GatewayError> {
  try {
    await checkEndpointUrl('input.url', url, policy, resolve);
  } catch (e) {
    expect(e).toBeInstanceOf(GatewayError);
    return e as GatewayError;
  }
  throw new Error(`${url} was accepted`);
}

describe('webhook endpoint URLs', () => {
  it('should accept an https URL whose host resolves to public addresses only', async () => {
    const url = await checkEndpointUrl('input.url', 'https://hooks.example.com/video?x=1', strict, PUBLIC_DNS);
    expect(url.href).toBe('https://hooks.example.com/video?x=1');
  });

  it.each([
    'https://rebind.example.com/hook', // a public-looking name that resolves to loopback
    'https://mixed.example.com/hook', // one private answer among public ones
    'https://metadata.example.com/',
    'https://v6-loopback.example.com/',
    'https://v6-mapped.example.com/',
    'https://127.0.0.1/hook',
    'https://[::1]/hook',
    'https://0x7f000001/hook',
    'https://169.254.169.254/latest/meta-data/',
    'https://10.1.2.3/',
    'https://localhost/hook',
    'https://intranet/hook',
    'https://printer.internal/hook',
  ])('should refuse %s as a private target, naming the field', async (url) => {
    const error = await refusal(url);
    expect(error.code).toBe(ErrorCode.BAD_USER_INPUT);
    expect(error.details.field).toBe('input.url');
    expect(error.message).toMatch(/public host/);
  });

  it('should refuse a host that does not resolve', async () => {
    const error = await refusal('https://nowhere.example.com/hook');
    expect(error.details.field).toBe('input.url');
    expect(error.message).toMatch(/could not be resolved/);
  });

  it.each([
    ['http://hooks.example.com/', /must be an https URL/],
    ['ftp://hooks.example.com/', /must be an https URL/],
    ['hooks.example.com/hook', /absolute https URL/],
    ['https://user:pass@hooks.example.com/', /credentials/],
    ['https://hooks.example.com/#frag', /fragment/],
    [`https://hooks.example.com/${'a'.repeat(2_100)}`, /at most 2048/],
  ])('should refuse %s', async (url, message) => {
    const error = await refusal(url);
    expect(error.details.field).toBe('input.url');
    expect(error.message).toMatch(message);
  });

  it('should accept http and private targets only when the policy says so', async () => {
    // http alone does not open private targets.
    expect((await refusal('http://127.0.0.1/', { allowHttp: true, allowPrivate: false })).message).toMatch(/public host/);
    await expect(
      checkEndpointUrl('input.url', 'http://hooks.example.com/', { allowHttp: true, allowPrivate: false }, PUBLIC_DNS),
    ).resolves.toBeInstanceOf(URL);
    await expect(checkEndpointUrl('input.url', 'http://127.0.0.1:9/', { allowHttp: true, allowPrivate: true }, PUBLIC_DNS)).resolves.toBeInstanceOf(
      URL,
    );
    await expect(
      checkEndpointUrl('input.url', 'https://rebind.example.com/', { allowHttp: false, allowPrivate: true }, PUBLIC_DNS),
    ).resolves.toBeInstanceOf(URL);
  });
});
