/**
 * All configuration, read from the environment in one place and validated at start-up.
 * A bad value fails fast with the variable's name; nothing else in the code reads `process.env`.
 */
import path from 'node:path';
import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const positive = z.coerce.number().positive().max(1_000_000);

const schema = z.object({
  NODE_ENV: z.string().default('development'),
  /** HTTP and WebSocket port. 0 picks a free port. */
  PORT: int(0, 65_535).default(4000),
  /** Interface to listen on. The container image sets 0.0.0.0. */
  HOST: z.string().min(1).default('127.0.0.1'),
  /** Where the embedded store (and the simulator's job file) live. */
  DATA_DIR: z.string().min(1).default('./data'),
  /** Keep the embedded store in memory only (tests, throwaway runs). */
  DATA_IN_MEMORY: bool.default(false),
  /** The AI/ML API key. When unset, an in-process simulator stands in for the upstream. */
  AIMLAPI_API_KEY: z.string().min(1).optional(),
  AIMLAPI_BASE_URL: z.url({ protocol: /^https?$/ }).default('https://api.aimlapi.com'),
  /** Use the legacy `/v2/generate/video/google/generation` path instead of `/v2/video/generations`. */
  AIMLAPI_LEGACY_PATHS: bool.default(false),
  /** Port of the in-process simulator (fixed by default so video URLs survive a restart). */
  SIMULATOR_PORT: int(0, 65_535).default(4010),
  /**
   * Multiplies simulated generation times, and the poller's expectations with them (0.01 makes a
   * 2-minute job take 1.2 s). Only used with the simulator; the real upstream runs at 1.
   */
  SIMULATOR_TIME_SCALE: positive.default(1),
  /**
   * Multiplies the poller's expectations of upstream times when talking to a time-scaled simulator
   * over AIMLAPI_BASE_URL (tests, benchmarks). Leave at 1 for the real upstream.
   */
  UPSTREAM_TIME_SCALE: positive.default(1),
  /** Shortest and longest gap between two polls of one generation, in ms (at time scale 1). */
  POLL_MIN_INTERVAL_MS: int(10, 600_000).default(2_000),
  POLL_MAX_INTERVAL_MS: int(10, 3_600_000).default(60_000),
  /** Upstream status polls in flight at once, across all generations. */
  POLL_CONCURRENCY: int(1, 1_000).default(8),
  /** How long a claimed generation stays leased to this instance, in ms. */
  POLL_LEASE_MS: int(1_000, 3_600_000).default(60_000),
  /** A generation still pending after this many seconds (at time scale 1) ends TIMED_OUT. */
  GENERATION_DEADLINE_SECONDS: int(10, 86_400).default(900),
  /** Timeout for the paid create call, in ms: past it the outcome is unknown and the generation FAILED. */
  UPSTREAM_CREATE_TIMEOUT_MS: int(100, 600_000).default(60_000),
  /** Timeout for one status poll attempt, in ms. */
  UPSTREAM_POLL_TIMEOUT_MS: int(100, 600_000).default(15_000),
  /** Largest accepted HTTP request body, in bytes. */
  HTTP_MAX_BODY_BYTES: int(1_024, 64 * 1024 * 1024).default(1024 * 1024),
  /** Answer introspection queries. Defaults to on outside production. */
  INTROSPECTION: bool.optional(),
  /** Create a development API key when the key store is empty (never in production). */
  DEV_API_KEY: bool.optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** How long in-flight HTTP requests and WebSockets get to finish on shutdown, in ms. */
  SHUTDOWN_GRACE_MS: int(0, 600_000).default(10_000),
});

export interface Config {
  production: boolean;
  port: number;
  host: string;
  dataDir: string | undefined;
  /** Null means: run the in-process simulator. */
  upstream: { apiKey: string; baseUrl: string; legacyPaths: boolean } | null;
  simulator: { port: number; timeScale: number };
  /** Scale applied to every upstream-time expectation (poll schedule, deadline, progress). */
  timeScale: number;
  poll: { minIntervalMs: number; maxIntervalMs: number; concurrency: number; leaseMs: number };
  deadlineMs: number;
  upstreamTimeouts: { createMs: number; pollMs: number };
  http: { maxBodyBytes: number; graphqlPath: string };
  introspection: boolean;
  devApiKey: boolean;
  logLevel: string;
  shutdownGraceMs: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads and validates configuration; throws `ConfigError` naming each bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // An empty (or blank) variable means "unset", as in most shells' `VAR= cmd`; a blank one would
  // otherwise coerce to 0 (PORT=" " would listen on a random port).
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v.trim() !== ''));
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  if (e.POLL_MIN_INTERVAL_MS > e.POLL_MAX_INTERVAL_MS) {
    throw new ConfigError('Invalid configuration:\n  POLL_MIN_INTERVAL_MS: must not exceed POLL_MAX_INTERVAL_MS');
  }
  const production = e.NODE_ENV === 'production';
  const upstream = e.AIMLAPI_API_KEY
    ? { apiKey: e.AIMLAPI_API_KEY, baseUrl: e.AIMLAPI_BASE_URL.replace(/\/+$/, ''), legacyPaths: e.AIMLAPI_LEGACY_PATHS }
    : null;
  return {
    production,
    port: e.PORT,
    host: e.HOST,
    dataDir: e.DATA_IN_MEMORY ? undefined : path.resolve(e.DATA_DIR),
    upstream,
    simulator: { port: e.SIMULATOR_PORT, timeScale: e.SIMULATOR_TIME_SCALE },
    timeScale: upstream ? e.UPSTREAM_TIME_SCALE : e.SIMULATOR_TIME_SCALE,
    poll: {
      minIntervalMs: e.POLL_MIN_INTERVAL_MS,
      maxIntervalMs: e.POLL_MAX_INTERVAL_MS,
      concurrency: e.POLL_CONCURRENCY,
      leaseMs: e.POLL_LEASE_MS,
    },
    deadlineMs: e.GENERATION_DEADLINE_SECONDS * 1000,
    upstreamTimeouts: { createMs: e.UPSTREAM_CREATE_TIMEOUT_MS, pollMs: e.UPSTREAM_POLL_TIMEOUT_MS },
    http: { maxBodyBytes: e.HTTP_MAX_BODY_BYTES, graphqlPath: '/graphql' },
    introspection: e.INTROSPECTION ?? !production,
    devApiKey: !production && (e.DEV_API_KEY ?? true),
    logLevel: e.LOG_LEVEL,
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
  };
}
