import WebSocket from 'ws';

export interface WsClient {
  ws: WebSocket;
  frames: any[];
  /** The close code and reason, once the server (or we) closed it. */
  closed: Promise<{ code: number; reason: string }>;
  until(pred: (f: any) => boolean, ms?: number): Promise<any>;
}

/** Opens a WebSocket and records every frame (JSON where it parses, else the text). */
export function connectWs(url: string, headers: Record<string, string>): Promise<WsClient> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers, maxPayload: 64 * 1024 * 1024 });
    const frames: any[] = [];
    const waiters: Array<{ pred: (f: any) => boolean; done: (f: any) => void }> = [];
    ws.on('message', d => {
      let f: any;
      try { f = JSON.parse(String(d)); } catch { f = String(d); }
      frames.push(f);
      for (const w of [...waiters]) if (w.pred(f)) { waiters.splice(waiters.indexOf(w), 1); w.done(f); }
    });
    const closed = new Promise<{ code: number; reason: string }>(res => ws.once('close', (code, reason) => res({ code, reason: String(reason) })));
    ws.on('error', () => undefined);
    ws.once('open', () => resolve({
      ws, frames, closed,
      until: (pred, ms = 8000) => {
        const seen = frames.find(pred);
        if (seen) return Promise.resolve(seen);
        return new Promise((res, rej) => {
          const t = setTimeout(() => rej(new Error(`no matching frame within ${ms} ms; got ${JSON.stringify(frames).slice(0, 300)}`)), ms);
          waiters.push({ pred, done: f => { clearTimeout(t); res(f); } });
        });
      },
    }));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', c => (body += c));
      res.on('end', () => reject(Object.assign(new Error(`refused: ${res.statusCode} ${body}`), { status: res.statusCode, body })));
    });
    ws.once('error', reject);
  });
}

/** JSON text nested `depth` levels deep inside `prefix…suffix` (the reported frame: ~200 KB at 100,000). */
export function deeplyNested(depth: number): string {
  return '['.repeat(depth) + ']'.repeat(depth);
}
