import { definePlugin, egressRef } from 'plinth/sdk';
import { migrations } from './migrations';
import { registerRoutes } from './routes';
import { ScreenshotStore } from './screenshot-store';
import { BrowserSessions, type BrowserConfig } from './session-registry';
import { registerTools } from './tools';

export default definePlugin<{ egress: typeof egressRef }, BrowserConfig>({
  deps: { egress: egressRef },
  async setup({ http, tools, storage, dataDir, clock, timers, log, config, onDispose, egress }) {
    const screenshots = new ScreenshotStore(await storage.open({ migrations }), dataDir, () => clock.now());
    const browsers = new BrowserSessions(config, egress, screenshots, () => clock.now(), log);
    onDispose(() => browsers.closeAll());
    onDispose(timers.setInterval(() => { void browsers.sweep(); }, config.sweepMs));
    registerRoutes(http, browsers, screenshots);
    registerTools(tools, browsers);
  },
});
