import { isPlinthError, type EgressService } from 'plinth/sdk';
import { errorCodes } from './errors';

export interface WalletConfig { rpcUrl?: string; chainId?: number; nativeSymbol: string; usdc: Record<string, string>; timeoutMs: number }

/**
 * Balances over JSON-RPC (viem): eth_chainId to check the endpoint serves the configured chain,
 * eth_getBalance, and eth_call of the USDC contract's balanceOf. Requests go through the kernel's
 * egress service, so the endpoint is subject to the same policy as every outbound request.
 */
export class BalanceReader {
  constructor(private readonly config: WalletConfig, private readonly egress: EgressService) {}

  async read(address: `0x${string}`) {
    const { rpcUrl, chainId } = this.config;
    if (!rpcUrl || !chainId) throw errorCodes.error('PLINTH_ERR_WALLET_NOT_CONFIGURED', 'the wallet has no JSON-RPC endpoint: an admin sets rpcUrl and chainId in the wallet plugin\'s config');
    // viem on first use: loading it took ~170 ms of CPU, a seventh of the kernel's cold start.
    const { createPublicClient, erc20Abi, formatUnits, http } = require('viem') as typeof import('viem');
    const client = createPublicClient({
      transport: http(rpcUrl, { fetchFn: this.egress.fetcher({ timeoutMs: this.config.timeoutMs }), retryCount: 0, timeout: this.config.timeoutMs }),
    });
    const rpc = async <T>(what: string, call: () => Promise<T>): Promise<T> => {
      try {
        return await call();
      } catch (err) {
        throw errorCodes.error('PLINTH_ERR_WALLET_RPC', `the JSON-RPC endpoint ${new URL(rpcUrl).origin} failed on ${what}: ${reason(err)}`,
          { details: { endpoint: new URL(rpcUrl).origin, call: what }, cause: err });
      }
    };
    const served = await rpc('eth_chainId', () => client.getChainId());
    if (served !== chainId) throw errorCodes.error('PLINTH_ERR_WALLET_CHAIN', `the JSON-RPC endpoint serves chain ${served}, the wallet is configured for chain ${chainId}`, { details: { served, configured: chainId } });
    const wei = await rpc('eth_getBalance', () => client.getBalance({ address }));
    const contract = this.config.usdc[String(chainId)] as `0x${string}` | undefined;
    const usdcRaw = contract ? await rpc('eth_call balanceOf', () => client.readContract({ address: contract, abi: erc20Abi, functionName: 'balanceOf', args: [address] })) : undefined;
    return {
      chainId,
      native: { symbol: this.config.nativeSymbol, wei: wei.toString(), amount: formatUnits(wei, 18) },
      // USDC has 6 decimals on every chain Circle issues it on.
      usdc: contract && usdcRaw !== undefined ? { contract, raw: usdcRaw.toString(), amount: formatUnits(usdcRaw, 6) } : null,
    };
  }
}

/** The innermost useful message: the egress service's own (refused, unreachable), else viem's short one. */
function reason(err: unknown): string {
  for (let e: any = err; e; e = e.cause) if (isPlinthError(e)) return e.message;
  return (err as any)?.shortMessage ?? (err as Error)?.message ?? String(err);
}
