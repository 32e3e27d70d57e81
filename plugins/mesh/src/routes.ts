import { errors, reply, type Clock, type HttpRouter, type Logger, type User, type WsRegistry } from 'plinth/sdk';
import { attachInbox } from './inbox-socket';
import { linkPane, type LinkDeps } from './link';
import { orphanPanes } from './panes';
import { viewAsk } from './ask-store';
import { diagnose } from './doctor';
import type { InboxSockets } from './inbox';
import { isAddressable } from './lifecycle';
import type { MeshMessaging } from './messaging';
import { viewPeer, type PeerRow } from './peer-store';
import type { PeerRegistry, RegisterInput } from './peer-registry';
import { applyRehook, planRehook } from './rehook';
import * as S from './schemas';

export interface RouteDeps { http: HttpRouter; ws: WsRegistry; log: Logger; peers: PeerRegistry; messaging: MeshMessaging; inbox: InboxSockets; node: string; clock: Clock; staleAskMs: number; link: LinkDeps }

/** Peers the caller may see (admins: all), narrowed by the list filters. */
async function listPeers(d: RouteDeps, user: User, q: any): Promise<PeerRow[]> {
  const rows = await d.peers.store.list({ owner: user.role === 'admin' ? undefined : user.id, circle: q.circle, backend: q.backend, lifecycle: q.status ? [q.status] : undefined });
  return q.addressable === undefined ? rows : rows.filter(p => isAddressable(p) === q.addressable);
}

export function registerRoutes(d: RouteDeps): void {
  const { http, peers, messaging, clock } = d;
  d.ws.handle('/api/mesh/ws', { auth: 'user' }, (socket, info) => attachInbox(socket, info, { peers, inbox: d.inbox, node: d.node, messaging, clock, log: d.log }));
  const now = () => clock.now();

  http.post('/api/peers', { auth: 'user', body: S.RegisterBody, summary: 'Register a peer (or re-bind one by peer_id) with the hook\'s proof of its pane and agent' }, async req =>
    reply(201, viewPeer(await peers.register(req.user!, req.body as RegisterInput), now())));

  http.get('/api/peers', { auth: 'user', query: S.PeersQuery, summary: 'Peers of the caller (admins: all)' }, async req =>
    ({ items: (await listPeers(d, req.user!, req.query)).map(p => viewPeer(p, now())), nextCursor: null }));

  http.get('/api/peers/:id', { auth: 'user', params: S.IdParams }, async req => viewPeer(await peers.visible(req.user!, req.params.id), now()));

  http.post('/api/peers/:id/offline', { auth: 'user', params: S.IdParams, body: S.OfflineBody, summary: 'Mark a peer offline; terminal: retire it' }, async req => {
    const p = await peers.visible(req.user!, req.params.id);
    const body = req.body as { reason?: string; terminal?: boolean };
    if (body.terminal) await peers.retire(p, body.reason ?? 'offline (terminal)');
    else await peers.transition(p, 'offline');
    await peers.store.record(p.id, 'offline', { reason: body.reason ?? null, terminal: !!body.terminal }, now());
    return viewPeer((await peers.store.get(p.id))!, now());
  });

  http.delete('/api/peers/:id', { auth: 'user', params: S.IdParams, summary: 'Retire a peer: a tombstone kept 72 h, so a stale hook cannot resurrect it' }, async req => {
    const p = await peers.visible(req.user!, req.params.id);
    await peers.retire(p, 'deleted');
    return viewPeer((await peers.store.get(p.id))!, now());
  });

  http.post('/api/peers/:id/turn', { auth: 'user', params: S.IdParams, body: S.TurnBody, summary: 'A turn report from the agent CLI\'s hooks: busy (prompt submitted) or idle (turn stopped); the lifecycle follows' }, async req => {
    const p = await peers.visible(req.user!, req.params.id);
    const b = req.body as { turn: 'busy' | 'idle'; pane_id?: string };
    // The reporting hook read the peer id from its pane: a pane that is not this peer's is a stale option, not this peer's turn.
    if (b.pane_id && b.pane_id !== p.binding.pane_id) throw errors.conflict(`peer ${p.id} is bound to pane ${p.binding.pane_id}, not ${b.pane_id}`, { code: 'HOOK_PEERID_MISMATCH' });
    await peers.reportTurn(p, b.turn);
    return viewPeer((await peers.store.get(p.id))!, now());
  });

  http.get('/api/peers/:id/doctor', { auth: 'user', params: S.IdParams, query: S.DoctorQuery, summary: 'Read-only diagnosis with contradictions; ?repair=true applies the listed repairs' }, async req => {
    const p = await peers.visible(req.user!, req.params.id);
    const report = await diagnose(p, d.inbox, messaging.asks, now(), d.staleAskMs);
    if (!(req.query as any).repair || !report.repairs.length) return { ...report, repaired: [] };
    if (p.lifecycle !== 'offline' && p.lifecycle !== 'retired') await peers.transition(p, 'offline');
    await peers.store.update(p.id, { runtime: report.runtime, inbound: d.inbox.connected(p.id) ? p.inbound : 'none' });
    await peers.store.record(p.id, 'repaired', { repairs: report.repairs }, now());
    return { ...report, repaired: report.repairs };
  });

  http.post('/api/peers/:id/rehook', { auth: 'user', params: S.IdParams, body: S.RehookBody, summary: 'Plan (dry run by default) replacing a deaf hook; never touches a healthy inbox' }, async req => {
    const p = await peers.visible(req.user!, req.params.id);
    return (req.body as any).apply ? applyRehook(d.link, req.user!, p) : planRehook(p, d.inbox, peers.host);
  });

  http.post('/api/ask', { auth: 'user', body: S.AskBody, summary: 'Ask a peer; answers once its hook confirmed the delivery' }, async req =>
    reply(201, await messaging.ask(req.user!, req.body as any)));

  http.post('/api/ack', { auth: 'user', body: S.AckBody, summary: 'Ack an ask; with a message, the reply reaches the asker before the ask closes' }, async req => {
    const b = req.body as { correlation_id: string; message?: string };
    return messaging.ack(req.user!, b.correlation_id, b.message);
  });

  http.post('/api/decline', { auth: 'user', body: S.DeclineBody }, async req => {
    const b = req.body as { correlation_id: string; reason?: string };
    return messaging.decline(req.user!, b.correlation_id, b.reason);
  });

  http.post('/api/asks/:cid/wait', { auth: 'user', params: S.CidParams, body: S.WaitBody, summary: 'Pull mode: block until the ask closes (≤ 50 s); the reply stays on the ask' }, async req =>
    messaging.wait(req.user!, req.params.cid, (req.body as any).timeout_ms ?? 50_000, req.signal));

  http.get('/api/asks/pending', { auth: 'user', query: S.PendingQuery }, async req => {
    const q = req.query as { peer_id?: string; pane_id?: string; direction: 'inbound' | 'outbound' | 'both' };
    let peer: PeerRow | undefined;
    if (q.peer_id) peer = await peers.visible(req.user!, q.peer_id);
    else if (q.pane_id) peer = (await listPeers(d, req.user!, {})).find(p => p.binding.pane_id === q.pane_id && p.lifecycle !== 'retired');
    if (!peer) throw errors.badRequest('name a peer_id or the pane_id of a live peer');
    return { items: (await messaging.asks.pending({ peer: peer.id, direction: q.direction ?? 'both' })).map(viewAsk), nextCursor: null };
  });

  http.post('/api/notify', { auth: 'user', body: S.NotifyBody, summary: 'Notify a peer: delivered now, or queued durably and replayed on reconnect' }, async req => {
    const r = await messaging.notify(req.user!, req.body as any);
    return reply(r.status === 'queued' ? 202 : 200, r);
  });

  http.post('/api/broadcast', { auth: 'user', body: S.BroadcastBody, summary: 'Notify every connected peer of the sender\'s circle, traced per recipient' }, async req =>
    messaging.broadcast(req.user!, req.body as any));

  // The host's panes belong to the kernel's OS user, not to any Plinth user: listing and linking them is for admins.
  http.get('/api/panes/orphans', { auth: 'admin', summary: 'Local tmux panes bound to no live peer (stale bindings flagged), with a backend hint' }, async () =>
    ({ items: await orphanPanes(await peers.store.list({})), nextCursor: null }));

  http.post('/api/panes/:pane_id/link', { auth: 'admin', params: S.PaneParams, body: S.LinkBody, summary: 'Register the agent in a pane and start its hook; rolled back (non-2xx) unless its inbox connects in time' }, async req =>
    reply(201, await linkPane(d.link, req.user!, req.params.pane_id, req.body as any)));
}
