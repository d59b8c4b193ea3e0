/**
 * Events between instances travel as JSON. A Generation carries Dates, which JSON turns into ISO
 * text; this brings them back, so a subscriber on another instance sees exactly what the local
 * in-process path would give it.
 */

/** Every Date-valued field of a Generation (and of its transitions). */
const DATE_FIELDS = new Set(['createdAt', 'updatedAt', 'completedAt', 'deadlineAt', 'nextPollAt', 'leaseUntil', 'at']);

const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

export const generationCodec = {
  stringify: (message: unknown): string => JSON.stringify(message),
  parse: (message: string): unknown =>
    JSON.parse(message, (key, value: unknown) =>
      DATE_FIELDS.has(key) && typeof value === 'string' && ISO_DATE.test(value) ? new Date(value) : value,
    ),
};
