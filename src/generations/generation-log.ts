/**
 * The lines a person reads to follow generations at the default level: one when a generation is
 * created, one when it ends (with how long it took and why it failed), and the steps in between at
 * debug. Service and poller both report through here so every line about a generation carries the
 * same fields, whichever path changed it.
 */
import type { Logger } from 'pino';
import { isTerminal, type Generation } from '../model/generation';

function fields(g: Generation): Record<string, unknown> {
  return {
    generationId: g.id,
    owner: g.owner,
    model: g.input.model,
    status: g.status,
    version: g.version,
    ...(g.upstreamId ? { upstreamId: g.upstreamId } : {}),
  };
}

export function logGenerationCreated(log: Logger, g: Generation): void {
  log.info(fields(g), `generation created (${g.input.model})`);
}

/** A visible change: info when it is the generation's end, debug for the steps before it. */
export function logGenerationChanged(log: Logger, g: Generation): void {
  if (!isTerminal(g.status)) {
    log.debug(fields(g), `generation ${g.status.toLowerCase()}`);
    return;
  }
  const seconds = Math.round(((g.completedAt ?? g.updatedAt).getTime() - g.createdAt.getTime()) / 100) / 10;
  log.info(
    { ...fields(g), seconds, ...(g.error ? { errorCode: g.error.code } : {}) },
    `generation ${g.status.toLowerCase()} after ${seconds} s${g.error ? ` (${g.error.code})` : ''}`,
  );
}
