import type { Frame, Page } from 'playwright-core';
import { errors, type EgressService } from 'plinth/sdk';
import type { ActionResult, BrowserLimits } from './browser-session';
import type { ActionRequest } from './schemas';

/**
 * What each action does to a page. Navigation is checked against egress before Chromium is asked
 * (a clear refusal naming the URL); every request the page then makes is checked again by the
 * context's routing, redirects and subresources included.
 */
export async function performAction(page: Page, r: ActionRequest, egress: EgressService, limits: BrowserLimits): Promise<ActionResult> {
  const waitMs = Math.min(r.timeout_ms ?? limits.navigationTimeoutMs, limits.navigationTimeoutMs);
  /** Elements are waited for the action timeout, or what the caller asks up to the navigation timeout. */
  const timeout = Math.min(r.timeout_ms ?? limits.actionTimeoutMs, limits.navigationTimeoutMs);
  switch (r.action) {
    case 'navigate': {
      let url: URL;
      try { url = new URL(r.url!); } catch { throw errors.validation(`"${r.url}" is not a URL`); }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw errors.validation(`only http and https URLs are opened, not ${url.protocol}`);
      await egress.check(url);
      // A refused or failed load commits Chromium's error page a little after goto fails; the next
      // navigation, started before that commit, would be cut short by it. So a failure answers only
      // once the error page has landed.
      let errorPage = false;
      const onNavigated = (frame: Frame) => { if (frame === page.mainFrame() && frame.url().startsWith('chrome-error:')) errorPage = true; };
      page.on('framenavigated', onNavigated);
      try {
        const res = await page.goto(url.href, { waitUntil: 'load', timeout: waitMs });
        return { result: { status: res?.status() ?? null } };
      } catch (err) {
        if (!errorPage && /net::ERR_/.test(String((err as Error).message))) {
          await page.waitForEvent('framenavigated', { predicate: f => f === page.mainFrame() && f.url().startsWith('chrome-error:'), timeout: limits.actionTimeoutMs }).catch(() => undefined);
        }
        throw err;
      } finally {
        page.off('framenavigated', onNavigated);
      }
    }
    case 'click':
      await page.click(r.selector!, { timeout });
      await settle(page, limits);
      return { result: { clicked: r.selector } };
    case 'type':
      await page.fill(r.selector!, r.text!, { timeout });
      return { result: { typed: r.text!.length } };
    case 'press':
      if (r.selector) await page.press(r.selector, r.key!, { timeout });
      else await page.keyboard.press(r.key!);
      await settle(page, limits);
      return { result: { pressed: r.key } };
    case 'select':
      return { result: { selected: await page.selectOption(r.selector!, r.values!, { timeout }) } };
    case 'scroll':
      if (r.selector) await page.locator(r.selector).first().scrollIntoViewIfNeeded({ timeout });
      // scrollBy rather than a wheel event, which scrolls later (smoothly) than it returns. The
      // script is a string (the kernel's TypeScript has no DOM types); x and y are schema-checked integers.
      else await page.evaluate(`window.scrollBy({ left: ${Number(r.x ?? 0)}, top: ${Number(r.y ?? 0)}, behavior: 'instant' })`);
      return { result: await page.evaluate('({ scrollX: Math.round(window.scrollX), scrollY: Math.round(window.scrollY) })') };
    case 'wait_for':
      await page.waitForSelector(r.selector!, { state: r.state ?? 'visible', timeout: waitMs });
      return { result: { found: r.state !== 'detached' && r.state !== 'hidden' } };
    case 'extract_text':
      return { result: readable(r.selector ? await page.locator(r.selector).first().innerText({ timeout }) : await page.innerText('body'), limits.maxTextChars) };
    case 'screenshot':
      return { result: null, screenshot: await page.screenshot({ type: 'png', fullPage: r.full_page === true }) };
    case 'evaluate':
      return { result: await page.evaluate(r.expression!) ?? null };
  }
}

/** A click or key may start a navigation (a form's submit): wait for its document, not for ever. */
async function settle(page: Page, limits: BrowserLimits): Promise<void> {
  await page.waitForLoadState('load', { timeout: limits.navigationTimeoutMs }).catch(() => undefined);
}

/** The page's text as a model reads it: blank runs folded, trimmed, cut at `max` characters. */
export function readable(text: string, max: number): { text: string; truncated: boolean; chars: number } {
  const folded = text.replace(/[ \t\u00a0]+/g, ' ').replace(/ *\n[\s]*\n+/g, '\n\n').replace(/ *\n */g, '\n').trim();
  return { text: folded.slice(0, max), truncated: folded.length > max, chars: folded.length };
}
