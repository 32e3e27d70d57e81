import { definePlugin, type Disposer, type ToolCallContext } from 'plinth/sdk';
import { mcpExtensionsRef } from 'plinth/contracts/mcp';
import { AUDIO_WAV, PNG_1PX } from './media';

const NoInput = { type: 'object', properties: {} };
const textResult = (text: string) => ({ content: [{ type: 'text', text }] });

export default definePlugin({
  deps: { mcp: mcpExtensionsRef },
  setup({ tools, mcp, onDispose }) {
    const keep = (d: Disposer) => onDispose(d);
    const tool = (name: string, description: string, run: (input: any, ctx: ToolCallContext) => unknown, inputSchema: Record<string, unknown> = NoInput) => {
      keep(tools.register({ name, description, inputSchema, risk: 'safe', run: run as any }));
      // The suite calls bare names; the registry's are always `mcp-conformance.<name>`.
      keep(mcp.aliasTool(name, `mcp-conformance.${name}`));
    };

    tool('test_simple_text', 'Returns simple text', () => textResult('This is a simple text response for testing.'));
    // SEP-1613: a JSON Schema 2020-12 input schema is listed as written ($schema, $defs kept).
    tool('json_schema_2020_12_tool', 'Takes an input described in JSON Schema 2020-12', input => textResult(`received ${JSON.stringify(input)}`), {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      $defs: { address: { type: 'object', properties: { street: { type: 'string' }, city: { type: 'string' } } } },
      properties: { name: { type: 'string' }, address: { $ref: '#/$defs/address' } },
      additionalProperties: false,
    });
    tool('test_image_content', 'Returns an image', () => ({ content: [{ type: 'image', data: PNG_1PX, mimeType: 'image/png' }] }));
    tool('test_audio_content', 'Returns audio', () => ({ content: [{ type: 'audio', data: AUDIO_WAV, mimeType: 'audio/wav' }] }));
    const embedded = { type: 'resource', resource: { uri: 'test://embedded-resource', mimeType: 'text/plain', text: 'This is an embedded resource content.' } };
    tool('test_embedded_resource', 'Returns an embedded resource', () => ({ content: [embedded] }));
    tool('test_multiple_content_types', 'Returns text, image and a resource', () => ({
      content: [{ type: 'text', text: 'Multiple content types test:' }, { type: 'image', data: PNG_1PX, mimeType: 'image/png' },
        { type: 'resource', resource: { uri: 'test://mixed-content-resource', mimeType: 'application/json', text: '{"test":"data","value":123}' } }],
    }));
    tool('test_tool_with_logging', 'Logs three messages while it runs', async (_i, ctx) => {
      for (const data of ['Tool execution started', 'Tool processing data', 'Tool execution completed']) {
        await ctx.caller?.log('info', data);
        // A real pause between progress notifications, as a slow tool makes them; no clock to set in a conformance run.
        await new Promise(r => setTimeout(r, 20));
      }
      return textResult('Tool with logging executed successfully');
    });
    tool('test_error_handling', 'Always fails', () => ({ content: [{ type: 'text', text: 'This tool intentionally returns an error for testing' }], isError: true }));
    tool('test_tool_with_progress', 'Reports progress 0, 50, 100', async (_i, ctx) => {
      for (const p of [0, 50, 100]) {
        await ctx.caller?.progress(p, 100, `Completed step ${p / 50 + 1} of 3`);
        await new Promise(r => setTimeout(r, 20));
      }
      return textResult('Progress complete');
    });
    tool('test_sampling', 'Asks the client to sample', async (input: { prompt: string }, ctx) => {
      const res = await ctx.caller!.request('sampling/createMessage', { messages: [{ role: 'user', content: { type: 'text', text: input.prompt } }], maxTokens: 100 }) as { content?: { text?: string } };
      return textResult(`LLM response: ${res.content?.text ?? ''}`);
    }, { type: 'object', required: ['prompt'], properties: { prompt: { type: 'string' } } });
    tool('test_elicitation', 'Asks the user for information', async (input: { message: string }, ctx) => {
      const res = await ctx.caller!.request('elicitation/create', {
        message: input.message,
        requestedSchema: { type: 'object', properties: { username: { type: 'string' }, email: { type: 'string' } }, required: ['username', 'email'] },
      }) as { action: string; content?: unknown };
      return textResult(`User response: action=${res.action}, content=${JSON.stringify(res.content ?? {})}`);
    }, { type: 'object', required: ['message'], properties: { message: { type: 'string' } } });

    keep(mcp.registerResource({ uri: 'test://static-text', name: 'static-text', description: 'A static text resource', mimeType: 'text/plain',
      read: uri => [{ uri, mimeType: 'text/plain', text: 'This is the content of the static text resource.' }] }));
    keep(mcp.registerResource({ uri: 'test://static-binary', name: 'static-binary', description: 'A static binary resource', mimeType: 'image/png',
      read: uri => [{ uri, mimeType: 'image/png', blob: PNG_1PX }] }));
    keep(mcp.registerResource({ uri: 'test://watched-resource', name: 'watched-resource', description: 'A resource to subscribe to', mimeType: 'text/plain',
      read: uri => [{ uri, mimeType: 'text/plain', text: 'Watched resource content' }] }));
    keep(mcp.registerResourceTemplate({ uriTemplate: 'test://template/{id}/data', name: 'template', description: 'A templated resource', mimeType: 'application/json',
      read: (uri, vars) => [{ uri, mimeType: 'application/json', text: JSON.stringify({ id: vars.id, templateTest: true, data: `Data for ID: ${vars.id}` }) }] }));

    keep(mcp.registerPrompt({ name: 'test_simple_prompt', description: 'A simple prompt',
      get: () => ({ messages: [{ role: 'user', content: { type: 'text', text: 'This is a simple prompt for testing.' } }] }) }));
    keep(mcp.registerPrompt({ name: 'test_prompt_with_arguments', description: 'A prompt with arguments',
      arguments: [{ name: 'arg1', description: 'First test argument', required: true }, { name: 'arg2', description: 'Second test argument', required: true }],
      get: args => ({ messages: [{ role: 'user', content: { type: 'text', text: `Prompt with arguments: arg1='${args.arg1}', arg2='${args.arg2}'` } }] }),
      complete: (_arg, value) => ['test', 'testing', 'tested'].filter(v => v.startsWith(value)) }));
    keep(mcp.registerPrompt({ name: 'test_prompt_with_embedded_resource', description: 'A prompt with an embedded resource',
      arguments: [{ name: 'resourceUri', description: 'URI of the resource to embed', required: true }],
      get: args => ({ messages: [
        { role: 'user', content: { type: 'resource', resource: { uri: args.resourceUri, mimeType: 'text/plain', text: 'Embedded resource content for testing.' } } },
        { role: 'user', content: { type: 'text', text: 'Please process the embedded resource above.' } },
      ] }) }));
    keep(mcp.registerPrompt({ name: 'test_prompt_with_image', description: 'A prompt with an image',
      get: () => ({ messages: [
        { role: 'user', content: { type: 'image', data: PNG_1PX, mimeType: 'image/png' } },
        { role: 'user', content: { type: 'text', text: 'Please analyze the image above.' } },
      ] }) }));
  },
});
