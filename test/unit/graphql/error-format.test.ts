/**
 * Which codes reach a client as they are: those graphql-js, Apollo and the request limits assign,
 * and the gateway's own; anything else is logged once and masked.
 */
import { ApolloServerErrorCode } from '@apollo/server/errors';
import { GraphQLError } from 'graphql';
import pino from 'pino';
import { ErrorCode, RequestErrorCode } from '../../../src/errors';
import { createErrorFormatter } from '../../../src/graphql/errors';

function formatter() {
  const lines: string[] = [];
  const log = pino({ level: 'error' }, { write: (line: string) => lines.push(line) });
  return { format: createErrorFormatter(log), lines };
}

function formatted(error: GraphQLError) {
  return { message: error.message, extensions: { ...error.extensions, stacktrace: ['at x'] } };
}

describe('createErrorFormatter', () => {
  it.each([
    ...Object.values(ApolloServerErrorCode).filter((code) => code !== ApolloServerErrorCode.INTERNAL_SERVER_ERROR),
    RequestErrorCode.DOCUMENT_TOO_LARGE,
    ErrorCode.RATE_LIMITED,
  ])('passes %s through with its message, without the stack trace', (code) => {
    const { format, lines } = formatter();
    const error = new GraphQLError('refused for a reason', { extensions: { code, limit: 3 } });
    expect(format(formatted(error), error)).toEqual({ message: 'refused for a reason', extensions: { code, limit: 3 } });
    expect(lines).toEqual([]);
  });

  it('masks an error with a code it does not know, and logs it once', () => {
    const { format, lines } = formatter();
    const error = new GraphQLError('db password is hunter2', { extensions: { code: 'ECONNRESET' } });
    expect(format(formatted(error), error)).toMatchObject({ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
    expect(lines).toHaveLength(1);
  });

  it('masks a plain Error even when it claims a code that may pass', () => {
    const { format, lines } = formatter();
    const error = new Error('internal detail');
    const out = format({ message: error.message, extensions: { code: ApolloServerErrorCode.BAD_USER_INPUT } }, error);
    expect(out).toMatchObject({ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
    expect(lines).toHaveLength(1);
  });
});
