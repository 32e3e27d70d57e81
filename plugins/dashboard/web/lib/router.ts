import { useEffect, useState } from 'preact/hooks';

export const BASE = '/dashboard';

/** The path below /dashboard, e.g. `/jobs/job_123`. */
function current(): string {
  const p = location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) : location.pathname;
  return p === '' ? '/' : p;
}

const listeners = new Set<() => void>();
addEventListener('popstate', () => { for (const l of listeners) l(); });

export function navigate(path: string): void {
  if (current() === path) return;
  history.pushState(null, '', BASE + path);
  for (const l of listeners) l();
}

export function useRoute(): string {
  const [path, setPath] = useState(current());
  useEffect(() => {
    const l = () => setPath(current());
    listeners.add(l);
    return () => { listeners.delete(l); };
  }, []);
  return path;
}

/** Link that navigates inside the app without a page load. */
export function href(path: string) {
  return {
    href: BASE + path,
    onClick: (e: MouseEvent) => {
      if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
      e.preventDefault();
      navigate(path);
    },
  };
}
