/**
 * Stand-ins for services in a test kernel, after Backstage's `mockServices`: each is a ref with
 * an implementation, passed as `createTestKernel({ services: [...] })`.
 */
import { coreServices, toolPolicyRef, type ApprovalDecision, type Clock, type ServiceRef, type ToolPolicyService } from '../sdk';

export interface ServiceMock<T> { ref: ServiceRef<T>; impl: T }

/** Any service under its ref, type-checked against it. */
export function mockService<T>(ref: ServiceRef<T>, impl: T): ServiceMock<T> {
  return { ref: ref as ServiceRef<unknown> as ServiceRef<T>, impl };
}

/** A clock that moves only when the test says so. */
export interface ManualClock extends Clock {
  set(ms: number): void;
  advance(ms: number): void;
}

export const mockServices = {
  /**
   * The kernel's tool policy: approves every gated tool unless `decide` says otherwise, and
   * keeps the declared risk unless `riskFor` changes it.
   */
  toolPolicy(options: Partial<ToolPolicyService> & { decide?: (input: Parameters<ToolPolicyService['request']>[0]) => ApprovalDecision | Promise<ApprovalDecision> } = {}): ServiceMock<ToolPolicyService> {
    const decide = options.decide ?? (() => ({ approved: true }));
    return mockService(toolPolicyRef, {
      riskFor: options.riskFor,
      request: options.request ?? (async input => decide(input)),
    });
  },

  /** The kernel's clock, starting at `startMs` (now by default). */
  clock(startMs = Date.now()): ServiceMock<ManualClock> & { clock: ManualClock } {
    let t = startMs;
    const clock: ManualClock = { now: () => t, set: ms => { t = ms; }, advance: ms => { t += ms; } };
    return { ...mockService(coreServices.clock as ServiceRef<ManualClock>, clock), clock };
  },
};
