import { A2A_VERSION_HEADER } from '@a2a-js/sdk';
import { LegacyJsonRpcTransportHandler } from '@a2a-js/sdk/compat/v0_3/server';
import { JsonRpcTransportHandler, defaultServerCallContextBuilder, validateVersion, type A2ARequestHandler } from '@a2a-js/sdk/server';
import { HANDLED, reply, type AuthService, type RouteRequest } from 'plinth/sdk';
import { PlinthA2AUser } from './turn-executor';

const LEGACY_VERSION = '0.3';

/**
 * The SDK's Express `jsonRpcHandler`, adapted to a Plinth route: the same transport handlers
 * (v1.0, and v0.3 when the client asks for it with `A2A-Version: 0.3` or sends no version, as
 * the SDK decides), with Plinth bearer auth in front and SSE written on the Node response.
 */
export class A2AJsonRpcEndpoint {
  private readonly v1: JsonRpcTransportHandler;
  private readonly legacy: LegacyJsonRpcTransportHandler;

  constructor(private readonly handler: A2ARequestHandler, private readonly auth: AuthService) {
    this.v1 = new JsonRpcTransportHandler(handler);
    this.legacy = new LegacyJsonRpcTransportHandler(handler as any);
  }

  async handle(req: RouteRequest): Promise<unknown> {
    const body = req.body as { id?: unknown; method?: string } | undefined;
    const versionHeader = header(req.headers[A2A_VERSION_HEADER.toLowerCase()]);
    const useLegacy = (versionHeader || LEGACY_VERSION) === LEGACY_VERSION;
    const mapError = useLegacy ? LegacyJsonRpcTransportHandler.mapToLegacyJSONRPCError : JsonRpcTransportHandler.mapToJSONRPCError;

    const token = /^Bearer\s+(\S+)$/i.exec(header(req.headers.authorization) ?? '')?.[1];
    const user = token ? await this.auth.verifyToken(token) : undefined;
    if (!user) {
      return reply(401, { jsonrpc: '2.0', id: body?.id ?? null, error: { code: -32001, message: 'authentication required: send a Plinth token as a bearer token' } },
        { headers: { 'www-authenticate': 'Bearer realm="plinth"' } });
    }

    let result: unknown;
    try {
      const context = defaultServerCallContextBuilder({ extensions: undefined, user: new PlinthA2AUser(user), headers: req.headers, requestedVersion: versionHeader || undefined });
      validateVersion(context.requestedVersion, await this.handler.getAgentCard(), 'JSONRPC');
      result = await (useLegacy ? this.legacy : this.v1).handle((body ?? {}) as any, context);
    } catch (err) {
      return { jsonrpc: '2.0', id: body?.id ?? null, error: mapError(err as any) };
    }
    if (!isAsyncIterable(result)) return result;

    const iterator = result[Symbol.asyncIterator]();
    let first: IteratorResult<unknown>;
    try {
      first = await iterator.next();
    } catch (err) {
      return { jsonrpc: '2.0', id: body?.id ?? null, error: mapError(err as any) };
    }
    const stream = req.sse();
    if (!first.done) stream.send({ data: first.value });
    try {
      while (!stream.closed) {
        const next = await iterator.next();
        if (next.done) break;
        stream.send({ data: next.value });
      }
    } catch (err) {
      stream.send({ event: 'error', data: { jsonrpc: '2.0', id: body?.id ?? null, error: mapError(err as any) } });
    } finally {
      await iterator.return?.(undefined);
      stream.close();
    }
    return HANDLED;
  }
}

function isAsyncIterable(v: unknown): v is AsyncIterable<unknown> {
  return !!v && typeof (v as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function';
}

function header(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
