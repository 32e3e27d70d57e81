import { claimLeased, iso, keysetPage, newId, type PluginDatabase } from 'plinth/sdk';

export type Target = { job: { kind: string; request: Record<string, unknown>; title?: string; max_retries?: number; continuity?: 'fresh' | 'resume'; process_scope?: string } } | { template: string; inputs: Record<string, unknown> };

export interface Schedule {
  id: string;
  owner: string;
  name: string | null;
  kind: 'at' | 'cron';
  cron: string | null;
  timezone: string;
  at: string | null;
  target: Target;
  enabled: boolean;
  missed: 'run_once' | 'skip';
  nextRunAt: string | null;
  lastRunAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface Fire {
  scheduleId: string;
  owner: string;
  dueAt: string;
  firedAt: string;
  lateMs: number;
  status: 'fired' | 'skipped' | 'error';
  jobIds: string[];
  crewId: string | null;
  error: string | null;
}

export function toSchedule(r: any): Schedule {
  return {
    id: r.id, owner: r.owner, name: r.name ?? null, kind: r.kind, cron: r.cron ?? null, timezone: r.timezone, at: iso(r.at_ms),
    target: JSON.parse(r.target), enabled: Number(r.enabled) === 1, missed: r.missed, nextRunAt: iso(r.next_run_ms), lastRunAt: iso(r.last_run_ms),
    createdAt: iso(r.created_ms)!, updatedAt: iso(r.updated_ms)!,
  };
}

function toFire(r: any): Fire {
  return {
    scheduleId: r.schedule_id, owner: r.owner, dueAt: iso(r.due_ms)!, firedAt: iso(r.fired_ms)!, lateMs: Number(r.fired_ms) - Number(r.due_ms),
    status: r.status, jobIds: r.job_ids ? JSON.parse(r.job_ids) : [], crewId: r.crew_id ?? null, error: r.error ?? null,
  };
}

export interface ScheduleRow { id: string; owner: string; kind: 'at' | 'cron'; cron: string | null; timezone: string; target: Target; missed: 'run_once' | 'skip'; dueMs: number }

export class ScheduleStore {
  private readonly t: string;
  private readonly f: string;
  constructor(readonly db: PluginDatabase) {
    this.t = db.table('schedules');
    this.f = db.table('fires');
  }

  async insert(s: { owner: string; name: string | null; kind: 'at' | 'cron'; cron: string | null; timezone: string; atMs: number | null; target: Target; enabled: boolean; missed: string; nextRunMs: number | null }, nowMs: number): Promise<Schedule> {
    const [row] = await this.db.query(
      `INSERT INTO ${this.t} (id, owner, name, kind, cron, timezone, at_ms, target, enabled, missed, next_run_ms, created_ms, updated_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
      [newId('sch'), s.owner, s.name, s.kind, s.cron, s.timezone, s.atMs, JSON.stringify(s.target), s.enabled ? 1 : 0, s.missed, s.nextRunMs, nowMs, nowMs]);
    return toSchedule(row);
  }

  async get(id: string): Promise<Schedule | undefined> {
    const [row] = await this.db.query(`SELECT * FROM ${this.t} WHERE id = ?`, [id]);
    return row ? toSchedule(row) : undefined;
  }

  /**
   * An edit (enable, disable, new timing) drops any firing lease, so a fire already in flight
   * cannot write the old timetable back over it; the fire itself stays deduplicated by its key.
   */
  async update(id: string, s: Schedule, nextRunMs: number | null, nowMs: number): Promise<Schedule> {
    const [row] = await this.db.query(
      `UPDATE ${this.t} SET name = ?, kind = ?, cron = ?, timezone = ?, at_ms = ?, target = ?, enabled = ?, missed = ?, next_run_ms = ?, updated_ms = ?, lease_owner = NULL, lease_until = NULL WHERE id = ? RETURNING *`,
      [s.name, s.kind, s.cron, s.timezone, s.at ? Date.parse(s.at) : null, JSON.stringify(s.target), s.enabled ? 1 : 0, s.missed, nextRunMs, nowMs, id]);
    return toSchedule(row);
  }

  async remove(id: string): Promise<void> {
    await this.db.query(`DELETE FROM ${this.t} WHERE id = ?`, [id]);
  }

  async list(f: { owner?: string; limit: number; cursor?: { ms: number; id: string } }): Promise<Schedule[]> {
    return (await keysetPage(this.db, { table: this.t, equal: { owner: f.owner }, cursor: f.cursor, limit: f.limit })).map(toSchedule);
  }

  /** The cron schedules (recurring jobs), newest first, for the job list's `recurring`. */
  async recurring(owner: string | undefined, limit: number): Promise<Schedule[]> {
    return (await keysetPage(this.db, { table: this.t, equal: { owner, kind: 'cron' }, limit })).slice(0, limit).map(toSchedule);
  }

  /** Takes the due schedules for this kernel with a lease; the guarded UPDATE lets one kernel win each. */
  async claimDue(kernelId: string, nowMs: number, leaseMs: number, limit: number): Promise<ScheduleRow[]> {
    const rows = await claimLeased(this.db, {
      table: this.t,
      set: 'lease_owner = ?, lease_until = ?', setParams: [kernelId, nowMs + leaseMs],
      where: 'enabled = 1 AND next_run_ms <= ? AND (lease_until IS NULL OR lease_until < ?)', whereParams: [nowMs, nowMs],
      orderBy: 'next_run_ms', limit,
    });
    return rows.map(r => ({ id: r.id, owner: r.owner, kind: r.kind, cron: r.cron ?? null, timezone: r.timezone, target: JSON.parse(r.target), missed: r.missed, dueMs: Number(r.next_run_ms) }));
  }

  /** Records a fire; false when this (schedule, due time) was already recorded. */
  async recordFire(f: { scheduleId: string; owner: string; dueMs: number; firedMs: number; status: Fire['status']; jobIds: string[]; crewId: string | null; error: string | null }): Promise<boolean> {
    const rows = await this.db.query(
      `INSERT INTO ${this.f} (schedule_id, due_ms, owner, fired_ms, status, job_ids, crew_id, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (schedule_id, due_ms) DO NOTHING RETURNING schedule_id`,
      [f.scheduleId, f.dueMs, f.owner, f.firedMs, f.status, JSON.stringify(f.jobIds), f.crewId, f.error]);
    return rows.length > 0;
  }

  /** Releases fired schedules with their next run; only while this kernel still holds them. */
  async advance(ids: string[], kernelId: string, next: { nextRunMs: number | null; lastRunMs: number; enabled: boolean }, nowMs: number): Promise<void> {
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      await this.db.query(
        `UPDATE ${this.t} SET next_run_ms = ?, last_run_ms = ?, enabled = ?, lease_owner = NULL, lease_until = NULL, updated_ms = ? WHERE id IN (${chunk.map(() => '?').join(', ')}) AND lease_owner = ?`,
        [next.nextRunMs, next.lastRunMs, next.enabled ? 1 : 0, nowMs, ...chunk, kernelId]);
    }
  }

  /** Records many fires in one statement; a fire already recorded under its key is left as it was. */
  async recordFires(fires: Array<{ scheduleId: string; owner: string; dueMs: number; firedMs: number; status: Fire['status']; jobIds: string[]; crewId: string | null; error: string | null }>): Promise<void> {
    for (let i = 0; i < fires.length; i += 400) {
      const chunk = fires.slice(i, i + 400);
      await this.db.query(
        `INSERT INTO ${this.f} (schedule_id, due_ms, owner, fired_ms, status, job_ids, crew_id, error) VALUES ${chunk.map(() => '(?, ?, ?, ?, ?, ?, ?, ?)').join(', ')} ON CONFLICT (schedule_id, due_ms) DO NOTHING`,
        chunk.flatMap(f => [f.scheduleId, f.dueMs, f.owner, f.firedMs, f.status, JSON.stringify(f.jobIds), f.crewId, f.error]));
    }
  }

  async nextDueMs(): Promise<number | null> {
    const [row] = await this.db.query(`SELECT MIN(next_run_ms) AS m FROM ${this.t} WHERE enabled = 1`);
    return row?.m === null || row?.m === undefined ? null : Number(row.m);
  }

  async firesOf(scheduleId: string, limit = 200): Promise<Fire[]> {
    return (await this.db.query(`SELECT * FROM ${this.f} WHERE schedule_id = ? ORDER BY due_ms DESC LIMIT ${limit}`, [scheduleId])).map(toFire);
  }

  async fires(owner: string | undefined, limit: number): Promise<Fire[]> {
    return (await this.db.query(`SELECT * FROM ${this.f}${owner ? ' WHERE owner = ?' : ''} ORDER BY fired_ms DESC LIMIT ${limit}`, owner ? [owner] : [])).map(toFire);
  }
}
