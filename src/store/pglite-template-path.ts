/**
 * Where the saved in-memory template (pglite-template.ts) of the installed PGlite version is kept.
 * A module of its own, without PGlite: the gateway's main thread needs the path to hand to the
 * database thread, not PGlite's JavaScript, which only that thread runs.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

const CACHE_DIR = path.resolve(__dirname, '../../node_modules/.cache/veo-gateway');

/** Where the template of this PGlite version is kept; null when the version cannot be told. */
export function templatePath(): string | null {
  try {
    const entry = require.resolve('@electric-sql/pglite');
    let dir = path.dirname(entry);
    while (!dir.endsWith(`${path.sep}pglite`) && dir !== path.dirname(dir)) dir = path.dirname(dir);
    const { version } = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string };
    return path.join(CACHE_DIR, `pglite-${version}-initdb.tar`);
  } catch {
    return null;
  }
}
