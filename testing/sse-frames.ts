/** One server-sent event: its `id:` and `event:` lines, and its `data:` lines joined and JSON-parsed. */
export interface SseFrame { id?: string; event?: string; data: any }

/**
 * The frames of an SSE response body as they arrive (comments and frames without data are
 * skipped). Multi-line data is joined with newlines, as the EventSource specification does; data
 * that is not JSON stays a string. Ends when the body ends or its request is aborted.
 */
export async function* sseFrames(body: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>): AsyncGenerator<SseFrame> {
  const decoder = new TextDecoder();
  let buf = '';
  try {
    for await (const chunk of body as AsyncIterable<Uint8Array>) {
      buf += decoder.decode(chunk, { stream: true });
      let cut;
      while ((cut = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, cut);
        buf = buf.slice(cut + 2);
        const frame: Partial<SseFrame> = {};
        const data: string[] = [];
        for (const line of block.split('\n')) {
          if (line.startsWith('id: ')) frame.id = line.slice(4);
          else if (line.startsWith('event: ')) frame.event = line.slice(7);
          else if (line.startsWith('data: ')) data.push(line.slice(6));
        }
        if (!data.length) continue;
        const text = data.join('\n');
        try { frame.data = JSON.parse(text); } catch { frame.data = text; }
        yield frame as SseFrame;
      }
    }
  } catch (err) {
    if ((err as Error).name !== 'AbortError') throw err;
  }
}

/** Reads an SSE response into frames until it ends (or `until` says stop, then aborts `abort`). */
export async function readSse(res: Response, until?: (f: SseFrame) => boolean, abort?: AbortController): Promise<SseFrame[]> {
  const frames: SseFrame[] = [];
  for await (const f of sseFrames(res.body!)) {
    frames.push(f);
    if (until?.(f)) { abort?.abort(); break; }
  }
  return frames;
}
