import type { Disposer, EgressService, Logger, PluginDatabase } from 'plinth/sdk';
import { RateLimitedError, type ChannelAdapter, type ChannelRegistry } from 'plinth/contracts/channels';

export const NOTIFY_EVENTS = ['completed', 'failed', 'needs_attention'] as const;
export type NotifyEvent = typeof NOTIFY_EVENTS[number];

export interface NotificationSettings {
  discord_webhook_url: string | null;
  webhook_url: string | null;
  events: NotifyEvent[];
}

const DEFAULTS: NotificationSettings = { discord_webhook_url: null, webhook_url: null, events: [...NOTIFY_EVENTS] };
/** The channel adapter's name on the channels plugin's delivery queue. */
export const CHANNEL = 'run-notify';


/**
 * Completion notifications of runs (the coding-agent runner's `POST /api/runs/:id/notify
 * { notify }` and `/api/settings/notifications`): when a notified run completes, fails or needs
 * attention, a message is queued on the channels plugin's durable delivery queue (retries,
 * backoff, dead letters) and sent by the `run-notify` adapter to the owner's Discord webhook
 * (`{ content }`, as Discord's Execute Webhook documents) and generic webhook, through the egress
 * policy (the URLs are the user's).
 */
export class RunNotifications {
  constructor(private readonly db: PluginDatabase, private readonly egress: EgressService, private readonly log: Logger) {}

  async settings(owner: string): Promise<NotificationSettings> {
    const row = (await this.db.query(`SELECT settings FROM ${this.db.table('notify_settings')} WHERE owner = ?`, [owner]))[0];
    return row ? { ...DEFAULTS, ...JSON.parse(row.settings) } : { ...DEFAULTS };
  }

  async putSettings(owner: string, patch: Partial<NotificationSettings>): Promise<NotificationSettings> {
    const next = { ...(await this.settings(owner)), ...patch };
    const t = this.db.table('notify_settings');
    await this.db.transaction(async tx => {
      await tx.query(`DELETE FROM ${t} WHERE owner = ?`, [owner]);
      await tx.query(`INSERT INTO ${t} (owner, settings) VALUES (?, ?)`, [owner, JSON.stringify(next)]);
    });
    return next;
  }

  async setNotify(runId: string, notify: boolean): Promise<void> {
    const t = this.db.table('run_notify');
    await this.db.transaction(async tx => {
      await tx.query(`DELETE FROM ${t} WHERE run_id = ?`, [runId]);
      await tx.query(`INSERT INTO ${t} (run_id, notify) VALUES (?, ?)`, [runId, notify ? 1 : 0]);
    });
  }

  async notified(runId: string): Promise<boolean> {
    const row = (await this.db.query(`SELECT notify FROM ${this.db.table('run_notify')} WHERE run_id = ?`, [runId]))[0];
    return Number(row?.notify ?? 0) === 1;
  }

  /** Queues the messages for a run's event, when the run is notified and its owner wants that event. */
  async onRunEvent(channels: ChannelRegistry | undefined, owner: string, runId: string, event: NotifyEvent, detail: string): Promise<void> {
    if (!channels || !(await this.notified(runId))) return;
    const s = await this.settings(owner);
    if (!s.events.includes(event)) return;
    const text = `Run ${runId} ${event === 'needs_attention' ? 'needs attention' : event}${detail ? `: ${detail}` : ''}`;
    for (const target of ['discord', 'webhook'] as const) {
      if (!(target === 'discord' ? s.discord_webhook_url : s.webhook_url)) continue;
      await channels.send(CHANNEL, { chatId: `${owner}:${target}:${runId}:${event}`, text, dedupeKey: `${runId}:${event}:${target}` });
    }
  }

  /** The adapter the delivery queue sends through; outbound only. */
  adapter(): ChannelAdapter {
    return {
      name: CHANNEL,
      verify: () => { throw new Error('run-notify takes no inbound webhooks'); },
      parse: () => ({ type: 'ignored' }),
      send: async m => {
        const [owner, target, runId, event] = m.chatId.split(':');
        const s = await this.settings(owner);
        const url = target === 'discord' ? s.discord_webhook_url : s.webhook_url;
        if (!url) return { messageIds: [] };
        const body = target === 'discord' ? { content: m.text.slice(0, 2000) } : { event: `run.${event}`, run_id: runId, text: m.text };
        const res = await this.egress.fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
        if (res.status === 429) {
          // Discord answers retry_after in seconds (and the Retry-After header).
          const json = await res.json().catch(() => ({})) as { retry_after?: number };
          throw new RateLimitedError(Math.ceil((json.retry_after ?? Number(res.headers.get('retry-after') ?? 1)) * 1000));
        }
        if (!res.ok) throw new Error(`${target} webhook answered ${res.status}`);
        await res.body?.cancel().catch(() => undefined);
        return { messageIds: [`${target}:${runId}:${event}`] };
      },
    };
  }

  register(channels: ChannelRegistry | undefined): Disposer | undefined {
    if (!channels) { this.log.info('the channels plugin is absent: run notifications are not sent'); return undefined; }
    return channels.register(this.adapter());
  }
}
