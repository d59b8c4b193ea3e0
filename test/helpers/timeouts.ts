/**
 * How long a hook that starts servers (a PGlite store, a gateway, a PostgreSQL) may take before Jest
 * calls it hung. PGlite's start (compiling its WASM, running the migrations) takes 1–3 s on a quiet
 * machine but took over 30 s (Jest's default here) on a CI machine at load average 10–30, failing
 * every test of the file. The hook guards only against a hang, so the margin is generous.
 */
export const START_TIMEOUT_MS = 120_000;
