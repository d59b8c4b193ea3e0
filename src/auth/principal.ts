/**
 * Who is calling: the one place that turns a presented credential into an owner, for HTTP and
 * WebSocket alike. Servers send an API key (`vgw_…`); browser apps send a JWT.
 */
import type { ApiKeyRecords } from '../store/store';
import type { ApiKeyCache } from './api-key-cache';
import { ownerOfKey } from './api-keys';
import { JwtRejected, looksLikeJwt, type JwtVerifier } from './jwt';

export interface Principal {
  owner: string;
  /** When the credential stops being valid (a JWT's `exp`); null for API keys, which last until revoked. */
  expiresAt: Date | null;
}

export interface CredentialCheckOptions {
  store: ApiKeyRecords;
  /** Null when JWTs are not configured: then only API keys are accepted. */
  jwt: JwtVerifier | null;
  /** Told why a JWT was refused (expired, bad signature…), for logs. */
  onJwtRejected?: (reason: string) => void;
  /** Recent successful API-key lookups; none = the store is asked every time. */
  apiKeyCache?: ApiKeyCache;
}

/** Resolves a bearer credential to its principal, or null when it is unknown, revoked or invalid. */
export function createCredentialCheck(o: CredentialCheckOptions): (credential: string) => Promise<Principal | null> {
  return async (credential) => {
    if (o.jwt && looksLikeJwt(credential)) {
      try {
        return await o.jwt.verify(credential);
      } catch (error) {
        if (!(error instanceof JwtRejected)) throw error;
        o.onJwtRejected?.(error.message);
        return null;
      }
    }
    const owner = await ownerOfKey(o.store, credential, o.apiKeyCache);
    return owner ? { owner, expiresAt: null } : null;
  };
}
