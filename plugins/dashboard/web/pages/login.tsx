import { useEffect, useState } from 'preact/hooks';
import { api, session } from '../lib/api';
import { ErrorBox, Spinner } from '../components';
import type { Me } from '../app';

/** Sign in with an API token (kept in this browser) or email and password (an HttpOnly session cookie). */
export function Login(props: { onSignedIn: (me: Me) => void }) {
  const [mode, setMode] = useState<'password' | 'token'>('password');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState(false);
  // A failed sign-in with the identity provider comes back here with the reason (plugins/oidc).
  const [error, setError] = useState<unknown>(() => {
    const reason = new URLSearchParams(location.search).get('signin_error');
    return reason ? new Error(reason) : undefined;
  });
  const [provider, setProvider] = useState<{ enabled: boolean; label?: string }>({ enabled: false });
  useEffect(() => {
    // Absent when the oidc plugin is not installed: then there is simply no button.
    api.get<{ enabled: boolean; label?: string }>('/auth/google-enabled').then(setProvider, () => undefined);
  }, []);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      if (mode === 'token') {
        session.useToken(token.trim());
      } else {
        session.useToken(null);
        await api.post('/auth/login', { email: email.trim(), password });
      }
      const { user } = await api.get<{ user: Me }>('/auth/me');
      props.onSignedIn(user);
    } catch (err) {
      if (mode === 'token') session.useToken(null);
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="login">
      <form class="card login-card" onSubmit={submit} data-testid="login-form">
        <h1>Plinth</h1>
        <div class="tabs">
          <button type="button" class={mode === 'password' ? 'tab active' : 'tab'} onClick={() => setMode('password')}>Email and password</button>
          <button type="button" class={mode === 'token' ? 'tab active' : 'tab'} onClick={() => setMode('token')}>API token</button>
        </div>
        {mode === 'password' ? (
          <>
            <label class="field"><span>Email</span><input name="email" type="email" autoComplete="username" required value={email} onInput={e => setEmail(e.currentTarget.value)} /></label>
            <label class="field"><span>Password</span><input name="password" type="password" autoComplete="current-password" required value={password} onInput={e => setPassword(e.currentTarget.value)} /></label>
          </>
        ) : (
          <label class="field"><span>Token</span><input name="token" type="password" required placeholder="plt_…" value={token} onInput={e => setToken(e.currentTarget.value)} /></label>
        )}
        <ErrorBox error={error} />
        <button class="primary wide" type="submit" disabled={busy}>{busy ? <Spinner label="Signing in…" /> : 'Sign in'}</button>
        {provider.enabled && <a class="button wide" href="/auth/google" data-testid="oidc-sign-in">Sign in with {provider.label ?? 'Google'}</a>}
      </form>
    </div>
  );
}
