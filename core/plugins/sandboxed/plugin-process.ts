import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { PlinthError, sandboxUnavailable, type SandboxService, type SandboxedCommand } from '../../../sdk';
import { bundlePlugin } from './plugin-bundle';

import { CpuBudget, deprioritise, treeCpuMs } from './cpu-quota';
import { batchedSender, unbatched, unsendableAnswer } from '../../../runtime/ipc-batch';

export const SANDBOX_DEFAULTS = {
  memoryMb: 256,
  /** A route, tool call, subscription or migration that takes longer answers 504. */
  get callTimeoutMs(): number { return Number(process.env.PLINTH_SANDBOX_CALL_TIMEOUT_MS) || 30_000; },
  /** A process that misses three pings in a row is killed and restarted. */
  get heartbeatMs(): number { return Number(process.env.PLINTH_SANDBOX_HEARTBEAT_MS) || 2_000; },
  startTimeoutMs: 15_000,
};

export interface ProcessSpec {
  pluginId: string;
  pluginDir: string;
  mainFile: string;
  /** Its own writable folder, `$PLINTH_DATA_DIR/plugins/<id>`. */
  dataDir: string;
  /** A kernel-owned folder for the bundle (read-only to the plugin). */
  bundleDir: string;
  secrets: Record<string, string>;
  network: string[];
  exec: boolean;
  memoryMb: number;
}

type Msg = { t: string; [k: string]: any };

/**
 * One sandboxed plugin process and its end of the IPC channel (Node's own, with structured-clone
 * serialisation so Buffers cross). Calls go both ways as `call`/`res` pairs with ids; `note`s
 * need no answer. Every call from the kernel has a deadline, so nothing of the kernel waits on it.
 */
export class PluginProcess {
  private child!: ChildProcess;
  private command: SandboxedCommand | undefined;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: unknown): void; timer?: NodeJS.Timeout }>();
  private nextId = 1;
  private stopping = false;
  /** Why the kernel ended the process, when it did (the CPU quota). */
  private killedFor: string | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private missed = 0;
  exited: Promise<void> = Promise.resolve();
  onCall: (method: string, args: unknown[]) => Promise<unknown> = async () => undefined;
  onNote: (method: string, args: unknown[]) => void = () => undefined;
  /** The process ended without being asked to: a crash, the memory cap, a missed heartbeat. */
  onCrash: (reason: string) => void = () => undefined;

  constructor(private readonly spec: ProcessSpec, private readonly sandbox: SandboxService | undefined) {}

  get pid(): number | undefined { return this.child?.pid; }

  async start(): Promise<void> {
    const status = this.sandbox ? await this.sandbox.status() : { available: false, reason: 'the kernel has no sandbox service' };
    if (!status.available) throw sandboxUnavailable(`plugin ${this.spec.pluginId} has isolation "sandbox": ${status.reason}`);
    const bundle = await bundlePlugin(this.spec);
    const s = this.spec;
    mkdirSync(s.dataDir, { recursive: true });
    const nodeArgs = [
      permissionFlag(),
      // One flag per path: Node 20 drops entries of a comma-separated list that share a prefix.
      ...[dirname(bundle), s.pluginDir, s.dataDir].map(p => `--allow-fs-read=${p}/*`),
      `--allow-fs-write=${s.dataDir}/*`,
      ...(s.exec ? ['--allow-child-process'] : []),
      `--max-old-space-size=${s.memoryMb}`,
      '--no-warnings',
      bundle,
    ];
    // The heap limit is Node's; the data limit is the kernel's (RLIMIT_DATA: every writable private
    // mapping), and holds for buffers and native memory too. Not RLIMIT_AS: WebAssembly (undici's
    // HTTP parser, behind fetch) reserves ~10 GiB of address space it never uses. It counts on top
    // of what this Node has mapped before running any code (Node 24 reserves a 512 MiB code range).
    const prlimit = ['/usr/bin/prlimit', '/bin/prlimit'].find(existsSync);
    const dataLimit = (await nodeStartData()) + (s.memoryMb + 512) * 1024 * 1024;
    const [file, args] = prlimit ? [prlimit, [`--data=${dataLimit}`, '--', process.execPath, ...nodeArgs]] : [process.execPath, nodeArgs];
    this.command = await this.sandbox!.wrap({
      file, args, cwd: s.dataDir,
      env: { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: s.dataDir, ...s.secrets, PLINTH_SANDBOX_NETWORK: s.network.length ? '1' : '0' },
      writable: [s.dataDir], readable: [s.pluginDir, dirname(bundle), dirname(dirname(process.execPath))],
      allowedHosts: s.network,
    });
    const child = (this.child = spawn(this.command.file, this.command.args, { env: this.command.env, cwd: s.dataDir, stdio: ['ignore', 'pipe', 'pipe', 'ipc'], serialization: 'advanced' }));
    const output: string[] = [];
    const keep = (chunk: Buffer) => { output.push(chunk.toString()); if (output.length > 50) output.shift(); };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    let hello!: () => void;
    const helloSeen = new Promise<void>(r => (hello = r));
    this.exited = new Promise(done => child.once('exit', (code, signal) => {
      this.command?.release();
      clearInterval(this.heartbeat);
      const reason = this.killedFor ?? (signal ? `its process was killed (${signal}${signal === 'SIGKILL' && !this.stopping ? ', the memory cap or a missed heartbeat' : ''})` : `its process exited with code ${code}`);
      const tail = output.join('').trim().split('\n').slice(-3).join(' | ');
      for (const [, p] of this.pending) { clearTimeout(p.timer); p.reject(new PlinthError(502, 'PLINTH_ERR_PLUGIN_CRASHED', `plugin ${s.pluginId} is not running: ${reason}`)); }
      this.pending.clear();
      if (!this.stopping) this.onCrash(reason + (tail ? `: ${tail.slice(0, 500)}` : ''));
      done();
    }));
    child.on('error', () => undefined);
    child.on('message', unbatched(msg => this.receive(msg, hello)));
    const started = await Promise.race([
      helloSeen.then(() => true),
      this.exited.then(() => false),
      new Promise<false>(r => setTimeout(() => r(false), SANDBOX_DEFAULTS.startTimeoutMs).unref()),
    ]);
    if (!started) {
      this.kill();
      throw new PlinthError(500, 'PLINTH_ERR_PLUGIN_SETUP', `the sandboxed process of ${s.pluginId} did not start: ${output.join('').trim().slice(-500) || 'no output'}`);
    }
    deprioritise(child.pid!);
    const budget = new CpuBudget();
    this.heartbeat = setInterval(() => {
      if (++this.missed > 3 || !budget.sample(treeCpuMs(child.pid!))) {
        if (this.missed <= 3) this.killedFor = `its process was killed: ${budget.describe()}`;
        this.stopping = false;
        this.child.kill('SIGKILL');
        return;
      }
      this.post({ t: 'ping', n: Date.now() });
    }, SANDBOX_DEFAULTS.heartbeatMs);
    this.heartbeat.unref();
  }

  private receive(msg: Msg, hello: () => void): void {
    switch (msg.t) {
      case 'hello': hello(); break;
      case 'pong': this.missed = 0; break;
      case 'note': this.onNote(msg.m, msg.a); break;
      case 'call':
        this.onCall(msg.m, msg.a).then(
          v => this.post({ t: 'res', id: msg.id, ok: true, v, m: msg.m }),
          err => this.post({ t: 'res', id: msg.id, ok: false, e: errorBody(err) }),
        );
        break;
      case 'res': case 'ready': case 'setup-failed': {
        const id = msg.t === 'res' ? msg.id : 0;
        const p = this.pending.get(id);
        if (!p) break;
        this.pending.delete(id);
        clearTimeout(p.timer);
        if (msg.t === 'setup-failed' || (msg.t === 'res' && !msg.ok)) p.reject(new PlinthError(msg.e.status ?? 500, msg.e.code ?? 'PLINTH_ERR_INTERNAL', msg.e.message, msg.e.details));
        else p.resolve(msg.v);
        break;
      }
    }
  }

  private readonly send = batchedSender(
    m => { if (this.child?.connected) this.child.send(m, err => { if (err) { /* the exit handler reports it */ } }); },
    // A function (or another uncopyable value) in an answer: say so rather than never answer.
    (m, err) => { const instead = unsendableAnswer(m, `the answer to ${m.m} cannot cross into the sandbox: ${err.message}`); if (instead) this.post(instead); },
  );

  post(msg: Msg): void {
    this.send(msg);
  }

  /** Runs the plugin's setup in the process; resolves when it is ready. */
  init(init: Record<string, unknown>, timeoutMs: number): Promise<void> {
    return this.request(0, { t: 'init', ...init }, timeoutMs, `setup of ${this.spec.pluginId} did not finish within ${timeoutMs} ms`) as Promise<void>;
  }

  /** Calls one of the plugin's handlers; rejects with 504 after `timeoutMs` (then `onTimeout`). */
  invoke(handle: string, args: unknown[], timeoutMs: number = SANDBOX_DEFAULTS.callTimeoutMs, hooks?: { started?(cancelTimeout: () => void): void }): Promise<unknown> {
    const id = this.nextId++;
    const p = this.request(id, { t: 'invoke', id, h: handle, a: args }, timeoutMs, `plugin ${this.spec.pluginId} did not answer within ${timeoutMs} ms`);
    hooks?.started?.(() => clearTimeout(this.pending.get(id)?.timer));
    return p;
  }

  private request(id: number, msg: Msg, timeoutMs: number, late: string): Promise<unknown> {
    if (!this.child?.connected) return Promise.reject(new PlinthError(502, 'PLINTH_ERR_PLUGIN_CRASHED', `plugin ${this.spec.pluginId} is not running`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { this.pending.delete(id); reject(new PlinthError(504, 'PLINTH_ERR_PLUGIN_TIMEOUT', late)); }, timeoutMs);
      timer.unref();
      this.pending.set(id, { resolve, reject, timer });
      this.post(msg);
    });
  }

  kill(): void {
    this.stopping = true;
    clearInterval(this.heartbeat);
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  /** Lets the plugin run its disposers (up to a second), then ends the process. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.child?.connected) {
      this.post({ t: 'dispose' });
      await Promise.race([this.exited, new Promise(r => setTimeout(r, 1000).unref())]);
    }
    this.kill();
    await this.exited;
  }
}

/** What the process learns of a failed call: the message too (a failed query of its own, say). */
function errorBody(err: any) {
  return err instanceof PlinthError ? { status: err.status, code: err.code, message: err.message, details: err.details } : { status: 500, code: 'PLINTH_ERR_INTERNAL', message: String(err?.message ?? err) };
}

let startData: Promise<number> | undefined;
/**
 * Bytes of writable private mappings (VmData, what RLIMIT_DATA counts) a bare `node` has at start,
 * measured once: ~50 MB on Node 20, ~570 MB on Node 24, whose V8 reserves its code range writable.
 */
function nodeStartData(): Promise<number> {
  return (startData ??= new Promise(done => execFile(process.execPath, ['-e', "process.stdout.write(require('fs').readFileSync('/proc/self/status', 'utf8'))"], { timeout: 10_000 }, (err, out) => {
    const kb = Number(/^VmData:\s*(\d+) kB/m.exec(String(out ?? ''))?.[1]);
    done(!err && kb > 0 ? kb * 1024 : 0);
  })));
}

/** Node ≥ 22.13 calls it `--permission`; 20 has `--experimental-permission`. */
function permissionFlag(): string {
  return process.allowedNodeEnvironmentFlags.has('--permission') ? '--permission' : '--experimental-permission';
}
