import { DEVICE_SCOPE, reply, type AuthService, type HttpRouter, type RouteRequest, type User } from 'plinth/sdk';
import type { AgentRuntime, ModelRouter } from 'plinth/contracts/agents';
import { AnthropicApiError, toAnthropicError } from './errors';
import { AGENT_PREFIX, AnthropicMessages, estimateTokens } from './messages';
import { parseConversation, parseMessagesRequest } from './schemas';

/**
 * Routes are `public` to the kernel and check the key here, so that a missing or bad key is
 * answered in Anthropic's error shape (the client's AuthenticationError). The key is a Plinth
 * token, sent as `x-api-key` (what Anthropic clients send) or `Authorization: Bearer`.
 */
export function registerRoutes(http: HttpRouter, auth: AuthService, runtime: AgentRuntime, models: ModelRouter): void {
  const messages = new AnthropicMessages(runtime, models);

  const caller = async (req: RouteRequest): Promise<User> => {
    const key = String(req.headers['x-api-key'] ?? '') || /^Bearer\s+(\S+)$/i.exec(String(req.headers.authorization ?? ''))?.[1];
    const user = key ? await auth.verifyToken(key, { scope: DEVICE_SCOPE }) : undefined;
    if (!user) throw new AnthropicApiError(401, 'authentication_error', key ? 'invalid x-api-key: the token is invalid, expired or revoked' : 'x-api-key header is required (a Plinth API token)');
    return user;
  };
  const anthropicErrors = (handler: (req: RouteRequest) => Promise<unknown>) => async (req: RouteRequest) => {
    try { return await handler(req); } catch (err) {
      const e = toAnthropicError(err);
      return reply(e.status, e.body());
    }
  };
  const modelList = async () => {
    const [list, agents] = await Promise.all([models.listModels(), runtime.listAgents()]);
    return [
      ...list.map(m => ({ id: m.id, name: m.id })),
      ...agents.filter(a => a.kind === 'llm' && a.owner === null).map(a => ({ id: `${AGENT_PREFIX}${a.name}`, name: `Plinth agent ${a.name}` })),
    ];
  };

  http.get('/anthropic/v1/models', { auth: 'public', summary: 'Models (<provider>/<model>) and shared agents (agent/<name>), Anthropic shape; x-api-key required' }, anthropicErrors(async req => {
    await caller(req);
    const data = (await modelList()).map(m => ({ type: 'model', id: m.id, display_name: m.name, created_at: '1970-01-01T00:00:00Z' }));
    return { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null };
  }));

  http.post('/anthropic/v1/messages', { auth: 'public', bodyLimit: 8 * 1024 * 1024, summary: 'Anthropic Messages: streaming, tools, system, usage; x-api-key required' }, anthropicErrors(async req => {
    const user = await caller(req);
    return messages.handle(req, user, parseMessagesRequest(req.body));
  }));

  http.post('/anthropic/v1/messages/count_tokens', { auth: 'public', bodyLimit: 8 * 1024 * 1024, summary: 'Anthropic token count (an estimate: 4 characters a token); x-api-key required' }, anthropicErrors(async req => {
    await caller(req);
    const request = parseConversation(req.body);
    if (!(await modelList()).some(m => m.id === request.model)) throw new AnthropicApiError(404, 'not_found_error', `model: ${request.model} is not served here (GET /anthropic/v1/models lists them)`);
    return { input_tokens: estimateTokens(request) };
  }));
}
