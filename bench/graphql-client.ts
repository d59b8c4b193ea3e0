/** A GraphQL-over-HTTP call for the benchmarks' set-up steps (not for measured load). */

/** POSTs one GraphQL operation and returns `data`, throwing on any error. */
export async function graphql<T>(url: string, key: string, query: string, variables?: Record<string, unknown>): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: T; errors?: unknown[] };
  if (body.errors?.length || !body.data) throw new Error(`GraphQL error (${res.status}): ${JSON.stringify(body)}`);
  return body.data;
}
