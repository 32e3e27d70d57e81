import { reply, type HttpRouter, type RouteRequest } from 'plinth/sdk';
import type { PeerDirectory } from './peer-directory';
import { HelloBody } from './schemas';

export interface A2ARouteDeps {
  card(): Promise<unknown>;
  /** The JSON-RPC endpoint, made (with the A2A SDK) on the first call. */
  handle(req: RouteRequest): Promise<unknown> | unknown;
  peers(): PeerDirectory;
}

/** The agent card, the A2A JSON-RPC endpoint and `/api/a2a` (peers). */
export function registerRoutes(http: HttpRouter, { card, handle, peers }: A2ARouteDeps): void {
  const cardRoute = { auth: 'public' as const, summary: 'A2A agent card' };
  const serveCard = async () => reply(200, await card(), { headers: { 'cache-control': 'no-cache' } });
  http.get('/.well-known/agent-card.json', cardRoute, serveCard);
  http.get('/.well-known/agent.json', { ...cardRoute, summary: 'A2A agent card (pre-1.0 path)' }, serveCard);
  // `public` so that the refusal of a missing token is a JSON-RPC body; the endpoint checks the bearer itself.
  http.post('/a2a', { auth: 'public', bodyLimit: 4 * 1024 * 1024, summary: 'A2A JSON-RPC (v1.0; v0.3 method names with A2A-Version: 0.3)' }, req => handle(req));

  http.post('/hello', { auth: 'user', body: HelloBody, summary: 'Record a peer agent by its card URL' }, req => peers().hello(req.user!, req.body));
  http.get('/peers', { auth: 'user', summary: 'Known peer agents' }, req => ({ items: peers().list(req.user!), nextCursor: null }));
}
