import type { PluginDatabase } from 'plinth/sdk';

/** Which agent session each chat talks to. */
export class ChatSessions {
  private readonly table: string;
  private readonly sessionCache = new Map<string, { agent: string; session_id: string }>();

  constructor(private readonly db: PluginDatabase) {
    this.table = db.table('sessions');
  }

  /**
   * A chat's session changes only when its agent does or the runtime starts a new one, so it is
   * remembered here after the first read: one SELECT fewer per message on a busy channel.
   */
  async sessionFor(channel: string, chatId: string): Promise<{ agent: string; session_id: string } | undefined> {
    const key = `${channel}\u0000${chatId}`;
    const known = this.sessionCache.get(key);
    if (known) return known;
    const row = (await this.db.query(`SELECT agent, session_id FROM ${this.table} WHERE channel = ? AND chat_id = ?`, [channel, chatId]))[0];
    if (row) this.remember(key, { agent: row.agent, session_id: row.session_id });
    return row;
  }

  async saveSession(channel: string, chatId: string, agent: string, sessionId: string, now: number): Promise<void> {
    const key = `${channel}\u0000${chatId}`;
    this.sessionCache.delete(key);
    await this.db.query(
      `INSERT INTO ${this.table} (channel, chat_id, agent, session_id, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (channel, chat_id) DO UPDATE SET agent = excluded.agent, session_id = excluded.session_id, updated_at = excluded.updated_at`,
      [channel, chatId, agent, sessionId, now]);
    this.remember(key, { agent, session_id: sessionId });
  }

  private remember(key: string, s: { agent: string; session_id: string }): void {
    if (this.sessionCache.size >= 10_000) this.sessionCache.clear();
    this.sessionCache.set(key, s);
  }
}
