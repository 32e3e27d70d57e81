import { PlinthError } from './errors';
import { createServiceRef } from './refs';

/**
 * What a sandboxed program may touch. Everything else of the machine is read-only system files;
 * the kernel's data dir, its checkout and $HOME are hidden, the kernel's processes are invisible
 * (own PID namespace), and the network is off except through the kernel's filtering proxy.
 */
export interface SandboxPolicy {
  /** Folders the program may write (and read); the first is its own (its TMPDIR is made in it). */
  writable: string[];
  /** Further folders it may read, e.g. a repository's git metadata. */
  readable?: string[];
  /** Paths inside the writable folders that stay read-only (a worktree's `.git` file). */
  readOnly?: string[];
  /** Host names (or `*.example.com`) it may reach through the proxy; none by default. */
  allowedHosts?: string[];
}

export interface SandboxSpawnRequest extends SandboxPolicy {
  file: string;
  args: string[];
  cwd: string;
  /** The whole environment of the program; nothing of the kernel's is added. */
  env: Record<string, string>;
}

/** What to hand to `child_process.spawn` or `pty.spawn`; `release()` once the program has exited. */
export interface SandboxedCommand {
  file: string;
  args: string[];
  env: Record<string, string>;
  release(): void;
}

export interface SandboxStatus {
  available: boolean;
  /** The mechanism in use, e.g. "bubblewrap 0.8.0 + sandbox-runtime proxy". */
  mechanism?: string;
  /** Why it is unavailable, and what to install. */
  reason?: string;
}

/**
 * The kernel's one sandbox for every process the platform starts for someone (a run's CLI, a
 * command job, a stdio MCP server, a terminal) and for sandboxed plugins: `wrap` turns a program
 * into the command line that starts it inside the sandbox.
 */
export interface SandboxService {
  status(): Promise<SandboxStatus>;
  /** Throws `PLINTH_ERR_SANDBOX_UNAVAILABLE` (503) where no sandbox works on this machine. */
  wrap(request: SandboxSpawnRequest): Promise<SandboxedCommand>;
}

export const sandboxRef = createServiceRef<SandboxService>({ id: 'core.sandbox' });

export const SANDBOX_INSTALL_HINT = 'install bubblewrap, socat and ripgrep (apt-get install bubblewrap socat ripgrep)';

export function sandboxUnavailable(reason: string): PlinthError {
  return new PlinthError(503, 'PLINTH_ERR_SANDBOX_UNAVAILABLE', `no process sandbox on this server: ${reason}; ${SANDBOX_INSTALL_HINT}, or let an admin set the plugin's config "sandbox": "off"`);
}

/** A plugin's `sandbox` setting: `auto` sandboxes where possible and refuses non-admins where not; `required` refuses everyone; `off` never sandboxes. */
export type SandboxMode = 'auto' | 'required' | 'off';

/**
 * Whether a program started for `user` runs sandboxed: null → unsandboxed (mode off, or an admin
 * where no sandbox exists under `auto`); throws for anyone else where no sandbox exists.
 */
export async function sandboxFor(sandbox: SandboxService | undefined, mode: SandboxMode, isAdmin: boolean): Promise<SandboxService | null> {
  if (mode === 'off') return null;
  const status = sandbox ? await sandbox.status() : { available: false, reason: 'the kernel has no sandbox service' };
  if (status.available) return sandbox!;
  if (mode === 'auto' && isAdmin) return null;
  throw sandboxUnavailable(status.reason ?? 'unknown reason');
}
