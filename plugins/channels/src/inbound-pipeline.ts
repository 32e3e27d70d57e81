import { createHash, randomInt } from 'node:crypto';
import type { AuthService, Clock, Logger, User } from 'plinth/sdk';
import type { AgentRuntime } from 'plinth/contracts/agents';
import type { ApprovalsService } from 'plinth/contracts/approvals';
import type { InboundMessage, WebhookResult } from './contract';
import type { ChannelStore } from './channel-store';
import type { InboundRow, NewDelivery } from './channel-rows';
import { parseApprovalCallback } from './approval-prompts';

export type SenderPolicy = 'open' | 'allowlist' | 'pairing';

export interface ChannelSettings { agent?: string; policy?: SenderPolicy; allow?: string[]; runAs?: string }

export interface PipelineSettings {
  defaultAgent: string;
  defaultPolicy: SenderPolicy;
  runAs?: string;
  channels: Record<string, ChannelSettings>;
  inbound: { concurrency: number; leaseMs: number };
  /** The one chat where approval requests are pushed and may be decided. */
  approvals?: { channel: string; chatId: string };
}

export interface PipelineDeps {
  store: ChannelStore;
  agents: AgentRuntime | undefined;
  approvals: ApprovalsService | undefined;
  auth: AuthService;
  clock: Clock;
  log: Logger;
  /** Puts a reply in the outbound queue (and records `queued` on the trace). */
  enqueue(delivery: NewDelivery): Promise<string | undefined>;
}

const PAIRING_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/**
 * What happens to a verified inbound message: stored once (the platform's id is the key), then
 * processed behind the webhook's 200 — sender check, approval callbacks, an agent turn in the
 * chat's session, the reply queued for delivery. Every step is a stage on the message's trace.
 */
export class InboundPipeline {
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private running = 0;
  private stopped = false;
  private readonly chats = new Map<string, Promise<void>>();
  private readonly inflight = new Set<Promise<void>>();
  /** Messages refused a claim because their chat was busy, by how often. */
  private readonly retries = new Map<string, number>();

  constructor(private readonly deps: PipelineDeps, private readonly settings: PipelineSettings) {}

  async receive(channel: string, result: WebhookResult): Promise<{ accepted: number; duplicates: number }> {
    const { store, clock } = this.deps;
    if (result.type === 'ignored') return { accepted: 0, duplicates: 0 };
    if (result.type === 'status') {
      let accepted = 0;
      for (const u of result.updates) {
        const found = await store.deliveries.ofPlatformMessage(channel, u.messageId);
        if (!found) continue;
        accepted++;
        await store.stage(found.trace_id, found.delivery_id, u.status, clock.now(), { messageId: u.messageId }, u.error);
      }
      return { accepted, duplicates: 0 };
    }
    const rows = await Promise.all(result.messages.map(m => this.store(channel, m)));
    for (const row of rows) if (row) this.push(row.id);
    const accepted = rows.filter(Boolean).length;
    return { accepted, duplicates: rows.length - accepted };
  }

  private batch: Array<{ channel: string; m: InboundMessage; done: (r: { id: string; traceId: string } | undefined) => void; fail: (e: unknown) => void }> = [];

  /** Group commit: webhooks arriving together share one INSERT; each still answers only after it is stored. */
  private store(channel: string, m: InboundMessage): Promise<{ id: string; traceId: string } | undefined> {
    return new Promise((done, fail) => {
      this.batch.push({ channel, m, done, fail });
      if (this.batch.length === 1) setImmediate(() => this.flush());
      else if (this.batch.length >= 200) this.flush();
    });
  }

  private flush(): void {
    const items = this.batch.splice(0);
    if (!items.length) return;
    this.deps.store.inbound.insert(items, this.deps.clock.now())
      .then(rows => items.forEach((it, i) => it.done(rows[i])), err => items.forEach(it => it.fail(err)));
  }

  /** After a restart (or another kernel's crash): messages stored but never finished. */
  async recover(): Promise<number> {
    const ids = await this.deps.store.inbound.pending(this.deps.clock.now());
    for (const id of ids) this.push(id);
    return ids.length;
  }

  private push(id: string): void {
    if (this.stopped || this.queued.has(id)) return;
    this.queued.add(id);
    this.queue.push(id);
    this.pump();
  }

  private pump(): void {
    while (!this.stopped && this.running < this.settings.inbound.concurrency && this.queue.length) {
      const id = this.queue.shift()!;
      this.queued.delete(id);
      this.running++;
      const p = this.process(id)
        .catch(err => this.deps.log.error('processing an inbound message failed', { inbound: id, err: String(err) }))
        .finally(() => { this.running--; this.inflight.delete(p); this.pump(); });
      this.inflight.add(p);
    }
  }

  private async process(id: string): Promise<void> {
    const m = await this.deps.store.inbound.get(id);
    if (!m) return;
    // One chat's messages are answered in order and share one session: in this process by this
    // chain, across kernels by the claim (inbound-store.ts).
    const key = `${m.channel}\u0000${m.chat_id}`;
    const before = this.chats.get(key);
    // Waiting behind the same chat's earlier message does not hold a slot: one busy chat must not
    // stall every other chat. The slot is taken back when it is this message's turn.
    const waitTurn = before ? (async () => {
      this.running--;
      this.pump();
      await before;
      this.running++;
    })() : Promise.resolve();
    const mine = waitTurn.then(() => this.claimAndHandle(id));
    const tail = mine.catch(() => undefined);
    this.chats.set(key, tail);
    try { await mine; } finally { if (this.chats.get(key) === tail) this.chats.delete(key); }
  }

  private async claimAndHandle(id: string): Promise<void> {
    const { store, clock } = this.deps;
    // The finish of this chat's previous message, written behind, must be in the database first.
    await store.inbound.finishes.flush();
    const m = await store.inbound.claim(id, clock.now(), this.settings.inbound.leaseMs);
    if (m) { this.retries.delete(id); return this.handle(m); }
    // Not its turn: an earlier message of the chat is being answered, maybe by another kernel.
    // Asked again with a growing pause; a predecessor whose kernel died is taken over.
    const { pending, stale } = await store.inbound.waiting(id, clock.now());
    if (!pending) { this.retries.delete(id); return; }
    if (stale) this.push(stale);
    const n = (this.retries.get(id) ?? 0) + 1;
    this.retries.set(id, n);
    // Node's timer, unref'd: a pause between questions to the database, nothing a test waits out.
    setTimeout(() => this.push(id), pauseMs(n)).unref?.();
  }

  private async handle(m: InboundRow): Promise<void> {
    const { store, clock } = this.deps;
    try {
      const allowed = await this.checkSender(m);
      if (!allowed) return;
      const approval = m.kind === 'callback' ? parseApprovalCallback(m.callback_data) : undefined;
      // Only the chat approvals are pushed to may decide them: callback data can be forged.
      const target = this.settings.approvals;
      if (approval && target && m.channel === target.channel && m.chat_id === String(target.chatId)) return await this.decideApproval(m, approval);
      if (approval) throw new Error(`approval buttons are only honoured in the configured approvals chat`);
      await this.answerWithAgent(m);
    } catch (err: any) {
      if (sessionBusy(err)) return await this.retryLater(m);
      const message = String(err?.message ?? err);
      await store.stage(m.trace_id, m.id, 'failed', clock.now(), undefined, message);
      await store.inbound.finish(m.id, 'failed', clock.now(), message);
    }
  }

  /**
   * The chat's session is still held by an earlier turn — typically one whose kernel was killed
   * mid-turn, until the agents' turn lease lapses. Not the message's fault: it gives its claim back
   * (still first in its chat, so the chat's later messages keep waiting) and is asked again after a
   * pause; the sweep and the chat's waiters pick it up too.
   */
  private async retryLater(m: InboundRow): Promise<void> {
    const { store, clock } = this.deps;
    await store.inbound.release(m.id, m.lease_until, clock.now());
    const n = (this.retries.get(m.id) ?? 0) + 1;
    this.retries.set(m.id, n);
    setTimeout(() => this.push(m.id), pauseMs(n) * 4).unref?.();
  }

  private channelSettings(channel: string): ChannelSettings { return this.settings.channels[channel] ?? {}; }

  /** Allowlist by sender or chat id; unknown senders get nothing or a pairing code, per policy. */
  private async checkSender(m: InboundRow): Promise<boolean> {
    const { store, clock } = this.deps;
    const cs = this.channelSettings(m.channel);
    const policy = cs.policy ?? this.settings.defaultPolicy;
    if (policy === 'open') return true;
    const allow = cs.allow ?? [];
    if (allow.includes(m.sender_id) || allow.includes(m.chat_id)) return true;
    const pairing = await store.pairings.get(m.channel, m.sender_id);
    if (pairing?.state === 'approved') return true;
    if (policy === 'allowlist' || pairing) {
      await store.stage(m.trace_id, m.id, 'rejected', clock.now(), { reason: pairing ? 'pairing pending' : 'sender not in allowlist', senderId: m.sender_id });
      await store.inbound.finish(m.id, 'ignored', clock.now());
      return false;
    }
    const code = Array.from({ length: 8 }, () => PAIRING_ALPHABET[randomInt(PAIRING_ALPHABET.length)]).join('');
    const created = await store.pairings.create(m.channel, m.sender_id, m.chat_id, code, clock.now());
    await store.stage(m.trace_id, m.id, 'rejected', clock.now(), { reason: 'unknown sender: pairing code sent', senderId: m.sender_id });
    if (created) {
      await this.deps.enqueue({ channel: m.channel, chatId: m.chat_id, replyTo: m.message_id, traceId: m.trace_id,
        text: `This bot does not know you yet. Your pairing code is ${created}; ask its operator to approve it.` });
    }
    await store.inbound.finish(m.id, 'ignored', clock.now());
    return false;
  }

  private async runAs(channel: string, chatId: string): Promise<User> {
    const id = this.channelSettings(channel).runAs ?? this.settings.runAs;
    if (id) {
      const user = await this.deps.auth.getUser(id);
      if (!user) throw new Error(`runAs user ${id} does not exist`);
      return user;
    }
    // No configured user: a non-admin principal per chat, so a chat never acts as an admin, and what
    // is owned per user (sessions, memory recalled into the context) never crosses from one chat to another.
    return { id: chatPrincipal(channel, chatId), email: `${channel}@channels.plinth.local`, name: `${channel} chat ${chatId}`, role: 'user' };
  }

  private async answerWithAgent(m: InboundRow): Promise<void> {
    const { store, clock, agents } = this.deps;
    if (!agents) throw new Error('no agent runtime: enable a plugin providing agents.runtime');
    const agent = this.channelSettings(m.channel).agent ?? this.settings.defaultAgent;
    const user = await this.runAs(m.channel, m.chat_id);
    const session = await store.chats.sessionFor(m.channel, m.chat_id);
    const sessionId = session?.agent === agent ? session.session_id : undefined;
    await store.stage(m.trace_id, m.id, 'routed', clock.now(), { agent, sessionId: sessionId ?? null, kind: m.kind });
    const text = m.kind === 'edit' ? `(edited) ${m.text}` : m.text;
    const result = await agents.runTurn({ agent, message: text, user, sessionId, continuity: sessionId ? 'resume' : 'fresh', via: `channel:${m.channel}` });
    if (result.sessionId !== sessionId) await store.chats.saveSession(m.channel, m.chat_id, agent, result.sessionId, clock.now());
    await store.stage(m.trace_id, m.id, 'answered', clock.now(), { sessionId: result.sessionId, turnId: result.turnId, chars: result.text.length, partial: result.partial });
    if (result.text.trim()) {
      await this.deps.enqueue({ channel: m.channel, chatId: m.chat_id, text: result.text, replyTo: m.message_id, traceId: m.trace_id, dedupeKey: `reply:${m.id}` });
    }
    await store.inbound.finish(m.id, 'done', clock.now());
  }

  private async decideApproval(m: InboundRow, a: { id: string; approved: boolean }): Promise<void> {
    const { store, clock, approvals } = this.deps;
    if (!approvals) throw new Error('no approvals service: enable a plugin providing approvals.service');
    const by = await this.runAs(m.channel, m.chat_id);
    let text: string;
    try {
      const view = await approvals.decide(a.id, { approved: a.approved, by, reason: `${a.approved ? 'approved' : 'denied'} in ${m.channel} by ${m.sender_name ?? m.sender_id}` });
      await store.stage(m.trace_id, m.id, 'approval-decided', clock.now(), { approvalId: a.id, state: view.state });
      text = `${view.state === 'approved' ? 'Approved' : view.state === 'denied' ? 'Denied' : `Now ${view.state}`}: ${view.tool}`;
    } catch (err: any) {
      await store.stage(m.trace_id, m.id, 'approval-failed', clock.now(), { approvalId: a.id }, String(err?.message ?? err));
      text = `Could not decide approval ${a.id}: ${err?.message ?? err}`;
    }
    await this.deps.enqueue({ channel: m.channel, chatId: m.chat_id, text, traceId: m.trace_id });
    await store.inbound.finish(m.id, 'done', clock.now());
  }

  async stop(timeoutMs = 5000): Promise<void> {
    this.stopped = true;
    // Node's timer: this drain runs during dispose, when the generation's ctx.timers no longer fire.
    await Promise.race([Promise.allSettled([...this.inflight]), new Promise(r => setTimeout(r, timeoutMs).unref?.())]);
  }
}

export type { InboundMessage };

/** The growing pause before a message refused its turn asks again (25 ms doubling, at most 400). */
function pauseMs(attempt: number): number { return Math.min(25 * 2 ** Math.min(attempt, 5), 400); }

/** The agents' runtime refuses a turn while the session answers another message (see its contract). */
function sessionBusy(err: unknown): boolean {
  const e = err as { code?: unknown; details?: { sessionBusy?: unknown } } | undefined;
  return e?.code === 'PLINTH_ERR_CONFLICT' && e.details?.sessionBusy === true;
}

/** `channel:<name>:<chat>`; owner columns hold 40 characters, so a longer one names the chat by a hash. */
export function chatPrincipal(channel: string, chatId: string): string {
  const id = `channel:${channel}:${chatId}`;
  return id.length <= 40 ? id : `channel:${createHash('sha256').update(`${channel}\u0000${chatId}`).digest('hex').slice(0, 31)}`;
}
