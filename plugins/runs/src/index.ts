import { toolPolicyRef, definePlugin, sandboxRef, type SandboxMode } from 'plinth/sdk';
import { agentRuntimeRef } from 'plinth/contracts/agents';
import { cliAdaptersRef } from './contract';
import { CliAdapters, claudeCodeAdapter, codexAdapter, commandAdapter } from './adapters';
import { RunEventLog } from './event-log';
import { RunReview } from './review';
import { RunService } from './run-service';
import { migrations } from './migrations';
import { RunStore } from './run-store';
import { registerRoutes } from './routes';
import { TerminalSockets } from './terminal-ws';

export default definePlugin({
  deps: { agents: agentRuntimeRef.asOptional(), gate: toolPolicyRef.asOptional(), sandbox: sandboxRef.asOptional() },
  provides: [cliAdaptersRef],
  async setup({ http, ws, storage, events, auth, clock, log, dataDir, kernel, config, agents, gate, sandbox, onDispose, provide }) {
    const cfg = config as { repoRoots?: string[]; sandbox?: SandboxMode; adapterHosts?: Record<string, string[]>; terminalSandbox?: boolean };
    const db = await storage.open({ migrations });
    const store = new RunStore(db);
    const runLog = new RunEventLog(store, clock, log);
    const adapters = new CliAdapters();
    for (const a of [claudeCodeAdapter, codexAdapter, commandAdapter]) adapters.register(a);
    const now = () => new Date(clock.now()).toISOString();
    const runs = new RunService({
      store, log: runLog, adapters, clock, logger: log, events, auth, dataDir,
      agents: () => agents, gate: () => gate, hookUrl: id => `${kernel.baseUrl()}/api/runs/${id}/hook`,
      sandbox, sandboxMode: cfg.sandbox ?? 'auto', adapterHosts: cfg.adapterHosts ?? {},
    });
    const review = new RunReview(store, now);
    const terminals = new TerminalSockets(runs, dataDir, cfg.terminalSandbox ? sandbox : undefined);
    onDispose(() => terminals.stopAll());
    onDispose(() => runs.stopAll());
    const recovered = await runs.recover();
    if (recovered) log.warn('runs left running by a previous kernel were marked failed (resumable)', { count: recovered });

    registerRoutes(http, ws, { store, runs, runLog, review, terminals, repoRoots: cfg.repoRoots ?? [], now });

    provide(cliAdaptersRef, adapters);
  },
});
