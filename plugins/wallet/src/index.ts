import { join } from 'node:path';
import { definePlugin, egressRef, SecretBox } from 'plinth/sdk';
import { turnRecordsRef } from 'plinth/contracts/agents';
import { BalanceReader, type WalletConfig } from './balance-reader';
import { migrations } from './migrations';
import { registerWalletRoutes } from './routes';
import { WalletStore } from './wallet-store';

export default definePlugin<{ egress: typeof egressRef; records: typeof turnRecordsRef }, WalletConfig>({
  deps: { egress: egressRef, records: turnRecordsRef },
  async setup({ http, storage, config, dataDir, clock, egress, records }) {
    const wallets = new WalletStore(await storage.open({ migrations }), new SecretBox(join(dataDir, 'wallet.key')), () => clock.now());
    registerWalletRoutes(http, { wallets, balances: new BalanceReader(config, egress), records });
  },
});
