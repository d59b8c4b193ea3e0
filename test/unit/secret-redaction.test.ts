import { createRedactor, FRAGMENT_CHARS } from '../../src/secret-redaction';

const KEY = 'sk-live-9f8e7d6c5b4a39281706ABCdef';

/** Every form an upstream or proxy has been seen to echo a key in. */
function copies(key: string): Record<string, string> {
  const mid = Math.floor(key.length / 2);
  return {
    verbatim: key,
    upper: key.toUpperCase(),
    lower: key.toLowerCase(),
    base64: Buffer.from(key).toString('base64'),
    base64url: Buffer.from(`>>${key}`).toString('base64url'),
    basicAuth: `Basic ${Buffer.from(`user:${key}`).toString('base64')}`,
    hex: Buffer.from(key).toString('hex'),
    hexUpper: Buffer.from(key).toString('hex').toUpperCase(),
    percentEncoded: [...Buffer.from(key)].map((b) => `%${b.toString(16).padStart(2, '0')}`).join(''),
    split: `${key.slice(0, mid)}\n  ${key.slice(mid)}`,
    truncated: `${key.slice(0, FRAGMENT_CHARS + 2)}…`,
  };
}

describe('createRedactor', () => {
  const redact = createRedactor([KEY]);

  it.each(Object.entries(copies(KEY)))('removes a %s copy of the key', (_form, copy) => {
    const out = redact(`upstream said: invalid key "${copy}" (check your account)`);
    expect(out).toContain('[redacted]');
    expect(out).toContain('upstream said: invalid key');
    expect(out).toContain('(check your account)');
    // No run of FRAGMENT_CHARS characters of the key or of the copy survives.
    for (let i = 0; i + FRAGMENT_CHARS <= KEY.length; i++) {
      expect(out.toLowerCase()).not.toContain(KEY.slice(i, i + FRAGMENT_CHARS).toLowerCase());
    }
    if (copy.length >= FRAGMENT_CHARS) expect(out).not.toContain(copy.trim());
  });

  it('leaves text without the key alone, including short runs the key happens to share', () => {
    const text = 'model google/veo3 refused: prompt too long (sk-live is a prefix, 9f8e is not enough)';
    expect(redact(text)).toBe(text);
  });

  it('ignores secrets too short to redact safely', () => {
    expect(createRedactor(['ab'])('ab abc')).toBe('ab abc');
  });
});
