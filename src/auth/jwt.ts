/**
 * JWT bearer tokens for browser apps, which cannot hold an API key: a token minted by the app's
 * own backend or identity provider, verified here with a shared HS256 secret or the provider's
 * JWKS (jose).
 *
 * A token's owner is `jwt:<claim>`, a namespace of its own. API-key owners cannot contain `:`
 * (see `checkOwnerName`), so a token whose `sub` is `acme` can never read, cancel or watch the
 * generations of the API-key owner `acme`: the identity provider is trusted to name its own users,
 * not to name the operator's server-side tenants.
 */
import type { JWTPayload, JWTVerifyGetKey } from 'jose' with { 'resolution-mode': 'import' };

/** jose 6 is an ES module; this CommonJS build loads it with a dynamic import, once. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-assignment -- typescript-eslint reads the import type's attributes as an untyped object
let josePromise: Promise<typeof import('jose', { with: { 'resolution-mode': 'import' } })> | null = null;
const loadJose = () => (josePromise ??= import('jose'));

/** Prefix of every owner that comes from a JWT. */
export const JWT_OWNER_PREFIX = 'jwt:';
/** Longest owner claim accepted, in characters. */
const MAX_CLAIM_LENGTH = 200;
/** Asymmetric algorithms accepted from a JWKS; `none` and HMAC are never taken from a key set. */
const JWKS_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

export interface JwtOptions {
  /** HS256 shared secret; exactly one of `secret` and `jwksUrl`. */
  secret: string | null;
  /** URL of a JSON Web Key Set; keys are fetched on demand and cached by jose. */
  jwksUrl: string | null;
  /** Required `iss`, or null for any. */
  issuer: string | null;
  /** Required `aud`, or null for any. */
  audience: string | null;
  /** The claim naming the owner, e.g. `sub`. */
  ownerClaim: string;
}

export interface JwtPrincipal {
  /** `jwt:` + the owner claim. */
  owner: string;
  /** The token's `exp`: after it the token is refused and WebSockets opened with it are closed. */
  expiresAt: Date;
}

/** Why a token was refused, for logs (never sent to clients in detail). */
export class JwtRejected extends Error {
  override name = 'JwtRejected';
}

/** Three base64url segments: the shape of a compact JWS. API keys (`vgw_…`) never match. */
export function looksLikeJwt(token: string): boolean {
  return /^[\w-]+\.[\w-]+\.[\w-]*$/.test(token) && token.length <= 8_192;
}

export class JwtVerifier {
  private key: Promise<Uint8Array | JWTVerifyGetKey> | null = null;
  private readonly algorithms: string[];

  constructor(private readonly options: JwtOptions) {
    if (!options.secret && !options.jwksUrl) throw new Error('JwtVerifier needs a secret or a JWKS URL');
    this.algorithms = options.secret ? ['HS256'] : JWKS_ALGORITHMS;
  }

  /** One key (or key set, which caches fetched keys) for the verifier's lifetime. */
  private verificationKey(): Promise<Uint8Array | JWTVerifyGetKey> {
    return (this.key ??= (async () => {
      if (this.options.secret) return new TextEncoder().encode(this.options.secret);
      const { createRemoteJWKSet } = await loadJose();
      return createRemoteJWKSet(new URL(this.options.jwksUrl!), { timeoutDuration: 5_000 });
    })());
  }

  /** The token's owner and expiry; throws `JwtRejected` for any bad, expired or unacceptable token. */
  async verify(token: string): Promise<JwtPrincipal> {
    const { jwtVerify, errors } = await loadJose();
    const key = await this.verificationKey();
    let payload: JWTPayload;
    try {
      const verified = await jwtVerify(token, key as Parameters<typeof jwtVerify>[1], {
        algorithms: this.algorithms,
        issuer: this.options.issuer ?? undefined,
        audience: this.options.audience ?? undefined,
        // A browser token without an expiry would be a permanent credential sitting in a web page.
        requiredClaims: ['exp'],
      });
      payload = verified.payload;
    } catch (error) {
      const reason = error instanceof errors.JOSEError ? error.code : 'unverifiable token';
      throw new JwtRejected(reason);
    }
    const claim = payload[this.options.ownerClaim];
    // eslint-disable-next-line no-control-regex -- an owner name with control characters is refused
    if (typeof claim !== 'string' || claim.length === 0 || claim.length > MAX_CLAIM_LENGTH || /[\u0000-\u001f\u007f]/.test(claim)) {
      throw new JwtRejected(`claim "${this.options.ownerClaim}" is missing or not a usable owner name`);
    }
    return { owner: JWT_OWNER_PREFIX + claim, expiresAt: new Date(payload.exp! * 1000) };
  }
}
