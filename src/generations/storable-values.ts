/**
 * Checks that client-supplied text and dates can be stored and compared by PostgreSQL at all.
 * A value it cannot hold (a NUL character, a lone UTF-16 surrogate, a date outside its range) would
 * otherwise reach the database and come back as an internal error after quota was spent; these are
 * the client's mistakes and are refused as BAD_USER_INPUT naming the field, before anything else runs.
 */
import { badInput } from '../errors';

/**
 * Earliest and latest instants accepted from a client (cursors, `since`). PostgreSQL's timestamptz
 * holds 4713 BC to 294276 AD, but ISO years before 1 or past 9999 do not round-trip through every
 * driver and tool; no generation can be older than the Unix epoch.
 */
export const EARLIEST_DATE = new Date('1970-01-01T00:00:00.000Z');
export const LATEST_DATE = new Date('9999-12-31T23:59:59.999Z');

/** Throws BAD_USER_INPUT when `value` holds a NUL character or a lone surrogate. */
export function checkStorableText(field: string, value: string): string {
  if (value.includes('\u0000')) throw badInput(field, `${field} must not contain NUL characters`);
  if (!isWellFormed(value)) {
    throw badInput(field, `${field} must be valid Unicode (it contains a lone UTF-16 surrogate)`);
  }
  return value;
}

/**
 * Checks every string inside `value` (model options are JSON objects, stored as JSONB, which refuses
 * NUL as well); returns `value` unchanged. Depth and size are already bounded by the request limits.
 */
export function checkStorableStrings<T>(field: string, value: T): T {
  if (typeof value === 'string') checkStorableText(field, value);
  else if (Array.isArray(value)) value.forEach((item: unknown, i) => checkStorableStrings(`${field}.${i}`, item));
  else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      checkStorableText(`${field}.${key}`, key);
      checkStorableStrings(`${field}.${key}`, item);
    }
  }
  return value;
}

/** Throws BAD_USER_INPUT when `value` is not a valid date between EARLIEST_DATE and LATEST_DATE. */
export function checkStorableDate(field: string, value: Date): Date {
  const time = value.getTime();
  if (Number.isNaN(time) || time < EARLIEST_DATE.getTime() || time > LATEST_DATE.getTime()) {
    throw badInput(field, `${field} must be a date between ${EARLIEST_DATE.toISOString()} and ${LATEST_DATE.toISOString()}`);
  }
  return value;
}

// String.prototype.isWellFormed is Node 20+; the typings in use may predate it.
function isWellFormed(value: string): boolean {
  return (value as string & { isWellFormed(): boolean }).isWellFormed();
}
