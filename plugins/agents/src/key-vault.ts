import { join } from 'node:path';
import { SecretBox, type SqlRunner } from 'plinth/sdk';

/**
 * Provider API keys, encrypted at rest (SecretBox: AES-256-GCM, data key in a 0600 file apart from
 * the database). Keys are never returned by the API nor logged; only whether one is set.
 */
export class KeyVault {
  private readonly box: SecretBox;
  private readonly t: string;
  private cache = new Map<string, string>();

  constructor(private readonly db: SqlRunner, dataDir: string, private readonly now: () => number) {
    this.t = db.table('provider_keys');
    this.box = new SecretBox(join(dataDir, 'provider-keys.key'));
  }

  async load(): Promise<void> {
    const rows = await this.db.query(`SELECT provider, secret FROM ${this.t}`);
    this.cache = new Map(rows.map(r => [r.provider as string, this.box.decrypt(r.secret)]));
  }

  get(provider: string): string | undefined {
    return this.cache.get(provider);
  }

  has(provider: string): boolean {
    return this.cache.has(provider);
  }

  async set(provider: string, apiKey: string): Promise<void> {
    const secret = this.box.encrypt(apiKey, provider);
    const at = new Date(this.now()).toISOString();
    await this.db.query(`DELETE FROM ${this.t} WHERE provider = ?`, [provider]);
    await this.db.query(`INSERT INTO ${this.t} (provider, secret, updated_at) VALUES (?, ?, ?)`, [provider, secret, at]);
    this.cache.set(provider, apiKey);
  }

  async delete(provider: string): Promise<boolean> {
    const rows = await this.db.query(`DELETE FROM ${this.t} WHERE provider = ? RETURNING provider`, [provider]);
    this.cache.delete(provider);
    return rows.length > 0;
  }
}
