import type { RouteSpec } from './routes';

/** OpenAPI 3.1 from what is registered right now: JSON Schema is its native schema language. */
export function buildOpenApi(routes: Array<RouteSpec & { owner: string }>, version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const path = r.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    const params = [...r.path.matchAll(/:([A-Za-z0-9_]+)/g)].map(m => ({
      name: m[1], in: 'path', required: true,
      schema: (r.options.params as any)?.properties?.[m[1]] ?? { type: 'string' },
    }));
    const query = Object.entries(((r.options.query as any)?.properties ?? {}) as Record<string, unknown>).map(([name, schema]) => ({
      name, in: 'query', required: ((r.options.query as any)?.required ?? []).includes(name), schema,
    }));
    const op: Record<string, unknown> = {
      operationId: `${r.owner}:${r.method.toLowerCase()}:${r.path}`,
      summary: r.options.summary,
      tags: r.options.tags ?? [r.owner],
      'x-plinth-auth': r.options.auth,
      ...(r.options.scope ? { 'x-plinth-scope': r.options.scope } : {}),
      'x-plinth-plugin': r.owner,
      parameters: [...params, ...query],
      responses: {
        '200': { description: 'OK', ...(r.options.response ? { content: { 'application/json': { schema: r.options.response } } } : {}) },
        default: { description: 'Error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
      },
    };
    if (r.options.auth === 'user' || r.options.auth === 'admin') op.security = [{ bearer: [] }];
    if (r.options.body) op.requestBody = { required: true, content: { 'application/json': { schema: r.options.body } } };
    (paths[path] ??= {})[r.method.toLowerCase()] = op;
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Plinth', version },
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        Error: {
          type: 'object', required: ['error'],
          properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' }, details: {} } } },
        },
      },
    },
  };
}
