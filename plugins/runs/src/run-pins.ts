import type { WebSocket } from 'ws';
import {
  NodeUnreachableError, errors, forwardRequest, forwardSocket, wasForwarded,
  type AuthService, type ClusterService, type Logger, type RouteHandler, type RouteRequest, type User, type WsConnectionInfo,
} from 'plinth/sdk';
import type { RunService } from './run-service';
import { ACTIVE, type RunRow } from './run-store';

/**
 * Several kernels on one database: a run's PTY lives in the process of the node that started it
 * (`runs.node_id`). A request that needs the process — an action, the live event stream, the
 * terminal socket — reaching another kernel is forwarded to that node over HTTP with the caller's
 * own credentials (the owner authenticates it as if it had come directly), so clients behind a
 * balancer never need to know where a run lives. A node whose heartbeat lapsed takes its runs'
 * processes with it: `sweep` marks those runs failed (resumable), as a restart does.
 */
export class RunPins {
  constructor(private readonly o: { cluster: ClusterService; runs: RunService; auth: AuthService; log: Logger }) {}

  /** The other live node holding the run's PTY; undefined when the run is served here. */
  async owner(run: RunRow): Promise<{ node: string; url: string } | undefined> {
    if (!run.node_id || run.node_id === this.o.cluster.nodeId || !ACTIVE.includes(run.status) || this.o.runs.liveProcess(run.id)) return undefined;
    const url = await this.o.cluster.nodeUrl(run.node_id);
    return url ? { node: run.node_id, url } : undefined;
  }

  /** A route on one run (`:id`) served by the node holding its process. */
  route<P extends { id: string }>(handler: RouteHandler<P>): RouteHandler<P> {
    return async (req: RouteRequest<P>) => {
      // Answered where it was forwarded to, never sent on: a stale pin cannot make kernels loop.
      if (wasForwarded(req.headers)) return handler(req);
      const run = await this.o.runs.get(req.user, req.params.id);
      const owner = await this.owner(run);
      if (!owner) return handler(req);
      try {
        return await forwardRequest(req, { from: this.o.cluster.nodeId, to: owner.node, url: owner.url });
      } catch (err) {
        if (err instanceof NodeUnreachableError) throw this.unreachable(run, owner.node);
        throw err;
      }
    };
  }

  /**
   * The terminal socket of a run whose PTY is on another node: joined to the owner's. The upgrade
   * there is authenticated by the caller's bearer; a browser came with a single-use ticket instead,
   * so a token of the same user, valid for a minute, stands in for it and is revoked once joined.
   * False when the run is not running elsewhere.
   */
  async terminal(socket: WebSocket, info: WsConnectionInfo, run: RunRow): Promise<boolean> {
    if (wasForwarded(info.headers)) return false;
    const owner = await this.owner(run);
    if (!owner) return false;
    const bearer = typeof info.headers.authorization === 'string' ? info.headers.authorization : undefined;
    const stand = bearer ? undefined : await this.o.auth.createToken((info.user as User).id, { name: `terminal relay ${run.id}`, expiresInMs: 60_000 });
    const url = new URL('/api/terminal', owner.url);
    url.searchParams.set('run_id', run.id);
    try {
      await forwardSocket(socket, { from: this.o.cluster.nodeId, to: owner.node, url: url.toString(), headers: { authorization: bearer ?? `Bearer ${stand!.token}`, ...(typeof info.headers.host === 'string' ? { host: info.headers.host } : {}), ...(typeof info.headers.origin === 'string' ? { origin: info.headers.origin } : {}) } });
    } catch (err) {
      if (!(err instanceof NodeUnreachableError)) throw err;
      const e = this.unreachable(run, owner.node);
      socket.send(JSON.stringify({ type: 'error', message: e.message }));
      socket.close(4503, 'run node unreachable');
    } finally {
      if (stand) await this.o.auth.revokeToken(stand.id).catch(err => this.o.log.warn('revoking a terminal relay token failed', { err: String(err) }));
    }
    return true;
  }

  /** Marks failed (resumable) the runs whose node is gone (its heartbeat lapsed); how many. */
  async sweep(atStart: boolean): Promise<number> {
    const live = new Set(await this.o.cluster.liveNodes());
    return this.o.runs.recover(node => !!node && live.has(node), atStart);
  }

  private unreachable(run: RunRow, node: string) {
    return errors.unavailable(`run ${run.id} runs on kernel node ${node}, which does not answer; if that kernel is gone the run is marked failed (resumable) within a heartbeat lapse`);
  }
}
