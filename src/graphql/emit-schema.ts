/**
 * Writes `schema/schema.graphql` from the resolvers (`npm run schema`). A test fails when the
 * committed file differs, so typed clients always generate from the schema that runs.
 */
import 'reflect-metadata';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { printGatewaySchema } from './print-schema';

export const SCHEMA_FILE = path.resolve(__dirname, '../../schema/schema.graphql');

async function main() {
  const sdl = await printGatewaySchema();
  mkdirSync(path.dirname(SCHEMA_FILE), { recursive: true });
  writeFileSync(SCHEMA_FILE, sdl);
  console.log(`Wrote ${path.relative(process.cwd(), SCHEMA_FILE)}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
