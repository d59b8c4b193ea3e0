/**
 * Limits on a GraphQL request's size and shape, checked before the expensive work (JSON.parse of a
 * body, parsing the document, coercing variables), the same on HTTP and WebSocket.
 *
 * The document's token limit (document-limits.ts) does not count comments or whitespace, so a tiny
 * query behind a megabyte of `# comment` passes it: the byte limit here is what bounds the text a
 * parse (and the document caches) can be made to hold. Deeply nested or very long JSON costs
 * CPU in JSON.parse and in variable coercion out of proportion to its size, hence the depth scan
 * before parsing and the walk over the parsed variables.
 */
import { GraphQLError, type ASTVisitor, type ValidationContext } from 'graphql';
import { ErrorCode, RequestErrorCode } from '../errors';

export interface RequestLimits {
  /** Largest document (query text), in UTF-8 bytes. */
  maxDocumentBytes: number;
  /** Deepest nesting of `variables` (the variables object itself is level 1). */
  maxVariablesDepth: number;
  /** Most items in one list, or fields in one object, in variables and in the document's literals. */
  maxListItems: number;
}

/** Safe defaults (also the configuration's); tests and hosts that pass nothing get these. */
export const DEFAULT_REQUEST_LIMITS: RequestLimits = { maxDocumentBytes: 32 * 1024, maxVariablesDepth: 16, maxListItems: 200 };

/** A document over the byte limit, or null. Counts bytes without encoding the text when it cannot be over. */
export function documentTooLarge(query: unknown, limits: RequestLimits): GraphQLError | null {
  if (typeof query !== 'string') return null;
  // A UTF-8 byte is at least one UTF-16 unit and at most three: only the middle band needs counting.
  if (query.length * 3 <= limits.maxDocumentBytes) return null;
  const bytes = query.length > limits.maxDocumentBytes ? query.length : Buffer.byteLength(query, 'utf8');
  if (bytes <= limits.maxDocumentBytes) return null;
  return new GraphQLError(`GraphQL document larger than ${limits.maxDocumentBytes} bytes (comments and whitespace count)`, {
    extensions: { code: RequestErrorCode.DOCUMENT_TOO_LARGE, limit: limits.maxDocumentBytes },
  });
}

/** What a pre-parse scan of JSON text found out of bounds. */
export type JsonShapeProblem = { kind: 'depth'; limit: number } | { kind: 'items'; path: string; limit: number };

/**
 * Finds JSON `text` nested deeper than `maxDepth` (arrays and objects) or holding a list or object of
 * more than `maxItems` entries, by one linear scan that skips strings, before JSON.parse builds
 * anything: a 1 MB body of 90,000 short strings cost milliseconds of parsing before the walk over the
 * parsed variables could refuse it. `path` names the container from the root (`variables.f.status`),
 * as the walk over parsed variables does. Malformed JSON is left to JSON.parse.
 */
export function jsonShapeProblem(text: string, maxDepth: number, maxItems: number): JsonShapeProblem | null {
  // One frame per open container: its path, whether it is an object, its entries so far, and (in an
  // object) the last key read, which names the next nested container.
  const frames: { path: string; object: boolean; entries: number; key: string }[] = [];
  let expectingKey = false;
  // An entry starts at its first character; later ones are also counted at the comma before them.
  const startEntry = () => {
    const frame = frames[frames.length - 1];
    if (frame && frame.entries === 0) frame.entries = 1;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0x3a /* : */) continue;
    if (c === 0x22 /* " */) {
      startEntry();
      const start = i + 1;
      for (i = start; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c /* \ */) i++;
        else if (d === 0x22) break;
      }
      if (expectingKey) frames[frames.length - 1]!.key = text.slice(start, i);
      expectingKey = false;
    } else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      if (frames.length >= maxDepth) return { kind: 'depth', limit: maxDepth };
      startEntry();
      const parent = frames[frames.length - 1];
      const name = parent === undefined ? '' : parent.object ? parent.key : String(parent.entries - 1);
      const path = parent === undefined || parent.path === '' ? name : `${parent.path}.${name}`;
      frames.push({ path, object: c === 0x7b, entries: 0, key: '' });
      expectingKey = c === 0x7b;
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) {
      frames.pop();
      expectingKey = false;
    } else if (c === 0x2c /* , */) {
      const frame = frames[frames.length - 1];
      if (frame && ++frame.entries > maxItems) return { kind: 'items', path: frame.path, limit: maxItems };
      expectingKey = frame?.object ?? false;
    } else {
      startEntry();
    }
  }
  return null;
}

/** Whether JSON `text` nests deeper than `maxDepth`; see jsonShapeProblem. */
export function jsonDeeperThan(text: string, maxDepth: number): boolean {
  return jsonShapeProblem(text, maxDepth, Number.POSITIVE_INFINITY)?.kind === 'depth';
}

/**
 * Refuses parsed variables nested deeper than the limit, or holding a list (or object) with more
 * items than the limit: BAD_USER_INPUT naming the variable path. Null when they are fine.
 * The walk stops at the first problem, so its cost is bounded by the limits themselves.
 */
export function variablesOutOfBounds(variables: unknown, limits: RequestLimits): GraphQLError | null {
  if (variables === null || typeof variables !== 'object') return null;
  const refuse = (field: string, message: string, limit: number) =>
    new GraphQLError(message, { extensions: { code: ErrorCode.BAD_USER_INPUT, field, limit } });
  const walk = (value: unknown, path: string, depth: number): GraphQLError | null => {
    if (value === null || typeof value !== 'object') return null;
    if (depth > limits.maxVariablesDepth) {
      return refuse(path, `Variables nested deeper than ${limits.maxVariablesDepth} levels at ${path}`, limits.maxVariablesDepth);
    }
    const keys = Array.isArray(value) ? null : Object.keys(value);
    const count = keys ? keys.length : (value as unknown[]).length;
    if (count > limits.maxListItems) {
      return refuse(path, `${path} has ${count} items; at most ${limits.maxListItems} are accepted`, limits.maxListItems);
    }
    for (let i = 0; i < count; i++) {
      const key = keys ? keys[i]! : String(i);
      const problem = walk((value as Record<string, unknown>)[key], `${path}.${key}`, depth + 1);
      if (problem) return problem;
    }
    return null;
  };
  return walk(variables, 'variables', 1);
}

/** The byte, depth and list checks of one operation's query and variables, as both transports need them. */
export function requestOutOfBounds(query: unknown, variables: unknown, limits: RequestLimits): GraphQLError | null {
  return documentTooLarge(query, limits) ?? variablesOutOfBounds(variables, limits);
}

/** A validation rule refusing list (and object) literals in a document with more items than the limit. */
export function maxListItemsRule(maxListItems: number) {
  return (context: ValidationContext): ASTVisitor => ({
    ListValue(node) {
      if (node.values.length > maxListItems) {
        context.reportError(
          new GraphQLError(`A list literal has ${node.values.length} items; at most ${maxListItems} are accepted`, {
            nodes: node,
            extensions: { code: ErrorCode.BAD_USER_INPUT, limit: maxListItems },
          }),
        );
      }
    },
    ObjectValue(node) {
      if (node.fields.length > maxListItems) {
        context.reportError(
          new GraphQLError(`An object literal has ${node.fields.length} fields; at most ${maxListItems} are accepted`, {
            nodes: node,
            extensions: { code: ErrorCode.BAD_USER_INPUT, limit: maxListItems },
          }),
        );
      }
    },
  });
}
