import type { ApolloServerPlugin } from '@apollo/server';

/**
 * Every GraphQL answer says `cache-control: no-store`: it is one owner's data, read at one moment.
 * Apollo's cache-control plugin said the same (no field sets a cache hint) but wrapped every field's
 * resolver to collect hints, 8-11 % of a list request's CPU (BENCHMARKS.md, HTTP); it is off in app.ts.
 */
export const noStorePlugin: ApolloServerPlugin = {
  async requestDidStart() {
    return {
      async willSendResponse({ response }) {
        response.http.headers.set('cache-control', 'no-store');
      },
    };
  },
};
