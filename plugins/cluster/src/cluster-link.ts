import type { ClusterLink } from 'plinth/sdk';
import type { ConnectionLedger } from './connection-ledger';
import type { ClusterEventRelay } from './event-relay';

/** The kernel's link to the other kernels on one PostgreSQL: events through the relay, connection counts through the ledger. */
export function postgresLink(relay: ClusterEventRelay, ledger: ConnectionLedger): Omit<ClusterLink, 'liveNodes'> {
  return {
    transport: relay.transport,
    transientId: seq => relay.transientId(seq),
    published: (event, persisted) => relay.published(event, persisted),
    receive: deliver => { relay.deliver = deliver; },
    connectionsElsewhere: (kind, userId) => ledger.count(kind, userId),
    connectionsChanged: (kind, userId, n) => ledger.changed(kind, userId, n),
  };
}

/** On SQLite one kernel is the whole deployment: events stay in the process, with its own ids. */
export const localLink: Omit<ClusterLink, 'liveNodes'> = {
  transport: 'local',
  transientId: seq => `m${seq}`,
  published: () => undefined,
  receive: () => undefined,
  connectionsElsewhere: () => 0,
  connectionsChanged: () => undefined,
};
