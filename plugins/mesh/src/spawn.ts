import { errors, tmux, type User } from 'plinth/sdk';
import { linkPane, type LinkDeps } from './link';

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * `mesh.spawn_peer`: a new agent in a new window of the asking peer's tmux session, then linked.
 * Contained by: the tool is gated (an approver decides each call); only programs an admin named
 * in `spawnCommands` run, with no argument from the caller; the window opens on the caller's own
 * tmux server, in its cwd. It runs as the kernel's OS user and is not put in the process sandbox:
 * the sandbox's PID namespace and private /tmp would hide the pane's processes and tmux socket
 * from the liveness evidence the mesh is built on.
 */
export async function spawnPeer(d: LinkDeps, commands: Record<string, string[]>, user: User, input: { from: string; backend: string; name?: string }) {
  const from = await d.peers.visible(user, input.from);
  const argv = commands[input.backend];
  if (!argv?.length) throw errors.conflict(`no spawn command for backend "${input.backend}"`, { hint: 'an admin names the program in the mesh plugin\'s spawnCommands' });
  const session = (await tmux(from.binding.socket, ['display-message', '-p', '-t', from.binding.pane_id, '#{session_name}'])).out.trim();
  if (!session) throw errors.conflict(`the pane of ${from.id} is gone`);
  const made = await tmux(from.binding.socket, ['new-window', '-d', '-P', '-F', '#{pane_id}', '-t', `${session}:`, ...(from.cwd ? ['-c', from.cwd] : []), argv.map(quote).join(' ')]);
  const paneId = made.out.trim();
  if (!made.ok || !/^%\d+$/.test(paneId)) throw errors.unavailable(`tmux could not open a window: ${made.err.trim()}`);
  try {
    return await linkPane(d, user, paneId, { socket: from.binding.socket, backend: input.backend, name: input.name ?? input.backend, circle: from.circle });
  } catch (err) {
    await tmux(from.binding.socket, ['kill-pane', '-t', paneId]);
    throw err;
  }
}
