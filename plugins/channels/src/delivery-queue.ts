import type { Clock, Disposer, Logger, Timers } from 'plinth/sdk';
import type { ChannelAdapter } from './contract';
import type { ChannelStore } from './channel-store';
import type { DeliveryRow } from './channel-rows';
import { splitText } from './split-text';

export interface DeliverySettings {
  maxAttempts: number; backoffBaseMs: number; backoffMaxMs: number;
  leaseMs: number; concurrency: number; pollIntervalMs: number;
}

/** Exponential backoff with full jitter on the upper half, so retries of many chats do not align. */
export function backoffMs(attempt: number, s: Pick<DeliverySettings, 'backoffBaseMs' | 'backoffMaxMs'>): number {
  const raw = Math.min(s.backoffMaxMs, s.backoffBaseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(raw / 2 + Math.random() * (raw / 2));
}

/** Duck-typed: an adapter built against another copy of the SDK throws its own class. */
function retryAfterOf(err: unknown): number | undefined {
  const e = err as { name?: string; retryAfterMs?: unknown };
  return e && e.name === 'RateLimitedError' && typeof e.retryAfterMs === 'number' ? e.retryAfterMs : undefined;
}

/**
 * The outbound queue's worker: claims due deliveries from the database, sends them through their
 * adapter, and decides retry, backoff (honouring retry-after) or dead letter. State lives in the
 * database; this class only holds timers, so a restart picks up where the last process stopped.
 */
export class DeliveryQueue {
  private running = 0;
  private stopped = false;
  private wakeTimer: Disposer | undefined;
  private pollTimer: Disposer | undefined;
  private pumping = false;
  private again = false;
  private readonly inflight = new Set<Promise<void>>();

  constructor(
    private readonly store: ChannelStore,
    private readonly adapters: () => Map<string, ChannelAdapter>,
    private readonly settings: DeliverySettings,
    private readonly clock: Clock,
    private readonly timers: Timers,
    private readonly log: Logger,
    private readonly onSettled: (d: DeliveryRow, outcome: 'sent' | 'retry' | 'dead') => void = () => undefined,
  ) {}

  start(): void {
    const poll = () => { if (this.stopped) return; this.kick(); this.pollTimer = this.timers.setTimeout(poll, this.settings.pollIntervalMs); };
    poll();
  }

  /** Looks for due work now (after an enqueue, a replay, an adapter registering). */
  kick(): void {
    if (this.stopped) return;
    if (this.pumping) { this.again = true; return; }
    this.pumping = true;
    void this.pump().finally(() => {
      this.pumping = false;
      if (this.again && !this.stopped) { this.again = false; this.kick(); }
    });
  }

  private async pump(): Promise<void> {
    while (!this.stopped && this.running < this.settings.concurrency) {
      let row: DeliveryRow | undefined;
      try {
        row = await this.store.deliveries.claim([...this.adapters().keys()], this.clock.now(), this.settings.leaseMs);
      } catch (err) {
        if (!this.stopped) this.log.warn('claiming a delivery failed', { err: String(err) });
        return;
      }
      if (!row) { await this.scheduleWake(); return; }
      this.running++;
      const p = this.deliver(row).finally(() => { this.running--; this.inflight.delete(p); this.kick(); });
      this.inflight.add(p);
    }
  }

  /** Sleeps until the earliest queued retry is due (bounded by the poll interval). */
  private async scheduleWake(): Promise<void> {
    const due = await this.store.deliveries.nextDueAt().catch(() => undefined);
    if (due === undefined || this.stopped) return;
    const wait = Math.max(0, due - this.clock.now());
    if (wait >= this.settings.pollIntervalMs) return;
    void this.wakeTimer?.();
    this.wakeTimer = this.timers.setTimeout(() => this.kick(), wait + 1);
  }

  private async deliver(d: DeliveryRow): Promise<void> {
    const adapter = this.adapters().get(d.channel);
    const now = () => this.clock.now();
    if (!adapter) {
      // Unregistered between claim and send (a reload): not the delivery's fault, no attempt counted.
      await this.store.deliveries.markRetry(d.id, d.attempts, now() + this.settings.pollIntervalMs, 'adapter not registered', now());
      return;
    }
    const parts = splitText(d.text, adapter.maxTextLength);
    const messageIds = [...d.message_ids];
    try {
      for (let i = d.parts_sent; i < parts.length; i++) {
        const last = i === parts.length - 1;
        const res = await adapter.send({
          chatId: d.chat_id, text: parts[i],
          replyTo: i === 0 ? d.reply_to ?? undefined : undefined,
          buttons: last ? d.buttons ?? undefined : undefined,
        });
        messageIds.push(...res.messageIds);
        if (parts.length > 1) await this.store.deliveries.partSent(d.id, i + 1, messageIds, now());
        await this.store.deliveries.recordPlatformMessages(d.channel, res.messageIds, d.id, d.trace_id);
      }
      await this.store.deliveries.markSent(d.id, d.attempts, parts.length, messageIds, now());
      await this.store.stage(d.trace_id, d.id, 'sent', now(), { attempt: d.attempts, messageIds, parts: parts.length });
      this.onSettled(d, 'sent');
    } catch (err: any) {
      const message = String(err?.message ?? err);
      if (this.stopped && /closed|destroy|not connected/i.test(message)) return;
      const retryAfter = retryAfterOf(err);
      if (d.attempts >= this.settings.maxAttempts) {
        await this.store.deliveries.markDead(d.id, d.attempts, message, now());
        await this.store.stage(d.trace_id, d.id, 'failed', now(), { attempt: d.attempts }, message);
        await this.store.stage(d.trace_id, d.id, 'dead-lettered', now(), { attempts: d.attempts });
        this.log.warn('delivery dead-lettered', { delivery: d.id, channel: d.channel, error: message });
        this.onSettled(d, 'dead');
        return;
      }
      const delay = retryAfter !== undefined ? Math.max(retryAfter, 0) : backoffMs(d.attempts, this.settings);
      await this.store.deliveries.markRetry(d.id, d.attempts, now() + delay, message, now());
      await this.store.stage(d.trace_id, d.id, 'failed', now(), { attempt: d.attempts, retryInMs: delay, ...(retryAfter !== undefined ? { retryAfterMs: retryAfter } : {}) }, message);
      this.onSettled(d, 'retry');
      if (delay < this.settings.pollIntervalMs) {
        this.timers.setTimeout(() => this.kick(), delay + 1);
      }
    }
  }

  /** Stops claiming and waits (bounded) for sends in flight; their leases cover anything cut off. */
  async stop(timeoutMs = 5000): Promise<void> {
    this.stopped = true;
    void this.wakeTimer?.();
    void this.pollTimer?.();
    // Node's timer: this drain runs during dispose, when the generation's ctx.timers no longer fire.
    await Promise.race([Promise.allSettled([...this.inflight]), new Promise(r => setTimeout(r, timeoutMs).unref?.())]);
  }
}
