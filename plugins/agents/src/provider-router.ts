import { PlinthError, errors, type Clock, type Disposer } from 'plinth/sdk';
import type { ChatDelta, ChatRequest, ChatResult, ModelProvider, ModelProviderRegistry, ModelRouter } from './contract';
import { CircuitBreaker } from './circuit-breaker';
import { ProviderError } from './providers/provider-error';
import { errorCodes } from './errors';

export interface BreakerOptions { failureThreshold: number; cooldownMs: number }

/** Splits `openai/gpt-4o-mini` into provider and model; the model part may itself hold slashes. */
export function parseModelId(id: string): { provider: string; model: string } {
  const i = id.indexOf('/');
  if (i <= 0 || i === id.length - 1) throw errors.validation(`model "${id}" must look like <provider>/<model>, e.g. builtin/echo`);
  return { provider: id.slice(0, i), model: id.slice(i + 1) };
}

/**
 * The registered model providers, each behind its own circuit breaker, and the one place a model
 * is called: agent turns and the OpenAI-compatible proxy both come through `chat`.
 */
export class ProviderRouter implements ModelProviderRegistry, ModelRouter {
  private readonly providers = new Map<string, ModelProvider>();
  private readonly breakers = new Map<string, CircuitBreaker>();
  private readonly inFlight = new Map<string, number>();
  private readonly callTimes: number[] = [];

  constructor(private readonly breakerOptions: BreakerOptions, private readonly clock: Clock) {}

  register(provider: ModelProvider): Disposer {
    if (!/^[a-z0-9-]+$/.test(provider.name)) throw errorCodes.error('PLINTH_ERR_PROVIDER_NAME', `provider name "${provider.name}" must be lowercase letters, digits and dashes`);
    if (this.providers.has(provider.name)) throw errorCodes.error('PLINTH_ERR_PROVIDER_DUPLICATE', `a provider named "${provider.name}" is already registered`);
    this.providers.set(provider.name, provider);
    return () => { if (this.providers.get(provider.name) === provider) this.providers.delete(provider.name); };
  }

  names(): string[] {
    return [...this.providers.keys()].sort();
  }

  has(name: string): boolean {
    return this.providers.has(name);
  }

  breaker(provider: string): CircuitBreaker {
    let b = this.breakers.get(provider);
    if (!b) this.breakers.set(provider, b = new CircuitBreaker(provider, this.breakerOptions, this.clock));
    return b;
  }

  breakerStatus() {
    return this.names().map(n => this.breaker(n).status());
  }

  /** Whether a model's provider exists and its breaker would let a call through now. */
  available(model: string): boolean {
    const { provider } = parseModelId(model);
    return this.providers.has(provider) && this.breaker(provider).wouldAllow();
  }

  async listModels(): Promise<Array<{ id: string; provider: string; contextWindow?: number }>> {
    const lists = await Promise.all(this.names().map(async name => {
      const models = await this.providers.get(name)!.listModels().catch(() => []);
      return models.map(m => ({ id: `${name}/${m.id}`, provider: name, ...(m.contextWindow ? { contextWindow: m.contextWindow } : {}) }));
    }));
    return lists.flat();
  }

  capacity() {
    const since = this.clock.now() - 60_000;
    while (this.callTimes.length && this.callTimes[0] < since) this.callTimes.shift();
    return {
      providers: this.names().map(n => ({ provider: n, inFlight: this.inFlight.get(n) ?? 0, breaker: this.breaker(n).status().state })),
      callsLastMinute: this.callTimes.length,
    };
  }

  async chat(model: string, request: Omit<ChatRequest, 'model'>, onDelta?: (delta: ChatDelta) => void): Promise<ChatResult & { model: string }> {
    const { provider: name, model: providerModel } = parseModelId(model);
    const provider = this.providers.get(name);
    if (!provider) throw errorCodes.error('PLINTH_ERR_MODEL_NOT_FOUND', `model "${model}": no provider "${name}" (providers: ${this.names().join(', ')})`);
    const breaker = this.breaker(name);
    if (!breaker.tryAcquire()) {
      const s = breaker.status();
      throw errorCodes.error('PLINTH_ERR_BREAKER_OPEN', `provider ${name} is failing; its circuit breaker is open until ${s.retryAt}`, { details: { provider: name, retryAt: s.retryAt, lastError: s.lastError } });
    }
    this.inFlight.set(name, (this.inFlight.get(name) ?? 0) + 1);
    this.callTimes.push(this.clock.now());
    try {
      const result = await provider.chat({ ...request, model: providerModel }, onDelta);
      if (result.finishReason === 'aborted') breaker.release();
      else breaker.success();
      return { ...result, model };
    } catch (err) {
      if (err instanceof ProviderError || (err as Error)?.name === 'ProviderError') {
        const pe = err as ProviderError;
        if (pe.countsAgainstBreaker) breaker.failure(pe.message);
        else breaker.release();
        if (pe.status === 404) throw errorCodes.error('PLINTH_ERR_MODEL_NOT_FOUND', `model "${model}" not found: ${pe.message}`, { cause: pe });
        throw errorCodes.error('PLINTH_ERR_PROVIDER', pe.message, { details: { provider: name, status: pe.status }, cause: pe });
      }
      if (request.signal?.aborted) {
        breaker.release();
        return { text: '', toolCalls: [], usage: { inputTokens: 0, outputTokens: 0 }, finishReason: 'aborted', model };
      }
      // A third-party provider's own bug still counts: the breaker protects callers from it.
      breaker.failure((err as Error)?.message ?? String(err));
      throw errorCodes.error('PLINTH_ERR_PROVIDER', `provider ${name} failed: ${(err as Error)?.message ?? err}`, { details: { provider: name }, cause: err });
    } finally {
      this.inFlight.set(name, (this.inFlight.get(name) ?? 1) - 1);
    }
  }
}
