/**
 * Signed, expiring links to stored videos. A `<video src>` cannot send a bearer header, so the link
 * itself carries the authority: an HMAC-SHA256 over the generation's id, its owner and the expiry.
 * A link changed in any part, made for another generation, or past its expiry is refused alike.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const MEDIA_PATH = '/media/';

export type LinkCheck = 'valid' | 'refused';

export class MediaLinks {
  /** Expiries are rounded up to a quarter of the TTL, so that reads close together give the same URL (and the browser's cache holds). */
  private readonly stepSeconds: number;

  constructor(
    private readonly secret: Buffer,
    readonly ttlSeconds: number,
    /** Put in front of `path()` by `url()`, without a trailing slash; null: `url()` is relative. */
    private readonly baseUrl: string | null = null,
  ) {
    this.stepSeconds = Math.max(1, Math.floor(ttlSeconds / 4));
  }

  /** `/media/<id>?exp=<unix seconds>&sig=<base64url>`, valid for at least the TTL from `now`. */
  path(owner: string, id: string, now = Date.now()): string {
    const earliest = Math.ceil(now / 1000) + this.ttlSeconds;
    const exp = Math.ceil(earliest / this.stepSeconds) * this.stepSeconds;
    return `${MEDIA_PATH}${encodeURIComponent(id)}?exp=${exp}&sig=${this.signature(owner, id, exp)}`;
  }

  /** `path()` behind the gateway's public base URL when there is one. */
  url(owner: string, id: string, now = Date.now()): string {
    return (this.baseUrl ?? '') + this.path(owner, id, now);
  }

  /** Whether `sig` signs (owner, id, exp) and `exp` has not passed. */
  check(owner: string, id: string, exp: string | null, sig: string | null, now = Date.now()): LinkCheck {
    if (!exp || !sig || !/^\d{1,12}$/.test(exp)) return 'refused';
    const expected = Buffer.from(this.signature(owner, id, Number(exp)));
    const given = Buffer.from(sig);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'refused';
    return Number(exp) * 1000 > now ? 'valid' : 'refused';
  }

  /** Seconds until the link's expiry. */
  secondsLeft(exp: string, now = Date.now()): number {
    return Math.max(0, Math.floor(Number(exp) - now / 1000));
  }

  private signature(owner: string, id: string, exp: number): string {
    // Lengths first, so that no two (owner, id) pairs can run together into the same text.
    return createHmac('sha256', this.secret).update(`${owner.length}:${owner}|${id.length}:${id}|${exp}`).digest('base64url');
  }
}
