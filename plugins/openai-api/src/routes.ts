import { DEVICE_SCOPE, reply, type AuthService, type HttpRouter, type RouteRequest, type User } from 'plinth/sdk';
import type { AgentRuntime, ModelRouter } from 'plinth/contracts/agents';
import type { ChatCompletions } from './completions';
import { OpenAiError, parseCompletionRequest, toOpenAiError } from './openai-shapes';

export interface OpenAiRouteDeps { auth: AuthService; runtime: AgentRuntime; models: ModelRouter; completions: ChatCompletions }

/** `/v1/models` and `/v1/chat/completions`, answering errors in OpenAI's shape. */
export function registerRoutes(http: HttpRouter, { auth, runtime, models, completions }: OpenAiRouteDeps): void {
  // Routes are `public` to the kernel and check the bearer token here, so that a missing or bad
  // token is answered in OpenAI's error shape, which OpenAI clients turn into AuthenticationError.
  const caller = async (req: RouteRequest): Promise<User> => {
    const m = /^Bearer\s+(\S+)$/i.exec(String(req.headers.authorization ?? ''));
    const user = m ? await auth.verifyToken(m[1], { scope: DEVICE_SCOPE }) : undefined;
    if (!user) throw new OpenAiError(401, m ? 'Incorrect API key provided: the token is invalid, expired or revoked' : 'You didn\'t provide an API key: send Authorization: Bearer <token>', 'invalid_request_error', 'invalid_api_key');
    return user;
  };
  const openAiErrors = (handler: (req: RouteRequest) => Promise<unknown>) => async (req: RouteRequest) => {
    try { return await handler(req); } catch (err) {
      const e = toOpenAiError(err);
      return reply(e.status, e.body());
    }
  };

  http.get('/v1/models', { auth: 'public', summary: 'Models (<provider>/<model>) and agents (agent/<name>), OpenAI shape; bearer token required' }, openAiErrors(async req => {
    await caller(req);
    const [list, agents] = await Promise.all([models.listModels(), runtime.listAgents()]);
    return {
      object: 'list',
      data: [
        ...list.map(m => ({ id: m.id, object: 'model', created: 0, owned_by: m.provider })),
        ...agents.filter(a => a.kind === 'llm' && a.owner === null).map(a => ({ id: `agent/${a.name}`, object: 'model', created: 0, owned_by: 'plinth-agent' })),
      ],
    };
  }));
  http.post('/v1/chat/completions', { auth: 'public', bodyLimit: 8 * 1024 * 1024, summary: 'OpenAI Chat Completions: streaming, tools, usage; bearer token required' }, openAiErrors(async req => {
    const user = await caller(req);
    return completions.handle(req, user, parseCompletionRequest(req.body));
  }));
}
