import { lexicographicSortSchema, printSchema } from 'graphql';
import { buildGatewaySchema } from './schema';

const BANNER = '# Generated from the resolvers by `npm run schema`. Do not edit by hand.\n\n';

/** The schema as committed SDL: sorted, so diffs show real changes only. */
export async function printGatewaySchema(): Promise<string> {
  return BANNER + printSchema(lexicographicSortSchema(await buildGatewaySchema())) + '\n';
}
