import type { KernelStats } from 'plinth/sdk';

/**
 * The ways into the platform, and the plugin that opens each. The kernel knows no plugin by name;
 * this list is the product's map, read against the kernel's plugin states when asked.
 */
const SURFACES: Array<{ surface: string; kind: string; plugin: string; paths: string[] }> = [
  { surface: 'channels', kind: 'channels', plugin: 'channels', paths: ['/api/channels'] },
  { surface: 'telegram', kind: 'channel', plugin: 'telegram', paths: ['/api/webhooks/telegram'] },
  { surface: 'whatsapp', kind: 'channel', plugin: 'whatsapp', paths: ['/api/webhooks/whatsapp'] },
  { surface: 'mcp', kind: 'mcp', plugin: 'mcp', paths: ['/mcp'] },
  { surface: 'a2a', kind: 'a2a', plugin: 'a2a', paths: ['/a2a', '/.well-known/agent-card.json'] },
  { surface: 'openai-api', kind: 'http', plugin: 'openai-api', paths: ['/v1/chat/completions'] },
  { surface: 'anthropic-api', kind: 'http', plugin: 'anthropic-api', paths: ['/anthropic/v1/messages'] },
  { surface: 'dashboard', kind: 'http', plugin: 'dashboard', paths: ['/dashboard'] },
];

/** Every way in with its status: `up`, the plugin's status, or `absent` when no such plugin is registered. */
export function runtimeSurfaces(stats: KernelStats) {
  const states = new Map(stats.plugins().map(p => [p.id, p.status]));
  const kernel = [
    { surface: 'http', kind: 'http', plugin: null, paths: ['/api'], status: 'up' },
    { surface: 'websocket', kind: 'ws', plugin: null, paths: ['/ws'], status: 'up' },
  ];
  const plugins = SURFACES.map(s => {
    const status = states.get(s.plugin);
    return { ...s, status: !status ? 'absent' : status === 'active' ? 'up' : status };
  });
  return [...kernel, ...plugins];
}
