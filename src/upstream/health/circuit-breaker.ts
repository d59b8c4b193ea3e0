/**
 * A circuit breaker around the upstream client (cockatiel), so an upstream that keeps failing is
 * left alone for a while instead of being hammered by every create and every poll.
 *
 * Only failures that say "the upstream is unwell" count: 5xx, timeouts, connections that fail or
 * drop, unreadable answers (UNAVAILABLE, OUTCOME_UNKNOWN). A 4xx is an answer about the request,
 * not about the upstream's health, and a 429 is handled by `UpstreamBackoff`; neither counts.
 *
 * While open, calls fail at once with `UpstreamError(UNAVAILABLE)` carrying `retryAfterMs`, and
 * nothing is sent. After `halfOpenAfterMs` one call is let through as a probe: its success closes
 * the circuit, its failure opens it again. State is per process: each instance learns on its own.
 */
import { BrokenCircuitError, CircuitState, ConsecutiveBreaker, circuitBreaker, handleWhen, type CircuitBreakerPolicy } from 'cockatiel';
import { UpstreamError, UpstreamFailure, type UpstreamClient } from '../types';

export interface UpstreamCircuitOptions {
  /** Consecutive failing calls that open the circuit. 0 turns the breaker off. */
  failureThreshold: number;
  /** How long the circuit stays open before one probe call is let through, in ms. */
  halfOpenAfterMs: number;
  /** Called on every state change (for logs and metrics). */
  onStateChange?: (state: UpstreamCircuitState) => void;
  now?: () => number;
}

export type UpstreamCircuitState = 'closed' | 'open' | 'half-open';

/** Whether a failed call says the upstream is unwell (rather than that the request was wrong). */
export function countsAgainstUpstream(error: unknown): boolean {
  if (!(error instanceof UpstreamError)) return false;
  return error.failure === UpstreamFailure.UNAVAILABLE || error.failure === UpstreamFailure.OUTCOME_UNKNOWN;
}

export class UpstreamCircuit {
  private readonly policy: CircuitBreakerPolicy | null;
  private openedAt = 0;
  private readonly now: () => number;

  constructor(private readonly options: UpstreamCircuitOptions) {
    this.now = options.now ?? Date.now;
    if (options.failureThreshold <= 0) {
      this.policy = null;
      return;
    }
    this.policy = circuitBreaker(handleWhen(countsAgainstUpstream), {
      halfOpenAfter: options.halfOpenAfterMs,
      breaker: new ConsecutiveBreaker(options.failureThreshold),
    });
    this.policy.onBreak(() => {
      this.openedAt = this.now();
    });
    this.policy.onStateChange((state) => options.onStateChange?.(stateName(state)));
  }

  get state(): UpstreamCircuitState {
    return this.policy ? stateName(this.policy.state) : 'closed';
  }

  /** Milliseconds until an open circuit lets a probe through; 0 when closed or half-open. */
  remainingMs(): number {
    if (this.state !== 'open') return 0;
    return Math.max(0, this.openedAt + this.options.halfOpenAfterMs - this.now());
  }

  /** The same client, with every create and poll going through the breaker. */
  wrap(client: UpstreamClient): UpstreamClient {
    return {
      create: (input) => this.run(() => client.create(input)),
      get: (upstreamId, modelId) => this.run(() => client.get(upstreamId, modelId)),
      stop: () => client.stop(),
    };
  }

  private async run<T>(call: () => Promise<T>): Promise<T> {
    if (!this.policy) return call();
    try {
      return await this.policy.execute(call);
    } catch (error) {
      if (error instanceof BrokenCircuitError) {
        // Nothing was sent: a create refused here is a definite "no", safe for the caller to retry later.
        throw new UpstreamError(
          UpstreamFailure.UNAVAILABLE,
          'the upstream kept failing; calls are paused (circuit open)',
          null,
          Math.max(1_000, this.remainingMs()),
        );
      }
      throw error;
    }
  }
}

function stateName(state: CircuitState): UpstreamCircuitState {
  if (state === CircuitState.HalfOpen) return 'half-open';
  if (state === CircuitState.Closed) return 'closed';
  return 'open';
}
