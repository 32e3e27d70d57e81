import { newId, type Clock, type JobsService, type Logger, type Timers } from 'plinth/sdk';
import type { ScheduleRow, ScheduleStore, Target } from './schedule-store';
import { nextCronRun } from './timing';

export interface SchedulerOptions { pollMs: number; leaseMs: number; missedGraceMs: number; batch: number }

/**
 * Fires due schedules. Each fire is keyed by (schedule id, due time): the job is enqueued with
 * that idempotency key and the fire is recorded under it, so a crash between the two, a restart,
 * or a second kernel can never make a second job for the same fire.
 */
export class Scheduler {
  readonly kernelId = newId('kern');
  private clearTimer: (() => void) | undefined;
  private running = false;
  private again = false;
  private stopped = false;

  constructor(
    private readonly store: ScheduleStore,
    private readonly jobs: JobsService,
    private readonly clock: Clock,
    private readonly timers: Timers,
    private readonly log: Logger,
    private readonly options: SchedulerOptions,
  ) {}

  start(): void { this.poke(); }

  stop(): void {
    this.stopped = true;
    this.clearTimer?.();
  }

  /** Runs a round now (a schedule was created or changed) and re-arms the timer for the next due one. */
  poke(): void {
    if (this.stopped) return;
    if (this.running) { this.again = true; return; }
    this.clearTimer?.();
    this.clearTimer = this.timers.setTimeout(() => { void this.round(); }, 0);
  }

  private async round(): Promise<void> {
    if (this.stopped) return;
    this.running = true;
    try {
      do {
        this.again = false;
        const due = await this.store.claimDue(this.kernelId, this.clock.now(), this.options.leaseMs, this.options.batch);
        // A few fires at a time: the database pipelines them, and lateness stays low under bursts.
        for (let i = 0; i < due.length; i += 32) await Promise.all(due.slice(i, i + 32).map(s => this.fire(s)));
        if (due.length === this.options.batch) this.again = true;
      } while (this.again && !this.stopped);
    } catch (err) {
      this.log.warn('schedule round failed', { error: String(err) });
    } finally {
      this.running = false;
    }
    if (this.stopped) return;
    const next = await this.store.nextDueMs().catch(() => null);
    const wait = next === null ? this.options.pollMs : Math.max(0, Math.min(next - this.clock.now(), this.options.pollMs));
    this.clearTimer?.();
    this.clearTimer = this.timers.setTimeout(() => { void this.round(); }, wait);
  }

  private async fire(s: ScheduleRow): Promise<void> {
    const now = this.clock.now();
    const missed = now - s.dueMs > this.options.missedGraceMs;
    let out: { status: 'fired' | 'skipped' | 'error'; jobIds: string[]; crewId: string | null; error: string | null };
    if (missed && s.missed === 'skip') out = { status: 'skipped', jobIds: [], crewId: null, error: `missed by ${now - s.dueMs} ms (policy: skip)` };
    else out = await this.spawn(s.id, s.owner, s.target, s.dueMs);
    await this.store.recordFire({ scheduleId: s.id, owner: s.owner, dueMs: s.dueMs, firedMs: now, ...out });
    // Missed fires are coalesced: the next run is computed from now, not from the missed time.
    let nextRunMs: number | null = null;
    if (s.kind === 'cron' && s.cron) {
      try { nextRunMs = nextCronRun(s.cron, s.timezone, Math.max(now, s.dueMs)); } catch (err) { this.log.warn('cron has no next run', { schedule: s.id, error: String(err) }); }
    }
    await this.store.advance(s.id, this.kernelId, { nextRunMs, lastRunMs: s.dueMs, enabled: nextRunMs !== null }, this.clock.now());
  }

  /** Enqueues the schedule's job or crew under the fire's idempotency key. */
  async spawn(id: string, owner: string, target: Target, dueMs: number): Promise<{ status: 'fired' | 'error'; jobIds: string[]; crewId: string | null; error: string | null }> {
    const key = `sched:${id}:${dueMs}`;
    try {
      if ('template' in target) {
        if (!this.jobs.enqueueTemplate) throw new Error('the jobs plugin does not support templates');
        const r = await this.jobs.enqueueTemplate({ template: target.template, inputs: target.inputs ?? {}, owner, idempotencyKey: key, source: `schedule:${id}` });
        return { status: 'fired', jobIds: r.ids, crewId: r.crewId, error: null };
      }
      const r = await this.jobs.enqueue({
        kind: target.job.kind, request: target.job.request ?? {}, title: target.job.title, maxRetries: target.job.max_retries,
        owner, idempotencyKey: key, source: `schedule:${id}`,
      });
      return { status: 'fired', jobIds: [r.id], crewId: null, error: null };
    } catch (err: any) {
      this.log.warn('schedule fire failed', { schedule: id, error: err?.message ?? String(err) });
      return { status: 'error', jobIds: [], crewId: null, error: err?.message ?? String(err) };
    }
  }
}
