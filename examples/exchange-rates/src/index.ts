import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { definePlugin } from 'plinth/sdk';
import type { Config, ConvertInput } from './generated/types';
import { RatesClient, assertAllowedHost } from './rates-client';
import { ConversionSchema, ConvertInputSchema } from './schemas';

export default definePlugin<{}, Required<Config>>({
  setup({ tools, config, pluginDir, clock }) {
    const manifest = JSON.parse(readFileSync(join(pluginDir, 'plugin.json'), 'utf8'));
    // Checked at setup: a config pointing elsewhere fails the plugin with a clear reason, before any call.
    const client = new RatesClient(assertAllowedHost(config.apiUrl, manifest.permissions?.network ?? []), config.timeoutMs, clock);
    tools.register<ConvertInput, unknown>({
      name: 'convert',
      description: 'Converts an amount between two currencies at the latest published rate',
      inputSchema: ConvertInputSchema,
      outputSchema: ConversionSchema,
      // Reading a public rate changes nothing anywhere: no approval needed.
      risk: 'safe',
      run: (input, ctx) => client.convert(input, ctx.signal),
    });
  },
});
