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
  /** A numeric Last-Event-ID: frames with numeric ids up to it were delivered before and are not sent again. */
  private readonly resumeAfter: number | undefined;
  private opened = false;

  constructor(private readonly res: ServerResponse, readonly lastEventId: string | undefined, private readonly onClose: () => void) {
    this.done = new Promise(r => (this.resolveDone = r));
    this.resumeAfter = numericId(lastEventId);
    // A resumed stream opens on its first frame (or on the next turn of the event loop): one that
    // ends with nothing new answers 204, which tells a browser EventSource to stop reconnecting
    // (a 200 that ends makes it reconnect, and replay, forever).
    if (lastEventId === undefined) this.open();
    else setImmediate(() => { if (!this.closed) this.open(); });
    this.keepalive = setInterval(() => this.comment('keep-alive'), KEEPALIVE_MS);
    this.keepalive.unref();
    res.on('close', () => this.close());
  }

  private open(): void {
    if (this.opened) return;
    this.opened = true;
    this.res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    this.res.flushHeaders?.();
  }

  send(message: SseMessage): boolean {
    if (this.closed) return false;
    if (this.resumeAfter !== undefined && numericId(message.id) !== undefined && numericId(message.id)! <= this.resumeAfter) return true;
    this.open();
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
    if (this.closed) return;
    this.open();
    this.res.write(`: ${text}\n\n`);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.keepalive);
    if (!this.opened && !this.res.headersSent && !this.res.writableEnded && !this.res.destroyed) {
      this.res.writeHead(204, { 'cache-control': 'no-cache' });
    }
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

function numericId(id: string | number | undefined): number | undefined {
  if (typeof id === 'number') return Number.isSafeInteger(id) ? id : undefined;
  return id !== undefined && /^\d{1,15}$/.test(id) ? Number(id) : undefined;
}
