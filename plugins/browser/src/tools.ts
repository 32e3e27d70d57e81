import type { ToolRegistry, User } from 'plinth/sdk';
import type { BrowserSessions } from './session-registry';
import type { ActionRequest } from './schemas';

const selector = { type: 'string', minLength: 1, maxLength: 2000, description: 'CSS selector, or text=… / role=… as Playwright reads them' };

/**
 * The browser as agent tools, each acting in the calling user's browser (started on first use).
 * Typing into a page and clicking (which may submit a form) are `gated`: they need an approval.
 */
export function registerTools(tools: ToolRegistry, browsers: BrowserSessions): void {
  const act = (user: User, request: ActionRequest) => browsers.act(user, request, { startIfNone: true });
  tools.register({
    name: 'navigate', risk: 'safe', description: 'Open a URL (http or https) in the browser; answers the page\'s URL, title and HTTP status',
    inputSchema: { type: 'object', required: ['url'], additionalProperties: false, properties: { url: { type: 'string', minLength: 1, maxLength: 8000 } } },
    run: (i: { url: string }, ctx) => act(ctx.user, { action: 'navigate', url: i.url }),
  });
  tools.register({
    name: 'read', risk: 'safe', description: 'The readable text of the current page (or of one element), trimmed',
    inputSchema: { type: 'object', additionalProperties: false, properties: { selector } },
    run: async (i: { selector?: string }, ctx) => {
      const r = await act(ctx.user, { action: 'extract_text', selector: i.selector });
      return { url: r.url, title: r.title, ...(r.result as object) };
    },
  });
  tools.register({
    name: 'click', risk: 'gated', description: 'Click an element (a link, a button; may submit a form)',
    inputSchema: { type: 'object', required: ['selector'], additionalProperties: false, properties: { selector } },
    run: (i: { selector: string }, ctx) => act(ctx.user, { action: 'click', selector: i.selector }),
  });
  tools.register({
    name: 'type', risk: 'gated', description: 'Fill a form field with text; with submit: true, press Enter after it',
    inputSchema: { type: 'object', required: ['selector', 'text'], additionalProperties: false, properties: { selector, text: { type: 'string', maxLength: 100_000 }, submit: { type: 'boolean' } } },
    run: async (i: { selector: string; text: string; submit?: boolean }, ctx) => {
      const typed = await act(ctx.user, { action: 'type', selector: i.selector, text: i.text });
      return i.submit ? act(ctx.user, { action: 'press', selector: i.selector, key: 'Enter' }) : typed;
    },
  });
  tools.register({
    name: 'screenshot', risk: 'safe', description: 'A PNG of the current page, stored; answers where to fetch it',
    inputSchema: { type: 'object', additionalProperties: false, properties: { full_page: { type: 'boolean' } } },
    run: (i: { full_page?: boolean }, ctx) => act(ctx.user, { action: 'screenshot', full_page: i.full_page }),
  });
}
