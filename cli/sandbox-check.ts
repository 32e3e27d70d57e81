import { SANDBOX_INSTALL_HINT } from '../sdk';
import { KernelSandbox, defaultHidden } from '../core/sandbox/kernel-sandbox';

/** `plinth doctor`'s sandbox line: whether runs, command jobs, stdio MCP servers and sandboxed plugins can be sandboxed here. */
export async function sandboxCheck(settings: { dataDir: string; sandboxBwrap?: string }): Promise<{ name: string; status: 'ok' | 'warn'; detail: string; fix?: string }> {
  const status = await new KernelSandbox({ hidden: defaultHidden(settings.dataDir), bwrapPath: settings.sandboxBwrap }).status();
  if (status.available) return { name: 'sandbox', status: 'ok', detail: `${status.mechanism}: runs, command jobs, stdio MCP servers and plugins with isolation "sandbox" start sandboxed` };
  return {
    name: 'sandbox', status: 'warn',
    detail: `no process sandbox (${status.reason}): users' runs and command jobs are refused, admins' run unconfined, and plugins with isolation "sandbox" do not start`,
    fix: SANDBOX_INSTALL_HINT,
  };
}
