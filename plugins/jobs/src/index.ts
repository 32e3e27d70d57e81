import { join } from 'node:path';
import { definePlugin, metricsRef, sandboxRef, type SandboxMode } from 'plinth/sdk';
import { agentInstancesRef, agentRuntimeRef } from 'plinth/contracts/agents';
import { jobsRef } from './contract';
import { JobStore } from './job-store';
import { JOB_STATES } from './schemas';
import { migrations } from './migrations';
import { JobService } from './job-service';
import { Dispatcher, type DispatcherOptions } from './dispatcher';
import { TemplateLibrary } from './templates';
import { commandExecutor } from './executors/command';
import { agentExecutor } from './executors/agent';
import { registerRoutes } from './routes';
import { registerTools } from './tools';

export interface JobsConfig extends DispatcherOptions {
  defaultMaxRetries: number;
  commandTimeoutMs: number;
  commandPath?: string;
  allowUserCommands: boolean;
  sandbox: SandboxMode;
  allowedHosts: string[];
}

const deps = { agents: agentRuntimeRef.asOptional(), instances: agentInstancesRef.asOptional(), sandbox: sandboxRef.asOptional(), metrics: metricsRef };

export default definePlugin<typeof deps, JobsConfig>({
  deps,
  provides: [jobsRef],
  async setup({ http, tools, storage, events, auth, clock, timers, validator, log, config, kernel, dataDir, agents, instances, sandbox, metrics, onDispose, provide }) {
    const store = new JobStore(await storage.open({ migrations }));
    const templates = new TemplateLibrary(join(kernel.dataDir, 'templates'), validator);
    const service = new JobService(store, templates, events, clock, validator, config, id => auth.getUser(id));
    const dispatcher = new Dispatcher(store, service, auth, clock, timers, log, config);
    service.dispatcher = dispatcher;
    service.registerExecutor(commandExecutor({
      workDir: join(dataDir, 'work'), timeoutMs: config.commandTimeoutMs, path: config.commandPath,
      sandbox, sandboxMode: config.sandbox, allowedHosts: config.allowedHosts,
      onSpawn: (id, pid) => { void store.leases.setPid(id, dispatcher.kernelId, pid).catch(() => undefined); },
    }));
    service.registerExecutor(agentExecutor(() => agents, () => instances));
    dispatcher.start();
    onDispose(() => dispatcher.stop());

    metrics.gauge({
      name: 'plinth_jobs', help: 'Jobs by state', labelNames: ['state'],
      collect: async () => {
        const counts = await store.counts();
        return JOB_STATES.map(state => ({ labels: { state }, value: counts[state] ?? 0 }));
      },
    });

    registerRoutes(http, { store, service, dispatcher, templates, sandbox, config, clock });
    registerTools(tools, { store, service, sandbox, config, clock });

    provide(jobsRef, service);
  },
});
