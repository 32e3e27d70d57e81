import { toolPolicyRef, definePlugin, type ToolRisk } from 'plinth/sdk';
import { approvalsRef } from './contract';
import { ApprovalStore } from './approval-store';
import { migrations } from './migrations';
import { ApprovalService } from './approval-service';
import { ToolPolicy } from './policy';
import { registerRoutes } from './routes';

interface Config {
  timeoutMs: number;
  questionWaitCapMs: number;
  sweepMs: number;
  riskOverrides: Record<string, ToolRisk>;
  autoApprove: Record<string, string[]>;
}

export default definePlugin<{}, Config>({
  provides: [toolPolicyRef, approvalsRef],
  async setup({ http, storage, events, clock, timers, log, config, onDispose, provide }) {
    const store = new ApprovalStore(await storage.open({ migrations }));
    const service = new ApprovalService(store, new ToolPolicy(config), events, clock, timers, log, config);
    await service.start();
    onDispose(() => service.stop());

    registerRoutes(http, { store, service, questionWaitCapMs: config.questionWaitCapMs });

    provide(toolPolicyRef, service);
    provide(approvalsRef, service);
  },
});
