/**
 * How every command speaks: concise coloured lines for people, one JSON document for scripts
 * (`--json`), progress on stderr only when someone is watching. Colour follows the NO_COLOR
 * convention (https://no-color.org) and is off when stdout is not a terminal.
 */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/** A wrong invocation: exit 2 with the command's usage. */
export class UsageError extends Error {
  constructor(message: string, readonly usage?: string, options?: { cause?: unknown }) { super(message, options); this.name = 'UsageError'; }
}

/** A failure the user can act on: exit 1 with its message (and a hint of what to do). */
export class CliFailure extends Error {
  constructor(message: string, readonly hint?: string, readonly details?: unknown, options?: { cause?: unknown }) { super(message, options); this.name = 'CliFailure'; }
}

export interface Streams { stdout: NodeJS.WritableStream & { isTTY?: boolean }; stderr: NodeJS.WritableStream & { isTTY?: boolean } }

const CODES = { red: 31, green: 32, yellow: 33, blue: 34, dim: 2, bold: 1 } as const;
export type Colour = keyof typeof CODES;

export class Output {
  readonly colour: boolean;
  readonly json: boolean;
  private readonly progressEnabled: boolean;

  constructor(options: { json?: boolean; env?: NodeJS.ProcessEnv; streams?: Streams } = {}, private readonly streams: Streams = options.streams ?? process) {
    const env = options.env ?? process.env;
    this.json = !!options.json;
    const noColor = env.NO_COLOR !== undefined && env.NO_COLOR !== '';
    this.colour = !this.json && !noColor && (!!streams.stdout.isTTY || (!!env.FORCE_COLOR && env.FORCE_COLOR !== '0'));
    this.progressEnabled = !this.json && !!streams.stderr.isTTY && !noColor;
  }

  paint(colour: Colour, text: string): string {
    return this.colour ? `\x1b[${CODES[colour]}m${text}\x1b[0m` : text;
  }

  line(text = ''): void { if (!this.json) this.streams.stdout.write(text + '\n'); }
  ok(text: string): void { this.line(`${this.paint('green', '✓')} ${text}`); }
  warn(text: string): void { this.line(`${this.paint('yellow', '!')} ${text}`); }
  fail(text: string): void { this.line(`${this.paint('red', '✗')} ${text}`); }
  hint(text: string): void { this.line(`  ${this.paint('dim', '→ ' + text)}`); }

  /** The one JSON document of a `--json` run. */
  result(value: unknown): void { if (this.json) this.streams.stdout.write(JSON.stringify(value, null, 2) + '\n'); }

  error(err: UsageError | CliFailure | Error): void {
    if (this.json) {
      const code = err instanceof UsageError ? 'usage' : 'failure';
      this.streams.stdout.write(JSON.stringify({ ok: false, error: { code, message: err.message, hint: (err as CliFailure).hint, details: (err as CliFailure).details } }, null, 2) + '\n');
      return;
    }
    this.streams.stderr.write(`${this.paint('red', 'error:')} ${err.message}\n`);
    if ((err as CliFailure).hint) this.streams.stderr.write(`  ${this.paint('dim', '→ ' + (err as CliFailure).hint)}\n`);
    if (err instanceof UsageError && err.usage) this.streams.stderr.write(`\n${err.usage}`);
  }

  /** Column-aligned rows; the widths follow the longest cell of each column (colour codes excluded). */
  table(rows: string[][]): void {
    const visible = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '').length;
    const widths: number[] = [];
    for (const r of rows) r.forEach((c, i) => { widths[i] = Math.max(widths[i] ?? 0, visible(c)); });
    for (const r of rows) this.line(r.map((c, i) => (i === r.length - 1 ? c : c + ' '.repeat(widths[i] - visible(c)))).join('  ').trimEnd());
  }

  /** A one-line bar redrawn in place on stderr; silent when stderr is not a terminal or with --json. */
  progress(total: number, label: string): Progress {
    return new Progress(total, label, this.progressEnabled ? this.streams.stderr : undefined);
  }
}

export class Progress {
  private done = 0;
  constructor(private readonly total: number, private label: string, private readonly stream: NodeJS.WritableStream | undefined) { this.draw(); }

  tick(label?: string): void {
    this.done = Math.min(this.total, this.done + 1);
    if (label) this.label = label;
    this.draw();
  }

  finish(): void { this.stream?.write('\r\x1b[2K'); }

  private draw(): void {
    if (!this.stream) return;
    const width = 24;
    const filled = this.total ? Math.round((this.done / this.total) * width) : width;
    this.stream.write(`\r\x1b[2K[${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${this.done}/${this.total} ${this.label}`);
  }
}
