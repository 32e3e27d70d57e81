import { decodeCursor, errors, pageOf, type Clock, type Dialect, type Page, type SqlRunner, type User } from 'plinth/sdk';
import type { MemoryHit, MemoryService } from './contract';
import { compileQuery, queryError, type QueryMode } from './fts-query';
import { orderedMemoryId } from './memory-ids';

export type MemoryKind = 'working' | 'episodic' | 'semantic';

export interface MemoryEntry {
  id: string;
  kind: MemoryKind;
  owner: string;
  session_id: string | null;
  category: string | null;
  key: string | null;
  text: string;
  source: string | null;
  confidence: number | null;
  topic: string | null;
  occurred_at: string;
  created_at: string;
  updated_at: string;
}

export interface SearchHit extends MemoryEntry { snippet: string; score: number }

export interface NewEntry {
  owner: string;
  kind: MemoryKind;
  text: string;
  session_id?: string | null;
  category?: string | null;
  key?: string | null;
  source?: string | null;
  confidence?: number | null;
  topic?: string | null;
  event_id?: string | null;
  occurred_at?: string;
}

export interface SearchInput {
  q: string;
  /** undefined: every owner (admins). */
  owner: string | undefined;
  kind?: MemoryKind;
  /** Any of these kinds (with `kind`, both apply). */
  kinds?: MemoryKind[];
  category?: string;
  session_id?: string;
  limit?: number;
  mode?: QueryMode;
  /** Working memory only from this session (other sessions' scratch is not context). */
  workingSession?: string | null;
}

interface ListFilter { owner: string | undefined; kind: MemoryKind; session_id?: string; category?: string; from?: string; to?: string; limit: number; cursor?: string }

const COLUMNS = 'seq, id, kind, owner, session_id, category, fact_key, text, source, confidence, topic, occurred_at, created_at, updated_at';
const INSERT_COLUMNS = ['id', 'owner', 'kind', 'session_id', 'category', 'fact_key', 'fact_uid', 'text', 'source', 'confidence', 'topic', 'event_id', 'occurred_at', 'created_at', 'updated_at'];
/** SQLite allows 32766 bound parameters per statement; stay well under for both dialects. */
const BATCH_ROWS = 1000;

function toEntry(row: any): MemoryEntry {
  return {
    id: row.id, kind: row.kind, owner: row.owner, session_id: row.session_id ?? null, category: row.category ?? null,
    key: row.fact_key ?? null, text: row.text, source: row.source ?? null,
    confidence: row.confidence == null ? null : Number(row.confidence), topic: row.topic ?? null,
    occurred_at: row.occurred_at, created_at: row.created_at, updated_at: row.updated_at,
  };
}

/** How many of a search's newest matches are ranked (see searchStatement). */
export const RANKED_CANDIDATES = 2000;

/** The owner as the one FTS5 token migration 002 indexes (`'o' || lower(hex(owner)) || 'z'`). */
function ownerToken(owner: string): string {
  return `o${Buffer.from(owner, 'utf8').toString('hex')}z`;
}

/**
 * Working, episodic and semantic memory of each user in one table, searched through FTS5 (SQLite)
 * or a tsvector column (PostgreSQL). Every read takes the owner to filter by (`undefined` = all).
 */
export class MemoryStore implements MemoryService {
  readonly t: string;
  readonly fts: string;
  readonly dialect: Dialect;

  constructor(private readonly db: SqlRunner & { transaction?: <T>(fn: (tx: SqlRunner) => Promise<T>) => Promise<T> },
              private readonly options: { maxWorking: number; relevantLimit: number; clock: Clock }) {
    this.t = db.table('entries');
    this.fts = db.table('fts');
    this.dialect = db.dialect;
  }

  private now(): string { return new Date(this.options.clock.now()).toISOString(); }

  private row(e: NewEntry, now: string): unknown[] {
    const uid = e.kind === 'semantic' ? `${e.category ?? ''}\u001f${e.key ?? ''}` : null;
    return [orderedMemoryId(this.options.clock.now()), e.owner, e.kind, e.session_id ?? null, e.category ?? null, e.key ?? null, uid, e.text, e.source ?? null,
      e.confidence ?? null, e.topic ?? null, e.event_id ?? null, e.occurred_at ?? now, now, now];
  }

  /**
   * Adds an entry. A semantic fact replaces the one with the same category and key; an episodic
   * entry with an `event_id` already recorded is ignored (the bus may deliver twice); working
   * memory keeps the newest `maxWorking` entries of the session.
   */
  async add(entry: NewEntry): Promise<MemoryEntry | undefined> {
    const now = this.now();
    const values = this.row(entry, now);
    const placeholders = INSERT_COLUMNS.map(() => '?').join(', ');
    let conflict = '';
    if (entry.kind === 'semantic') {
      conflict = ` ON CONFLICT (owner, fact_uid) DO UPDATE SET text = excluded.text, source = excluded.source,
        confidence = excluded.confidence, updated_at = excluded.updated_at, occurred_at = excluded.occurred_at`;
    } else if (entry.event_id) conflict = ' ON CONFLICT (event_id) DO NOTHING';
    const [row] = await this.db.query(`INSERT INTO ${this.t} (${INSERT_COLUMNS.join(', ')}) VALUES (${placeholders})${conflict} RETURNING ${COLUMNS}`, values);
    if (!row) return undefined;
    if (entry.kind === 'working') await this.evictWorking(entry.owner, entry.session_id ?? null);
    return toEntry(row);
  }

  /** Many entries in multi-row INSERTs inside one transaction: the generator's path, and imports. */
  async addMany(entries: NewEntry[]): Promise<number> {
    const now = this.now();
    const run = async (db: SqlRunner) => {
      for (let i = 0; i < entries.length; i += BATCH_ROWS) {
        const chunk = entries.slice(i, i + BATCH_ROWS);
        const one = `(${INSERT_COLUMNS.map(() => '?').join(', ')})`;
        await db.query(`INSERT INTO ${this.t} (${INSERT_COLUMNS.join(', ')}) VALUES ${chunk.map(() => one).join(', ')}`, chunk.flatMap(e => this.row(e, now)));
      }
    };
    if (this.db.transaction) await this.db.transaction(run);
    else await run(this.db);
    return entries.length;
  }

  private async evictWorking(owner: string, session: string | null): Promise<void> {
    const sessionCond = session === null ? 'session_id IS NULL' : 'session_id = ?';
    const args = session === null ? [owner] : [owner, session];
    await this.db.query(`DELETE FROM ${this.t} WHERE kind = 'working' AND owner = ? AND ${sessionCond} AND seq <= (
      SELECT seq FROM ${this.t} WHERE kind = 'working' AND owner = ? AND ${sessionCond} ORDER BY seq DESC LIMIT 1 OFFSET ?)`,
    [...args, ...args, this.options.maxWorking]);
  }

  async get(id: string): Promise<MemoryEntry | undefined> {
    const [row] = await this.db.query(`SELECT ${COLUMNS} FROM ${this.t} WHERE id = ?`, [id]);
    return row ? toEntry(row) : undefined;
  }

  async list(f: ListFilter): Promise<Page<MemoryEntry>> {
    const where = ['kind = ?'];
    const args: unknown[] = [f.kind];
    const add = (cond: string, value: unknown) => { where.push(cond); args.push(value); };
    if (f.owner !== undefined) add('owner = ?', f.owner);
    if (f.session_id !== undefined) add('session_id = ?', f.session_id);
    if (f.category !== undefined) add('category = ?', f.category);
    if (f.from !== undefined) add('occurred_at >= ?', f.from);
    if (f.to !== undefined) add('occurred_at < ?', f.to);
    // Pages by the serial `seq` (unique), so the cursor's position is (seq, id); not keysetPage, which reads every column (the tsvector too).
    const after = decodeCursor(f.cursor);
    if (after) add('seq < ?', after.ms);
    const rows = await this.db.query(`SELECT ${COLUMNS} FROM ${this.t} WHERE ${where.join(' AND ')} ORDER BY seq DESC LIMIT ?`, [...args, f.limit + 1]);
    return pageOf(rows, f.limit, r => ({ ms: Number(r.seq), id: r.id }), toEntry);
  }

  async categories(owner: string | undefined): Promise<Array<{ category: string; count: number }>> {
    const rows = await this.db.query(`SELECT category, COUNT(*) AS n FROM ${this.t} WHERE kind = 'semantic'${owner === undefined ? '' : ' AND owner = ?'}
      GROUP BY category ORDER BY category`, owner === undefined ? [] : [owner]);
    return rows.map(r => ({ category: r.category, count: Number(r.n) }));
  }

  /** Deletes what matches (always scoped to an owner unless admin) and answers how many went. */
  async remove(f: { owner: string | undefined; id?: string; kind?: MemoryKind; session_id?: string; category?: string; key?: string }): Promise<number> {
    const where: string[] = [];
    const args: unknown[] = [];
    const add = (cond: string, value: unknown) => { where.push(cond); args.push(value); };
    if (f.owner !== undefined) add('owner = ?', f.owner);
    if (f.id !== undefined) add('id = ?', f.id);
    if (f.kind !== undefined) add('kind = ?', f.kind);
    if (f.session_id !== undefined) add('session_id = ?', f.session_id);
    if (f.category !== undefined) add('category = ?', f.category);
    if (f.key !== undefined) add('fact_key = ?', f.key);
    if (!where.length) throw errors.badRequest('refusing to delete every memory entry at once');
    const rows = await this.db.query(`DELETE FROM ${this.t} WHERE ${where.join(' AND ')} RETURNING id`, args);
    return rows.length;
  }

  /**
   * The SQL and parameters of a search, or undefined when the input has no searchable word.
   * Public so that the benchmark can run the very same statement directly against the file.
   */
  searchStatement(input: SearchInput): { sql: string; params: unknown[] } | undefined {
    const match = compileQuery(this.dialect, input.q, input.mode ?? 'all');
    if (!match) return undefined;
    const where: string[] = [];
    const args: unknown[] = [];
    const add = (cond: string, ...values: unknown[]) => { where.push(cond); args.push(...values); };
    if (input.owner !== undefined) add('e.owner = ?', input.owner);
    if (input.kind) add('e.kind = ?', input.kind);
    if (input.kinds?.length) add(`e.kind IN (${input.kinds.map(() => '?').join(', ')})`, ...input.kinds);
    if (input.category) add('e.category = ?', input.category);
    if (input.session_id) add('e.session_id = ?', input.session_id);
    if (input.workingSession !== undefined) {
      if (input.workingSession === null) where.push(`e.kind <> 'working'`);
      else add(`(e.kind <> 'working' OR e.session_id = ?)`, input.workingSession);
    }
    const limit = Math.min(Math.max(input.limit ?? 20, 1), 100);
    const filter = where.length ? ' AND ' + where.join(' AND ') : '';
    if (this.dialect === 'sqlite') {
      // The owner is a token in the index (migration 002): FTS5 intersects it with the words, so
      // only the caller's matches are ever ranked or joined.
      const ftsMatch = input.owner !== undefined ? `owner_tok : ${ownerToken(input.owner)} AND (${match})` : match;
      // Ranking scores every match, and two common words match a good part of a large memory:
      // only the newest RANKED_CANDIDATES matches are ranked. FTS5 walks a match's rowids newest
      // first without scoring, and takes `rowid >=` with MATCH, so the cut costs little.
      const since = `rowid >= COALESCE((SELECT rowid FROM ${this.fts} WHERE ${this.fts} MATCH ? ORDER BY rowid DESC LIMIT 1 OFFSET ${RANKED_CANDIDATES - 1}), 0)`;
      const cols = 'e.seq, e.id, e.kind, e.owner, e.session_id, e.category, e.fact_key, e.text, e.source, e.confidence, e.topic, e.occurred_at, e.created_at, e.updated_at';
      const snippet = `snippet(${this.fts}, -1, '<mark>', '</mark>', '…', 16)`;
      // bm25 with the owner column weighted 0. Explicit rather than `ORDER BY rank`, which
      // measured slower here (bench/memory-search).
      const score = `bm25(${this.fts}, 1.0, 1.0, 1.0, 0.0)`;
      const others = where.filter(w => w !== 'e.owner = ?');
      if (!others.length) {
        // Nothing to filter on but the match: rank inside the FTS5 table and join only the page.
        return {
          sql: `SELECT ${cols}, f.score, f.snippet
                FROM (SELECT rowid, -${score} AS score, ${snippet} AS snippet FROM ${this.fts} WHERE ${this.fts} MATCH ? AND ${since} ORDER BY ${score} LIMIT ?) f
                CROSS JOIN ${this.t} e ON e.seq = f.rowid${filter ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY f.score DESC`,
          params: [ftsMatch, ftsMatch, limit, ...args],
        };
      }
      // CROSS JOIN keeps the FTS5 index as the outer loop: SQLite never reorders it.
      return {
        sql: `SELECT ${cols}, -${score} AS score, ${snippet} AS snippet
            FROM ${this.fts} CROSS JOIN ${this.t} e ON e.seq = ${this.fts}.rowid
            WHERE ${this.fts} MATCH ? AND ${this.fts}.${since}${filter} ORDER BY ${score} LIMIT ?`,
        params: [ftsMatch, ftsMatch, ...args, limit],
      };
    }
    // ts_headline is costly: rank and cut first, then highlight only the page.
    return {
      sql: `SELECT r.*, ts_headline('english', r.text, to_tsquery('english', ?),
              'StartSel=<mark>, StopSel=</mark>, MaxWords=24, MinWords=8, MaxFragments=1, FragmentDelimiter=…') AS snippet
            FROM (SELECT ${COLUMNS.split(', ').map(c => 'e.' + c).join(', ')}, ts_rank(e.tsv, q) AS score
                  FROM ${this.t} e, to_tsquery('english', ?) q WHERE e.tsv @@ q${filter} ORDER BY score DESC, e.seq DESC LIMIT ?) r
            ORDER BY r.score DESC, r.seq DESC`,
      params: [match, match, ...args, limit],
    };
  }

  async search(input: SearchInput): Promise<SearchHit[]> {
    const statement = this.searchStatement(input);
    if (!statement) return [];
    try {
      const rows = await this.db.query(statement.sql, statement.params);
      return rows.map(r => ({ ...toEntry(r), snippet: r.snippet ?? r.text, score: Number(r.score) }));
    } catch (err) {
      throw queryError(err, input.q) ?? err;
    }
  }

  // ---- the service other plugins use (memoryRef)

  async relevant(input: { user: User; sessionId?: string; query: string; limit?: number; kinds?: MemoryKind[] }): Promise<MemoryHit[]> {
    const hits = await this.search({
      q: input.query, owner: input.user.id, mode: 'any', limit: input.limit ?? this.options.relevantLimit, kinds: input.kinds,
      workingSession: input.sessionId ?? null,
    });
    return hits.map(h => ({ kind: h.kind, id: h.id, text: h.kind === 'semantic' ? `${h.category}/${h.key}: ${h.text}` : h.text, snippet: h.snippet, score: h.score }));
  }

  async remember(input: { user: User; kind: MemoryKind; sessionId?: string; category?: string; key?: string; text: string; source?: string }): Promise<{ id: string }> {
    if (input.kind === 'semantic' && (!input.category || !input.key)) throw errors.badRequest('a semantic fact needs a category and a key');
    if (input.kind === 'working' && !input.sessionId) throw errors.badRequest('working memory belongs to a session: give a sessionId');
    const entry = await this.add({
      owner: input.user.id, kind: input.kind, text: input.text, session_id: input.sessionId, category: input.category,
      key: input.key, source: input.source,
    });
    return { id: entry!.id };
  }
}
