import type { WebSocket } from 'ws';
import type { Clock, Logger, WsConnectionInfo } from 'plinth/sdk';
import { CLOSE, type InboxSockets } from './inbox';
import type { MeshMessaging } from './messaging';
import { mayAct, type PeerRegistry } from './peer-registry';

/**
 * `/api/mesh/ws?peer_id=`: the hook's inbox. Frames in: connect, pong, delivery_ack, status.
 * Frames out: connected, ask, notify, broadcast, ping, error. A retired peer's socket is closed
 * with 4410 and its hook exits instead of reconnecting (so it cannot resurrect the peer).
 */
export function attachInbox(socket: WebSocket, info: WsConnectionInfo, d: { peers: PeerRegistry; inbox: InboxSockets; node: string; messaging: MeshMessaging; clock: Clock; log: Logger }) {
  const peerId = info.query.peer_id ?? '';
  let attached = false;
  const ready = (async () => {
    const p = await d.peers.store.get(peerId);
    if (!p || !mayAct(info.user!, p)) return socket.close(CLOSE.UNKNOWN, 'unknown peer');
    if (p.lifecycle === 'retired') {
      await d.peers.store.record(p.id, 'contradiction', { code: 'RETIRED_BUT_CONNECTED', detail: 'a hook of a retired peer tried to connect' }, d.clock.now());
      return socket.close(CLOSE.RETIRED, 'retired');
    }
    d.inbox.attach(p.id, socket);
    attached = true;
    await d.peers.connected(p);
    socket.send(JSON.stringify({ type: 'connected', peer_id: p.id, name: p.name, circle: p.circle }));
    // Not awaited: the replay waits for this socket's own delivery_acks, which wait for `ready`.
    void d.messaging.flushQueued(p).catch(err => d.log.warn('replaying queued notifies failed; replayed on the next connect', { peer: p.id, err: String(err) }));
  })().catch(err => { d.log.warn('inbox connect failed', { peer: peerId, err: String(err) }); socket.close(1011, 'connect failed'); });

  socket.on('message', raw => {
    let f: any;
    try { f = JSON.parse(String(raw)); } catch { return socket.send(JSON.stringify({ type: 'error', code: 'PLINTH_ERR_MALFORMED_JSON', message: 'frames are JSON' })); }
    void ready.then(async () => {
      if (!attached) return;
      const now = d.clock.now();
      switch (f?.type) {
        case 'connect': return;
        case 'pong': {
          d.inbox.pong(peerId, f.pane_alive === true ? true : f.pane_alive === false ? false : null, now);
          const p = await d.peers.store.get(peerId);
          if (p?.inbound === 'degraded') await d.peers.setInbound(peerId, 'connected');
          else await d.peers.store.update(peerId, { last_seen: now });
          return;
        }
        case 'delivery_ack':
          if (typeof f.delivery_id === 'string' && ['injected', 'accepted', 'failed', 'rejected'].includes(f.result)) {
            d.inbox.confirm(f.delivery_id, { result: f.result, detail: typeof f.detail === 'string' ? f.detail : undefined, at: now });
          }
          return;
        case 'status': {
          const p = await d.peers.store.get(peerId);
          if (!p || (f.turn !== 'busy' && f.turn !== 'idle')) return;
          await d.peers.reportTurn(p, f.turn).catch(() => undefined);
          return;
        }
        default:
          socket.send(JSON.stringify({ type: 'error', code: 'PLINTH_ERR_BAD_FRAME', message: 'frames: connect, pong, delivery_ack, status' }));
      }
    }).catch(err => d.log.warn('inbox frame failed', { peer: peerId, err: String(err) }));
  });

  socket.on('close', () => {
    void ready.then(() => {
      if (attached && d.inbox.detach(peerId, socket)) return d.peers.disconnected(peerId, d.node);
    }).catch(err => d.log.warn('inbox close failed', { peer: peerId, err: String(err) }));
  });
}
