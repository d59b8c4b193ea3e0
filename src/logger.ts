import pino, { type Logger } from 'pino';
import pinoPretty from 'pino-pretty';

/** `auto`: pretty when no destination is given and stdout is a terminal (a person is reading), JSON otherwise. */
export type LogFormat = 'auto' | 'pretty' | 'json';

/**
 * The process logger: JSON lines on stdout, or one coloured readable line per event on a terminal.
 * Anything that could carry a secret is redacted by path, and the upstream key is additionally
 * scrubbed from every line by value. The scrub runs on pino's JSON line before any formatting, so
 * the pretty format shows exactly what the JSON one would, never more.
 */
export function createLogger(
  level: string,
  secrets: readonly string[] = [],
  destination?: pino.DestinationStream,
  format: LogFormat = 'json',
): Logger {
  const scrub = secrets.filter((s) => s.length >= 8);
  const toTerminal = !destination && process.stdout.isTTY === true;
  const pretty = format === 'pretty' || (format === 'auto' && toTerminal);
  const stream = pretty
    ? pinoPretty({
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
    stream,
  );
}
