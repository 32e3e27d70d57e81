import { kernelErrors } from '../../sdk';

/**
 * Failed logins per client address in a sliding minute. Password hashing runs on the libuv
 * pool that SQLite shares, so a flood of guesses would stall every query: past the bound, a
 * client gets 429 until its oldest failure is a minute old.
 */
export class LoginThrottle {
  private readonly failures = new Map<string, number[]>();

  constructor(private readonly maxFailures = 10, private readonly windowMs = 60_000, private readonly now = () => Date.now()) {}

  check(client: string): void {
    const recent = this.recent(client);
    if (recent.length >= this.maxFailures) {
      const retryAfter = Math.ceil((recent[0] + this.windowMs - this.now()) / 1000);
      throw kernelErrors.error('PLINTH_ERR_TOO_MANY_LOGINS', `too many failed logins from this address; try again in ${retryAfter} s`, { headers: { 'retry-after': String(Math.max(1, retryAfter)) } });
    }
  }

  failed(client: string): void {
    const recent = this.recent(client);
    recent.push(this.now());
    this.failures.set(client, recent);
    if (this.failures.size > 10_000) this.failures.delete(this.failures.keys().next().value!);
  }

  succeeded(client: string): void {
    this.failures.delete(client);
  }

  private recent(client: string): number[] {
    const since = this.now() - this.windowMs;
    return (this.failures.get(client) ?? []).filter(t => t > since);
  }
}
