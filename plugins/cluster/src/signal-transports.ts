import type { Disposer, Logger, PluginDatabase } from 'plinth/sdk';

/** Where signals travel between kernels: PostgreSQL LISTEN/NOTIFY by default, Redis pub/sub where configured. */
export interface SignalTransport {
  readonly name: string;
  send(signal: string): Promise<void>;
  start(onSignal: (signal: string) => void): Promise<void>;
  close(): Promise<void>;
}

/** NOTIFY through the pool, LISTEN on the connection of its own the storage API keeps (`db.listen`). */
export class PgSignalTransport implements SignalTransport {
  readonly name = 'postgres';
  private stop: Disposer | undefined;

  constructor(private readonly db: PluginDatabase) {}

  async send(signal: string): Promise<void> {
    await this.db.query('SELECT pg_notify(?, ?)', [this.db.table('events'), signal]);
  }

  async start(onSignal: (signal: string) => void): Promise<void> {
    this.stop = await this.db.listen!('events', onSignal);
  }

  async close(): Promise<void> {
    await this.stop?.();
  }
}

/**
 * Redis pub/sub: a subscriber connection and a publisher connection. One Redis may serve several
 * deployments: the channel names the database (`host:port/name`), whose ids the signals carry.
 */
export class RedisSignalTransport implements SignalTransport {
  readonly name = 'redis';
  private pub: any;
  private sub: any;
  private channel = '';

  constructor(private readonly url: string, private readonly db: PluginDatabase, private readonly log: Logger) {}

  async send(signal: string): Promise<void> {
    await this.pub.publish(this.channel, signal);
  }

  async start(onSignal: (signal: string) => void): Promise<void> {
    const [where] = await this.db.query<{ host: string | null; port: number | null; name: string }>(
      'SELECT inet_server_addr()::text AS host, inet_server_port() AS port, current_database() AS name');
    this.channel = `plinth_events:${where.host ?? 'local'}:${where.port ?? 5432}/${where.name}`;
    const { createClient } = require('redis') as typeof import('redis');
    this.pub = createClient({ url: this.url });
    this.sub = this.pub.duplicate();
    for (const c of [this.pub, this.sub]) c.on('error', (err: Error) => this.log.warn('redis connection error', { err: err.message }));
    await Promise.all([this.pub.connect(), this.sub.connect()]);
    await this.sub.subscribe(this.channel, (message: string) => onSignal(message));
  }

  async close(): Promise<void> {
    await Promise.all([this.pub, this.sub].map(c => c?.quit().catch(() => undefined)));
  }
}
