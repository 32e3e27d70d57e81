import type { Browser, BrowserContext, Page } from 'playwright-core';
import { errors, isPlinthError, kernelErrors, newId, type EgressService, type PlinthError } from 'plinth/sdk';
import { launchChromium, residentBytes } from './chromium';
import { routeThroughEgress, type EgressRouting } from './egress-router';
import { errorCodes } from './errors';
import type { ActionRequest } from './schemas';

export interface BrowserLimits {
  chromiumPath: string;
  pagesPerSession: number;
  navigationTimeoutMs: number;
  actionTimeoutMs: number;
  maxTextChars: number;
  maxResponseBytes: number;
}

/** What an action answers besides the page's URL and title. */
export type ActionResult = { result: unknown; screenshot?: Buffer };

/**
 * One user's headless Chromium: its own browser process and context (cookies and storage are the
 * session's), up to `pagesPerSession` pages (popups past it are closed), every request through
 * egress. Actions run one at a time, on the page the user last used or named.
 */
export class BrowserSession {
  readonly id = newId('brs');
  readonly startedAt: number;
  lastUsedAt: number;
  private current = 0;
  private front: Page | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  closed = false;
  closeReason: string | undefined;

  private constructor(readonly owner: string, private readonly browser: Browser, private readonly context: BrowserContext,
    private readonly routing: EgressRouting, private readonly limits: BrowserLimits, private readonly marker: string, now: number) {
    this.startedAt = this.lastUsedAt = now;
  }

  static async start(owner: string, egress: EgressService, limits: BrowserLimits, now: number): Promise<BrowserSession> {
    const marker = newId('mark');
    const browser = await launchChromium(limits.chromiumPath, limits.pagesPerSession, marker, limits.navigationTimeoutMs);
    try {
      const context = await browser.newContext({ serviceWorkers: 'block', acceptDownloads: false, viewport: { width: 1280, height: 800 } });
      context.setDefaultTimeout(limits.actionTimeoutMs);
      context.setDefaultNavigationTimeout(limits.navigationTimeoutMs);
      const routing = await routeThroughEgress(context, egress, { timeoutMs: limits.navigationTimeoutMs, maxBytes: limits.maxResponseBytes });
      const session = new BrowserSession(owner, browser, context, routing, limits, marker, now);
      context.on('page', page => session.adopt(page));
      await context.newPage();
      browser.on('disconnected', () => { session.closed = true; session.closeReason ??= 'the browser process ended'; });
      return session;
    } catch (err) {
      await browser.close().catch(() => undefined);
      throw err;
    }
  }

  /** Popups and new tabs count against the page limit; past it they are closed at once. */
  private adopt(page: Page): void {
    if (this.context.pages().length > this.limits.pagesPerSession) {
      void page.close().catch(() => undefined);
      return;
    }
    this.current = this.context.pages().indexOf(page);
    this.front = page;
    page.on('close', () => { this.current = Math.max(0, Math.min(this.current, this.context.pages().length - 1)); });
  }

  pages(): Array<{ index: number; url: string }> {
    return this.context.pages().map((p, index) => ({ index, url: p.url() }));
  }

  memoryBytes(): number {
    return residentBytes(`--plinth-browser=${this.marker}`);
  }

  async close(reason: string): Promise<void> {
    if (this.closed && !this.browser.isConnected()) return;
    this.closed = true;
    this.closeReason ??= reason;
    await this.browser.close().catch(() => undefined);
  }

  /** Runs one action after the ones before it; answers the page's URL and title and the result. */
  run(request: ActionRequest, now: number, act: (page: Page, request: ActionRequest) => Promise<ActionResult>) {
    this.lastUsedAt = now;
    const next = this.queue.then(() => this.runNow(request, act));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async runNow(request: ActionRequest, act: (page: Page, request: ActionRequest) => Promise<ActionResult>) {
    if (this.closed) throw errorCodes.error('PLINTH_ERR_BROWSER_NOT_STARTED', `the browser was closed (${this.closeReason}); start another`);
    const pages = this.context.pages();
    const index = request.page ?? this.current;
    const page = pages[index];
    if (!page) throw errors.notFound(`page ${index} (this browser has ${pages.length}: 0 to ${pages.length - 1})`);
    this.current = index;
    // A background tab gets no animation frames, and Playwright waits for them before a click:
    // the page acted on is brought to the front (popups come to the front by themselves).
    if (this.front !== page) {
      await page.bringToFront();
      this.front = page;
    }
    const refusedBefore = this.routing.lastRefused();
    try {
      const out = await act(page, request);
      return { session: this.id, page: index, url: page.url(), title: await page.title().catch(() => ''), ...out };
    } catch (err) {
      throw this.explain(err, refusedBefore);
    }
  }

  /** Playwright's errors as the plugin's: a refusal by egress names the URL, a timeout says so. */
  private explain(err: unknown, refusedBefore: { url: string } | undefined): PlinthError | unknown {
    if (isPlinthError(err)) return err;
    const message = String((err as Error)?.message ?? err).split('\n')[0].replace(/^\w+\.\w+: /, '');
    const refused = this.routing.lastRefused();
    if (refused && refused !== refusedBefore && /ERR_BLOCKED_BY_CLIENT/.test(message)) {
      return kernelErrors.error('PLINTH_ERR_EGRESS_REFUSED', refused.message, { cause: err });
    }
    if ((err as Error)?.name === 'TimeoutError') return errorCodes.error('PLINTH_ERR_BROWSER_TIMEOUT', message, { cause: err });
    if (/Target page, context or browser has been closed|Browser has been closed/.test(message)) {
      return errorCodes.error('PLINTH_ERR_BROWSER_NOT_STARTED', `the browser was closed (${this.closeReason ?? 'it ended'}); start another`, { cause: err });
    }
    return errorCodes.error('PLINTH_ERR_BROWSER_ACTION', message, { cause: err });
  }
}
