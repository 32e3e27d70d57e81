import { definePlugin } from 'plinth/sdk';
import { greet } from './greeter';
import type { Config, GreetInput } from './generated/types';
import { GreetInputSchema, GreetingSchema } from './schemas';

export default definePlugin<{}, Required<Config>>({
  setup({ http, tools, config }) {
    http.get('/greet', { auth: 'user', summary: 'Greet someone', query: GreetInputSchema, response: GreetingSchema }, req =>
      greet(config, req.query as GreetInput));
    tools.register<GreetInput, unknown>({
      name: 'greet',
      description: 'Greets someone by name',
      inputSchema: GreetInputSchema,
      outputSchema: GreetingSchema,
      risk: 'safe',
      run: input => greet(config, input),
    });
  },
});
