/**
 * Limits on GraphQL documents, applied the same on HTTP (through Apollo) and WebSocket (through
 * graphql-ws, which Apollo's plugins do not reach). Values follow
 * `shared/reference/reliability-security.md` §0.
 */
import { ApolloServerErrorCode } from '@apollo/server/errors';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import {
  GraphQLError,
  NoSchemaIntrospectionCustomRule,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type GraphQLSchema,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import { DocumentCache, documentKey } from './document-cache';
import { DEFAULT_REQUEST_LIMITS, maxListItemsRule, type RequestLimits } from './request-limits';

export const DOCUMENT_LIMITS = {
  /** Deepest selection, counting through fragments. */
  maxDepth: 8,
  /** Aliases per operation; `__typename` is not exempt, so alias floods are caught. */
  maxAliases: 15,
  /** Directives per operation. */
  maxDirectives: 5,
  /** Lexical tokens per document, checked while parsing, before any other work. */
  maxTokens: 2_000,
  /** graphql-armor cost units per operation. */
  maxCost: 5_000,
} as const;

const armorConfig = {
  maxDepth: { n: DOCUMENT_LIMITS.maxDepth, flattenFragments: true },
  maxAliases: { n: DOCUMENT_LIMITS.maxAliases, allowList: [] },
  maxDirectives: { n: DOCUMENT_LIMITS.maxDirectives },
  maxTokens: { n: DOCUMENT_LIMITS.maxTokens },
  costLimit: { maxCost: DOCUMENT_LIMITS.maxCost },
  blockFieldSuggestion: { enabled: true },
};

/** Where the document caches come from: their byte budget, and the request limits rules need. */
export interface DocumentProtectionOptions {
  /** Bytes each parsed-document cache may hold (source plus AST estimate); 0 = no cache. */
  documentCacheBytes: number;
  limits: RequestLimits;
}

const DEFAULT_PROTECTION: DocumentProtectionOptions = { documentCacheBytes: 16 * 1024 * 1024, limits: DEFAULT_REQUEST_LIMITS };

/**
 * Apollo options (plugins, validation rules, parse options, document store) for the HTTP side.
 *
 * The token limit goes through Apollo's own `parseOptions` rather than armor's max-tokens
 * plugin: that plugin throws from `parsingDidStart`, which Apollo answers with a 500, while a
 * parse error is a 400 GRAPHQL_PARSE_FAILED. The document store replaces Apollo's default, which
 * does not count the source text its documents keep (document-cache.ts).
 */
export function apolloDocumentProtection(o: DocumentProtectionOptions = DEFAULT_PROTECTION) {
  const { plugins, validationRules } = new ApolloArmor({ ...armorConfig, maxTokens: { enabled: false } }).protect();
  return {
    plugins,
    validationRules: [...validationRules, maxListItemsRule(o.limits.maxListItems)],
    parseOptions: { maxTokens: DOCUMENT_LIMITS.maxTokens },
    documentStore: o.documentCacheBytes > 0 ? new DocumentCache(o.documentCacheBytes) : null,
  };
}

/**
 * Armor's rules throw on rejection unless told otherwise (a throw escapes `validate`); here they
 * report like graphql-js rules. Fresh objects, because ApolloArmor rewrites the configs it is given.
 */
const reportToContext = () => ({
  propagateOnRejection: false,
  onReject: [(context: ValidationContext | null, error: GraphQLError) => context?.reportError(error)],
});

function webSocketRules(introspection: boolean, limits: RequestLimits): ValidationRule[] {
  return [
    ...specifiedRules,
    ...(introspection ? [] : [NoSchemaIntrospectionCustomRule]),
    maxDepthRule({ ...armorConfig.maxDepth, ...reportToContext() }),
    maxAliasesRule({ ...armorConfig.maxAliases, ...reportToContext() }),
    maxDirectivesRule({ ...armorConfig.maxDirectives, ...reportToContext() }),
    costLimitRule({ ...armorConfig.costLimit, ...reportToContext() }),
    maxListItemsRule(limits.maxListItems),
  ];
}

/** graphql-js appends "Did you mean …?" hints that reveal the schema; they are cut off here. */
function withoutSuggestions(error: GraphQLError): GraphQLError {
  const message = error.message.replace(/\s*Did you mean .*$/s, '');
  return message === error.message ? error : new GraphQLError(message, { nodes: error.nodes, extensions: error.extensions });
}

/** Valid documents remembered per schema, within a byte budget (the first caller's). */
const validDocuments = new WeakMap<GraphQLSchema, DocumentCache>();

/**
 * Parses and validates a document for the WebSocket path with the same limits as HTTP.
 * Returns the document, or the errors to send back. Check the document's bytes first
 * (`requestOutOfBounds`): this parses whatever it is given.
 *
 * A valid document is remembered by a hash of its text, so ten thousand clients subscribing with
 * the same query share one parsed document instead of holding one each (graphql-js never mutates
 * it) and skip parsing and validation (the fan-out benchmark's heap per connection). Invalid ones
 * are not.
 */
export function checkWebSocketDocument(
  schema: GraphQLSchema,
  query: string,
  introspection: boolean,
  o: DocumentProtectionOptions = DEFAULT_PROTECTION,
): { document: DocumentNode } | { errors: GraphQLError[] } {
  let cache = validDocuments.get(schema);
  if (!cache) validDocuments.set(schema, (cache = new DocumentCache(o.documentCacheBytes)));
  const key = `${introspection ? 'i' : 'n'}${documentKey(query)}`;
  const known = cache.peek(key);
  if (known) return { document: known };
  const checked = parseAndValidate(schema, query, introspection, o.limits);
  if ('document' in checked) cache.put(key, checked.document);
  return checked;
}

/** The WebSocket path's document cache for `schema` (tests read its byte size). */
export function webSocketDocumentCache(schema: GraphQLSchema): DocumentCache | undefined {
  return validDocuments.get(schema);
}

function parseAndValidate(
  schema: GraphQLSchema,
  query: string,
  introspection: boolean,
  limits: RequestLimits,
): { document: DocumentNode } | { errors: GraphQLError[] } {
  let document: DocumentNode;
  try {
    document = parse(query, { maxTokens: DOCUMENT_LIMITS.maxTokens });
  } catch (error) {
    const e = error instanceof GraphQLError ? error : new GraphQLError('Invalid document');
    return { errors: [new GraphQLError(e.message, { extensions: { code: ApolloServerErrorCode.GRAPHQL_PARSE_FAILED } })] };
  }
  const errors = validate(schema, document, webSocketRules(introspection, limits));
  if (errors.length > 0) {
    return {
      errors: errors.map((e) =>
        withoutSuggestions(new GraphQLError(e.message, { nodes: e.nodes, extensions: { code: ApolloServerErrorCode.GRAPHQL_VALIDATION_FAILED } })),
      ),
    };
  }
  return { document };
}
