/**
 * The list query is served from kept pages and kept ended generations (BENCHMARKS.md, HTTP): what a
 * client lists must still follow every change, straight after it happens.
 */
import { CREATE, gqlData, waitFor, useGateway } from '../helpers/gateway';

const CANCEL = `mutation Cancel($id: ID!) { cancelVideoGeneration(id: $id) { id status } }`;

const LIST = `query List($filter: VideoGenerationFilter) {
  videoGenerations(first: 20, filter: $filter) { nodes { id status version video { url } } }
}`;

const gw = useGateway();
let alice: string;

beforeAll(async () => {
  alice = await gw.keyFor('alice');
});

type Node = { id: string; status: string; version: number; video: { url: string } | null };
const list = async (filter?: unknown): Promise<Node[]> => (await gqlData(gw, alice, LIST, { filter })).videoGenerations.nodes;

it('a list read again and again shows a cancel, a completion and a new generation as soon as they happen', async () => {
  const done = (await gqlData(gw, alice, CREATE, { input: { model: 'veo2', prompt: 'a completing clip' } })).createVideoGeneration;
  const cancelled = (await gqlData(gw, alice, CREATE, { input: { model: 'google/veo3', prompt: 'a cancelled clip' } })).createVideoGeneration;
  expect((await list()).map((n) => n.id)).toEqual([cancelled.id, done.id]);
  await gqlData(gw, alice, CANCEL, { id: cancelled.id });
  expect((await list()).find((n) => n.id === cancelled.id)!.status).toBe('CANCELLED');
  expect((await list({ status: ['CANCELLED'] })).map((n) => n.id)).toEqual([cancelled.id]);

  // Listed over and over while the poller completes the other: the list follows it.
  const completed = await waitFor('the list to show the completion', async () => {
    const node = (await list()).find((n) => n.id === done.id)!;
    return node.status === 'COMPLETED' ? node : null;
  });
  expect(completed.video?.url).toMatch(/^http/);
  const [again] = (await list({ status: ['COMPLETED'] })).filter((n) => n.id === done.id);
  expect(again).toEqual(completed);

  const fresh = (await gqlData(gw, alice, CREATE, { input: { model: 'veo2', prompt: 'a third clip' } })).createVideoGeneration;
  expect((await list()).map((n) => n.id)).toEqual([fresh.id, cancelled.id, done.id]);
  const bob = await gw.keyFor('bob');
  expect((await gqlData(gw, bob, LIST, {})).videoGenerations.nodes).toEqual([]);
});
