import type { Logger } from '../sdk';

export type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LogLine { time: string; level: Level; msg: string; plugin?: string; [field: string]: unknown }

/** Keeps the last lines in memory for `GET /api/logs`, and writes JSON lines to stdout. */
export class LogSink {
  private readonly lines: LogLine[] = [];
  private next = 0;

  constructor(private minLevel: Level, private readonly toStdout: boolean, private readonly capacity = 2000) {}

  setLevel(level: Level): void {
    this.minLevel = level;
  }

  write(line: LogLine): void {
    if (ORDER[line.level] < ORDER[this.minLevel]) return;
    if (this.lines.length < this.capacity) this.lines.push(line);
    else this.lines[this.next] = line;
    this.next = (this.next + 1) % this.capacity;
    if (this.toStdout) process.stdout.write(JSON.stringify(line) + '\n');
  }

  query(filter: { level?: Level; plugin?: string; limit?: number }): LogLine[] {
    const ordered = this.lines.length < this.capacity ? this.lines : [...this.lines.slice(this.next), ...this.lines.slice(0, this.next)];
    const min = filter.level ? ORDER[filter.level] : 0;
    const out = ordered.filter(l => ORDER[l.level] >= min && (!filter.plugin || l.plugin === filter.plugin));
    return out.slice(-(filter.limit ?? 200));
  }
}

export function createLogger(sink: LogSink, base: Record<string, unknown> = {}): Logger {
  const emit = (level: Level) => (msg: string, fields?: Record<string, unknown>) => {
    const extra = fields ? redactErrors(fields) : undefined;
    sink.write({ time: new Date().toISOString(), level, msg, ...base, ...extra });
  };
  return {
    debug: emit('debug'),
    info: emit('info'),
    warn: emit('warn'),
    error: emit('error'),
    child: fields => createLogger(sink, { ...base, ...fields }),
  };
}

/** Errors do not serialise to JSON; keep their message and code (never a secret-bearing object). */
function redactErrors(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    out[k] = v instanceof Error ? { message: v.message, code: (v as any).code, stack: v.stack?.split('\n').slice(0, 6).join('\n') } : v;
  }
  return out;
}

/** An error's stack followed by each `cause`'s, so a wrapped failure still shows where it began. */
export function stackChain(err: unknown): string | undefined {
  const parts: string[] = [];
  for (let e: any = err, depth = 0; e && depth < 5; e = e.cause, depth++) {
    parts.push(e instanceof Error ? (e.stack ?? `${e.name}: ${e.message}`) : String(e));
    if (!(e instanceof Error)) break;
  }
  return parts.length ? parts.join('\ncaused by: ') : undefined;
}
