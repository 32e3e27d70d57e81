import { basename } from 'node:path';
import { lookup } from 'mime-types';
import { PlinthError, errors, iso } from 'plinth/sdk';
import type { JobStore } from './job-store';

export interface Artifact { jobId: string; attempt: number; name: string; mediaType: string; size: number; createdAt: string }

/** The file an attempt named as its artifact, one per attempt; readers get the latest attempt's. */
export class JobArtifacts {
  constructor(private readonly store: JobStore) {}

  get table(): string { return this.store.db.table('artifacts'); }

  /** A second save in the same attempt replaces the first: the attempt's last word counts. */
  async save(jobId: string, attempt: number, name: string, data: Buffer | string, nowMs: number, maxBytes: number): Promise<Artifact> {
    if (!name || name.length > 300) throw errors.validation('an artifact needs a name of 1 to 300 characters');
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    if (bytes.length > maxBytes) throw new PlinthError(413, 'PLINTH_ERR_TOO_LARGE', `artifact ${name} of ${bytes.length} bytes exceeds maxArtifactBytes (${maxBytes})`);
    const mediaType = lookup(basename(name)) || 'application/octet-stream';
    await this.store.db.query(`DELETE FROM ${this.table} WHERE job_id = ? AND attempt = ?`, [jobId, attempt]);
    await this.store.db.query(`INSERT INTO ${this.table} (job_id, attempt, name, media_type, size, body, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?)`,
      [jobId, attempt, name, mediaType, bytes.length, bytes.toString('base64'), nowMs]);
    await this.store.eventLog.add([{ jobId, type: 'artifact', data: { attempt, name, size: bytes.length } }], nowMs);
    return { jobId, attempt, name, mediaType, size: bytes.length, createdAt: iso(nowMs)! };
  }

  /** The newest attempt's artifact (without its bytes), or undefined when no attempt saved one. */
  async latest(jobId: string): Promise<Artifact | undefined> {
    const [r] = await this.store.db.query(`SELECT job_id, attempt, name, media_type, size, created_ms FROM ${this.table} WHERE job_id = ? ORDER BY attempt DESC LIMIT 1`, [jobId]);
    return r && { jobId: r.job_id, attempt: Number(r.attempt), name: r.name, mediaType: r.media_type, size: Number(r.size), createdAt: iso(r.created_ms)! };
  }

  async bytes(jobId: string, attempt: number): Promise<Buffer> {
    const [r] = await this.store.db.query(`SELECT body FROM ${this.table} WHERE job_id = ? AND attempt = ?`, [jobId, attempt]);
    return Buffer.from(String(r?.body ?? ''), 'base64');
  }
}
