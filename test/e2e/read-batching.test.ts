/**
 * Reads by id in one request share one store query: the service batches every read made in the
 * same tick (there is no second, per-request loader stacked on it).
 */
import { CREATE, gqlData, startGateway, type TestGateway } from '../helpers/gateway';

let gw: TestGateway;
let key: string;
let ids: string[];
let reads: string[][];

beforeAll(async () => {
  // Real time: the generations stay in flight, so no read is answered from the ended-generation memory.
  gw = await startGateway({ timeScale: 1 });
  key = await gw.keyFor('reader');
  ids = [];
  for (const prompt of ['one', 'two', 'three']) {
    const created = await gqlData(gw, key, CREATE, { input: { model: 'google/veo-3.0-fast', prompt } });
    ids.push(created.createVideoGeneration.id);
  }
  const store = gw.app.store;
  const getGenerations = store.getGenerations.bind(store);
  store.getGenerations = (owner, wanted) => {
    reads.push([...wanted]);
    return getGenerations(owner, wanted);
  };
}, 30_000);

afterAll(() => gw?.stop());

beforeEach(() => {
  reads = [];
});

describe('reads by id', () => {
  it('batch every videoGeneration of one request into one store query, each id once', async () => {
    const [a, b, c] = ids as [string, string, string];
    const data = await gqlData(
      gw,
      key,
      `query ($a: ID!, $b: ID!, $c: ID!) {
        a: videoGeneration(id: $a) { id status }
        b: videoGeneration(id: $b) { id status }
        c: videoGeneration(id: $c) { id status }
        again: videoGeneration(id: $a) { id prompt }
      }`,
      { a, b, c },
    );
    expect([data.a.id, data.b.id, data.c.id, data.again.id]).toEqual([a, b, c, a]);
    expect(data.again.prompt).toBe('one');
    expect(reads).toHaveLength(1);
    expect([...reads[0]!].sort()).toEqual([a, b, c].sort());
  });

  it('read a page and the ids beside it in at most two store queries, never one per generation', async () => {
    const data = await gqlData(
      gw,
      key,
      `query ($a: ID!, $b: ID!) {
        page: videoGenerations(first: 10) { nodes { id status } }
        a: videoGeneration(id: $a) { id }
        b: videoGeneration(id: $b) { id }
      }`,
      { a: ids[0], b: ids[1] },
    );
    expect(data.page.nodes.map((n: { id: string }) => n.id).sort()).toEqual([...ids].sort());
    // The two reads by id share a query; the page's reads join it, or (when listing its ids takes
    // longer than a tick, as over PostgreSQL) take one more. Never a query per generation.
    expect(reads.length).toBeLessThanOrEqual(2);
    expect(reads.some((r) => r.includes(ids[0]!) && r.includes(ids[1]!))).toBe(true);
    expect(reads.flat().filter((id) => id === ids[2])).toHaveLength(1);
  });
});
