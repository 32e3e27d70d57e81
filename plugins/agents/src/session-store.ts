import { assertOwner, decodeCursor, errors, iso, newId, pageOf, type Page, type SqlRunner, type User } from 'plinth/sdk';
import type { ChatMessage, ToolCallRequest } from './contract';
import type { SessionOrder } from './session-order';

export interface SessionRecord {
  id: string;
  owner: string;
  agent_id: string;
  agent_name: string;
  model: string | null;
  name: string | null;
  via: string | null;
  created_at: string;
  updated_at: string;
  /** Set once the session is closed: its history stays, it takes no more messages. */
  closed_at?: string | null;
  /** A short name the model gave it (POST /api/sessions/backfill-nicknames). */
  nickname?: string | null;
}

export interface StoredMessage {
  id: string;
  session_id: string;
  seq: number;
  role: ChatMessage['role'];
  content: string;
  tool_calls: ToolCallRequest[] | null;
  tool_call_id: string | null;
  name: string | null;
  attachments: string[] | null;
  turn_id: string | null;
  /** The answer was cut short (client gone, provider failure, max_turns) or is still being written. */
  partial: boolean;
  created_at: string;
}

function messageFromRow(r: any): StoredMessage {
  return {
    id: r.id, session_id: r.session_id, seq: Number(r.seq), role: r.role, content: r.content,
    tool_calls: r.tool_calls ? JSON.parse(r.tool_calls) : null, tool_call_id: r.tool_call_id ?? null, name: r.name ?? null,
    attachments: r.attachments ? JSON.parse(r.attachments) : null, turn_id: r.turn_id ?? null, partial: !!Number(r.partial), created_at: r.created_at,
  };
}

/** Sessions and their messages. Every message is written as it happens, so a restart loses nothing written. */
export class SessionStore {
  private readonly s: string;
  private readonly m: string;
  constructor(private readonly db: SqlRunner, private readonly now: () => number, private readonly order: SessionOrder) {
    this.s = db.table('sessions');
    this.m = db.table('messages');
  }

  private iso(): string { return new Date(this.now()).toISOString(); }

  async create(input: { owner: string; agentId: string; agentName: string; model?: string | null; name?: string | null; via?: string | null }): Promise<SessionRecord> {
    const at = this.iso();
    const row: SessionRecord = {
      id: newId('ses'), owner: input.owner, agent_id: input.agentId, agent_name: input.agentName, model: input.model ?? null,
      name: input.name ?? null, via: input.via ?? null, created_at: at, updated_at: at, closed_at: null,
    };
    await this.db.query(`INSERT INTO ${this.s} (id, owner, agent_id, agent_name, model, name, via, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [row.id, row.owner, row.agent_id, row.agent_name, row.model, row.name, row.via, row.created_at, row.updated_at]);
    return row;
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    const [row] = await this.db.query(`SELECT * FROM ${this.s} WHERE id = ?`, [id]);
    return row;
  }

  async getOwned(id: string, user: User | undefined): Promise<SessionRecord> {
    const session = await this.get(id);
    if (!session) throw errors.notFound(`session ${id}`);
    assertOwner(user, session.owner, `session ${id}`);
    return session;
  }

  /** The caller's own sessions, newest first (admins too: a session list is personal). */
  async list(owner: string, limit: number, cursor?: string): Promise<Page<SessionRecord>> {
    // created_at is ISO text here (see the note on agents' storage in migrations.ts), so not keysetPage; the cursor carries it as epoch ms.
    const after = decodeCursor(cursor);
    const rows: SessionRecord[] = after
      ? await this.db.query(`SELECT * FROM ${this.s} WHERE owner = ? AND (created_at < ? OR (created_at = ? AND id < ?)) ORDER BY created_at DESC, id DESC LIMIT ?`, [owner, iso(after.ms), iso(after.ms), after.id, limit + 1])
      : await this.db.query(`SELECT * FROM ${this.s} WHERE owner = ? ORDER BY created_at DESC, id DESC LIMIT ?`, [owner, limit + 1]);
    return pageOf(rows, limit, r => ({ ms: Date.parse(r.created_at), id: r.id }));
  }

  /** The caller's session names (the agent runtime's sessions by name): the newest session of each name. */
  async names(owner: string): Promise<Array<{ name: string; id: string; agent_name: string; updated_at: string }>> {
    const rows: SessionRecord[] = await this.db.query(`SELECT * FROM ${this.s} WHERE owner = ? AND name IS NOT NULL ORDER BY updated_at DESC, id DESC LIMIT 1000`, [owner]);
    const seen = new Set<string>();
    return rows.filter(r => !seen.has(r.name!) && seen.add(r.name!)).map(r => ({ name: r.name!, id: r.id, agent_name: r.agent_name, updated_at: r.updated_at }));
  }

  /** The caller's newest session of that name. */
  async byName(owner: string, name: string): Promise<SessionRecord> {
    const [row] = await this.db.query(`SELECT * FROM ${this.s} WHERE owner = ? AND name = ? ORDER BY updated_at DESC, id DESC LIMIT 1`, [owner, name]);
    if (!row) throw errors.notFound(`session named "${name}"`);
    return row;
  }

  async touch(id: string): Promise<void> {
    await this.db.query(`UPDATE ${this.s} SET updated_at = ? WHERE id = ?`, [this.iso(), id]);
  }

  /** The owner's sessions to nickname, oldest first: those without one, or every one with `all`. */
  async withoutNickname(owner: string, limit: number, all: boolean): Promise<SessionRecord[]> {
    return this.db.query(`SELECT * FROM ${this.s} WHERE owner = ?${all ? '' : ' AND nickname IS NULL'} ORDER BY created_at, id LIMIT ?`, [owner, limit]);
  }

  async firstUserMessages(sessionId: string, n: number): Promise<string[]> {
    return (await this.db.query(`SELECT content FROM ${this.m} WHERE session_id = ? AND role = 'user' ORDER BY seq LIMIT ?`, [sessionId, n])).map(r => String(r.content));
  }

  async setNickname(id: string, nickname: string): Promise<void> {
    await this.db.query(`UPDATE ${this.s} SET nickname = ? WHERE id = ?`, [nickname, id]);
  }

  /** Closes the session (a second close keeps the first time); answers it as it now is. */
  async close(id: string): Promise<SessionRecord> {
    const at = this.iso();
    await this.db.query(`UPDATE ${this.s} SET closed_at = COALESCE(closed_at, ?), updated_at = ? WHERE id = ?`, [at, at, id]);
    return (await this.get(id))!;
  }

  async remove(id: string): Promise<void> {
    await this.db.query(`DELETE FROM ${this.m} WHERE session_id = ?`, [id]);
    await this.db.query(`DELETE FROM ${this.db.table('frames')} WHERE session_id = ?`, [id]);
    await this.db.query(`DELETE FROM ${this.s} WHERE id = ?`, [id]);
    await this.order.remove(id);
  }

  async addMessage(sessionId: string, m: { role: ChatMessage['role']; content: string; tool_calls?: ToolCallRequest[]; tool_call_id?: string; name?: string; attachments?: string[]; turn_id?: string; partial?: boolean }): Promise<StoredMessage> {
    // Numbered by the database: two kernels writing to one session at once never take the same number.
    const row = {
      id: newId('msg'), session_id: sessionId, seq: await this.order.nextSeq(sessionId), role: m.role, content: m.content,
      tool_calls: m.tool_calls?.length ? JSON.stringify(m.tool_calls) : null, tool_call_id: m.tool_call_id ?? null, name: m.name ?? null,
      attachments: m.attachments?.length ? JSON.stringify(m.attachments) : null, turn_id: m.turn_id ?? null, partial: m.partial ? 1 : 0,
      created_at: this.iso(),
    };
    const cols = Object.keys(row);
    await this.db.query(`INSERT INTO ${this.m} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`, Object.values(row));
    return messageFromRow(row);
  }

  async updateMessage(id: string, content: string, partial: boolean, toolCalls?: ToolCallRequest[]): Promise<void> {
    await this.db.query(`UPDATE ${this.m} SET content = ?, partial = ?, tool_calls = ? WHERE id = ?`,
      [content, partial ? 1 : 0, toolCalls?.length ? JSON.stringify(toolCalls) : null, id]);
  }

  async messages(sessionId: string, limit: number, cursor?: string): Promise<Page<StoredMessage>> {
    // Messages page by their serial number within the session: the cursor's position is (seq, id).
    const after = decodeCursor(cursor)?.ms ?? 0;
    const rows = await this.db.query(`SELECT * FROM ${this.m} WHERE session_id = ? AND seq > ? ORDER BY seq LIMIT ?`, [sessionId, after, limit + 1]);
    return pageOf(rows.map(messageFromRow), limit, m => ({ ms: m.seq, id: m.id }));
  }

  async allMessages(sessionId: string): Promise<StoredMessage[]> {
    return (await this.db.query(`SELECT * FROM ${this.m} WHERE session_id = ? ORDER BY seq`, [sessionId])).map(messageFromRow);
  }
}

/** Stored messages as the model sees them; an assistant's tool calls without results (cut short) are dropped. */
export function toChatHistory(messages: StoredMessage[]): ChatMessage[] {
  const answered = new Set(messages.filter(m => m.role === 'tool').map(m => m.tool_call_id));
  const out: ChatMessage[] = [];
  for (const m of messages) {
    if (m.role === 'assistant') {
      const calls = (m.tool_calls ?? []).filter(c => answered.has(c.id));
      if (!m.content && !calls.length) continue;
      out.push({ role: 'assistant', content: m.content, ...(calls.length ? { tool_calls: calls } : {}) });
    } else if (m.role === 'tool') out.push({ role: 'tool', content: m.content, tool_call_id: m.tool_call_id ?? undefined, name: m.name ?? undefined });
    else out.push({ role: m.role, content: m.content });
  }
  return out;
}
