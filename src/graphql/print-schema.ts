import { lexicographicSortSchema, printSchema } from 'graphql';
import type { GenerationEvents } from '../generations/events';
import { buildGatewaySchema } from './schema';

const BANNER = '# Generated from the resolvers by `npm run schema`. Do not edit by hand.\n\n';

/** The schema as committed SDL: sorted, so diffs show real changes only. */
export async function printGatewaySchema(events: Pick<GenerationEvents, 'pubSub'>): Promise<string> {
  return BANNER + printSchema(lexicographicSortSchema(await buildGatewaySchema(events))) + '\n';
}
