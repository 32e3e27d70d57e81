import type { EgressService, Logger, User } from 'plinth/sdk';
import { errors } from 'plinth/sdk';
import { performAction } from './actions';
import { BrowserSession, type BrowserLimits } from './browser-session';
import { chromiumMissing } from './chromium';
import { errorCodes } from './errors';
import type { ScreenshotStore } from './screenshot-store';
import type { ActionRequest } from './schemas';

export interface BrowserConfig extends BrowserLimits {
  sessionsPerUser: number;
  idleTimeoutMs: number;
  memoryMb: number;
  sweepMs: number;
}

/**
 * The running browsers of this kernel, per user, within the limits: sessions per user, pages per
 * session (BrowserSession), idle timeout and memory cap (checked by `sweep`). A browser is a live
 * process of this kernel: it is not stored, and a restart closes it.
 */
export class BrowserSessions {
  private readonly sessions = new Map<string, BrowserSession>();
  /** Starts under way per user, so that two concurrent starts cannot pass the limit together. */
  private readonly starting = new Map<string, number>();

  constructor(private readonly config: BrowserConfig, private readonly egress: EgressService, private readonly screenshots: ScreenshotStore,
    private readonly now: () => number, private readonly log: Logger) {}

  private owned(user: User): BrowserSession[] {
    return [...this.sessions.values()].filter(s => s.owner === user.id && !s.closed);
  }

  status(user: User) {
    const missing = chromiumMissing(this.config.chromiumPath);
    return {
      available: !missing, reason: missing ?? null,
      sessions: this.owned(user).map(s => ({
        id: s.id, pages: s.pages(), startedAt: new Date(s.startedAt).toISOString(), lastUsedAt: new Date(s.lastUsedAt).toISOString(),
        memoryMb: Math.round(s.memoryBytes() / 1048576),
      })),
      limits: {
        sessionsPerUser: this.config.sessionsPerUser, pagesPerSession: this.config.pagesPerSession, idleTimeoutMs: this.config.idleTimeoutMs,
        memoryMb: this.config.memoryMb, navigationTimeoutMs: this.config.navigationTimeoutMs, actionTimeoutMs: this.config.actionTimeoutMs,
      },
    };
  }

  async start(user: User): Promise<BrowserSession> {
    const pending = this.starting.get(user.id) ?? 0;
    if (this.owned(user).length + pending >= this.config.sessionsPerUser) {
      throw errorCodes.error('PLINTH_ERR_BROWSER_LIMIT', `this user already has ${this.config.sessionsPerUser} browser(s) open (sessionsPerUser); stop one first`);
    }
    this.starting.set(user.id, pending + 1);
    try {
      const session = await BrowserSession.start(user.id, this.egress, this.config, this.now());
      // Idle from when it is ready: a start may take seconds on a busy machine.
      session.lastUsedAt = this.now();
      this.sessions.set(session.id, session);
      return session;
    } finally {
      this.starting.set(user.id, (this.starting.get(user.id) ?? 1) - 1);
    }
  }

  /** The named browser of this user (another user's answers 404), or its only one. */
  find(user: User, id?: string): BrowserSession | undefined {
    if (id) {
      const s = this.sessions.get(id);
      if (!s || s.closed || (s.owner !== user.id && user.role !== 'admin')) throw errors.notFound(`browser session ${id}`);
      return s;
    }
    return this.owned(user)[0];
  }

  get(user: User, id?: string): BrowserSession {
    const s = this.find(user, id);
    if (!s) throw errorCodes.error('PLINTH_ERR_BROWSER_NOT_STARTED', 'no browser is running for this user: POST /api/browser/start first');
    return s;
  }

  async stop(user: User, id?: string): Promise<{ stopped: string[] }> {
    const targets = id ? [this.get(user, id)] : this.owned(user);
    await Promise.all(targets.map(s => this.close(s, 'stopped by its user')));
    return { stopped: targets.map(s => s.id) };
  }

  /** Runs an action; a screenshot is stored and answered as its record. */
  async act(user: User, request: ActionRequest, options: { startIfNone?: boolean } = {}) {
    const session = this.find(user, request.session) ?? (options.startIfNone ? await this.start(user) : this.get(user));
    const out = await session.run(request, this.now(), (page, r) => performAction(page, r, this.egress, this.config));
    if (!out.screenshot) return out;
    const { screenshot, ...rest } = out;
    const row = await this.screenshots.save(user.id, session.id, rest, screenshot);
    return { ...rest, result: { screenshot: { id: row.id, size: row.size, content_type: row.content_type, href: `/api/browser/screenshots/${row.id}` } } };
  }

  /** Closes browsers idle past the timeout or over the memory cap; forgets those that ended. */
  async sweep(): Promise<void> {
    const now = this.now();
    for (const s of [...this.sessions.values()]) {
      if (s.closed) { this.sessions.delete(s.id); continue; }
      if (now - s.lastUsedAt > this.config.idleTimeoutMs) await this.close(s, `idle for more than ${this.config.idleTimeoutMs} ms`);
      else if (s.memoryBytes() > this.config.memoryMb * 1048576) await this.close(s, `over the memory cap of ${this.config.memoryMb} MB`);
    }
  }

  private async close(s: BrowserSession, reason: string): Promise<void> {
    this.sessions.delete(s.id);
    this.log.info(`browser ${s.id} of ${s.owner} closed: ${reason}`);
    await s.close(reason);
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.sessions.values()].map(s => this.close(s, 'the plugin stopped')));
  }
}
