import type { SecretBox, SqlRunner } from 'plinth/sdk';

/**
 * One EVM key per user, generated on first use. Only the address leaves this class: the private
 * key is encrypted before it reaches the database, and nothing here returns or logs it (a signer,
 * when paying comes, would be built here from `secret` and never handed out).
 */
export class WalletStore {
  private readonly t: string;
  constructor(private readonly db: SqlRunner, private readonly box: SecretBox, private readonly now: () => number) {
    this.t = db.table('wallets');
  }

  async address(owner: string): Promise<{ address: `0x${string}`; createdAt: string }> {
    let [row] = await this.db.query(`SELECT address, created_at FROM ${this.t} WHERE owner = ?`, [owner]);
    if (!row) {
      // viem on first use, not at start (see balance-reader.ts).
      const { generatePrivateKey, privateKeyToAccount } = require('viem/accounts') as typeof import('viem/accounts');
      const key = generatePrivateKey();
      const address = privateKeyToAccount(key).address;
      // Two first requests at once: the first insert wins, both answer its address.
      await this.db.query(`INSERT INTO ${this.t} (owner, address, secret, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (owner) DO NOTHING`,
        [owner, address, this.box.encrypt(key, owner), new Date(this.now()).toISOString()]);
      [row] = await this.db.query(`SELECT address, created_at FROM ${this.t} WHERE owner = ?`, [owner]);
    }
    return { address: row.address, createdAt: row.created_at };
  }
}
