import { useEffect, useState } from 'preact/hooks';
import { api, session } from './lib/api';
import { events, useSocketState } from './lib/ws';
import { href, useRoute } from './lib/router';
import { Spinner } from './components';
import { Login } from './pages/login';
import { Overview } from './pages/overview';
import { Chat } from './pages/chat';
import { Approvals } from './pages/approvals';
import { Jobs } from './pages/jobs';
import { Runs } from './pages/runs';
import { Memory } from './pages/memory';
import { Skills } from './pages/skills';
import { Channels } from './pages/channels';
import { Integrations } from './pages/integrations';
import { Stats } from './pages/stats';
import { Settings } from './pages/settings';

export interface Me { id: string; email: string; name?: string; role: 'admin' | 'user' }

const PAGES = [
  { path: '/', label: 'Overview', page: Overview },
  { path: '/chat', label: 'Chat', page: Chat },
  { path: '/approvals', label: 'Approvals', page: Approvals },
  { path: '/jobs', label: 'Jobs', page: Jobs },
  { path: '/runs', label: 'Runs', page: Runs },
  { path: '/memory', label: 'Memory', page: Memory },
  { path: '/skills', label: 'Skills', page: Skills },
  { path: '/channels', label: 'Channels', page: Channels },
  { path: '/integrations', label: 'MCP & A2A', page: Integrations },
  { path: '/stats', label: 'Stats', page: Stats },
  { path: '/settings', label: 'Settings', page: Settings },
];

function pageFor(path: string) {
  const first = `/${path.split('/')[1] ?? ''}`;
  return PAGES.find(p => p.path === first) ?? PAGES[0];
}

export function App() {
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  useEffect(() => {
    session.onUnauthorized(() => { events.stop(); setMe(null); });
    // A stored token or the session cookie may already sign us in.
    api.get<{ user: Me }>('/auth/me').then(r => setMe(r.user), () => setMe(null));
  }, []);
  useEffect(() => {
    if (me) events.start();
    return () => events.stop();
  }, [me?.id]);

  if (me === undefined) return <div class="center"><Spinner label="Connecting…" /></div>;
  if (me === null) return <Login onSignedIn={setMe} />;
  const signOut = async () => {
    if (!session.token) await api.post('/auth/logout').catch(() => undefined);
    session.useToken(null);
    events.stop();
    setMe(null);
  };
  return <Shell me={me} onSignOut={signOut} />;
}

function Shell(props: { me: Me; onSignOut: () => void }) {
  const path = useRoute();
  const current = pageFor(path);
  const socket = useSocketState();
  const Page = current.page;
  useEffect(() => { document.title = `${current.label} · Plinth`; }, [current.label]);
  return (
    <div class="shell">
      <nav class="side">
        <div class="brand">Plinth</div>
        {PAGES.map(p => <a key={p.path} {...href(p.path)} class={p === current ? 'nav active' : 'nav'}>{p.label}</a>)}
        <div class="side-foot">
          <div class="who" title={props.me.id}>{props.me.email}<small>{props.me.role}</small></div>
          <div class={`live ${socket}`} data-testid="socket-state">{socket === 'open' ? '● live' : socket === 'connecting' ? '○ connecting' : '○ offline'}</div>
          <button class="link" onClick={props.onSignOut}>Sign out</button>
        </div>
      </nav>
      <main class="main" data-page={current.label}>
        <Page path={path} me={props.me} />
      </main>
    </div>
  );
}

export interface PageProps { path: string; me: Me }
