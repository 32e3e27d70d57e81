import type { WebSocket } from 'ws';
import { isPlinthError, type Logger, type User } from 'plinth/sdk';
import type { AgentRuntime } from './contract';

const MAX_BUFFERED = 1024 * 1024;

/**
 * Chat over a WebSocket: `{ "type": "message", "id", "agent"?, "session_id"?, "text" }` in; the
 * turn's chunks, then `done` or `error`, out (each frame echoes the message `id`). One turn at a
 * time per socket; closing the socket aborts the turn in flight (the partial answer is stored).
 */
export function attachChatSocket(socket: WebSocket, user: User, runtime: AgentRuntime, log: Logger, defaultAgent: () => Promise<string | undefined>): void {
  let inFlight: AbortController | undefined;
  const send = (frame: unknown) => {
    if (socket.readyState !== socket.OPEN) return;
    // A client that stops reading is cut off, not buffered for without bound.
    if (socket.bufferedAmount > MAX_BUFFERED) { socket.close(4008, 'too slow'); return; }
    socket.send(JSON.stringify(frame));
  };
  const fail = (id: unknown, code: string, message: string) => send({ type: 'error', id, error: { code, message } });

  socket.on('message', async data => {
    let msg: any;
    try { msg = JSON.parse(String(data)); } catch { return fail(null, 'PLINTH_ERR_MALFORMED_JSON', 'frames must be JSON'); }
    if (msg?.type === 'cancel') { inFlight?.abort(); return; }
    if (msg?.type !== 'message' || typeof msg.text !== 'string' || !msg.text.trim()) {
      return fail(msg?.id ?? null, 'PLINTH_ERR_BAD_FRAME', 'expected {"type":"message","text":"…","agent"?,"session_id"?} or {"type":"cancel"}');
    }
    if (inFlight) return fail(msg.id ?? null, 'PLINTH_ERR_CONFLICT', 'a turn is already running on this socket; wait for done or send cancel');
    const controller = (inFlight = new AbortController());
    try {
      const agent = typeof msg.agent === 'string' ? msg.agent : await defaultAgent();
      if (!agent) return fail(msg.id ?? null, 'PLINTH_ERR_NOT_FOUND', 'no agent given and no default agent');
      const result = await runtime.runTurn({
        agent,
        message: msg.text,
        user,
        sessionId: typeof msg.session_id === 'string' ? msg.session_id : undefined,
        signal: controller.signal,
        via: 'ws',
        onChunk: chunk => send({ type: 'chunk', id: msg.id ?? null, chunk }),
      });
      send({ type: 'done', id: msg.id ?? null, result });
    } catch (err) {
      if (isPlinthError(err)) fail(msg.id ?? null, err.code, err.message);
      else {
        log.error('chat socket turn failed', { err });
        fail(msg.id ?? null, 'PLINTH_ERR_INTERNAL', 'the turn failed; the server log has the details');
      }
    } finally {
      inFlight = undefined;
    }
  });
  socket.on('close', () => inFlight?.abort());
}
