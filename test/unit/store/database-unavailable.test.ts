import { ErrorCode } from '../../../src/errors';
import { isDatabaseUnavailable, toStoreError } from '../../../src/store/database-unavailable';

const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('isDatabaseUnavailable', () => {
  it.each([
    ['refused connection', withCode('ECONNREFUSED')],
    ['reset connection', withCode('ECONNRESET')],
    ['admin shutdown (a restart)', withCode('57P01', 'terminating connection due to administrator command')],
    ['starting up', withCode('57P03', 'the database system is starting up')],
    ['connection exception class 08', withCode('08006')],
    ['pg: connection terminated', new Error('Connection terminated unexpectedly')],
    ['pg: connect timeout', new Error('timeout exceeded when trying to connect')],
    ['both addresses refused', new AggregateError([withCode('ECONNREFUSED'), withCode('ECONNREFUSED')])],
  ])('recognises %s', (_, err) => {
    expect(isDatabaseUnavailable(err)).toBe(true);
    expect(toStoreError(err)).toMatchObject({ code: ErrorCode.DATABASE_UNAVAILABLE });
  });

  it.each([
    ['a unique violation', withCode('23505', 'duplicate key value')],
    ['a syntax error', withCode('42601', 'syntax error')],
    ['a plain bug', new TypeError('cannot read properties of undefined')],
    ['a non-error', 'boom'],
  ])('leaves %s alone', (_, err) => {
    expect(isDatabaseUnavailable(err)).toBe(false);
    expect(toStoreError(err)).toBe(err);
  });
});
