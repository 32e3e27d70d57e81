import { errors, type Clock } from 'plinth/sdk';
import type { JobsService, RecurringJob } from 'plinth/contracts/jobs';
import type { Schedule, ScheduleStore, Target } from './schedule-store';
import type { Scheduler } from './scheduler';
import { checkCron, checkTimezone, nextCronRun, parseAt } from './timing';

export interface ScheduleInput {
  name?: string; at?: string; cron?: string; timezone?: string; job?: any; template?: string; inputs?: Record<string, unknown>;
  missed?: 'run_once' | 'skip'; enabled?: boolean;
}

/** A cron schedule as the job list shows it among the recurring jobs. */
export function recurringJob(s: Schedule): RecurringJob {
  const job = 'job' in s.target ? { kind: s.target.job.kind, title: s.target.job.title ?? null } : null;
  return {
    id: s.id, owner: s.owner, name: s.name, cron: s.cron!, timezone: s.timezone, enabled: s.enabled, nextRunAt: s.nextRunAt, lastRunAt: s.lastRunAt,
    job, template: 'template' in s.target ? s.target.template : null,
  };
}

/** Creating and changing schedules: every change re-validates the timing and recomputes the next run. */
export class ScheduleService {
  constructor(private readonly store: ScheduleStore, private readonly scheduler: Scheduler, private readonly jobs: JobsService, private readonly clock: Clock) {}

  private nextRun(s: Pick<Schedule, 'kind' | 'cron' | 'timezone' | 'at' | 'enabled'>, now: number): number | null {
    if (!s.enabled) return null;
    if (s.kind === 'at') {
      const ms = Date.parse(s.at!);
      if (ms <= now) throw errors.validation(`at: ${s.at} is in the past`, [{ field: 'body/at', message: 'in the past' }]);
      return ms;
    }
    return nextCronRun(s.cron!, s.timezone, now);
  }

  async create(owner: string, b: ScheduleInput): Promise<Schedule> {
    const now = this.clock.now();
    const timezone = checkTimezone(b.timezone ?? 'UTC');
    const atMs = b.at ? parseAt(b.at, now) : null;
    if (b.cron) checkCron(b.cron, timezone);
    const target: Target = b.template ? { template: b.template, inputs: b.inputs ?? {} } : { job: { request: {}, ...b.job } };
    const enabled = b.enabled ?? true;
    const kind = b.cron ? 'cron' : 'at';
    const nextRunMs = enabled ? (atMs ?? nextCronRun(b.cron!, timezone, now)) : null;
    const s = await this.store.insert({ owner, name: b.name ?? null, kind, cron: b.cron ?? null, timezone, atMs, target, enabled, missed: b.missed ?? 'run_once', nextRunMs }, now);
    this.scheduler.poke();
    return s;
  }

  async patch(s: Schedule, b: ScheduleInput): Promise<Schedule> {
    const now = this.clock.now();
    const next: Schedule = { ...s };
    if (b.name !== undefined) next.name = b.name;
    if (b.timezone !== undefined) next.timezone = checkTimezone(b.timezone);
    if (b.at !== undefined) { parseAt(b.at, now); Object.assign(next, { kind: 'at', at: new Date(Date.parse(b.at)).toISOString(), cron: null }); }
    if (b.cron !== undefined) Object.assign(next, { kind: 'cron', cron: b.cron, at: null });
    if (next.kind === 'cron') checkCron(next.cron!, next.timezone);
    if (b.template !== undefined) next.target = { template: b.template, inputs: b.inputs ?? {} };
    else if (b.job !== undefined) next.target = { job: { request: {}, ...b.job } };
    else if (b.inputs !== undefined) {
      if (!('template' in next.target)) throw errors.validation('inputs: only a schedule of a template takes inputs', [{ field: 'body/inputs', message: 'no template' }]);
      next.target = { template: next.target.template, inputs: b.inputs };
    }
    if (b.missed !== undefined) next.missed = b.missed;
    if (b.enabled !== undefined) next.enabled = b.enabled;
    const timingChanged = b.at !== undefined || b.cron !== undefined || b.timezone !== undefined || b.enabled !== undefined;
    const nextRunMs = timingChanged ? this.nextRun(next, now) : (s.nextRunAt ? Date.parse(s.nextRunAt) : null);
    const saved = await this.store.update(s.id, next, nextRunMs, now);
    this.scheduler.poke();
    return saved;
  }

  async enable(s: Schedule): Promise<Schedule> {
    return this.patch(s, { enabled: true });
  }

  async disable(s: Schedule): Promise<Schedule> {
    return this.patch(s, { enabled: false });
  }

  /** Fires now, outside the timetable; the next scheduled run stays as it was. */
  async runNow(s: Schedule) {
    const now = this.clock.now();
    const out = await this.scheduler.spawn(s.id, s.owner, s.target, now, s.kind === 'cron');
    await this.store.recordFire({ scheduleId: s.id, owner: s.owner, dueMs: now, firedMs: now, ...out });
    if (out.status === 'error') throw errors.badRequest(`the schedule could not fire: ${out.error}`);
    return { scheduleId: s.id, dueAt: new Date(now).toISOString(), jobIds: out.jobIds, crewId: out.crewId };
  }

  async jobsOf(s: Schedule) {
    const fires = await this.store.firesOf(s.id);
    const items = [];
    for (const f of fires) {
      for (const id of f.jobIds) {
        const job = await this.jobs.getJob?.(id);
        items.push({ id, dueAt: f.dueAt, firedAt: f.firedAt, crewId: f.crewId, state: job?.state ?? 'deleted', title: job?.title ?? null, kind: job?.kind ?? null });
      }
    }
    return { items, fires, nextCursor: null };
  }
}
