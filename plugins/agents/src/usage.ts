import type { Usage } from './contract';

/** Adds one model call's usage to a turn's; cache figures only where the provider reported them. */
export function addUsage(total: Usage, part: Usage): void {
  total.inputTokens += part.inputTokens;
  total.outputTokens += part.outputTokens;
  if (part.cacheReadTokens !== undefined) total.cacheReadTokens = (total.cacheReadTokens ?? 0) + part.cacheReadTokens;
  if (part.cacheWriteTokens !== undefined) total.cacheWriteTokens = (total.cacheWriteTokens ?? 0) + part.cacheWriteTokens;
}

/** A turn row's cache columns: null when the provider reported nothing (not a miss, just unknown). */
export function cacheColumns(u: Usage): { cache_read_tokens: number | null; cache_write_tokens: number | null } {
  return { cache_read_tokens: u.cacheReadTokens ?? null, cache_write_tokens: u.cacheWriteTokens ?? null };
}

/** What a model's usage cost in USD, from `price` (USD per 1M tokens); 0 for a model without a price. */
export function costOf(price: (model: string) => { input: number; output: number } | undefined, model: string | null | undefined, usage: Usage): number {
  const p = model ? price(model) : undefined;
  return p ? (usage.inputTokens * p.input + usage.outputTokens * p.output) / 1e6 : 0;
}
