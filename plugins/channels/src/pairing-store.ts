import type { PluginDatabase } from 'plinth/sdk';

/** Pairing codes: an unknown sender gets one, an admin approves it. */
export class PairingStore {
  private readonly table: string;

  constructor(private readonly db: PluginDatabase) {
    this.table = db.table('pairings');
  }

  async get(channel: string, senderId: string): Promise<{ code: string; state: string } | undefined> {
    return (await this.db.query(`SELECT code, state FROM ${this.table} WHERE channel = ? AND sender_id = ?`, [channel, senderId]))[0];
  }

  /** Returns the new code, or undefined when the sender already has one (then nothing is sent again). */
  async create(channel: string, senderId: string, chatId: string, code: string, now: number): Promise<string | undefined> {
    const rows = await this.db.query(
      `INSERT INTO ${this.table} (channel, sender_id, chat_id, code, state, created_at) VALUES (?, ?, ?, ?, 'pending', ?)
       ON CONFLICT (channel, sender_id) DO NOTHING RETURNING code`, [channel, senderId, chatId, code, now]);
    return rows[0]?.code;
  }

  async list() {
    const rows = await this.db.query(`SELECT * FROM ${this.table} ORDER BY created_at DESC`);
    return rows.map(r => ({ channel: r.channel, senderId: r.sender_id, chatId: r.chat_id, code: r.code, state: r.state,
      createdAt: new Date(Number(r.created_at)).toISOString(), approvedAt: r.approved_at ? new Date(Number(r.approved_at)).toISOString() : null }));
  }

  async approve(code: string, now: number) {
    const rows = await this.db.query(`UPDATE ${this.table} SET state = 'approved', approved_at = ? WHERE code = ? AND state = 'pending' RETURNING *`, [now, code]);
    return rows[0] as { channel: string; sender_id: string; chat_id: string } | undefined;
  }

  async byCode(code: string) {
    return (await this.db.query(`SELECT * FROM ${this.table} WHERE code = ?`, [code]))[0];
  }
}
