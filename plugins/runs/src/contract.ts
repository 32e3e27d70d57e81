/** Contract of the `runs` plugin: adapters for coding CLIs. */
import { createServiceRef, type Disposer } from 'plinth/sdk';

/** How the runs plugin drives one coding CLI; plugins add adapters through `cliAdaptersRef`. */
export interface CliAdapter {
  name: string;
  command(input: { task: string; message?: string; sessionId?: string; cwd: string; config: Record<string, unknown> }): { file: string; args: string[]; env?: Record<string, string> };
  /** Hosts the CLI reaches (its provider's API), allowed through the process sandbox's proxy; an admin may override them (runs config adapterHosts). */
  hosts?: string[];
  /** Write the CLI's hook settings into the worktree so its hooks post to `hookUrl` with `token`. */
  setupHooks?(input: { cwd: string; hookUrl: string; token: string }): Promise<void>;
  /** Read tokens, cost and session id from the CLI's output when it reports them. */
  parseResult?(output: string): { sessionId?: string; inputTokens?: number; outputTokens?: number; costUsd?: number } | undefined;
}

export interface CliAdapterRegistry {
  register(adapter: CliAdapter): Disposer;
}

export const cliAdaptersRef = createServiceRef<CliAdapterRegistry>({ id: 'runs.adapters' });
