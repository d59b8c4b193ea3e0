/**
 * Limits on GraphQL documents, applied the same on HTTP (through Apollo) and WebSocket (through
 * graphql-ws, which Apollo's plugins do not reach). Values follow
 * `shared/reference/reliability-security.md` §0.
 */
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

/**
 * Apollo options (plugins, validation rules, parse options) for the HTTP side.
 *
 * The token limit goes through Apollo's own `parseOptions` rather than armor's max-tokens
 * plugin: that plugin throws from `parsingDidStart`, which Apollo answers with a 500, while a
 * parse error is a 400 GRAPHQL_PARSE_FAILED.
 */
export function apolloDocumentProtection() {
  const { plugins, validationRules } = new ApolloArmor({ ...armorConfig, maxTokens: { enabled: false } }).protect();
  return { plugins, validationRules, parseOptions: { maxTokens: DOCUMENT_LIMITS.maxTokens } };
}

/**
 * Armor's rules throw on rejection unless told otherwise (a throw escapes `validate`); here they
 * report like graphql-js rules. Fresh objects, because ApolloArmor rewrites the configs it is given.
 */
const reportToContext = () => ({
  propagateOnRejection: false,
  onReject: [(context: ValidationContext | null, error: GraphQLError) => context?.reportError(error)],
});

function webSocketRules(introspection: boolean): ValidationRule[] {
  return [
    ...specifiedRules,
    ...(introspection ? [] : [NoSchemaIntrospectionCustomRule]),
    maxDepthRule({ ...armorConfig.maxDepth, ...reportToContext() }),
    maxAliasesRule({ ...armorConfig.maxAliases, ...reportToContext() }),
    maxDirectivesRule({ ...armorConfig.maxDirectives, ...reportToContext() }),
    costLimitRule({ ...armorConfig.costLimit, ...reportToContext() }),
  ];
}

/** graphql-js appends "Did you mean …?" hints that reveal the schema; they are cut off here. */
function withoutSuggestions(error: GraphQLError): GraphQLError {
  const message = error.message.replace(/\s*Did you mean .*$/s, '');
  return message === error.message ? error : new GraphQLError(message, { nodes: error.nodes, extensions: error.extensions });
}

/** Distinct valid documents remembered per schema; clients send the same few subscriptions. */
const DOCUMENT_CACHE_SIZE = 500;
const validDocuments = new WeakMap<GraphQLSchema, Map<string, DocumentNode>>();

/**
 * Parses and validates a document for the WebSocket path with the same limits as HTTP.
 * Returns the document, or the errors to send back.
 *
 * A valid document is remembered by its text, so ten thousand clients subscribing with the same
 * query share one parsed document instead of holding one each (graphql-js never mutates it) and
 * skip parsing and validation (the fan-out benchmark's heap per connection). Invalid ones are not.
 */
export function checkWebSocketDocument(
  schema: GraphQLSchema,
  query: string,
  introspection: boolean,
): { document: DocumentNode } | { errors: GraphQLError[] } {
  let cache = validDocuments.get(schema);
  if (!cache) validDocuments.set(schema, (cache = new Map()));
  const key = `${introspection ? 'i' : 'n'}${query}`;
  const known = cache.get(key);
  if (known) return { document: known };
  const checked = parseAndValidate(schema, query, introspection);
  if ('document' in checked) {
    // Oldest first out: a Map iterates in insertion order.
    if (cache.size >= DOCUMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
    cache.set(key, checked.document);
  }
  return checked;
}

function parseAndValidate(
  schema: GraphQLSchema,
  query: string,
  introspection: boolean,
): { document: DocumentNode } | { errors: GraphQLError[] } {
  let document: DocumentNode;
  try {
    document = parse(query, { maxTokens: DOCUMENT_LIMITS.maxTokens });
  } catch (error) {
    const e = error instanceof GraphQLError ? error : new GraphQLError('Invalid document');
    return { errors: [new GraphQLError(e.message, { extensions: { code: 'GRAPHQL_PARSE_FAILED' } })] };
  }
  const errors = validate(schema, document, webSocketRules(introspection));
  if (errors.length > 0) {
    return {
      errors: errors.map((e) =>
        withoutSuggestions(new GraphQLError(e.message, { nodes: e.nodes, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } })),
      ),
    };
  }
  return { document };
}
