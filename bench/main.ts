/**
 * `npm run bench [-- --quick] [-- --only PART[,PART]]`: runs every benchmark, prints one table, and
 * writes it into BENCHMARKS.md between the `bench:table` markers (the prose around it is kept).
 * `--only` (parts: upstream, fanout, http, creates, attacks, startup, growth, webhooks, poller, timing, media) runs just those parts of the plan and
 * prints their rows without touching BENCHMARKS.md, whose table must hold a whole run; so does `--quick`.
 * `--webhooks-full` runs the webhook part at the 1,000 endpoints instead of 200.
 * `--poller-scale [N]` adds the poller with N (default 10,000) generations in flight beside 100, on the
 * embedded store and on PostgreSQL when BENCH_POSTGRES_URL is set (`--only poller` runs it alone); it
 * takes minutes, so it is in no run without the flag.
 * `--growth-stores embedded|postgres` measures the data growth on that store only (default both).
 * `--sse-fanout-full` runs the SSE fan-out tier (part of `fanout`) at 1,000 and 10,000 streams instead of 1,000.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { GrowthStore } from './data-growth';
import { POLLER_SCALE_PLAN } from './poller-scale';
import { runBenchmarks, type BenchPlan, FULL_PLAN, QUICK_PLAN, SSE_FANOUT_FULL, WEBHOOK_FULL_PLAN } from './suite';
import { markdownTable } from './results';

const START = '<!-- bench:table:start -->';
const END = '<!-- bench:table:end -->';

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const only = onlyParts();
  const fanoutOnly = fanoutSizes(process.argv);
  const growthOnly = sizesAfter(process.argv, '--growth', 'generations per owner', '--growth 1000,100000');
  const base = quick ? QUICK_PLAN : FULL_PLAN;
  // `--fanout N,M` sets the fan-out sizes, alone or beside the parts `--only` names.
  const chosen: BenchPlan = fanoutOnly ? { ...(only ? pick(base, only) : {}), fanout: fanoutOnly } : only ? pick(base, only) : base;
  const withWebhooks: BenchPlan = chosen.webhooks && process.argv.includes('--webhooks-full') ? { ...chosen, webhooks: WEBHOOK_FULL_PLAN } : chosen;
  const pollerSize = pollerScale(process.argv, only?.includes('poller') ?? false);
  const pollerConcurrency =
    positiveAfter(process.argv, '--poller-concurrency', 'POLL_CONCURRENCY for the poller-scale gateway') ?? POLLER_SCALE_PLAN.concurrency;
  const withPoller: BenchPlan = pollerSize
    ? { ...withWebhooks, poller: { ...POLLER_SCALE_PLAN, size: pollerSize, concurrency: pollerConcurrency } }
    : withWebhooks;
  let plan: BenchPlan =
    withPoller.sseFanout && process.argv.includes('--sse-fanout-full') ? { ...withPoller, sseFanout: SSE_FANOUT_FULL } : withPoller;
  // `--growth N,M` runs the data-growth part at these sizes (the first is the baseline), likewise.
  if (growthOnly) plan = { ...(only || fanoutOnly ? plan : {}), growth: { ...base.growth!, sizes: growthOnly } };
  const growthStores = growthStoresAsked(process.argv);
  if (growthStores && plan.growth) plan = { ...plan, growth: { ...plan.growth, stores: growthStores } };
  const started = Date.now();
  const rows = await runBenchmarks(plan, (line) => console.error(line));
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  const cpus = os.cpus();
  const machine = `${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GB RAM, ${os.type()} ${os.release()}, Node ${process.version}`;
  const table = markdownTable(rows);
  const section = [
    START,
    `Run: \`npm run bench\` on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, ${seconds} s. Machine: ${machine}.`,
    '',
    table,
    END,
  ].join('\n');
  console.log(`\n${table}\n`);
  // A partial or quick run (profiling, before/after comparisons, a smaller run of each part) prints its
  // table but leaves BENCHMARKS.md alone, whose table holds a whole full run.
  if (only || fanoutOnly || growthOnly || quick) {
    console.error(`${quick ? 'quick' : 'partial'} run: BENCHMARKS.md left as it is (${seconds} s).`);
    return;
  }
  const file = path.resolve(__dirname, '../../BENCHMARKS.md');
  const current = existsSync(file) ? readFileSync(file, 'utf8') : `# Benchmarks\n\n${START}\n${END}\n`;
  const a = current.indexOf(START);
  const b = current.indexOf(END);
  const next = a >= 0 && b > a ? current.slice(0, a) + section + current.slice(b + END.length) : `${current}\n${section}\n`;
  writeFileSync(file, next);
  console.error(`Wrote ${path.relative(process.cwd(), file)} (${seconds} s).`);
  // `npm run bench` sets BENCH_STARTED_AT (epoch ms) before compiling, so the total includes it.
  const startedAt = Number(process.env.BENCH_STARTED_AT);
  const compiled =
    Number.isFinite(startedAt) && startedAt > 0
      ? ` (${((started - startedAt) / 1000).toFixed(0)} s compiling and starting, ${seconds} s benchmarks)`
      : '';
  console.error(`Total: ${((Date.now() - (compiled ? startedAt : started)) / 1000).toFixed(0)} s${compiled}.`);
}

/** `--fanout 1000,10000`: only the fan-out benchmark, at these connection counts; null without the flag. */
function fanoutSizes(argv: readonly string[]): number[] | null {
  return sizesAfter(argv, '--fanout', 'connection counts', '--fanout 1000,10000');
}

/** The positive integers after `flag` (comma-separated); null without the flag. */
function sizesAfter(argv: readonly string[], flag: string, what: string, example: string): number[] | null {
  const i = argv.indexOf(flag);
  if (i < 0) return null;
  const sizes = (argv[i + 1] ?? '').split(',').map(Number);
  if (!sizes.length || sizes.some((n) => !Number.isInteger(n) || n <= 0)) {
    throw new Error(`${flag} takes ${what} separated by commas, e.g. ${example}`);
  }
  return sizes;
}

/** `--growth-stores embedded,postgres`: the stores the data-growth part measures; null without the flag. */
function growthStoresAsked(argv: readonly string[]): GrowthStore[] | null {
  const i = argv.indexOf('--growth-stores');
  if (i < 0) return null;
  const stores = (argv[i + 1] ?? '').split(',');
  if (!stores.length || stores.some((s) => s !== 'embedded' && s !== 'postgres')) {
    throw new Error(`--growth-stores takes embedded, postgres or both separated by a comma; got "${argv[i + 1] ?? ''}"`);
  }
  return stores as GrowthStore[];
}

/** `--poller-scale [N]`: N in flight (default 10,000); also on with `--only poller`; null otherwise. */
function pollerScale(argv: readonly string[], named: boolean): number | null {
  const i = argv.indexOf('--poller-scale');
  if (i < 0) return named ? POLLER_SCALE_PLAN.size : null;
  const value = argv[i + 1];
  if (value === undefined || value.startsWith('--')) return POLLER_SCALE_PLAN.size;
  return positiveAfter(argv, '--poller-scale', 'a number of generations in flight (e.g. --poller-scale 1000)');
}

/** `--flag N`: a positive whole number; null when the flag is absent. */
function positiveAfter(argv: readonly string[], flag: string, what: string): number | null {
  const i = argv.indexOf(flag);
  if (i < 0) return null;
  const n = Number(argv[i + 1]);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag} takes ${what}, a positive whole number; got "${argv[i + 1] ?? ''}"`);
  return n;
}

const PARTS = ['upstream', 'fanout', 'http', 'creates', 'attacks', 'startup', 'growth', 'webhooks', 'poller', 'timing', 'media'] as const;
type Part = (typeof PARTS)[number];

/** The parts named by `--only a,b` (or `--only=a,b`); null when absent. */
function onlyParts(): Part[] | null {
  const args = process.argv;
  const i = args.findIndex((a) => a === '--only' || a.startsWith('--only='));
  if (i < 0) return null;
  const value = args[i]!.startsWith('--only=') ? args[i]!.slice('--only='.length) : (args[i + 1] ?? '');
  const parts = value.split(',').filter(Boolean);
  const unknown = parts.filter((p) => !(PARTS as readonly string[]).includes(p));
  if (parts.length === 0 || unknown.length > 0) {
    throw new Error(`--only takes a comma-separated list of ${PARTS.join(', ')}; got "${value}"`);
  }
  return parts as Part[];
}

function pick(plan: BenchPlan, parts: readonly Part[]): BenchPlan {
  const out: BenchPlan = {};
  for (const part of parts) (out as Record<Part, unknown>)[part] = plan[part];
  if (parts.includes('startup')) out.startupDataFolder = plan.startupDataFolder;
  // The SSE tier is part of the fan-out.
  if (parts.includes('fanout')) out.sseFanout = plan.sseFanout;
  return out;
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
