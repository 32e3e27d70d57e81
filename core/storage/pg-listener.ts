import { Client } from 'pg';
import type { Disposer, Logger } from '../../sdk';

/**
 * `LISTEN channel` on a PostgreSQL connection of its own (a pooled one would be handed back and
 * stop listening). A lost connection (a database restart) is reopened after a second; what was
 * notified meanwhile is not heard, so listeners read what they missed from tables, not payloads alone.
 */
export async function listen(url: string, channel: string, onMessage: (payload: string) => void, log: Logger): Promise<Disposer> {
  let closed = false;
  let client: Client | undefined;
  const open = async (): Promise<void> => {
    const c = new Client({ connectionString: url });
    c.on('notification', msg => { if (msg.channel === channel && msg.payload !== undefined) onMessage(msg.payload); });
    c.on('error', err => {
      log.warn('database listener connection lost', { channel, err: err.message });
      void c.end().catch(() => undefined);
      if (!closed) setTimeout(() => { if (!closed) void open().catch(e => log.error('database listener reconnect failed', { channel, err: e })); }, 1000).unref();
    });
    await c.connect();
    await c.query(`LISTEN ${channel}`);
    client = c;
  };
  await open();
  return async () => { closed = true; await client?.end().catch(() => undefined); };
}
