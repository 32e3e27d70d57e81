import type { Clock } from 'plinth/sdk';

export type BreakerState = 'closed' | 'open' | 'half_open';

export interface BreakerStatus {
  provider: string;
  state: BreakerState;
  consecutiveFailures: number;
  openedAt: string | null;
  retryAt: string | null;
  lastError: string | null;
}

/**
 * One per provider. Closed: calls go through and failures are counted; `failureThreshold`
 * failures in a row open it. Open: calls are refused until `cooldownMs` has passed, then it is
 * half-open: one trial call goes through; its success closes the breaker, its failure opens it
 * again for another cooldown. Aborts by the caller are neither successes nor failures.
 */
export class CircuitBreaker {
  private state: BreakerState = 'closed';
  private failures = 0;
  private openedAt = 0;
  private trialInFlight = false;
  private lastError: string | null = null;

  constructor(readonly provider: string, private readonly options: { failureThreshold: number; cooldownMs: number }, private readonly clock: Clock) {}

  /** Whether a call may go now; in half-open state only one trial at a time. */
  tryAcquire(): boolean {
    const s = this.current();
    if (s === 'closed') return true;
    if (s === 'open') return false;
    if (this.trialInFlight) return false;
    this.trialInFlight = true;
    return true;
  }

  /** Without taking the half-open trial: for choosing among fallbacks. */
  wouldAllow(): boolean {
    const s = this.current();
    return s === 'closed' || (s === 'half_open' && !this.trialInFlight);
  }

  success(): void {
    this.state = 'closed';
    this.failures = 0;
    this.trialInFlight = false;
    this.lastError = null;
  }

  failure(reason: string): void {
    this.lastError = reason;
    this.trialInFlight = false;
    if (this.current() === 'half_open') return this.open();
    if (++this.failures >= this.options.failureThreshold) this.open();
  }

  /** A call that ended without a verdict (aborted by the client). */
  release(): void {
    this.trialInFlight = false;
  }

  reset(): void {
    this.success();
  }

  status(): BreakerStatus {
    const s = this.current();
    return {
      provider: this.provider, state: s, consecutiveFailures: this.failures,
      openedAt: s === 'closed' ? null : new Date(this.openedAt).toISOString(),
      retryAt: s === 'closed' ? null : new Date(this.openedAt + this.options.cooldownMs).toISOString(),
      lastError: this.lastError,
    };
  }

  private open(): void {
    this.state = 'open';
    this.openedAt = this.clock.now();
  }

  private current(): BreakerState {
    if (this.state === 'open' && this.clock.now() - this.openedAt >= this.options.cooldownMs) this.state = 'half_open';
    return this.state;
  }
}
