import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport, getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';

describe('npx plinth mcp: the same MCP server over stdio', () => {
  let dir: string;
  let client: Client;
  let stderr = '';
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'plinth-mcp-stdio-'));
    writeFileSync(join(dir, 'registry.json'), JSON.stringify({ plugins: [
      { id: 'mcp', path: join(__dirname, '..'), enabled: true, config: {} },
      { id: 'toolbox', path: join(__dirname, 'fixtures/toolbox'), enabled: true, config: {} },
    ] }));
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [join(__dirname, '../../../bin/plinth.js'), 'mcp'],
      env: { ...getDefaultEnvironment(), PLINTH_DATA_DIR: join(dir, 'data'), PLINTH_REGISTRY: join(dir, 'registry.json'), PLINTH_WATCH: '0' },
      stderr: 'pipe',
    });
    transport.stderr?.on('data', d => { stderr += d; });
    client = new Client({ name: 'stdio-test', version: '1.0.0' });
    await client.connect(transport);
  });
  after(async () => {
    await client?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('initialize, list and call over stdio, with logs on stderr only', async () => {
    assert.equal(client.getServerVersion()?.name, 'plinth');
    const names = (await client.listTools()).tools.map(t => t.name);
    assert.ok(names.includes('toolbox.echo'), names.join(','));
    const r: any = await client.callTool({ name: 'toolbox.echo', arguments: { text: 'over stdio' } });
    assert.equal(r.structuredContent.text, 'over stdio');
    assert.equal(r.structuredContent.via, 'mcp');
    assert.match(stderr, /"level":"info"/, 'kernel logs go to stderr');
  });
});
