import type { HttpRouter } from 'plinth/sdk';
import type { TurnRecords } from 'plinth/contracts/agents';
import type { BalanceReader } from './balance-reader';
import type { WalletStore } from './wallet-store';
import { NoQuery } from './schemas';

export function registerWalletRoutes(http: HttpRouter, d: { wallets: WalletStore; balances: BalanceReader; records: TurnRecords }): void {
  http.get('/address', { auth: 'user', query: NoQuery, summary: 'Your wallet\'s EVM address (the key is made on first use)' }, async req => {
    const w = await d.wallets.address(req.user!.id);
    return { address: w.address, createdAt: w.createdAt };
  });
  http.get('/balance', { auth: 'user', query: NoQuery, summary: '{ usdc, native, credits }: on-chain balances over JSON-RPC, and what your turns cost on this platform' }, async req => {
    const { address } = await d.wallets.address(req.user!.id);
    const [chain, spend] = await Promise.all([d.balances.read(address), d.records.spend(req.user!.id)]);
    return { address, ...chain, credits: { spent: spend.cost, turns: spend.turns, currency: 'USD' } };
  });
}
