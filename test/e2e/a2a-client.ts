/** The A2A SDK's own client, as a Plinth user (bearer token), and helpers for its message shapes. */
import { randomUUID } from 'node:crypto';
import { Role } from '@a2a-js/sdk';
import { ClientFactory, ClientFactoryOptions, JsonRpcTransportFactory, type Client } from '@a2a-js/sdk/client';

export const message = (value: string, extra: Record<string, unknown> = {}) => ({
  message: { messageId: randomUUID(), role: Role.ROLE_USER, parts: [{ content: { $case: 'text', value } }], ...extra },
}) as any;
export const partsText = (parts: any[] = []) => parts.map(p => p.content?.value ?? '').join('');
export const taskOf = (r: any) => r.payload?.value ?? r;

export async function clientFor(baseUrl: string, token: string): Promise<Client> {
  const fetchImpl: typeof fetch = (url, init) => {
    const headers = new Headers(init?.headers);
    headers.set('authorization', `Bearer ${token}`);
    return fetch(url, { ...init, headers });
  };
  return new ClientFactory(ClientFactoryOptions.createFrom(ClientFactoryOptions.default, { transports: [new JsonRpcTransportFactory({ fetchImpl })] })).createFromUrl(baseUrl);
}
