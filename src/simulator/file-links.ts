/**
 * The simulator's finished-video links are signed and expire, as the upstream's CDN links do
 * (`?Expires=<unix seconds>&Signature=…`, the CloudFront/GCS V2 shape the gateway's link-expiry
 * parser reads): a link past its expiry or with a wrong signature is refused with 403.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export class FileLinkSigner {
  private readonly key: Buffer;

  /**
   * The key derives from the API key so links handed out before a restart (state file) still verify
   * after it, as a CDN's signing key outlives its edge servers.
   */
  constructor(
    apiKey: string,
    /** How long a link works, in seconds, counted from the poll answer that hands it out. */
    readonly ttlSeconds: number,
  ) {
    this.key = createHmac('sha256', apiKey).update('simulator file links').digest();
  }

  /** `path` plus its signed query, valid for `ttlSeconds` from `nowMs`. */
  sign(path: string, nowMs = Date.now(), ttlSeconds = this.ttlSeconds): string {
    const expires = Math.floor(nowMs / 1000) + ttlSeconds;
    return `${path}?Expires=${expires}&Signature=${this.signature(path, expires)}`;
  }

  /** Whether `query` carries a valid, unexpired signature for `path`. */
  verify(path: string, query: URLSearchParams, nowMs = Date.now()): boolean {
    const expires = query.get('Expires') ?? '';
    const given = Buffer.from(query.get('Signature') ?? '');
    if (!/^\d{1,12}$/.test(expires) || Number(expires) * 1000 <= nowMs) return false;
    const wanted = Buffer.from(this.signature(path, Number(expires)));
    return given.length === wanted.length && timingSafeEqual(given, wanted);
  }

  private signature(path: string, expires: number): string {
    return createHmac('sha256', this.key).update(`${path}\n${expires}`).digest('base64url');
  }
}
