import { reply, type HttpRouter } from 'plinth/sdk';
import type { DevicePairing } from './device-pairing';
import type { LanDiscovery } from './lan-discovery';
import { DiscoveredParams, IdParams, PairBody, VerifyBody } from './schemas';

export function registerDeviceRoutes(http: HttpRouter, pairing: DevicePairing, discovery: LanDiscovery): void {
  http.post('/api/runtime/devices/pair', { auth: 'user', body: PairBody, summary: 'Start pairing a device: a 6-digit code and its expiry' }, async req =>
    reply(201, await pairing.pair(req.user!, req.body.name)));
  http.post('/api/runtime/devices/:id/verify', { auth: 'public', params: IdParams, body: VerifyBody, summary: 'The device proves the code and gets its own revocable token' }, req =>
    pairing.verify(req.params.id, req.body.code));
  http.get('/api/runtime/devices', { auth: 'user', summary: 'Your devices (admins: all)' }, req => pairing.list(req.user!));
  http.get('/api/runtime/devices/:id', { auth: 'user', params: IdParams }, req => pairing.get(req.params.id, req.user!));
  http.delete('/api/runtime/devices/:id', { auth: 'user', params: IdParams, summary: 'Revoke a device: its token stops working at once' }, req => pairing.revoke(req.params.id, req.user!));

  http.get('/api/runtime/discovery', { auth: 'user', summary: 'A2A agents heard on the local network (mDNS _a2a._tcp); empty unless discovery is enabled' }, () => discovery.list());
  http.post('/api/runtime/discovery/:id/verify', { auth: 'user', params: DiscoveredParams, summary: 'Fetch and check its agent card through the egress policy, then add it as your A2A peer' }, req =>
    discovery.verify(req.params.id, req.user!));
}
