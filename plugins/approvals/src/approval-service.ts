import { errors, type ApprovalDecision, type ToolPolicyService, type Clock, type EventBus, type Logger, type Timers, type ToolCallContext, type ToolRisk, type User } from 'plinth/sdk';
import type { ApprovalRequestView, ApprovalsService } from './contract';
import type { ApprovalRequest, ApprovalStore, Question } from './approval-store';
import type { ToolPolicy } from './policy';

type Waiter = (request: ApprovalRequest) => void;

export interface ApprovalOptions { timeoutMs: number; sweepMs: number }

/**
 * The approval gate of the tool registry and the decision service. A caller waits in memory, but
 * the request itself is a row: after a restart the waiter is gone, the request is still listed,
 * decidable, and expires on time. Decisions taken by another kernel on the same database reach
 * local waiters through the sweep.
 */
export class ApprovalService implements ToolPolicyService, ApprovalsService {
  private readonly waiters = new Map<string, Set<Waiter>>();
  private readonly expiryTimers = new Map<string, () => void>();

  constructor(
    private readonly store: ApprovalStore,
    private readonly policy: ToolPolicy,
    private readonly events: EventBus,
    private readonly clock: Clock,
    private readonly timers: Timers,
    private readonly log: Logger,
    private readonly options: ApprovalOptions,
  ) {}

  /** Re-arms expiry for requests left pending by a previous process, and starts the sweep. */
  async start(): Promise<void> {
    for (const r of await this.store.pending()) this.armExpiry(r.id, Date.parse(r.expiresAt));
    this.timers.setInterval(() => { void this.sweep().catch(err => this.log.warn('approval sweep failed', { error: String(err) })); }, this.options.sweepMs);
  }

  stop(): void {
    for (const clear of this.expiryTimers.values()) clear();
    this.expiryTimers.clear();
    // Callers still waiting get a fail-closed answer rather than hanging across a reload.
    for (const [id, set] of this.waiters) for (const w of set) w({ id, state: 'denied', reason: 'approvals plugin stopped' } as ApprovalRequest);
    this.waiters.clear();
  }

  riskFor(tool: string, declared: ToolRisk, user: User): ToolRisk {
    const o = this.policy.override(tool);
    if (o && o.risk !== declared) {
      void this.store.addAudit({ kind: 'policy', turnId: null, tool, userId: user.id, requestId: null, decision: `risk:${o.risk}`, detail: { declared, pattern: o.pattern }, atMs: this.clock.now() }).catch(() => undefined);
    }
    return o?.risk ?? declared;
  }

  async request(input: { tool: string; input: unknown; ctx: ToolCallContext; risk: ToolRisk }): Promise<ApprovalDecision> {
    const { ctx, tool } = input;
    const now = this.clock.now();
    const base = {
      kind: 'tool' as const, tool, input: input.input, question: null, requester: ctx.user.id, sessionId: ctx.sessionId ?? null,
      jobId: ctx.jobId ?? null, turnId: ctx.turnId ?? null, via: ctx.via ?? null, risk: input.risk, answer: null, createdMs: now,
    };
    const override = this.policy.override(tool);
    if (override) await this.audit('policy', base.turnId, tool, ctx.user.id, null, `risk:${override.risk}`, { pattern: override.pattern });
    const auto = this.policy.autoApproved(tool, ctx.user);
    if (auto) {
      const r = await this.store.create({ ...base, state: 'approved', expiresMs: now, decidedBy: 'policy', decidedMs: now, reason: `auto-approved by ${auto}` });
      await this.audit('policy', r.turnId, tool, ctx.user.id, r.id, 'auto-approve', { rule: auto });
      await this.audit('tool', r.turnId, tool, ctx.user.id, r.id, 'approved', { by: 'policy' });
      return { approved: true, reason: r.reason ?? undefined, requestId: r.id };
    }
    const r = await this.store.create({ ...base, state: 'pending', expiresMs: now + this.options.timeoutMs, decidedBy: null, reason: null });
    const decided = this.waitFor(r.id, ctx.signal);
    this.armExpiry(r.id, now + this.options.timeoutMs);
    await this.events.publish('approval.requested', view(r), { owner: r.requester, persist: true });
    const final = await decided;
    return { approved: final.state === 'approved', reason: final.reason ?? final.state, requestId: r.id };
  }

  /** Registers a structured question; resolves with the decided request, or expires it after `waitMs`. */
  async ask(user: User, q: Question & { waitMs: number; tool?: string; sessionId?: string; jobId?: string; turnId?: string }): Promise<ApprovalRequest> {
    const now = this.clock.now();
    const r = await this.store.create({
      kind: 'question', tool: q.tool ?? null, input: null, question: { text: q.text, type: q.type, choices: q.choices, toolPermission: q.toolPermission },
      requester: user.id, sessionId: q.sessionId ?? null, jobId: q.jobId ?? null, turnId: q.turnId ?? null, via: 'api', risk: null,
      state: 'pending', createdMs: now, expiresMs: now + q.waitMs, decidedBy: null, reason: null, answer: null,
    });
    const decided = this.waitFor(r.id);
    this.armExpiry(r.id, now + q.waitMs);
    await this.events.publish('approval.requested', view(r), { owner: r.requester, persist: true });
    return decided;
  }

  async get(id: string): Promise<ApprovalRequestView | undefined> {
    const r = await this.store.get(id);
    return r && view(r);
  }

  async find(id: string): Promise<ApprovalRequest | undefined> {
    return this.store.get(id);
  }

  async decide(id: string, d: { approved: boolean; reason?: string; by: User }): Promise<ApprovalRequestView> {
    return view(await this.resolve(id, d.by, { state: d.approved ? 'approved' : 'denied', reason: d.reason ?? null }));
  }

  /** Answers a question with a value of its declared type (400 otherwise); a tool-permission question takes a boolean. */
  async answer(id: string, by: User, answer: unknown, reason?: string): Promise<ApprovalRequest> {
    const r = await this.store.get(id);
    if (!r) throw errors.notFound(`question ${id}`);
    if (r.kind !== 'question' || !r.question) throw errors.badRequest(`${id} is a tool approval, not a question: use /api/approvals/${id}/approve or /deny`);
    const q = r.question;
    const type = q.toolPermission ? 'boolean' : q.type;
    const ok = type === 'boolean' ? typeof answer === 'boolean'
      : type === 'number' ? typeof answer === 'number'
        : type === 'choice' ? typeof answer === 'string' && (q.choices ?? []).includes(answer)
          : typeof answer === 'string';
    if (!ok) throw errors.validation(`answer must be ${type === 'choice' ? `one of ${JSON.stringify(q.choices)}` : `a ${type}`}`, [{ field: 'body/answer', message: `must be ${type}` }]);
    const state = q.toolPermission ? (answer ? 'approved' : 'denied') : 'approved';
    return this.resolve(id, by, { state, reason: reason ?? null, answer });
  }

  private async resolve(id: string, by: User, d: { state: 'approved' | 'denied'; reason: string | null; answer?: unknown }): Promise<ApprovalRequest> {
    const done = await this.store.decide(id, { state: d.state, by: by.id, reason: d.reason, answer: d.answer, atMs: this.clock.now() });
    if (!done) {
      const current = await this.store.get(id);
      if (!current) throw errors.notFound(`approval ${id}`);
      throw errors.conflict(`approval ${id} is already ${current.state}`, { state: current.state });
    }
    await this.finish(done, by.id);
    return done;
  }

  /** Expires a pending request; a tool approval or tool-permission question that times out is denied (fail closed). */
  async expire(id: string): Promise<void> {
    const r = await this.store.get(id);
    if (!r || r.state !== 'pending') return;
    const failClosed = r.kind === 'tool' || !!r.question?.toolPermission;
    const done = await this.store.decide(id, {
      state: failClosed && r.kind === 'question' ? 'denied' : 'expired', by: 'timeout',
      reason: failClosed ? 'no decision before the deadline (denied: fail closed)' : 'no answer before the deadline', atMs: this.clock.now(),
      answer: failClosed && r.kind === 'question' ? false : undefined,
    });
    if (done) await this.finish(done, 'timeout');
  }

  private async finish(r: ApprovalRequest, by: string): Promise<void> {
    this.expiryTimers.get(r.id)?.();
    this.expiryTimers.delete(r.id);
    this.notify(r);
    if (r.kind === 'tool') await this.audit('tool', r.turnId, r.tool, r.requester, r.id, r.state, { by, reason: r.reason });
    await this.events.publish('approval.resolved', view(r), { owner: r.requester, persist: true });
  }

  private async audit(kind: 'tool' | 'policy', turnId: string | null, tool: string | null, userId: string, requestId: string | null, decision: string, detail: unknown) {
    await this.store.addAudit({ kind, turnId, tool, userId, requestId, decision, detail, atMs: this.clock.now() });
  }

  private waitFor(id: string, signal?: AbortSignal): Promise<ApprovalRequest> {
    return new Promise(resolve => {
      const set = this.waiters.get(id) ?? new Set<Waiter>();
      this.waiters.set(id, set);
      const onAbort = () => { set.delete(waiter); resolve({ id, state: 'denied', reason: 'the caller went away' } as ApprovalRequest); };
      const waiter: Waiter = r => { signal?.removeEventListener('abort', onAbort); resolve(r); };
      set.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private notify(r: ApprovalRequest): void {
    const set = this.waiters.get(r.id);
    this.waiters.delete(r.id);
    for (const w of set ?? []) w(r);
  }

  private armExpiry(id: string, atMs: number): void {
    this.expiryTimers.get(id)?.();
    const clear = this.timers.setTimeout(() => { void this.expire(id).catch(err => this.log.warn('approval expiry failed', { id, error: String(err) })); }, Math.max(0, atMs - this.clock.now()));
    this.expiryTimers.set(id, clear);
  }

  private async sweep(): Promise<void> {
    for (const id of await this.store.pendingDue(this.clock.now())) await this.expire(id);
    for (const r of await this.store.states([...this.waiters.keys()])) this.notify(r);
  }
}

/** The stored request as the API and the contract show it (a question has no tool: ''). */
export function view(r: ApprovalRequest): ApprovalRequestView & Omit<ApprovalRequest, 'tool'> {
  return { ...r, tool: r.tool ?? '' };
}
