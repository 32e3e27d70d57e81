import { ROOT_DIR } from '../version';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { sandboxUnavailable, type SandboxService, type SandboxSpawnRequest, type SandboxStatus, type SandboxedCommand } from '../../sdk';
import { sandboxRuntime } from './runtime';

export interface KernelSandboxOptions {
  /** Hidden from every sandboxed program: the data dir, the kernel's checkout, $HOME. */
  hidden: string[];
  /** bubblewrap to use (PLINTH_SANDBOX_BWRAP); default: `bwrap` on PATH. */
  bwrapPath?: string;
}

/**
 * The kernel's process sandbox: bubblewrap through `@anthropic-ai/sandbox-runtime` on Linux
 * (read-only system, a fresh /proc in its own PID namespace, no network namespace but a bridge to
 * the runtime's filtering proxy). The runtime's proxy is one per process; what differs per program
 * (its folders) goes in the per-command config, and its hosts in a network list registered under an
 * unguessable id that only that program's proxy credentials carry.
 */
export class KernelSandbox implements SandboxService {
  private probed: SandboxStatus | undefined;
  /** This kernel's hold on the process-wide runtime, taken on first use (concurrent first wraps wait for the same one). */
  private acquired: Promise<void> | undefined;

  constructor(private readonly options: KernelSandboxOptions) {}

  async status(): Promise<SandboxStatus> {
    return (this.probed ??= probe(this.options.bwrapPath));
  }

  async wrap(req: SandboxSpawnRequest): Promise<SandboxedCommand> {
    if (!req.writable.length) throw new Error('a sandboxed program needs a folder of its own (writable[0])');
    const status = await this.status();
    if (!status.available) throw sandboxUnavailable(status.reason!);
    this.acquired ??= sandboxRuntime.acquire(this.options.bwrapPath).catch(err => { this.acquired = undefined; throw err; });
    await this.acquired;
    const manager = sandboxRuntime.manager();
    const commandId = randomBytes(16).toString('base64url');
    manager.registerCommandNetworkLists(commandId, { allowedDomains: req.allowedHosts ?? [] });
    const hidden = this.options.hidden.filter(h => !req.writable.some(w => h.startsWith(w + '/') || h === w));
    const filesystem = {
      denyRead: hidden,
      // The runtime's seccomp helper lives in its package, which may sit inside a hidden checkout.
      // So are its socat wrapper's.
      allowRead: [...req.writable, ...(req.readable ?? []), sandboxRuntime.vendorDir(), ...[sandboxRuntime.socatPath()].filter(p => p !== undefined)],
      allowWrite: req.writable,
      denyWrite: req.readOnly ?? [],
    };
    try {
      // The runtime's TMPDIR (/tmp/claude) is one folder shared by every sandboxed process; each
      // program gets a temporary folder of its own instead, inside its first writable folder.
      const tmp = join(req.writable[0], '.tmp');
      mkdirSync(tmp, { recursive: true });
      const command = `TMPDIR=${shellQuote(tmp)} ` + ['exec', req.file, ...req.args].map(shellQuote).join(' ');
      const { argv } = await manager.wrapWithSandboxArgv(command, '/bin/sh', { filesystem } as any, undefined, req.cwd, { commandId });
      let released = false;
      return {
        file: argv[0], args: execLast(argv), env: req.env,
        release: () => { if (!released) { released = true; manager.unregisterCommandNetworkLists(commandId); } },
      };
    } catch (err) {
      manager.unregisterCommandNetworkLists(commandId);
      throw err;
    }
  }

  async close(): Promise<void> {
    const held = this.acquired;
    this.acquired = undefined;
    if (held && await held.then(() => true, () => false)) await sandboxRuntime.release();
  }
}

/**
 * The runtime hands back `/bin/sh -c "bwrap …"`, and dash does not exec the last command of `-c`:
 * the shell stayed between the kernel and bwrap. A kill of the shell's group then missed the
 * sandbox (bwrap's `--new-session`), and bwrap's `--die-with-parent` watched the shell, not the
 * kernel, so a SIGKILLed kernel left the whole sandbox running. With `exec`, bwrap is the
 * kernel's own child: its death signal is the kernel's death, and with `--unshare-pid` the
 * sandbox's pid 1 takes every process inside down with it.
 */
function execLast(argv: string[]): string[] {
  const args = argv.slice(1);
  if (argv[0].endsWith('/sh') && args[0] === '-c' && /^\s*'?[^\s']*bwrap'?\s/.test(args[1] ?? '')) args[1] = `exec ${args[1].trimStart()}`;
  return args;
}

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_\/.,:=@%+-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

/** bubblewrap must start a PID and network namespace here (a container may forbid it); socat and ripgrep must exist. */
function probe(bwrapPath?: string): SandboxStatus {
  if (process.platform !== 'linux') return { available: false, reason: `process sandboxing is implemented for Linux only (this is ${process.platform})` };
  const bwrap = bwrapPath ?? 'bwrap';
  const run = spawnSync(bwrap, ['--ro-bind', '/', '/', '--dev', '/dev', '--unshare-pid', '--unshare-net', '--proc', '/proc', '--new-session', '--die-with-parent', 'true'], { encoding: 'utf8', timeout: 5000 });
  if (run.error || run.status !== 0) {
    const why = run.error ? ((run.error as NodeJS.ErrnoException).code === 'ENOENT' ? `bubblewrap not found at "${bwrap}"` : run.error.message) : `bubblewrap cannot create namespaces here: ${run.stderr.trim()}`;
    return { available: false, reason: why };
  }
  for (const [tool, arg] of [['socat', '-V'], ['rg', '--version']]) {
    const r = spawnSync(tool, [arg], { encoding: 'utf8', timeout: 5000 });
    if (r.error || r.status !== 0) return { available: false, reason: `${tool} not found (the network filter needs it)` };
  }
  const version = spawnSync(bwrap, ['--version'], { encoding: 'utf8' }).stdout.trim();
  return { available: true, mechanism: `${version || 'bubblewrap'} via @anthropic-ai/sandbox-runtime (filtering proxy)` };
}

/** What a kernel hides from sandboxed programs by default. */
export function defaultHidden(dataDir: string): string[] {
  const checkout = ROOT_DIR;
  return [...new Set([dataDir, checkout, homedir()].filter(p => p && p !== '/' && existsSync(p)))];
}
