/**
 * The one place that decides whether a database failure means "PostgreSQL cannot be reached" (a
 * restart, a network cut, a full pool) rather than a bug: those become a typed DATABASE_UNAVAILABLE
 * that clients can retry, instead of a masked internal error.
 */
import { ErrorCode, GatewayError } from '../errors';

/** Node socket errors seen when the server is down or goes away. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'EAI_AGAIN']);

/**
 * SQLSTATE classes and codes for "the server is not there for you": class 08 (connection exception),
 * 57P01-57P03 (admin shutdown, crash shutdown, cannot connect now), 53300 (too many connections).
 */
function isUnavailableSqlState(code: string): boolean {
  return code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' || code === '53300';
}

/** pg's own messages for a connection that ended or never came (they carry no code). */
const PG_CONNECTION_MESSAGE =
  /Connection terminated|connection timeout|Client has encountered a connection error|Client was closed|timeout exceeded when trying to connect/i;

// Duck-typed rather than `instanceof Error`: socket errors come from Node's core, which may be another realm.
export function isDatabaseUnavailable(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const { code, message, errors } = err as { code?: unknown; message?: unknown; errors?: unknown };
  if (typeof code === 'string' && (SOCKET_CODES.has(code) || isUnavailableSqlState(code))) return true;
  if (Array.isArray(errors) && errors.some(isDatabaseUnavailable)) return true; // AggregateError (IPv4 and IPv6 refused)
  return typeof message === 'string' && PG_CONNECTION_MESSAGE.test(message);
}

export function databaseUnavailable(): GatewayError {
  return new GatewayError(ErrorCode.DATABASE_UNAVAILABLE, 'The database is unavailable; try again shortly');
}

/** Rethrows connection failures as DATABASE_UNAVAILABLE, anything else unchanged. */
export function toStoreError(err: unknown): unknown {
  return isDatabaseUnavailable(err) ? databaseUnavailable() : err;
}
