import pino, { type Logger } from 'pino';

/**
 * The process logger: JSON lines on stdout. Anything that could carry a secret is redacted by
 * path, and the upstream key is additionally scrubbed from every line by value.
 */
export function createLogger(level: string, secrets: readonly string[] = [], destination?: pino.DestinationStream): Logger {
  const scrub = secrets.filter((s) => s.length >= 8);
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
            streamWrite(line) {
              let out = line;
              for (const s of scrub) out = out.split(s).join('[redacted]');
              return out;
            },
          }
        : {},
    },
    destination,
  );
}
