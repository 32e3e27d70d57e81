/** A provider call that failed; `countsAgainstBreaker` is false for the caller's own mistakes (a 400, a 404 model). */
export class ProviderError extends Error {
  constructor(readonly provider: string, message: string, readonly status: number | undefined, readonly countsAgainstBreaker: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ProviderError';
  }
}

export function isAbortError(err: unknown, signal?: AbortSignal): boolean {
  return !!signal?.aborted || (err as Error)?.name === 'AbortError';
}

export async function httpFailure(provider: string, res: { status: number; statusText: string; text(): Promise<string> }): Promise<ProviderError> {
  const text = await res.text().catch(() => '');
  let message = text.slice(0, 300);
  try { message = JSON.parse(text)?.error?.message ?? message; } catch { /* not JSON */ }
  const countsAgainstBreaker = res.status >= 500 || res.status === 429 || res.status === 408;
  return new ProviderError(provider, `${provider} answered ${res.status}: ${message || res.statusText}`, res.status, countsAgainstBreaker);
}

/** Yields the `data:` payloads (and event names) of an SSE response body, as they arrive. */
export async function* sseEvents(body: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>): AsyncGenerator<{ event?: string; data: string }> {
  const decoder = new TextDecoder();
  let buffer = '';
  let event: string | undefined;
  let data: string[] = [];
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      let line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (line.endsWith('\r')) line = line.slice(0, -1);
      if (line === '') {
        if (data.length) yield { event, data: data.join('\n') };
        event = undefined;
        data = [];
      } else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      else if (line.startsWith('event:')) event = line.slice(6).trim();
    }
  }
  if (data.length) yield { event, data: data.join('\n') };
}
