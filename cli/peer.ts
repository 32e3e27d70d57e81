import { commandContext, type CommandContext } from './command';
import { EXIT, UsageError } from './output';
import { join } from 'node:path';
import { runHook } from './peer-hook';
import { writeClaudeHooks, writeCodexHooks } from './peer-hook-settings';
import { reportTurn } from './peer-turn';
import { ServerClient } from './server-client';

export const PEER_USAGE = `usage: plinth peer <command> [--url <url>] [--token <token>] [--json]

  list [--circle c] [--addressable]        peers of this user
  ask --from <peer> --to <peer|name> <text> ask a peer; prints the correlation id
  ack <correlation id> [--message <m>]     ack an ask (with a reply for the asker)
  doctor <peer id> [--repair]              contradictions between the kernel and the host
  rehook <peer id> [--apply]               plan (or apply) replacing a deaf hook
  link <pane id> --backend <b> [--name n]  register the agent in a pane (not available yet)
  whoami                                   the peer bound to this pane ($TMUX_PANE)
  hook --backend <b> --name <n> [--agent-pid <pid>] [--peer-id <id>] [--circle c] [--role r]
                                           run the pane's inbound hook (started by the agent's session hook)
  install-hook --backend claude-code|codex --name <n> [--circle c] [--dir d]
                                           write the CLI's hooks: session start runs \`peer hook\`,
                                           prompt submit and stop run \`peer turn\`
  turn busy|idle                           report this pane's turn (run by those hooks)

The token comes from --token, PLINTH_TOKEN, or the admin token (PLINTH_ADMIN_TOKEN, the data dir's file).
`;

const OPTIONS = {
  from: { type: 'string' }, to: { type: 'string' }, message: { type: 'string' }, circle: { type: 'string' }, addressable: { type: 'boolean' },
  repair: { type: 'boolean' }, apply: { type: 'boolean' }, backend: { type: 'string' }, name: { type: 'string' }, role: { type: 'string' },
  'agent-pid': { type: 'string' }, 'peer-id': { type: 'string' }, dir: { type: 'string' },
} as const;

function client(ctx: CommandContext): ServerClient {
  const t = ctx.target();
  return new ServerClient({ url: t.url, token: (ctx.values.token as string | undefined) || process.env.PLINTH_TOKEN || t.token });
}

export async function peerCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const ctx = commandContext(rest, OPTIONS, PEER_USAGE);
  const { out, values: v, positionals: pos } = ctx;
  const show = (value: unknown, line: string) => { out.result(value); out.line(line); return EXIT.ok; };
  switch (sub) {
    case 'hook': {
      if (!v.backend || !v.name) throw new UsageError('hook needs --backend and --name', PEER_USAGE);
      const api = client(ctx).target;
      return runHook({ url: api.url, token: api.token ?? '', backend: v.backend, name: v.name, circle: v.circle, role: v.role, peerId: v['peer-id'],
        agentPid: v['agent-pid'] ? Number(v['agent-pid']) : process.ppid, log: line => process.stderr.write(`[plinth peer hook] ${line}\n`) });
    }
    case 'list': {
      const q = new URLSearchParams();
      if (v.circle) q.set('circle', v.circle);
      if (v.addressable) q.set('addressable', 'true');
      const r = await client(ctx).request('GET', `/api/peers?${q}`);
      return show(r, r.items.map((p: any) => `${p.id}  ${p.circle}/${p.name}  ${p.backend}  ${p.lifecycle}  runtime=${p.runtime} inbound=${p.inbound}`).join('\n'));
    }
    case 'ask': {
      if (!v.from || !v.to || !pos.length) throw new UsageError('ask needs --from, --to and the text', PEER_USAGE);
      const r = await client(ctx).request('POST', '/api/ask', { from: v.from, to: v.to, text: pos.join(' ') });
      return show(r, `${r.correlation_id} (${r.delivery})`);
    }
    case 'ack': {
      if (pos.length !== 1) throw new UsageError('ack needs the correlation id', PEER_USAGE);
      const r = await client(ctx).request('POST', '/api/ack', { correlation_id: pos[0], ...(v.message ? { message: v.message } : {}) });
      return show(r, `${r.correlation_id} closed (${r.close_reason})`);
    }
    case 'doctor': {
      if (pos.length !== 1) throw new UsageError('doctor needs the peer id', PEER_USAGE);
      const r = await client(ctx).request('GET', `/api/peers/${encodeURIComponent(pos[0])}/doctor${v.repair ? '?repair=true' : ''}`);
      out.result(r);
      if (!r.contradictions.length) out.ok(`${r.identity.name}: no contradictions`);
      for (const c of r.contradictions) out.fail(`${c.code} (${c.severity}): ${c.detail}`);
      return r.contradictions.some((c: any) => c.severity === 'error') ? EXIT.failure : EXIT.ok;
    }
    case 'rehook': {
      if (pos.length !== 1) throw new UsageError('rehook needs the peer id', PEER_USAGE);
      const r = await client(ctx).request('POST', `/api/peers/${encodeURIComponent(pos[0])}/rehook`, { apply: !!v.apply });
      return show(r, `${r.reason}${r.steps.length ? '\n' + r.steps.map((s: string) => `  - ${s}`).join('\n') : ''}`);
    }
    case 'whoami': {
      const pane = process.env.TMUX_PANE;
      if (!pane) throw new UsageError('whoami runs inside a tmux pane ($TMUX_PANE)', PEER_USAGE);
      const r = await client(ctx).request('GET', `/api/peers`);
      const me = r.items.find((p: any) => p.binding.pane_id === pane && p.binding.socket === (process.env.TMUX ?? '').split(',')[0] && p.lifecycle !== 'retired');
      if (!me) { out.fail(`no peer in pane ${pane}`); return EXIT.failure; }
      return show(me, `${me.id}  ${me.circle}/${me.name}  ${me.lifecycle}`);
    }
    case 'install-hook': {
      if (!v.name || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$/.test(v.name)) throw new UsageError('install-hook needs --name (letters, digits, . _ -)', PEER_USAGE);
      const write = v.backend === 'claude-code' ? writeClaudeHooks : v.backend === 'codex' ? writeCodexHooks : undefined;
      if (!write) throw new UsageError(`${v.backend ?? 'this backend'} has no hooks to write: link its pane instead (POST /api/panes/:pane_id/link)`, PEER_USAGE);
      let files: string[];
      try { files = await write(v.dir ?? process.cwd(), { name: v.name, circle: v.circle, plinth: [process.execPath, join(__dirname, '..', 'bin', 'plinth.js')] }); } catch (err: any) { out.fail(err.message); return EXIT.failure; }
      // Codex runs a project's hooks only once a person has trusted them.
      return show({ files }, `wrote ${files.join(', ')}${v.backend === 'codex' ? '\nreview and trust the hooks in Codex (/hooks) before they run' : ''}`);
    }
    case 'turn': {
      // Exit 1, not a usage error's 2, on a bad word: this runs inside the CLI's prompt hook, where 2 blocks the prompt.
      const log = (line: string) => process.stderr.write(`[plinth peer turn] ${line}\n`);
      if (pos[0] !== 'busy' && pos[0] !== 'idle') { log('turn takes busy or idle'); return EXIT.failure; }
      const api = client(ctx).target;
      return reportTurn({ url: api.url, token: api.token ?? '', turn: pos[0], log });
    }
    case 'link':
      throw new UsageError('link is not available yet: start `plinth peer hook` in the pane', PEER_USAGE);
    default:
      throw new UsageError(sub ? `unknown peer command "${sub}"` : 'name a peer command', PEER_USAGE);
  }
}
