import pino, { type Logger } from 'pino';
import { createRedactor } from './secret-redaction';

/**
 * The process logger: JSON lines on stdout. Anything that could carry a secret is redacted by
 * path, and the upstream key is additionally scrubbed from every line by value.
 */
export function createLogger(level: string, secrets: readonly string[] = [], destination?: pino.DestinationStream): Logger {
  const scrub = secrets.filter((s) => s.length >= 8);
  const redact = createRedactor(scrub);
  return pino(
    {
      level,
      base: undefined,
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
    destination,
  );
}
