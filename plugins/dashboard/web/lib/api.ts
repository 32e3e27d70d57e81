import { readSse, type SseEvent } from './sse';

/** An API answer that was not 2xx, from the kernel's one error body `{ error: { code, message } }`. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly details?: unknown) {
    super(message);
  }
  /** What a person reads: the server's message, with what kind of failure it was. */
  get readable(): string {
    const what = this.status === 0 ? 'Network error' : STATUS_WORDS[this.status] ?? `Error ${this.status}`;
    return `${what}: ${this.message}`;
  }
}

const STATUS_WORDS: Record<number, string> = {
  400: 'Invalid input', 401: 'Not signed in', 403: 'Not allowed', 404: 'Not found', 409: 'Conflict',
  413: 'Too large', 415: 'Wrong content type', 429: 'Too many requests', 500: 'Server error', 502: 'Upstream failed', 503: 'Unavailable', 504: 'Timed out',
};

export function errorText(err: unknown): string {
  if (err instanceof ApiError) return err.readable;
  if (err instanceof Error) return err.message;
  return String(err);
}

const TOKEN_KEY = 'plinth.token';

/**
 * Credentials: an API token typed by the user (kept in localStorage, sent as a bearer), or the
 * HttpOnly session cookie that /auth/login sets (sent by the browser; state-changing fetches carry
 * a same-origin Origin header, which the kernel requires for cookie sessions).
 */
let token: string | null = localStorage.getItem(TOKEN_KEY);
let onUnauthorized: () => void = () => undefined;

export const session = {
  get token() { return token; },
  useToken(t: string | null) {
    token = t;
    if (t) localStorage.setItem(TOKEN_KEY, t); else localStorage.removeItem(TOKEN_KEY);
  },
  onUnauthorized(fn: () => void) { onUnauthorized = fn; },
};

function headers(extra: Record<string, string> = {}): Record<string, string> {
  const h: Record<string, string> = { accept: 'application/json', ...extra };
  if (token) h.authorization = `Bearer ${token}`;
  return h;
}

async function send(method: string, path: string, body: unknown, init: { signal?: AbortSignal; accept?: string } = {}): Promise<Response> {
  const h = headers(init.accept ? { accept: init.accept } : {});
  if (body !== undefined) h['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin', signal: init.signal });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError(0, 'NETWORK', `the server could not be reached (${(err as Error).message})`);
  }
  if (!res.ok) throw await toError(res);
  return res;
}

async function toError(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => '');
  let body: any;
  try { body = JSON.parse(text); } catch { /* not JSON */ }
  const e = body?.error;
  if (res.status === 401) onUnauthorized();
  return new ApiError(res.status, e?.code ?? `HTTP_${res.status}`, e?.message ?? (text.slice(0, 200) || res.statusText), e?.details);
}

export async function request<T = any>(method: string, path: string, body?: unknown, init?: { signal?: AbortSignal }): Promise<T> {
  const res = await send(method, path, body, init);
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  if (!text) return undefined as T;
  const type = res.headers.get('content-type') ?? '';
  return (type.includes('json') ? JSON.parse(text) : text) as T;
}

/** A route of a plugin that may not be enabled: its 404 becomes null (the page leaves that part out). */
export function unlessAbsent<T>(p: Promise<T>): Promise<T | null> {
  return p.catch(err => { if (err instanceof ApiError && err.status === 404) return null; throw err; });
}

export const api = {
  get: <T = any>(path: string, init?: { signal?: AbortSignal }) => request<T>('GET', path, undefined, init),
  post: <T = any>(path: string, body: unknown = {}) => request<T>('POST', path, body),
  put: <T = any>(path: string, body: unknown = {}) => request<T>('PUT', path, body),
  patch: <T = any>(path: string, body: unknown = {}) => request<T>('PATCH', path, body),
  del: <T = any>(path: string) => request<T>('DELETE', path),
};

/** Fetches a file with the session's credentials (a plain link would not carry the bearer) and saves it as `filename`. */
export async function download(path: string, filename: string): Promise<void> {
  const blob = await (await send('GET', path, undefined, { accept: '*/*' })).blob();
  const url = URL.createObjectURL(blob);
  const a = Object.assign(document.createElement('a'), { href: url, download: filename });
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** POSTs (or GETs, without a body) and reads the answer as SSE, one callback per event, parsed as JSON when it is. */
export async function stream(path: string, body: unknown | undefined, onFrame: (event: string, data: any, id?: string) => void, signal?: AbortSignal): Promise<void> {
  const res = await send(body === undefined ? 'GET' : 'POST', path, body, { signal, accept: 'text/event-stream' });
  await readSse(res, (e: SseEvent) => {
    let data: unknown = e.data;
    try { data = JSON.parse(e.data); } catch { /* plain text */ }
    onFrame(e.event, data, e.id);
  });
}

export const q = (params: Record<string, string | number | boolean | undefined | null>): string => {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') s.set(k, String(v));
  const text = s.toString();
  return text ? `?${text}` : '';
};
