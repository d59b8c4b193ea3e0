/**
 * GraphiQL hands its fetcher the operation name and parsed document it last computed, which lag
 * the editor for a moment after a tab switch or an edit. Run then, and the new text goes out under
 * the old name ("Unknown operation named …"), or a subscription goes over HTTP. The playground
 * takes both from the text that is actually sent instead.
 */
import { Kind, parse, type DocumentNode } from 'graphql';

export interface SentOperation {
  documentAST: DocumentNode;
  /** The requested operation if the text has it, else the text's only operation. */
  operationName: string | undefined;
}

/** `null` when the text does not parse: it is sent as typed, and the gateway reports the syntax error. */
export function sentOperation(query: string, requested: string | null | undefined): SentOperation | null {
  let documentAST: DocumentNode;
  try {
    documentAST = parse(query);
  } catch {
    return null;
  }
  const names = documentAST.definitions.flatMap((definition) => (definition.kind === Kind.OPERATION_DEFINITION ? [definition.name?.value] : []));
  if (requested && names.includes(requested)) return { documentAST, operationName: requested };
  return { documentAST, operationName: names.length === 1 ? names[0] : (requested ?? undefined) };
}
