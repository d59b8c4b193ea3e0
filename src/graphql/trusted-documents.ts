/**
 * Trusted documents (persisted operations): the documents a gateway's own apps ship, loaded from
 * manifests (GraphQL Code Generator's `persisted-documents.json`: id → document text), and the
 * decision every transport takes on a request before anything parses it.
 *
 * - off: nothing here is consulted; Apollo's automatic persisted queries work as Apollo has them.
 * - allow: a known id may be sent alone (`documentId`, or APQ's `extensions.persistedQuery.sha256Hash`);
 *   any document text is still accepted.
 * - require: only documents in a manifest run, named by id or sent as identical text; anything
 *   else is refused with PERSISTED_QUERY_NOT_FOUND (an unknown id alone) or PERSISTED_QUERY_REQUIRED.
 *
 * A known id always runs the manifest's text: text sent beside it is not looked at, so a client
 * cannot pair a trusted id with a document of its own.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { GraphQLError, parse } from 'graphql';
import { RequestErrorCode } from '../errors';

export type TrustedDocumentsMode = 'off' | 'allow' | 'require';

/** A GraphQL request's document-naming fields as a transport received them, types not yet checked. */
export interface DocumentRequest {
  query?: unknown;
  documentId?: unknown;
  extensions?: unknown;
}

/**
 * What to do with a request: run it as sent (`pass`), run the manifest's `query` instead of what
 * was sent (the id and the APQ extension are then dropped, so Apollo's APQ never sees a trusted
 * document), or answer `error`.
 */
export type DocumentDecision = { pass: true } | { query: string } | { error: GraphQLError };

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** A manifest that cannot be used, naming the file and what is wrong with it. */
export class ManifestError extends Error {}

export class TrustedDocuments {
  /** Every id a client may send (the manifest's keys, and a `sha256:` key's bare hex as APQ sends it) → text. */
  private readonly byId = new Map<string, string>();
  /** SHA-256 (hex) of every document's text, for requests that send the text itself. */
  private readonly textHashes = new Set<string>();

  constructor(
    readonly mode: TrustedDocumentsMode,
    manifests: ReadonlyArray<{ file: string; documents: unknown }> = [],
  ) {
    for (const { file, documents } of manifests) this.add(file, documents);
  }

  /** Reads and checks manifest files; a bad one throws a ManifestError naming it. */
  static fromFiles(mode: TrustedDocumentsMode, files: readonly string[]): TrustedDocuments {
    const manifests = files.map((file) => {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (error) {
        throw new ManifestError(`${file}: cannot be read (${(error as Error).message})`);
      }
      try {
        return { file, documents: JSON.parse(text) as unknown };
      } catch (error) {
        throw new ManifestError(`${file}: not JSON (${(error as Error).message})`);
      }
    });
    return new TrustedDocuments(mode, manifests);
  }

  /** Documents loaded (distinct ids as written in the manifests). */
  get size(): number {
    return this.textHashes.size;
  }

  private add(file: string, documents: unknown): void {
    if (documents === null || typeof documents !== 'object' || Array.isArray(documents)) {
      throw new ManifestError(`${file}: expected a JSON object of id → document text`);
    }
    for (const [id, text] of Object.entries(documents)) {
      if (typeof text !== 'string' || text.trim() === '') throw new ManifestError(`${file}: "${id}" is not a document text`);
      const hash = sha256(text);
      const hex = id.startsWith('sha256:') ? id.slice('sha256:'.length) : SHA256_HEX.test(id) ? id : null;
      // A SHA-256 id that is not its text's hash is a corrupted or hand-edited manifest: trusting
      // it would run a document under another's name.
      if (hex !== null && hex !== hash) throw new ManifestError(`${file}: "${id}" is not the SHA-256 of its document`);
      try {
        parse(text);
      } catch (error) {
        throw new ManifestError(`${file}: "${id}" does not parse (${(error as Error).message})`);
      }
      const known = this.byId.get(id);
      if (known !== undefined && known !== text) throw new ManifestError(`${file}: "${id}" names another document in an earlier manifest`);
      this.byId.set(id, text);
      if (hex !== null) this.byId.set(hex, text);
      this.textHashes.add(hash);
    }
  }

  /** Decides `request` (see the module comment); costs one SHA-256 of the text at most, never a parse. */
  decide(request: DocumentRequest): DocumentDecision {
    if (this.mode === 'off') return { pass: true };
    const { query } = request;
    const id = requestedId(request);
    if (id !== undefined) {
      const text = this.byId.get(id);
      if (text !== undefined) return { query: text };
    }
    const hasText = typeof query === 'string' && query !== '';
    if (this.mode === 'allow') {
      // An unknown APQ hash goes on to Apollo's APQ cache; an unknown documentId has nowhere to go.
      if (id !== undefined && !hasText && !hasApqHash(request)) return { error: notFound() };
      return { pass: true };
    }
    if (hasText && this.textHashes.has(sha256(query))) return { query };
    if (id !== undefined && !hasText) return { error: notFound() };
    return {
      error: new GraphQLError(
        'This gateway runs only trusted documents: send the `documentId` (or the identical text) of a document in its manifests',
        { extensions: { code: RequestErrorCode.PERSISTED_QUERY_REQUIRED } },
      ),
    };
  }
}

/** The request with the decided document in place and no id or APQ extension left for anyone after us. */
export function withDocument<T extends DocumentRequest>(request: T, query: string): T {
  const { documentId: _id, ...rest } = request;
  const extensions = request.extensions;
  if (extensions !== null && typeof extensions === 'object' && !Array.isArray(extensions) && 'persistedQuery' in extensions) {
    const { persistedQuery: _apq, ...others } = extensions as Record<string, unknown>;
    // No `extensions` key at all when nothing is left: Apollo refuses one that is present but not an object.
    const { extensions: _all, ...base } = rest as DocumentRequest;
    return (Object.keys(others).length > 0 ? { ...base, query, extensions: others } : { ...base, query }) as T;
  }
  return { ...rest, query } as T;
}

/** `documentId` (GraphQL Code Generator's clients, the GraphQL over HTTP draft) or APQ's hash. */
function requestedId(request: DocumentRequest): string | undefined {
  if (typeof request.documentId === 'string' && request.documentId !== '') return request.documentId;
  return apqHash(request);
}

function apqHash(request: DocumentRequest): string | undefined {
  const extensions = request.extensions;
  if (extensions === null || typeof extensions !== 'object') return undefined;
  const apq = (extensions as { persistedQuery?: unknown }).persistedQuery;
  if (apq === null || typeof apq !== 'object') return undefined;
  const hash = (apq as { sha256Hash?: unknown }).sha256Hash;
  return typeof hash === 'string' && hash !== '' ? hash : undefined;
}

const hasApqHash = (request: DocumentRequest) => apqHash(request) !== undefined;

const notFound = () =>
  new GraphQLError('PersistedQueryNotFound: no loaded manifest holds this document id; send the document text', {
    extensions: { code: RequestErrorCode.PERSISTED_QUERY_NOT_FOUND },
  });

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
