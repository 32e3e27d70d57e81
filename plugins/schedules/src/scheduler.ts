import { newId, type Clock, type Logger, type Timers } from 'plinth/sdk';
import type { JobsService } from 'plinth/contracts/jobs';
import type { ScheduleRow, ScheduleStore, Target } from './schedule-store';
import { nextCronRun } from './timing';

type Outcome = { status: 'fired' | 'skipped' | 'error'; jobIds: string[]; crewId: string | null; error: string | null };
type JobTarget = Extract<Target, { job: unknown }>;

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
        if (due.length) await this.fireBatch(due);
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

  /**
   * Fires a claimed batch in a few statements: the job-target fires go to the jobs plugin in one
   * call, the fires are recorded in one INSERT, and the schedules advance grouped by next run.
   */
  private async fireBatch(rows: ScheduleRow[]): Promise<void> {
    const now = this.clock.now();
    const outs = new Map<string, Outcome>();
    const toFire: ScheduleRow[] = [];
    for (const s of rows) {
      if (now - s.dueMs > this.options.missedGraceMs && s.missed === 'skip') outs.set(s.id, { status: 'skipped', jobIds: [], crewId: null, error: `missed by ${now - s.dueMs} ms (policy: skip)` });
      else toFire.push(s);
    }
    const simple = toFire.filter(s => 'job' in s.target);
    if (simple.length > 1 && this.jobs.enqueueMany) {
      try {
        const ids = await this.jobs.enqueueMany(simple.map(s => this.jobInput(s.id, s.owner, s.target as JobTarget, s.dueMs, s.kind === 'cron')));
        simple.forEach((s, i) => outs.set(s.id, { status: 'fired', jobIds: [ids[i].id], crewId: null, error: null }));
      } catch {
        // One bad schedule must not stop the others: fire them one by one, each with its own error.
      }
    }
    for (const s of toFire) if (!outs.has(s.id)) outs.set(s.id, await this.spawn(s.id, s.owner, s.target, s.dueMs, s.kind === 'cron'));
    const firedMs = this.clock.now();
    await this.store.recordFires(rows.map(s => ({ scheduleId: s.id, owner: s.owner, dueMs: s.dueMs, firedMs, ...outs.get(s.id)! })));
    // A fire within the grace follows its timetable: the next run is the one after this due time,
    // even if that is already past, so a late round (a busy kernel, a lease taken over from a dead
    // one) fires every due time in turn. Computing it from now skipped the due times in between
    // (the chaos run of issue 15 found a per-second schedule losing fires after each kill).
    // Missed fires (past the grace) are coalesced: the next run is computed from now.
    const groups = new Map<string, { nextRunMs: number | null; lastRunMs: number; ids: string[] }>();
    for (const s of rows) {
      let nextRunMs: number | null = null;
      if (s.kind === 'cron' && s.cron) {
        const from = now - s.dueMs > this.options.missedGraceMs ? Math.max(now, s.dueMs) : s.dueMs;
        try { nextRunMs = nextCronRun(s.cron, s.timezone, from); } catch (err) { this.log.warn('cron has no next run', { schedule: s.id, error: String(err) }); }
      }
      const key = `${nextRunMs}:${s.dueMs}`;
      const g = groups.get(key) ?? { nextRunMs, lastRunMs: s.dueMs, ids: [] };
      g.ids.push(s.id);
      groups.set(key, g);
    }
    for (const g of groups.values()) await this.store.advance(g.ids, this.kernelId, { nextRunMs: g.nextRunMs, lastRunMs: g.lastRunMs, enabled: g.nextRunMs !== null }, this.clock.now());
  }

  private jobInput(id: string, owner: string, target: JobTarget, dueMs: number, recurring: boolean) {
    return {
      kind: target.job.kind, request: target.job.request ?? {}, title: target.job.title, maxRetries: target.job.max_retries,
      owner, idempotencyKey: `sched:${id}:${dueMs}`, source: `schedule:${id}`,
      continuity: target.job.continuity, processScope: target.job.process_scope, recurring,
    };
  }

  /** Enqueues the schedule's job or crew under the fire's idempotency key; `recurring` for a cron schedule's fire. */
  async spawn(id: string, owner: string, target: Target, dueMs: number, recurring: boolean): Promise<Outcome> {
    const key = `sched:${id}:${dueMs}`;
    try {
      if ('template' in target) {
        if (!this.jobs.enqueueTemplate) throw new Error('the jobs plugin does not support templates');
        const r = await this.jobs.enqueueTemplate({ template: target.template, inputs: target.inputs ?? {}, owner, idempotencyKey: key, source: `schedule:${id}` });
        return { status: 'fired', jobIds: r.ids, crewId: r.crewId, error: null };
      }
      const r = await this.jobs.enqueue(this.jobInput(id, owner, target, dueMs, recurring));
      return { status: 'fired', jobIds: [r.id], crewId: null, error: null };
    } catch (err: any) {
      this.log.warn('schedule fire failed', { schedule: id, error: err?.message ?? String(err) });
      return { status: 'error', jobIds: [], crewId: null, error: err?.message ?? String(err) };
    }
  }
}
