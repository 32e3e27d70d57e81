import type { Migration } from 'plinth/sdk';

export const migrations: Migration[] = [
  {
    // Failed logins per client address, in the database so several kernels count them together
    // (the kernel held this table as kernel_login_failures until the account API became this plugin).
    name: '001-login-failures',
    async up(db) {
      await db.query(`CREATE TABLE ${db.table('login_failures')} (client VARCHAR(100) NOT NULL, at BIGINT NOT NULL)`);
      await db.query(`CREATE INDEX ${db.table('login_failures_client')} ON ${db.table('login_failures')} (client, at)`);
    },
  },
];
