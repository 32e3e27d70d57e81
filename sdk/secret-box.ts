import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Secrets encrypted at rest with AES-256-GCM (provider API keys, a wallet's private key). The data
 * key lives in a file with mode 0600 in the plugin's data dir, apart from the database, so a copied
 * database alone does not reveal them. `aad` binds a secret to its row (a provider name, a wallet
 * id) so rows cannot be swapped.
 */
export class SecretBox {
  private readonly key: Buffer;

  constructor(keyFile: string) {
    mkdirSync(dirname(keyFile), { recursive: true });
    if (!existsSync(keyFile)) {
      // `wx`: two kernels starting at once must not both write a different key.
      try { writeFileSync(keyFile, randomBytes(32).toString('base64'), { mode: 0o600, flag: 'wx' }); } catch { /* created by the other one */ }
    }
    chmodSync(keyFile, 0o600);
    this.key = Buffer.from(readFileSync(keyFile, 'utf8').trim(), 'base64');
    if (this.key.length !== 32) throw new Error(`${keyFile} does not hold a 32-byte base64 key`);
  }

  /** `v1.<iv>.<tag>.<ciphertext>.<aad>`, all base64. */
  encrypt(plain: string, aad: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(aad));
    const ct = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return ['v1', iv.toString('base64'), cipher.getAuthTag().toString('base64'), ct.toString('base64'), Buffer.from(aad).toString('base64')].join('.');
  }

  decrypt(secret: string): string {
    const [, iv, tag, ct, aad] = secret.split('.');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64'));
    decipher.setAAD(Buffer.from(aad, 'base64'));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(ct, 'base64')), decipher.final()]).toString('utf8');
  }
}
