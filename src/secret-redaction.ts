/**
 * Scrubs a secret (the upstream key) from text in every form a third party could echo it back in:
 * verbatim in any letter case, base64 / base64url (at any alignment inside a longer encoded string,
 * e.g. `Basic base64(user:key)`), hex, percent-encoded, and split copies: any run of
 * `FRAGMENT_CHARS` or more characters of the key, so a key cut by a line break or a truncation
 * leaves nothing usable behind.
 *
 * Shared by the logger (every line) and the upstream error cleaning (what clients see).
 */

/** Shortest run of the key's characters that counts as a copy of it, in characters. */
export const FRAGMENT_CHARS = 8;

export const REDACTED = '[redacted]';

export type Redactor = (text: string) => string;

/** A redactor for every secret given. Secrets shorter than 4 characters are ignored (they would match everywhere). */
export function createRedactor(secrets: readonly string[]): Redactor {
  const usable = secrets.filter((s) => s.length >= 4);
  if (usable.length === 0) return (text) => text;
  const grams = new Set<string>();
  const encoded: string[] = [];
  let gram = Infinity;
  for (const secret of usable) {
    const n = Math.min(FRAGMENT_CHARS, secret.length);
    gram = Math.min(gram, n);
    encoded.push(...encodedForms(secret));
  }
  for (const secret of usable) {
    const lower = secret.toLowerCase();
    for (let i = 0; i + gram <= lower.length; i++) grams.add(lower.slice(i, i + gram));
  }
  const forms = [...new Set(encoded)].filter((f) => f.length >= gram).sort((a, b) => b.length - a.length);
  const encodedPattern = forms.length ? new RegExp(forms.map(escapeRegExp).join('|'), 'gi') : null;

  return (text) => {
    if (text.length < gram) return text;
    let out = encodedPattern ? text.replace(encodedPattern, REDACTED) : text;
    out = redactFragments(out, grams, gram);
    return out;
  };
}

/** Marks every window of `gram` characters that is part of a secret, then replaces each marked run once. */
function redactFragments(text: string, grams: ReadonlySet<string>, gram: number): string {
  const lower = text.toLowerCase();
  let out = '';
  let copied = 0;
  let runStart = -1;
  let runEnd = -1;
  for (let i = 0; i + gram <= lower.length; i++) {
    if (!grams.has(lower.slice(i, i + gram))) continue;
    if (runStart >= 0 && i <= runEnd) {
      runEnd = i + gram;
      continue;
    }
    if (runStart >= 0) {
      out += text.slice(copied, runStart) + REDACTED;
      copied = runEnd;
    }
    runStart = i;
    runEnd = i + gram;
  }
  if (runStart < 0) return text;
  return out + text.slice(copied, runStart) + REDACTED + text.slice(runEnd);
}

/**
 * Encoded copies of a secret. Base64 of a string depends on where it starts relative to a 3-byte
 * group, so each of the three alignments is encoded, and only the characters that do not depend on
 * the neighbouring bytes are kept.
 */
function encodedForms(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const hex = bytes.toString('hex');
  // Percent-encoding of every byte (`%73%6b…`), as some proxies log a URL-encoded header.
  const percent = hex.replace(/(..)/g, '%$1');
  const forms = [hex, percent, encodeURIComponent(secret)];
  for (let offset = 0; offset < 3; offset++) {
    const padded = Buffer.concat([Buffer.alloc(offset), bytes]);
    const b64 = padded.toString('base64').replace(/=+$/, '');
    // Leading characters mix in the padding bytes; trailing ones mix in whatever follows.
    const start = Math.ceil((offset * 8) / 6);
    const end = Math.floor((padded.length * 8) / 6);
    const core = b64.slice(start, end);
    forms.push(core, core.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return forms.filter((f) => f !== secret);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
