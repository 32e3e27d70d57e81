import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SqlRunner } from 'plinth/sdk';

/**
 * Provider API keys, encrypted at rest with AES-256-GCM. The data key lives in a file in the
 * plugin's data dir with mode 0600, apart from the database, so a copied database alone does not
 * reveal keys. Keys are never returned by the API nor logged; only whether one is set.
 */
export class KeyVault {
  private readonly key: Buffer;
  private readonly t: string;
  private cache = new Map<string, string>();

  constructor(private readonly db: SqlRunner, dataDir: string, private readonly now: () => number) {
    this.t = db.table('provider_keys');
    mkdirSync(dataDir, { recursive: true });
    const file = join(dataDir, 'provider-keys.key');
    if (!existsSync(file)) {
      // `wx`: two kernels starting at once must not both write a different key.
      try { writeFileSync(file, randomBytes(32).toString('base64'), { mode: 0o600, flag: 'wx' }); } catch { /* created by the other one */ }
    }
    chmodSync(file, 0o600);
    this.key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
    if (this.key.length !== 32) throw new Error(`${file} does not hold a 32-byte base64 key`);
  }

  async load(): Promise<void> {
    const rows = await this.db.query(`SELECT provider, secret FROM ${this.t}`);
    this.cache = new Map(rows.map(r => [r.provider as string, this.decrypt(r.secret)]));
  }

  get(provider: string): string | undefined {
    return this.cache.get(provider);
  }

  has(provider: string): boolean {
    return this.cache.has(provider);
  }

  async set(provider: string, apiKey: string): Promise<void> {
    const secret = this.encrypt(apiKey, provider);
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

  /** `v1.<iv>.<tag>.<ciphertext>`, the provider name bound as associated data so rows cannot be swapped. */
  private encrypt(plain: string, provider: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(provider));
    const ct = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return ['v1', iv.toString('base64'), cipher.getAuthTag().toString('base64'), ct.toString('base64'), Buffer.from(provider).toString('base64')].join('.');
  }

  private decrypt(secret: string): string {
    const [, iv, tag, ct, aad] = secret.split('.');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64'));
    decipher.setAAD(Buffer.from(aad, 'base64'));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(ct, 'base64')), decipher.final()]).toString('utf8');
  }
}
