/** Contract of the `approvals` plugin: deciding approvals from elsewhere. */
import { createServiceRef, type User } from 'plinth/sdk';

export interface ApprovalRequestView {
  id: string;
  tool: string;
  input: unknown;
  requester: string;
  state: 'pending' | 'approved' | 'denied' | 'expired';
  createdAt: string;
  expiresAt: string;
}

/** Deciding approvals from elsewhere (a chat's inline buttons, the dashboard). */
export interface ApprovalsService {
  get(id: string): Promise<ApprovalRequestView | undefined>;
  decide(id: string, decision: { approved: boolean; reason?: string; by: User }): Promise<ApprovalRequestView>;
}

export const approvalsRef = createServiceRef<ApprovalsService>({ id: 'approvals.service' });
