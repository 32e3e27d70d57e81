import { clusterRef, egressRef, toolPolicyRef, definePlugin, sandboxRef, type SandboxMode } from 'plinth/sdk';
import { agentRuntimeRef } from 'plinth/contracts/agents';
import { channelsRef } from 'plinth/contracts/channels';
import { cliAdaptersRef } from './contract';
import { CliAdapters, claudeCodeAdapter, codexAdapter, commandAdapter } from './adapters';
import { RunEventLog } from './event-log';
import { RunReview } from './review';
import { RunService } from './run-service';
import { RunPins } from './run-pins';
import { migrations } from './migrations';
import { RunStore } from './run-store';
import { registerRoutes } from './routes';
import { TerminalSockets } from './terminal-ws';
import { GitHubForge } from './forge';
import { NOTIFY_EVENTS, RunNotifications, type NotifyEvent } from './notifications';

export default definePlugin({
  deps: { agents: agentRuntimeRef.asOptional(), gate: toolPolicyRef.asOptional(), sandbox: sandboxRef.asOptional(), channels: channelsRef.asOptional(), egress: egressRef, cluster: clusterRef },
  provides: [cliAdaptersRef],
  async setup({ http, ws, storage, events, auth, clock, timers, log, dataDir, kernel, config, secrets, agents, gate, sandbox, channels, egress, cluster, onDispose, provide }) {
    const cfg = config as { repoRoots?: string[]; sandbox?: SandboxMode; adapterHosts?: Record<string, string[]>; terminalSandbox?: boolean; forge?: { apiBaseUrl?: string } };
    const db = await storage.open({ migrations });
    const store = new RunStore(db);
    const runLog = new RunEventLog(store, clock, log);
    const adapters = new CliAdapters();
    for (const a of [claudeCodeAdapter, codexAdapter, commandAdapter]) adapters.register(a);
    const now = () => new Date(clock.now()).toISOString();
    const runs = new RunService({
      store, log: runLog, adapters, clock, logger: log, events, auth, dataDir,
      agents: () => agents, gate: () => gate, hookUrl: id => `${kernel.baseUrl()}/api/runs/${id}/hook`,
      sandbox, sandboxMode: cfg.sandbox ?? 'auto', adapterHosts: cfg.adapterHosts ?? {}, nodeId: cluster.nodeId,
    });
    const pins = new RunPins({ cluster, runs, auth, log });
    const forge = new GitHubForge(cfg.forge?.apiBaseUrl ?? 'https://api.github.com', secrets.PLINTH_GITHUB_TOKEN, egress);
    const review = new RunReview(store, now, forge);
    const notifications = new RunNotifications(db, egress, log);
    const unregister = notifications.register(channels);
    if (unregister) onDispose(unregister);
    const notifyOn = (event: NotifyEvent) => (e: { owner: string | null; payload: any }) =>
      void notifications.onRunEvent(channels, e.owner ?? '', e.payload.run_id, event, e.payload.message ?? '').catch(err => log.warn('queuing a run notification failed', { err: String(err) }));
    for (const event of NOTIFY_EVENTS) onDispose(events.subscribe(`runs.${event}`, notifyOn(event)));
    const terminals = new TerminalSockets(runs, dataDir, cfg.terminalSandbox ? sandbox : undefined, { adapters, sandbox, sandboxMode: cfg.sandbox ?? 'auto', adapterHosts: cfg.adapterHosts ?? {} },
      (socket, info, run) => pins.terminal(socket, info, run));
    onDispose(() => terminals.stopAll());
    onDispose(() => runs.stopAll());
    const recovered = await pins.sweep(true);
    if (recovered) log.warn('runs left running by a previous kernel were marked failed (resumable)', { count: recovered });
    // Another kernel of the cluster may die meanwhile: its runs are failed once its heartbeat lapses.
    onDispose(timers.setInterval(() => {
      pins.sweep(false).then(n => { if (n) log.warn('runs of a kernel node that died were marked failed (resumable)', { count: n }); }, err => log.warn('sweeping runs of dead nodes failed', { err: String(err) }));
    }, 5000));

    registerRoutes(http, ws, { store, runs, runLog, review, terminals, pins, repoRoots: cfg.repoRoots ?? [], now, runner: { notifications, agents: () => agents, forge } });

    provide(cliAdaptersRef, adapters);
  },
});
