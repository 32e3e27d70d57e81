import { randomBytes } from 'node:crypto';
import { definePlugin, egressRef } from 'plinth/sdk';
import { a2aPeersRef } from 'plinth/contracts/a2a';
import { DevicePairing, type DeviceConfig } from './device-pairing';
import { LanDiscovery, type DiscoveryConfig } from './lan-discovery';
import { migrations } from './migrations';
import { registerDeviceRoutes } from './routes';

export default definePlugin<{ egress: typeof egressRef; peers: ReturnType<typeof a2aPeersRef.asOptional> }, DeviceConfig & { discovery: DiscoveryConfig }>({
  deps: { egress: egressRef, peers: a2aPeersRef.asOptional() },
  async setup({ http, storage, auth, config, clock, kernel, timers, log, egress, peers, onDispose }) {
    const now = () => clock.now();
    const pairing = new DevicePairing(await storage.open({ migrations }), auth, config, now);
    const discovery = new LanDiscovery({ config: config.discovery, baseUrl: () => kernel.baseUrl(), timers, log, egress, peers, now, nodeId: randomBytes(3).toString('hex') });
    onDispose(discovery.start());
    registerDeviceRoutes(http, pairing, discovery);
  },
});
