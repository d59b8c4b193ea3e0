import pino, { type Logger } from 'pino';
import { createRedactor } from './secret-redaction';

/** `auto`: pretty when no destination is given and stdout is a terminal (a person is reading), JSON otherwise. */
export type LogFormat = 'auto' | 'pretty' | 'json';

/** Longest string an error in a log line carries per field, in characters; longer ones are cut. */
export const LOGGED_ERROR_STRING_MAX = 1_000;

/**
 * The process logger: JSON lines on stdout, or one coloured readable line per event on a terminal.
 * Anything that could carry a secret is redacted by path, and the upstream key is additionally
 * scrubbed from every line by value. The scrub runs on pino's JSON line before any formatting, so
 * the pretty format shows exactly what the JSON one would, never more. pino-pretty is loaded only
 * when the pretty format is chosen: deployments log JSON and need not hold it in memory.
 */
export async function createLogger(
  level: string,
  secrets: readonly string[] = [],
  destination?: pino.DestinationStream,
  format: LogFormat = 'json',
): Promise<Logger> {
  const scrub = secrets.filter((s) => s.length >= 8);
  const redact = createRedactor(scrub);
  const toTerminal = !destination && process.stdout.isTTY === true;
  const pretty = format === 'pretty' || (format === 'auto' && toTerminal);
  const stream = pretty
    ? (await import('pino-pretty')).default({
        destination: destination ?? 1,
        colorize: toTerminal,
        // Synchronous like pino's own stdout: nothing is lost when the process exits right after a line.
        sync: true,
        translateTime: 'SYS:HH:MM:ss.l',
        // Every line of one process carries the same instance id; it is in the start-up banner.
        ignore: 'instance',
        singleLine: true,
      })
    : destination;
  return pino(
    {
      level,
      base: undefined,
      serializers: { err: serializeError },
      redact: {
        paths: ['authorization', '*.authorization', 'req.headers.authorization', 'headers.authorization', 'apiKey', '*.apiKey'],
        censor: '[redacted]',
      },
      hooks: scrub.length
        ? {
            // Encoded, re-cased and split copies too: an upstream error may echo the key in any of them.
            streamWrite: redact,
          }
        : {},
    },
    stream,
  );
}

/**
 * pino's error serializer, minus what database drivers attach: PGlite's errors carry the statement's
 * whole parameter list (`params`: prompts, data URIs of several MB), pg's can carry long values in
 * `detail`/`where`. Parameters are replaced by their count; every other string is cut to
 * LOGGED_ERROR_STRING_MAX, so no log line ever holds a client's payload whole.
 */
export function serializeError(err: unknown): unknown {
  const out = pino.stdSerializers.err(err as Error) as unknown as Record<string, unknown>;
  if (typeof out !== 'object' || out === null) return out;
  return trimErrorFields(out, 0);
}

function trimErrorFields(value: Record<string, unknown>, depth: number): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    if (key === 'params' || key === 'parameters' || key === 'values') {
      result[`${key}Count`] = Array.isArray(field) ? field.length : undefined;
      continue;
    }
    if (key === 'queryOptions') continue;
    // A stack holds code locations, never values, and is worth having whole.
    result[key] = key === 'stack' ? field : trimValue(field, depth);
  }
  return result;
}

function trimValue(value: unknown, depth: number): unknown {
  if (typeof value === 'string') {
    return value.length > LOGGED_ERROR_STRING_MAX
      ? `${value.slice(0, LOGGED_ERROR_STRING_MAX)}… [${value.length - LOGGED_ERROR_STRING_MAX} more characters]`
      : value;
  }
  if (depth >= 4 || typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.slice(0, 20).map((v) => trimValue(v, depth + 1));
  return trimErrorFields(value as Record<string, unknown>, depth + 1);
}

/**
 * A child logger with these bindings, made the first time it is asked for. pino's `child()` serialises
 * its bindings through the redaction on every call (≈ 1.4 % of a small HTTP read's CPU, BENCHMARKS.md),
 * and most requests never log.
 */
export function lazyChild(parent: Logger, bindings: pino.Bindings): () => Logger {
  let child: Logger | undefined;
  return () => (child ??= parent.child(bindings));
}
