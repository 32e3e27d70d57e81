import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PlinthError, assertOwner, errors, newId, type SqlRunner, type User } from 'plinth/sdk';

export interface AttachmentRecord { id: string; owner: string; content_type: string; size: number; filename: string | null; sha256: string; created_at: string }

/** Uploaded files: metadata in the database, bytes in the plugin's data dir (portable across SQLite and PostgreSQL). */
export class AttachmentStore {
  private readonly t: string;
  private readonly dir: string;
  constructor(private readonly db: SqlRunner, dataDir: string, private readonly options: { maxBytes: number; contentTypes: string[] }, private readonly now: () => number) {
    this.t = db.table('attachments');
    this.dir = join(dataDir, 'attachments');
    mkdirSync(this.dir, { recursive: true });
  }

  get maxBytes(): number { return this.options.maxBytes; }

  async create(user: User, body: Buffer | undefined, contentType: string | undefined, filename: string | undefined): Promise<AttachmentRecord> {
    if (!body?.length) throw errors.validation('the attachment is empty: send its bytes as the request body');
    if (body.length > this.options.maxBytes) throw new PlinthError(413, 'PLINTH_ERR_TOO_LARGE', `attachment of ${body.length} bytes exceeds the limit of ${this.options.maxBytes}`);
    const type = (contentType ?? '').split(';')[0].trim().toLowerCase();
    if (!this.options.contentTypes.includes(type)) {
      throw new PlinthError(415, 'PLINTH_ERR_CONTENT_TYPE', `content type "${type || 'none'}" is not accepted; accepted: ${this.options.contentTypes.join(', ')}`);
    }
    const row: AttachmentRecord = {
      id: newId('att'), owner: user.id, content_type: type, size: body.length, filename: filename?.slice(0, 255) ?? null,
      sha256: createHash('sha256').update(body).digest('hex'), created_at: new Date(this.now()).toISOString(),
    };
    // Bytes first: a row never points at a missing file.
    writeFileSync(join(this.dir, row.id), body, { mode: 0o600 });
    try {
      await this.db.query(`INSERT INTO ${this.t} (id, owner, content_type, size, filename, sha256, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
        [row.id, row.owner, row.content_type, row.size, row.filename, row.sha256, row.created_at]);
    } catch (err) {
      rmSync(join(this.dir, row.id), { force: true });
      throw err;
    }
    return row;
  }

  async get(id: string, user: User | undefined): Promise<AttachmentRecord> {
    const [row] = await this.db.query(`SELECT * FROM ${this.t} WHERE id = ?`, [id]);
    if (!row) throw errors.notFound(`attachment ${id}`);
    assertOwner(user, row.owner, `attachment ${id}`);
    return { ...row, size: Number(row.size) };
  }

  /**
   * What the model sees of a message's attachments: the text of text-like files (bounded), and
   * name, type and size of the others (models here take text; the bytes stay downloadable).
   */
  async forModel(ids: string[], user: User, maxChars = 32_000): Promise<string> {
    const parts: string[] = [];
    for (const id of ids) {
      const row = await this.get(id, user);
      const label = `${row.filename ?? id} (${row.content_type}, ${row.size} bytes)`;
      if (/^text\/|^application\/(json|xml|yaml|x-yaml|csv)\b/.test(row.content_type)) {
        const text = this.read(row.id).toString('utf8');
        parts.push(`[attachment ${id}: ${label}]\n${text.length > maxChars ? text.slice(0, maxChars) + `\n[… ${text.length - maxChars} more characters not shown]` : text}`);
      } else {
        parts.push(`[attachment ${id}: ${label}; not shown to the model]`);
      }
    }
    return parts.join('\n\n');
  }

  read(id: string): Buffer {
    return readFileSync(join(this.dir, id));
  }

  /** Every id must exist and belong to the user (404 otherwise, as for any other object). */
  async assertUsable(ids: string[], user: User): Promise<void> {
    for (const id of ids) await this.get(id, user);
  }
}
