/**
 * What `/readyz` reports: whether this instance should receive traffic, and why not. Each check
 * reads a part the composition root hands in, through the one thing readiness needs from it.
 */

export interface ReadinessReport {
  ready: boolean;
  /** One word or phrase per part, e.g. `{ store: 'ok', poller: 'stopped', upstream: 'circuit open' }`. */
  checks: Record<string, string>;
}

export interface ReadinessParts {
  store: { ping(): Promise<void> };
  /** The shared Redis when REDIS_URL is set, else null (no check). */
  redis: { ping(): Promise<void> } | null;
  poller: { readonly running: boolean };
  /** The pause every instance takes after the upstream said "slow down". */
  backoff: { remainingMs(): number };
  circuit: { readonly state: string };
}

export function createReadiness(parts: ReadinessParts): () => Promise<ReadinessReport> {
  return async () => {
    const checks: Record<string, string> = {};
    checks.store = await answers(parts.store);
    if (parts.redis) checks.redis = await answers(parts.redis);
    checks.poller = parts.poller.running ? 'ok' : 'stopped';
    const pause = parts.backoff.remainingMs();
    checks.upstream = pause > 0 ? `backing off ${Math.ceil(pause / 1000)}s` : 'ok';
    // Reported, but the gateway stays ready: every instance shares the upstream, so pulling them
    // from the load balancer would only add failed reads (which the store still serves) to it.
    if (parts.circuit.state !== 'closed') checks.upstream = `circuit ${parts.circuit.state}`;
    return { ready: checks.store === 'ok' && checks.poller === 'ok' && checks.redis !== 'unavailable', checks };
  };
}

async function answers(part: { ping(): Promise<void> }): Promise<'ok' | 'unavailable'> {
  try {
    await part.ping();
    return 'ok';
  } catch {
    return 'unavailable';
  }
}
