import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { errorText } from './lib/api';
import { json } from './lib/format';

export function Card(props: { title?: ComponentChildren; actions?: ComponentChildren; children: ComponentChildren; class?: string }) {
  return (
    <section class={`card ${props.class ?? ''}`}>
      {(props.title || props.actions) && <header class="card-head"><h2>{props.title}</h2><div class="row">{props.actions}</div></header>}
      {props.children}
    </section>
  );
}

const TONES: Record<string, string> = {
  active: 'ok', ok: 'ok', done: 'ok', approved: 'ok', completed: 'ok', connected: 'ok', enabled: 'ok', running: 'info', open: 'ok',
  ready: 'info', queued: 'muted', pending: 'warn', blocked: 'warn', paused: 'warn', connecting: 'warn', starting: 'warn', loading: 'warn',
  failed: 'bad', error: 'bad', denied: 'bad', expired: 'muted', cancelled: 'muted', disabled: 'muted', archived: 'muted', closed: 'bad', disconnected: 'bad',
};

export function Badge(props: { value: string | null | undefined; tone?: string }) {
  const v = props.value ?? 'unknown';
  return <span class={`badge ${props.tone ?? TONES[v] ?? 'muted'}`}>{v}</span>;
}

export function ErrorBox(props: { error: unknown; onClose?: () => void }) {
  if (!props.error) return null;
  return (
    <div class="error" role="alert">
      <span>{errorText(props.error)}</span>
      {props.onClose && <button class="link" onClick={props.onClose} aria-label="Dismiss">×</button>}
    </div>
  );
}

export function Spinner(props: { label?: string }) {
  return <span class="spinner-wrap" role="status"><span class="spinner" />{props.label && <span>{props.label}</span>}</span>;
}

export function Empty(props: { children: ComponentChildren }) {
  return <p class="empty">{props.children}</p>;
}

/**
 * A button for an API action: disabled with a spinner while the action runs (so a long operation
 * shows progress), and its failure shown beside it as a readable message.
 */
export function Action(props: { onRun: () => Promise<unknown>; children: ComponentChildren; kind?: 'primary' | 'danger' | 'plain'; disabled?: boolean; title?: string; testid?: string }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const run = async () => {
    setBusy(true);
    setError(undefined);
    try { await props.onRun(); } catch (err) { setError(err); } finally { setBusy(false); }
  };
  return (
    <span class="action">
      <button class={props.kind ?? 'plain'} disabled={busy || props.disabled} onClick={run} title={props.title} data-testid={props.testid}>
        {busy && <span class="spinner small" />}{props.children}
      </button>
      {error !== undefined && <span class="action-error" role="alert" title={errorText(error)}>{errorText(error)}</span>}
    </span>
  );
}

export function Json(props: { value: unknown; max?: number }) {
  return <pre class="json">{json(props.value, props.max)}</pre>;
}

export function LiveData<T>(props: { live: { data: T | undefined; error: unknown; loading: boolean }; children: (data: T) => ComponentChildren }) {
  const { data, error, loading } = props.live;
  return (
    <>
      <ErrorBox error={error} />
      {data === undefined ? (loading ? <Spinner label="Loading…" /> : null) : props.children(data)}
    </>
  );
}

export function Field(props: { label: string; children: ComponentChildren }) {
  return <label class="field"><span>{props.label}</span>{props.children}</label>;
}
