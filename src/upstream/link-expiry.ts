/**
 * When a finished video's signed link stops working, read from the link itself. The upstream says
 * nothing about it in its answer, but the links it hands out are signed URLs that carry their own
 * expiry: `Expires=<unix seconds>` (CloudFront, Google Cloud Storage's V2 signatures, the vendor's
 * samples) or a signing date plus a lifetime (`X-Amz-Date` + `X-Amz-Expires` for S3's SigV4,
 * `X-Goog-Date` + `X-Goog-Expires` for Google's V4). Anything else: unknown (null).
 */

/** Query parameter names are matched without regard to case: signers differ in their spelling. */
export function linkExpiry(link: string): Date | null {
  let params: URLSearchParams;
  try {
    params = new URL(link).searchParams;
  } catch {
    return null;
  }
  const lower = new Map<string, string>();
  for (const [name, value] of params) lower.set(name.toLowerCase(), value);
  const expires = lower.get('expires');
  if (expires !== undefined && /^\d{1,12}$/.test(expires)) return new Date(Number(expires) * 1000);
  for (const vendor of ['amz', 'goog']) {
    const signedAt = signingDate(lower.get(`x-${vendor}-date`));
    const lifetime = lower.get(`x-${vendor}-expires`);
    if (signedAt && lifetime !== undefined && /^\d{1,9}$/.test(lifetime)) return new Date(signedAt.getTime() + Number(lifetime) * 1000);
  }
  return null;
}

/** The ISO 8601 basic format both SigV4 and Google's V4 use: `20260102T030405Z`. */
function signingDate(value: string | undefined): Date | null {
  const m = value ? /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value) : null;
  if (!m) return null;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  const at = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  return Number.isNaN(at.getTime()) ? null : at;
}
