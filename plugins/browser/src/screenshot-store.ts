import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertOwner, errors, iso, newId, type SqlRunner, type User } from 'plinth/sdk';

export interface ScreenshotRecord { id: string; owner: string; session_id: string; url: string; title: string; content_type: string; size: number; created_at: string }

/**
 * Screenshots the browser took for a user. The agents plugin's contract offers no attachments, so
 * they are stored here and served to their owner by `GET /api/browser/screenshots/:id`.
 */
export class ScreenshotStore {
  private readonly t: string;
  private readonly dir: string;
  constructor(private readonly db: SqlRunner, dataDir: string, private readonly now: () => number) {
    this.t = db.table('screenshots');
    this.dir = join(dataDir, 'screenshots');
    mkdirSync(this.dir, { recursive: true });
  }

  async save(owner: string, sessionId: string, page: { url: string; title: string }, png: Buffer): Promise<ScreenshotRecord> {
    const row: ScreenshotRecord = {
      id: newId('shot'), owner, session_id: sessionId, url: page.url, title: page.title.slice(0, 500),
      content_type: 'image/png', size: png.length, created_at: iso(this.now()),
    };
    // Bytes first: a row never points at a missing file.
    writeFileSync(join(this.dir, row.id), png, { mode: 0o600 });
    try {
      await this.db.query(`INSERT INTO ${this.t} (id, owner, session_id, url, title, content_type, size, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        [row.id, row.owner, row.session_id, row.url, row.title, row.content_type, row.size, row.created_at]);
    } catch (err) {
      rmSync(join(this.dir, row.id), { force: true });
      throw err;
    }
    return row;
  }

  async get(id: string, user: User | undefined): Promise<ScreenshotRecord> {
    const [row] = await this.db.query(`SELECT * FROM ${this.t} WHERE id = ?`, [id]);
    if (!row) throw errors.notFound(`screenshot ${id}`);
    assertOwner(user, row.owner, `screenshot ${id}`);
    return { ...row, size: Number(row.size) };
  }

  read(id: string): Buffer {
    return readFileSync(join(this.dir, id));
  }
}
