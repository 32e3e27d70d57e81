import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from './api';

export interface BusEvent<T = any> { id: string; topic: string; payload: T; owner: string | null; time: string }
type Handler = (e: BusEvent) => void;
export type SocketState = 'connecting' | 'open' | 'closed';

/** Same rule as the kernel: `*`, a `prefix.*`, or an exact topic. */
export function topicMatches(pattern: string, topic: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('.*')) return topic.startsWith(pattern.slice(0, -1));
  return pattern === topic;
}

/**
 * The one `/ws` connection of the app. Browsers cannot set headers on a WebSocket, so each
 * connection redeems a single-use ticket from POST /api/ws/ticket. Subscriptions are counted per
 * pattern and sent again after a reconnect (with backoff); `onReconnect` listeners reload what
 * they show, since events published while disconnected are not replayed on /ws.
 */
class EventSocket {
  private ws: WebSocket | undefined;
  private readonly handlers = new Map<string, Set<Handler>>();
  private readonly stateListeners = new Set<(s: SocketState) => void>();
  private readonly reconnectListeners = new Set<() => void>();
  private retryMs = 500;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running = false;
  private everOpened = false;
  state: SocketState = 'closed';

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.connect();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
    this.ws?.close();
    this.ws = undefined;
    this.setState('closed');
  }

  private setState(s: SocketState): void {
    this.state = s;
    for (const l of this.stateListeners) l(s);
  }

  private async connect(): Promise<void> {
    if (!this.running) return;
    this.setState('connecting');
    let ticket: string;
    try {
      ticket = (await api.post<{ ticket: string }>('/api/ws/ticket')).ticket;
    } catch {
      return this.retry();
    }
    if (!this.running) return;
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws?ticket=${encodeURIComponent(ticket)}`;
    const ws = (this.ws = new WebSocket(url));
    ws.onopen = () => {
      this.retryMs = 500;
      const topics = [...this.handlers.keys()];
      if (topics.length) ws.send(JSON.stringify({ type: 'subscribe', topics }));
      this.setState('open');
      if (this.everOpened) for (const l of this.reconnectListeners) l();
      this.everOpened = true;
    };
    ws.onmessage = m => {
      let msg: any;
      try { msg = JSON.parse(String(m.data)); } catch { return; }
      if (msg.type !== 'event') return;
      const e = msg.event as BusEvent;
      for (const [pattern, set] of this.handlers) if (topicMatches(pattern, e.topic)) for (const h of set) h(e);
    };
    ws.onclose = () => {
      if (this.ws === ws) this.ws = undefined;
      this.retry();
    };
  }

  private retry(): void {
    if (!this.running) return;
    this.setState('closed');
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.connect(), this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, 15_000);
  }

  subscribe(patterns: string[], handler: Handler): () => void {
    const added: string[] = [];
    for (const p of patterns) {
      let set = this.handlers.get(p);
      if (!set) { this.handlers.set(p, set = new Set()); added.push(p); }
      set.add(handler);
    }
    if (added.length && this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ type: 'subscribe', topics: added }));
    return () => {
      const removed: string[] = [];
      for (const p of patterns) {
        const set = this.handlers.get(p);
        if (!set) continue;
        set.delete(handler);
        if (!set.size) { this.handlers.delete(p); removed.push(p); }
      }
      if (removed.length && this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ type: 'unsubscribe', topics: removed }));
    };
  }

  onState(fn: (s: SocketState) => void): () => void {
    this.stateListeners.add(fn);
    return () => this.stateListeners.delete(fn);
  }

  onReconnect(fn: () => void): () => void {
    this.reconnectListeners.add(fn);
    return () => this.reconnectListeners.delete(fn);
  }
}

export const events = new EventSocket();

/** Calls `handler` for every bus event matching one of `patterns` while the component is mounted. */
export function useEvents(patterns: string[], handler: Handler): void {
  const ref = useRef(handler);
  ref.current = handler;
  const key = patterns.join('|');
  useEffect(() => events.subscribe(patterns, e => ref.current(e)), [key]);
}

export function useSocketState(): SocketState {
  const [state, setState] = useState(events.state);
  useEffect(() => events.onState(setState), []);
  return state;
}

export interface Live<T> { data: T | undefined; error: unknown; loading: boolean; reload: () => void }

/**
 * Data loaded from the API and kept current: reloaded (debounced) when a matching bus event
 * arrives, after a reconnect, and every `pollMs` for plugins that publish no events.
 */
export function useLive<T>(load: () => Promise<T>, patterns: string[], deps: unknown[] = [], pollMs?: number): Live<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({ data: undefined, error: undefined, loading: true });
  const loadRef = useRef(load);
  loadRef.current = load;
  const seq = useRef(0);
  const timer = useRef<ReturnType<typeof setTimeout>>();

  const run = () => {
    const n = ++seq.current;
    setState(s => ({ ...s, loading: true }));
    loadRef.current().then(
      data => { if (n === seq.current) setState({ data, error: undefined, loading: false }); },
      error => { if (n === seq.current) setState(s => ({ ...s, error, loading: false })); },
    );
  };
  const soon = () => {
    clearTimeout(timer.current);
    timer.current = setTimeout(run, 120);
  };
  useEffect(() => {
    setState({ data: undefined, error: undefined, loading: true });
    run();
    const off = events.onReconnect(soon);
    const poll = pollMs ? setInterval(run, pollMs) : undefined;
    return () => { off(); clearInterval(poll); clearTimeout(timer.current); seq.current++; };
  }, deps);
  useEvents(patterns, soon);
  return { ...state, reload: run };
}
