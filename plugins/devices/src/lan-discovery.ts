import { createHash } from 'node:crypto';
import { errors, type EgressService, type Logger, type Timers, type User } from 'plinth/sdk';
import type { A2aPeers } from 'plinth/contracts/a2a';
import { errorCodes } from './errors';

export interface DiscoveryConfig { enabled: boolean; name?: string }

export interface FoundAgent {
  id: string;
  name: string;
  host: string;
  port: number;
  addresses: string[];
  cardUrl: string | null;
  firstSeen: string;
  lastSeen: string;
}

const SERVICE_TYPE = 'a2a'; // _a2a._tcp

/**
 * The kernel on the local network over mDNS/DNS-SD (bonjour-service): it announces `_a2a._tcp`
 * with its agent card URL in the TXT record (`card=`), and lists the A2A agents it hears. Off
 * unless `discovery.enabled`. The announcement waits until the kernel listens (plugins start
 * before the server does), polling `baseUrl()`.
 */
export class LanDiscovery {
  private readonly found = new Map<string, FoundAgent>();
  private bonjour?: import('bonjour-service').Bonjour;
  readonly ownName: string;

  constructor(private readonly d: { config: DiscoveryConfig; baseUrl: () => string; timers: Timers; log: Logger; egress: EgressService; peers?: A2aPeers; now: () => number; nodeId: string }) {
    this.ownName = d.config.name ?? `plinth-${d.nodeId}`;
  }

  start(): () => void {
    if (!this.d.config.enabled) return () => undefined;
    const { Bonjour } = require('bonjour-service') as typeof import('bonjour-service');
    const bonjour = (this.bonjour = new Bonjour({}, (err: unknown) => this.d.log.warn('mDNS error', { error: String(err) })));
    const browser = bonjour.find({ type: SERVICE_TYPE }, s => this.remember(s));
    browser.on('up', s => this.remember(s));
    const stopPoll = this.d.timers.setInterval(() => {
      let base: string;
      try { base = this.d.baseUrl(); } catch { return; }
      stopPoll();
      const port = Number(new URL(base).port);
      bonjour.publish({ name: this.ownName, type: SERVICE_TYPE, port, txt: { card: `${base}/.well-known/agent-card.json` } });
      this.d.log.info('announced on the local network', { name: this.ownName, type: `_${SERVICE_TYPE}._tcp`, port });
    }, 100);
    return () => {
      stopPoll();
      browser.stop();
      bonjour.unpublishAll(() => bonjour.destroy());
    };
  }

  private remember(s: { name: string; host: string; port: number; addresses?: string[]; txt?: Record<string, unknown>; fqdn?: string }): void {
    if (s.name === this.ownName) return;
    const id = 'lan_' + createHash('sha256').update(s.fqdn ?? `${s.name}.${s.host}:${s.port}`).digest('hex').slice(0, 16);
    const at = new Date(this.d.now()).toISOString();
    const card = typeof s.txt?.card === 'string' ? s.txt.card : null;
    this.found.set(id, { id, name: s.name, host: s.host, port: s.port, addresses: s.addresses ?? [], cardUrl: card, firstSeen: this.found.get(id)?.firstSeen ?? at, lastSeen: at });
  }

  list() {
    return { enabled: this.d.config.enabled, announcedAs: this.d.config.enabled ? this.ownName : null, items: [...this.found.values()], nextCursor: null };
  }

  /**
   * Fetches the card the announcement names, through the egress policy (a LAN address needs an
   * egress allowlist entry), checks it is an A2A agent card, then records it as the user's peer.
   */
  async verify(id: string, user: User) {
    const agent = this.found.get(id);
    if (!agent) throw errors.notFound(`discovered agent ${id}`);
    if (!agent.cardUrl) throw errorCodes.error('PLINTH_ERR_DISCOVERY_CARD', `${agent.name} announced no card URL (TXT card=)`);
    if (!this.d.peers) throw errorCodes.error('PLINTH_ERR_DISCOVERY_NO_A2A', 'the a2a plugin is not enabled: a discovered agent cannot become a peer');
    const res = await this.d.egress.fetch(agent.cardUrl, { timeoutMs: 10_000, maxBytes: 1_000_000, headers: { accept: 'application/json' } });
    let card: any;
    try { card = await res.json(); } catch { card = undefined; }
    const url = card?.url ?? card?.supportedInterfaces?.[0]?.url;
    if (!res.ok || typeof card?.name !== 'string' || typeof url !== 'string') {
      throw errorCodes.error('PLINTH_ERR_DISCOVERY_CARD', `${agent.cardUrl} is not an A2A agent card (HTTP ${res.status}; it needs a name and a url)`, { details: { status: res.status } });
    }
    const name = agent.name.replace(/[^a-zA-Z0-9_-]/g, '-').slice(0, 64);
    const peer = await this.d.peers.hello(user, { name, cardUrl: agent.cardUrl });
    return { discovered: agent, card: { name: card.name, description: card.description ?? null, url, version: card.version ?? null }, peer };
  }
}
