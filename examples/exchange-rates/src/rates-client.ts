import { errors, iso, kernelErrors, type Clock } from 'plinth/sdk';
import type { Conversion, ConvertInput } from './generated/types';
import { errorCodes } from './errors';

/**
 * The manifest's `permissions.network` is the list of hosts this plugin may call; the client
 * refuses any other, so a config change cannot point the tool at an arbitrary host (SSRF).
 */
export function assertAllowedHost(url: string, allowed: string[]): URL {
  const u = new URL(url);
  if (!allowed.includes(u.hostname)) {
    throw errorCodes.error('PLINTH_ERR_NETWORK_PERMISSION', `host ${u.hostname} is not in permissions.network (${allowed.join(', ')}) of plugin.json`);
  }
  return u;
}

export class RatesClient {
  constructor(private readonly base: URL, private readonly timeoutMs: number, private readonly clock: Clock) {}

  async convert(input: ConvertInput, signal?: AbortSignal): Promise<Conversion> {
    if (input.from === input.to) return { ...input, rate: 1, result: input.amount, date: iso(this.clock.now()).slice(0, 10) };
    const url = new URL('latest', this.base.href.endsWith('/') ? this.base : new URL(this.base.href + '/'));
    url.searchParams.set('from', input.from);
    url.searchParams.set('to', input.to);
    const timeout = AbortSignal.timeout(this.timeoutMs);
    let res: Response;
    try {
      res = await fetch(url, { signal: signal ? AbortSignal.any([signal, timeout]) : timeout, headers: { accept: 'application/json' } });
    } catch (err: any) {
      throw kernelErrors.error('PLINTH_ERR_UNAVAILABLE', `rates API unreachable: ${err.name === 'TimeoutError' ? `no answer in ${this.timeoutMs} ms` : err.cause?.code ?? err.message}`, { cause: err });
    }
    // Frankfurter answers 404 with a message for a currency it does not know.
    if (res.status === 404 || res.status === 422) throw errors.badRequest(`unknown currency ${input.from} or ${input.to}`);
    if (!res.ok) throw errors.unavailable(`rates API answered ${res.status}`);
    const body = await res.json().catch(() => undefined) as { date?: string; rates?: Record<string, number> } | undefined;
    const rate = body?.rates?.[input.to];
    if (typeof rate !== 'number' || !body?.date) throw errors.unavailable('rates API answered something that is not a rate');
    return { ...input, rate, result: Math.round(input.amount * rate * 100) / 100, date: body.date };
  }
}
