import { statSync } from 'node:fs';
import type { WebSocket } from 'ws';
import { newId, sandboxFor, type SandboxService, type WsConnectionInfo } from 'plinth/sdk';
import type { RunService } from './run-service';
import type { CliAdapters } from './adapters';
import { DEFAULT_ADAPTER_HOSTS, type SandboxDeps } from './run-sandbox';
import type { RunRow } from './run-store';
import { PtyProcess, minimalEnv } from './terminal';

const MAX_BUFFERED = 4 * 1024 * 1024;
const SCROLLBACK = 64 * 1024;

interface Shell { proc: PtyProcess; viewers: Set<WebSocket> }

/**
 * `/api/terminal`: `?run_id=` attaches to a run's PTY; without it an admin gets an ephemeral
 * shell (`?cwd=`), or the coding CLI an adapter names (`?cli=claude-code&task=`: the CLI as runs
 * start it, in the runs' process sandbox; without `task`, the CLI alone, interactive), which
 * others may join with `?shell_id=` and which is killed when its last viewer leaves. Frames are JSON: in `{type:'input',data}`, `{type:'resize',cols,rows}`;
 * out `{type:'ready'}`, `{type:'output',data}`, `{type:'exit',exit_code}`, `{type:'error',message}`.
 */
export class TerminalSockets {
  private readonly shells = new Map<string, Shell>();
  /** `sandbox`: set when the config puts the admins' shell in the process sandbox (terminalSandbox). */
  /** `elsewhere`: joins the socket to a run running on another kernel node; false when it is not (run-pins.ts). */
  constructor(private readonly runs: RunService, private readonly defaultCwd: string, private readonly sandbox?: SandboxService,
    private readonly cli?: { adapters: CliAdapters } & Omit<SandboxDeps, 'auth'>,
    private readonly elsewhere?: (socket: WebSocket, info: WsConnectionInfo, run: RunRow) => Promise<boolean>) {}

  handle(socket: WebSocket, info: WsConnectionInfo): void {
    const fail = (code: number, message: string) => { send(socket, { type: 'error', message }); socket.close(code, message.slice(0, 120)); };
    const user = info.user!;
    if (info.query.run_id) {
      void this.runs.get(user, info.query.run_id).then(async run => {
        const proc = this.runs.liveProcess(run.id);
        if (!proc && await this.elsewhere?.(socket, info, run)) return;
        if (!proc) return fail(4009, `run ${run.id} is ${run.status}: no terminal to attach to`);
        this.attach(socket, proc, { type: 'ready', run_id: run.id, pid: proc.pid });
      }, () => fail(4004, `run ${info.query.run_id} not found`)).catch((err: Error) => fail(4500, err.message));
      return;
    }
    if (user.role !== 'admin') return fail(4003, 'a shell without run_id is for admins only');
    if (info.query.shell_id) {
      const shell = this.shells.get(info.query.shell_id);
      if (!shell) return fail(4004, `shell ${info.query.shell_id} not found`);
      return this.join(socket, info.query.shell_id, shell);
    }
    const cwd = info.query.cwd || this.defaultCwd;
    try { if (!statSync(cwd).isDirectory()) throw new Error(); } catch { return fail(4000, `cwd ${cwd} is not an existing folder`); }
    const file = process.env.SHELL && /^\/[\w/.-]+$/.test(process.env.SHELL) ? process.env.SHELL : '/bin/sh';
    const size = { cols: Number(info.query.cols) || 120, rows: Number(info.query.rows) || 40 };
    if (info.query.cli) {
      void this.startCli(socket, info.query.cli, info.query.task, cwd, size).catch((err: any) => fail(err?.status === 503 ? 4503 : 4000, err?.message ?? String(err)));
      return;
    }
    if (!this.sandbox) return this.start(socket, new PtyProcess(file, [], { cwd, env: minimalEnv({}), ...size }));
    void this.sandbox.wrap({ file, args: [], cwd, env: minimalEnv({ HOME: cwd }), writable: [cwd] }).then(w => {
      const proc = new PtyProcess(w.file, w.args, { cwd, env: w.env, ...size });
      void proc.exited.then(() => w.release());
      this.start(socket, proc);
    }, (err: Error) => fail(4503, err.message));
  }

  /** The adapter's CLI in a PTY, sandboxed as the runs' CLIs are (writable: its cwd; network: the adapter's provider hosts). */
  private async startCli(socket: WebSocket, name: string, task: string | undefined, cwd: string, size: { cols: number; rows: number }): Promise<void> {
    const adapter = this.cli?.adapters.get(name);
    if (!adapter) throw new Error(`no CLI adapter "${name}"; known adapters: ${this.cli?.adapters.names().join(', ') || 'none'}`);
    const built = adapter.command({ task: task ?? '', cwd, config: {} });
    const cmd = task ? built : { file: built.file, args: [] };
    const env = minimalEnv(cmd.env ?? {});
    const sandbox = await sandboxFor(this.cli!.sandbox, this.cli!.sandboxMode, true);
    if (!sandbox) return this.start(socket, new PtyProcess(cmd.file, cmd.args, { cwd, env, ...size }), { cli: name, sandboxed: false });
    const hosts = this.cli!.adapterHosts[name] ?? adapter.hosts ?? DEFAULT_ADAPTER_HOSTS[name] ?? [];
    const w = await sandbox.wrap({ file: cmd.file, args: cmd.args, cwd, env: { ...env, HOME: cwd }, writable: [cwd], allowedHosts: hosts });
    const proc = new PtyProcess(w.file, w.args, { cwd, env: w.env, ...size });
    void proc.exited.then(() => w.release());
    this.start(socket, proc, { cli: name, sandboxed: true });
  }

  private start(socket: WebSocket, proc: PtyProcess, about: Record<string, unknown> = {}): void {
    if (socket.readyState !== socket.OPEN) { void proc.killTree(500); return; }
    const id = newId('sh');
    const shell: Shell = { proc, viewers: new Set() };
    this.shells.set(id, shell);
    void proc.exited.then(() => this.shells.delete(id));
    this.join(socket, id, shell, about);
  }

  private join(socket: WebSocket, id: string, shell: Shell, about: Record<string, unknown> = {}): void {
    shell.viewers.add(socket);
    socket.on('close', () => {
      shell.viewers.delete(socket);
      if (!shell.viewers.size) { this.shells.delete(id); void shell.proc.killTree(500); }
    });
    this.attach(socket, shell.proc, { type: 'ready', shell_id: id, pid: shell.proc.pid, ...about });
  }

  private attach(socket: WebSocket, proc: PtyProcess, ready: Record<string, unknown>): void {
    send(socket, ready);
    const scrollback = proc.output().slice(-SCROLLBACK);
    if (scrollback) send(socket, { type: 'output', data: scrollback, scrollback: true });
    const off = proc.onData(data => {
      // A viewer that cannot keep up is cut off rather than buffered for without bound.
      if (socket.bufferedAmount > MAX_BUFFERED) return socket.close(4008, 'too slow');
      send(socket, { type: 'output', data });
    });
    void proc.exited.then(e => { send(socket, { type: 'exit', exit_code: e.exitCode }); socket.close(1000, 'exited'); });
    socket.on('message', raw => {
      let msg: any;
      try { msg = JSON.parse(String(raw)); } catch { return send(socket, { type: 'error', message: 'frames must be JSON' }); }
      if (msg?.type === 'input' && typeof msg.data === 'string') return proc.write(msg.data);
      if (msg?.type === 'resize' && Number.isInteger(msg.cols) && Number.isInteger(msg.rows) && msg.cols > 0 && msg.rows > 0 && msg.cols <= 1000 && msg.rows <= 1000) {
        return proc.resize(msg.cols, msg.rows);
      }
      send(socket, { type: 'error', message: 'expected {type:"input",data} or {type:"resize",cols,rows}' });
    });
    socket.on('close', off);
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.shells.values()].map(s => s.proc.killTree(300)));
    this.shells.clear();
  }
}

function send(socket: WebSocket, msg: unknown): void {
  if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(msg));
}
