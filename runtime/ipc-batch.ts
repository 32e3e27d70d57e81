/**
 * Both ends of a sandboxed plugin's IPC channel send what they have in one turn of the event loop
 * as one message. Each `send` is a pipe write (a system call) and a wakeup on the other side;
 * under concurrent requests those, not the work, were most of the channel's cost (a kernel CPU
 * profile of bench/sandbox-route: writeBuffer alone 11%). The wait is at most that one turn.
 */
type Msg = { t: string; [k: string]: any };

export function batchedSender(write: (m: Msg) => void, unsendable: (m: Msg, err: Error) => void): (m: Msg) => void {
  let queue: Msg[] = [];
  const one = (m: Msg) => { try { write(m); } catch (err) { unsendable(m, err as Error); } };
  const flush = () => {
    const out = queue;
    queue = [];
    if (out.length === 1) return one(out[0]);
    // A value that cannot be copied (a function in an answer) fails the whole batch: then one by one.
    try { write({ t: 'batch', m: out }); } catch { for (const m of out) one(m); }
  };
  return m => { if (queue.push(m) === 1) setImmediate(flush); };
}

/** The receiving end: a batch is its messages, in order. */
export function unbatched(receive: (m: Msg) => void): (m: Msg) => void {
  return m => { if (m.t === 'batch') for (const x of m.m) receive(x); else receive(m); };
}

/** The answer to a call that cannot cross: say so, rather than never answer. */
export function unsendableAnswer(m: Msg, message: string): Msg | undefined {
  if (m.t !== 'res' || !m.ok) return undefined;
  return { t: 'res', id: m.id, ok: false, e: { status: 500, code: 'PLINTH_ERR_SANDBOX_UNSUPPORTED', message } };
}
