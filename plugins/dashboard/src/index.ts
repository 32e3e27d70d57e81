import { join } from 'node:path';
import { definePlugin } from 'plinth/sdk';
import { ensureBundle } from './bundle';
import { StaticSite } from './static-site';
import { registerRoutes } from './routes';

/**
 * Serves the dashboard's built web app at /dashboard. The app signs in against the kernel's API
 * itself, so these files are public; index.html answers every client route.
 */
export default definePlugin<{}, { buildOnSetup: boolean }>({
  async setup({ http, config, log, pluginDir }) {
    if (config.buildOnSetup) {
      const { built, ms, info } = await ensureBundle(pluginDir);
      if (built) log.info('dashboard bundle built', { ms, js: info.entry.js });
    }
    const site = new StaticSite(join(pluginDir, 'dist'));
    registerRoutes(http, site);
  },
});
