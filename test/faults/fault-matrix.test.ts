/**
 * The fault matrix: every way the upstream misbehaves × {create, poll}, against the real simulator
 * behind a real gateway. For each cell it records what the client was answered, where the
 * generation ended, how many creates reached the upstream (never two for one mutation), and that
 * the process still serves. The table it computes is docs/operations.md's (between the fault-matrix
 * markers): the test fails when they differ; `npm run fault-matrix` rewrites that copy.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { FaultAction } from '../../src/simulator';
import { CREATE, GET, gql, gqlData, sleep, startGateway, waitFor, type TestGateway } from '../helpers/gateway';
import { START_TIMEOUT_MS } from '../helpers/timeouts';

const OPERATIONS_DOC = path.join(__dirname, '..', '..', 'docs', 'operations.md');
const START = '<!-- fault-matrix:start -->';
const END = '<!-- fault-matrix:end -->';
const INPUT = { model: 'google/veo-3.0-fast', prompt: 'a lighthouse in a storm' };
/** A poll makes 1 + 2 attempts (the client's retry budget); faulting all three fails the whole poll. */
const POLL_ATTEMPTS = 3;
const TERMINAL = new Set(['COMPLETED', 'FAILED', 'TIMED_OUT', 'CANCELLED']);

interface Fault {
  name: string;
  action: FaultAction;
}

const FAULTS: Fault[] = [
  { name: '429 with `Retry-After: 1`', action: { kind: 'status', status: 429, retryAfter: '1' } },
  { name: '429 without `Retry-After`', action: { kind: 'status', status: 429 } },
  { name: '500', action: { kind: 'status', status: 500 } },
  { name: '502', action: { kind: 'status', status: 502 } },
  { name: '503', action: { kind: 'status', status: 503 } },
  { name: '504', action: { kind: 'status', status: 504 } },
  { name: 'HTML error page (502)', action: { kind: 'html' } },
  { name: 'malformed JSON (200)', action: { kind: 'malformed' } },
  { name: 'oversized body (4 MiB, chunked)', action: { kind: 'oversized' } },
  { name: 'stall past the timeout', action: { kind: 'stall' } },
  { name: 'connection reset mid-body', action: { kind: 'reset' } },
];

interface Row {
  fault: string;
  on: 'create' | 'poll';
  answer: string;
  finalState: string;
  creates: number;
  healthy: boolean;
}

let gw: TestGateway;
let owners = 0;
const rows: Row[] = [];

beforeAll(async () => {
  gw = await startGateway({
    env: {
      // Short timeouts keep the stall cells quick (undici's timers tick about once a second).
      UPSTREAM_CREATE_TIMEOUT_MS: '1000',
      UPSTREAM_POLL_TIMEOUT_MS: '500',
    },
  });
}, START_TIMEOUT_MS);
afterAll(() => gw?.stop());

const baseUrl = () => gw.app.url.replace(/\/graphql$/, '');

async function pollResults(): Promise<Record<string, number>> {
  const text = await (await fetch(`${baseUrl()}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^gateway_polls_total\{result="(\w+)"\} (\d+)/gm)) out[m[1]!] = Number(m[2]);
  return out;
}

async function upstreamCheck(): Promise<string> {
  return ((await (await fetch(`${baseUrl()}/readyz`)).json()) as any).checks.upstream;
}

/** The process answers health checks and a further GraphQL request. */
async function healthy(key: string): Promise<boolean> {
  const health = await fetch(`${baseUrl()}/healthz`);
  const models = await gql(gw, key, '{ videoModels { id } }');
  return health.status === 200 && Array.isArray(models.body.data?.videoModels) && models.body.data.videoModels.length > 0;
}

async function settle(key: string, id: string): Promise<any> {
  return waitFor(
    `generation ${id} to end`,
    async () => {
      const g = (await gqlData(gw, key, GET, { id })).videoGeneration;
      return TERMINAL.has(g.status) ? g : null;
    },
    20_000,
    50,
  );
}

function describeError(error: { extensions?: Record<string, any> }): string {
  const retry = error.extensions?.retryAfterSeconds;
  return `\`${error.extensions?.code}\`${retry !== undefined ? ` (retryAfterSeconds ${retry})` : ''}`;
}

function describeGeneration(g: { status: string; error: { code: string } | null }): string {
  return g.error ? `\`${g.status}\` (\`${g.error.code}\`)` : `\`${g.status}\``;
}

async function runCell(fault: Fault, on: 'create' | 'poll'): Promise<Row> {
  // A 429 in the previous cell pauses the whole gateway for a moment; start each cell clean.
  await waitFor('the upstream back-off to end', async () => (await upstreamCheck()) === 'ok', 10_000, 50);
  const key = await gw.keyFor(`matrix-owner-${++owners}`);
  const createsBefore = gw.simulator.control.counts().create;
  const pollsBefore = await pollResults();
  gw.simulator.control.injectFault({ endpoint: on, action: fault.action, times: on === 'poll' ? POLL_ATTEMPTS : 1 });

  const res = await gql(gw, key, CREATE, { input: INPUT });
  let answer: string;
  let finalState: string;
  if (res.body.errors?.length) {
    answer = describeError(res.body.errors[0]!);
    const listed = (await gqlData(gw, key, '{ videoGenerations { nodes { id } } }')).videoGenerations.nodes;
    finalState = listed.length === 0 ? 'nothing stored' : `${listed.length} stored`;
  } else {
    const created = res.body.data.createVideoGeneration;
    const ended = await settle(key, created.id);
    if (on === 'poll') {
      const after = await pollResults();
      const failures = ['failed', 'rate_limited']
        .map((r) => [r, (after[r] ?? 0) - (pollsBefore[r] ?? 0)] as const)
        .filter(([, n]) => n > 0)
        .map(([r, n]) => `${n} poll ${r}`);
      answer = `created ${describeGeneration(created)}; ${failures.join(', ') || 'no poll failed'}, then retried`;
    } else {
      answer = describeGeneration(created);
    }
    finalState = describeGeneration(ended);
  }
  // Give a stray second create every chance to show up before counting.
  await sleep(300);
  const creates = gw.simulator.control.counts().create - createsBefore;
  gw.simulator.control.clearFaults();
  return { fault: fault.name, on, answer, finalState, creates, healthy: await healthy(key) };
}

function table(results: readonly Row[]): string {
  const lines = [
    "| Upstream fault | On | Gateway's answer to the client | Final state of the generation | Creates sent | Healthy after |",
    '|---|---|---|---|---|---|',
    ...results.map((r) => `| ${r.fault} | ${r.on} | ${r.answer} | ${r.finalState} | ${r.creates} | ${r.healthy ? 'yes' : 'NO'} |`),
  ];
  return lines.join('\n');
}

describe('fault matrix', () => {
  for (const fault of FAULTS) {
    for (const on of ['create', 'poll'] as const) {
      it(`${fault.name} on ${on}: one create, a clean answer, a healthy process`, async () => {
        const row = await runCell(fault, on);
        rows.push(row);
        expect(row.creates).toBe(1);
        expect(row.healthy).toBe(true);
        if (on === 'poll') {
          // A failed poll is retried, never lost: the generation still completes.
          expect(row.finalState).toBe('`COMPLETED`');
          expect(row.answer).toMatch(/1 poll (failed|rate_limited)/);
        } else {
          expect(row.finalState).not.toBe('`COMPLETED`');
        }
      });
    }
  }

  it('matches the table in docs/operations.md (UPDATE_FAULT_MATRIX=1 or `npm run fault-matrix` rewrites it)', () => {
    expect(rows).toHaveLength(FAULTS.length * 2);
    const doc = readFileSync(OPERATIONS_DOC, 'utf8');
    const start = doc.indexOf(START);
    const end = doc.indexOf(END);
    expect(start).toBeGreaterThan(-1);
    expect(end).toBeGreaterThan(start);
    const generated = `${START}\n${table(rows)}\n${END}`;
    if (process.env['UPDATE_FAULT_MATRIX'] === '1') {
      writeFileSync(OPERATIONS_DOC, doc.slice(0, start) + generated + doc.slice(end + END.length));
      return;
    }
    expect(doc.slice(start, end + END.length)).toBe(generated);
  });
});
