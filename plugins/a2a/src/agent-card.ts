import { duplicateInterfacesForLegacy } from '@a2a-js/sdk/compat/v0_3';
import type { AgentProfile } from 'plinth/contracts/agents';

export interface CardOptions { name: string; description: string; baseUrl: string; version: string }

/**
 * The A2A v1.0 agent card in its JSON wire form: one skill per exposed agent, the JSON-RPC
 * interface, streaming, and bearer auth with a Plinth token.
 */
export function buildAgentCard(o: CardOptions, agents: AgentProfile[]): Record<string, unknown> {
  return {
    name: o.name,
    description: o.description,
    version: o.version,
    // The same endpoint also speaks v0.3 (SDK legacy layer); the card says so for v0.3 clients.
    supportedInterfaces: duplicateInterfacesForLegacy([{ url: `${o.baseUrl}/a2a`, protocolBinding: 'JSONRPC', protocolVersion: '1.0', tenant: '' }], ['JSONRPC']),
    provider: { organization: 'Plinth', url: o.baseUrl },
    capabilities: { streaming: true, pushNotifications: false, extensions: [], extendedAgentCard: false },
    securitySchemes: {
      bearer: { httpAuthSecurityScheme: { scheme: 'Bearer', bearerFormat: 'Plinth API token', description: 'A Plinth user token' } },
    },
    securityRequirements: [{ schemes: { bearer: { list: [] } } }],
    defaultInputModes: ['text/plain'],
    defaultOutputModes: ['text/plain'],
    skills: agents.map(a => ({
      id: a.name,
      name: a.name,
      description: firstLine(a.instructions) || `Plinth agent ${a.name}`,
      tags: [a.kind],
      examples: [],
      inputModes: ['text/plain'],
      outputModes: ['text/plain'],
      securityRequirements: [],
    })),
    signatures: [],
  };
}

function firstLine(text: string): string {
  return (text ?? '').split('\n').find(l => l.trim())?.trim().slice(0, 200) ?? '';
}
