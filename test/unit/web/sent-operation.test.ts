import { print } from 'graphql';
import { sentOperation } from '../../../src/web/playground/sent-operation';

describe('the operation the playground sends', () => {
  const mine = 'subscription Mine { videoGenerationsUpdated { id } }';

  it('takes the name from the text when GraphiQL still holds the previous tab’s name', () => {
    const sent = sentOperation(mine, 'Models');
    expect(sent?.operationName).toBe('Mine');
    // The document decides the transport (graphql-ws for a subscription), so it must be this text's.
    expect(print(sent!.documentAST)).toContain('subscription Mine');
  });

  it('names the only operation when GraphiQL gives no name yet', () => {
    expect(sentOperation(mine, undefined)?.operationName).toBe('Mine');
    expect(sentOperation(mine, null)?.operationName).toBe('Mine');
  });

  it('keeps the chosen operation when the text has several', () => {
    const two = 'query A { videoModels { id } } query B { videoModels { name } }';
    expect(sentOperation(two, 'B')?.operationName).toBe('B');
    // An unknown name with several candidates is left for the gateway to report.
    expect(sentOperation(two, 'Gone')?.operationName).toBe('Gone');
  });

  it('leaves an anonymous operation unnamed', () => {
    expect(sentOperation('{ videoModels { id } }', 'Models')).toEqual(expect.objectContaining({ operationName: undefined }));
  });

  it('sends text that does not parse as typed, so the gateway reports the syntax error', () => {
    expect(sentOperation('query {', 'Models')).toBeNull();
  });
});
