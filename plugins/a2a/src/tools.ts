import type { ToolRegistry, ToolRisk } from 'plinth/sdk';
import type { PeerDirectory } from './peer-directory';
import { SendInput } from './schemas';

/** `a2a.send`: an agent talks to a known peer agent. */
export function registerTools(tools: ToolRegistry, { peers, sendRisk }: { peers(): PeerDirectory; sendRisk: ToolRisk }): void {
  tools.register({
    name: 'send',
    description: 'Send a message to a known A2A peer agent and return its answer or task',
    inputSchema: SendInput,
    risk: sendRisk,
    run: (input: { peer: string; message: string; timeoutMs?: number }, ctx) => peers().send(ctx.user, input.peer, input.message, input.timeoutMs),
  });
}
