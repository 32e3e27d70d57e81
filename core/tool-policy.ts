import type { ApprovalDecision, ToolPolicyService, ToolRisk, User } from '../sdk';

/**
 * The kernel-owned tool policy (`core.toolPolicy`). Plugins and the tool registry always get this
 * one object; it asks the plugin that implements the policy (approvals) at call time, so a plugin
 * that needs the policy does not depend on which plugin implements it, nor on start order, and
 * a swap of the implementer reaches everyone at once. With no implementer, gated calls fail closed.
 */
export class KernelToolPolicy implements ToolPolicyService {
  constructor(private readonly implementation: () => ToolPolicyService | undefined) {}

  get active(): boolean {
    return this.implementation() !== undefined;
  }

  riskFor(tool: string, declared: ToolRisk, user: User): ToolRisk {
    return this.implementation()?.riskFor?.(tool, declared, user) ?? declared;
  }

  async request(input: Parameters<ToolPolicyService['request']>[0]): Promise<ApprovalDecision> {
    const impl = this.implementation();
    if (!impl) return { approved: false, reason: 'no tool policy is active (enable the approvals plugin)' };
    return impl.request(input);
  }
}
