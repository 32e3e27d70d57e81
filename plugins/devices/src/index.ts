import { definePlugin } from 'plinth/sdk';
import { DevicePairing, type DeviceConfig } from './device-pairing';
import { migrations } from './migrations';
import { registerDeviceRoutes } from './routes';

export default definePlugin<{}, DeviceConfig>({
  async setup({ http, storage, auth, config, clock }) {
    const pairing = new DevicePairing(await storage.open({ migrations }), auth, config, () => clock.now());
    registerDeviceRoutes(http, pairing);
  },
});
