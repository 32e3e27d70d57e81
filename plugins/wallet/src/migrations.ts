import type { Migration } from 'plinth/sdk';

export const migrations: Migration[] = [
  {
    name: '001-wallets',
    async up(db) {
      // secret: the private key, encrypted (SecretBox, the owner bound as associated data).
      await db.query(`CREATE TABLE ${db.table('wallets')} (
        owner VARCHAR(40) PRIMARY KEY, address VARCHAR(42) NOT NULL, secret TEXT NOT NULL, created_at VARCHAR(40) NOT NULL)`);
    },
  },
];
