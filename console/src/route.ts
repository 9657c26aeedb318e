import { useEffect, useState } from 'preact/hooks';

/** Where the console is: its panels live in the URL's fragment, so a reload or a shared link lands on the same one. */
export type Route = { panel: 'sessions' } | { panel: 'timeline'; sessionId: string } | { panel: 'outcomes' } | { panel: 'verify' };

export function routeOf(hash: string): Route {
  const [panel = '', id] = hash.replace(/^#\/?/, '').split('/');
  if (panel === 'sessions' && id) return { panel: 'timeline', sessionId: decodeURIComponent(id) };
  if (panel === 'outcomes' || panel === 'verify') return { panel };
  return { panel: 'sessions' };
}

export const hrefOf = (route: Route): string => (route.panel === 'timeline' ? `#/sessions/${encodeURIComponent(route.sessionId)}` : `#/${route.panel}`);

/** The current route, following the fragment as links and the back button change it. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => routeOf(location.hash));
  useEffect(() => {
    const follow = () => setRoute(routeOf(location.hash));
    addEventListener('hashchange', follow);
    return () => removeEventListener('hashchange', follow);
  }, []);
  return route;
}
