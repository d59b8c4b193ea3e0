import { originAllowed, parseCorsOrigins, parseOrigin } from '../../src/cors-origins';

describe('parseOrigin', () => {
  it('returns the origin as a browser sends it: lower-case host, no default port', () => {
    expect(parseOrigin('https://app.example.com')).toBe('https://app.example.com');
    expect(parseOrigin('  http://localhost:5173 ')).toBe('http://localhost:5173');
    expect(parseOrigin('HTTPS://App.Example.COM')).toBe('https://app.example.com');
    expect(parseOrigin('https://app.example.com:443')).toBe('https://app.example.com');
    expect(parseOrigin('http://app.example.com:80')).toBe('http://app.example.com');
    expect(parseOrigin('https://app.example.com:8443')).toBe('https://app.example.com:8443');
    expect(parseOrigin('http://127.0.0.1:3000')).toBe('http://127.0.0.1:3000');
    expect(parseOrigin('http://[::1]:3000')).toBe('http://[::1]:3000');
    expect(parseOrigin('https://bücher.example')).toBe('https://xn--bcher-kva.example');
  });

  it.each([
    ['https://app.example.com/', /path/],
    ['https://app.example.com/app', /path/],
    ['https://app.example.com?x=1', /path, query or fragment/],
    ['https://app.example.com#top', /path, query or fragment/],
    ['app.example.com', /not an origin/],
    ['//app.example.com', /not an origin/],
    ['https://', /not an origin/],
    ['https://user:pw@app.example.com', /user name/],
    ['ftp://files.example.com', /http or https/],
    ['chrome-extension://abcdef', /http or https/],
    ['null', /not an origin/],
    ['https://*.example.com', /wildcards/],
    ['https://app.example.com:99999', /not an origin/],
    ['https://exa mple.com', /not an origin/],
  ])('refuses %s', (value, message) => {
    expect(() => parseOrigin(value)).toThrow(message);
  });
});

describe('parseCorsOrigins', () => {
  it('reads a comma-separated list, skipping empty entries and repeats', () => {
    expect(parseCorsOrigins('https://app.example.com,http://localhost:5173')).toEqual(['https://app.example.com', 'http://localhost:5173']);
    expect(parseCorsOrigins(' https://a.example , ,https://A.example:443,')).toEqual(['https://a.example']);
    expect(parseCorsOrigins(' , ')).toEqual([]);
  });

  it('takes * alone as any origin, and refuses it inside a list', () => {
    expect(parseCorsOrigins('*')).toBe('*');
    expect(parseCorsOrigins(' * ')).toBe('*');
    expect(() => parseCorsOrigins('*,https://app.example.com')).toThrow(/alone/);
  });

  it('names the bad entry', () => {
    expect(() => parseCorsOrigins('https://ok.example,https://bad.example/path')).toThrow('"https://bad.example/path"');
  });
});

describe('originAllowed', () => {
  const list = parseCorsOrigins('https://app.example.com,http://localhost:5173');

  it('matches listed origins exactly', () => {
    expect(originAllowed(list, 'https://app.example.com')).toBe(true);
    expect(originAllowed(list, 'http://localhost:5173')).toBe(true);
  });

  it.each([
    ['another origin', 'https://evil.example'],
    ['another scheme', 'http://app.example.com'],
    ['another port', 'http://localhost:5174'],
    ['a sub-domain', 'https://x.app.example.com'],
    ['a suffix trick', 'https://app.example.com.evil.example'],
    ['a prefix trick', 'https://evilapp.example.com'],
    ['the opaque origin', 'null'],
    ['no origin', undefined],
    ['an empty origin', ''],
  ])('refuses %s', (_what, origin) => {
    expect(originAllowed(list, origin)).toBe(false);
  });

  it('allows nothing with an empty list, and everything with *', () => {
    expect(originAllowed([], 'https://app.example.com')).toBe(false);
    expect(originAllowed('*', 'https://anyone.example')).toBe(true);
    expect(originAllowed('*', 'null')).toBe(true);
  });
});
