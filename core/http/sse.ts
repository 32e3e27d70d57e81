import type { ServerResponse } from 'node:http';
import type { Disposer, SseMessage, SseStream } from '../../sdk';

const KEEPALIVE_MS = 15_000;
/** A client that stops reading is cut off rather than buffered for without bound. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

export class NodeSseStream implements SseStream {
  closed = false;
  readonly done: Promise<void>;
  private resolveDone!: () => void;
  private readonly keepalive: NodeJS.Timeout;

  constructor(private readonly res: ServerResponse, readonly lastEventId: string | undefined, private readonly onClose: () => void) {
    this.done = new Promise(r => (this.resolveDone = r));
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.flushHeaders?.();
    this.keepalive = setInterval(() => this.comment('keep-alive'), KEEPALIVE_MS);
    this.keepalive.unref();
    res.on('close', () => this.close());
  }

  send(message: SseMessage): boolean {
    if (this.closed) return false;
    let frame = '';
    if (message.id !== undefined) frame += `id: ${message.id}\n`;
    if (message.event) frame += `event: ${message.event}\n`;
    const data = typeof message.data === 'string' ? message.data : JSON.stringify(message.data);
    for (const line of data.split('\n')) frame += `data: ${line}\n`;
    this.res.write(frame + '\n');
    if (this.res.writableLength > MAX_BUFFERED_BYTES) {
      this.close();
      return false;
    }
    return true;
  }

  comment(text: string): void {
    if (!this.closed) this.res.write(`: ${text}\n\n`);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.keepalive);
    if (!this.res.writableEnded) this.res.end();
    this.onClose();
    this.resolveDone();
  }

  async replayThenLive<T extends { id: string | number }>(options: {
    replay(afterId: string | undefined): Promise<T[]> | T[];
    live(push: (item: T) => void): Disposer;
    frame(item: T): SseMessage;
    isLast?(item: T): boolean;
  }): Promise<void> {
    const held: T[] = [];
    let replaying = true;
    const emit = (item: T) => {
      if (this.closed) return;
      this.send(options.frame(item));
      if (options.isLast?.(item)) this.close();
    };
    // Subscribe before reading the log, so nothing that happens in between is missed.
    const dispose = options.live(item => (replaying ? held.push(item) : emit(item)));
    try {
      const replayed = await options.replay(this.lastEventId);
      const seen = new Set(replayed.map(i => String(i.id)));
      for (const item of replayed) emit(item);
      for (const item of held) if (!seen.has(String(item.id))) emit(item);
      held.length = 0;
      replaying = false;
      await this.done;
    } finally {
      await dispose();
    }
  }
}
