import type { SqlRunner } from 'plinth/sdk';

export interface SkillStateRow { id: string; enabled: boolean; source: string; recorded_hash: string | null; recorded_at: string | null }

/**
 * What the platform decided about each skill, kept in the database (shared by every kernel on
 * PostgreSQL): enabled or not, and the hash recorded when it was first seen, installed or accepted.
 */
export class SkillStateStore {
  private readonly t: string;
  constructor(private readonly db: SqlRunner, private readonly now: () => string) { this.t = db.table('state'); }

  async all(): Promise<Map<string, SkillStateRow>> {
    const rows = await this.db.query(`SELECT id, enabled, source, recorded_hash, recorded_at FROM ${this.t}`);
    return new Map(rows.map(r => [r.id, { ...r, enabled: Number(r.enabled) === 1 }]));
  }

  /** First sighting records the hash (trust on first use); later sightings never overwrite it. */
  async recordIfNew(id: string, source: string, hash: string, enabled: boolean): Promise<void> {
    const now = this.now();
    await this.db.query(`INSERT INTO ${this.t} (id, enabled, source, recorded_hash, recorded_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (id) DO NOTHING`, [id, enabled ? 1 : 0, source, hash, now, now]);
  }

  async record(id: string, source: string, hash: string, enabled: boolean): Promise<void> {
    const now = this.now();
    await this.db.query(`INSERT INTO ${this.t} (id, enabled, source, recorded_hash, recorded_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (id) DO UPDATE SET enabled = excluded.enabled, source = excluded.source, recorded_hash = excluded.recorded_hash,
      recorded_at = excluded.recorded_at, updated_at = excluded.updated_at`, [id, enabled ? 1 : 0, source, hash, now, now]);
  }

  async setEnabled(id: string, enabled: boolean): Promise<void> {
    await this.db.query(`UPDATE ${this.t} SET enabled = ?, updated_at = ? WHERE id = ?`, [enabled ? 1 : 0, this.now(), id]);
  }

  async remove(id: string): Promise<void> {
    await this.db.query(`DELETE FROM ${this.t} WHERE id = ?`, [id]);
  }
}
