import { useEffect, useState } from 'preact/hooks';
import { z } from 'zod';
import { ConsoleLoginJson } from '../../src/contract/index.js';
import { ApiProblem, callApi } from './api.js';
import { instant } from './format.js';
import { Login } from './login.js';
import { OutcomesPanel } from './outcomes-panel.js';
import { hrefOf, useRoute, type Route } from './route.js';
import { SessionsPanel } from './sessions-panel.js';
import { TimelinePanel } from './timeline-panel.js';
import { VerifyPanel } from './verify-panel.js';

type LoginState = { state: 'checking' } | { state: 'out'; reason?: string } | { state: 'in'; login: ConsoleLoginJson };

const TABS: { route: Route; label: string }[] = [
  { route: { panel: 'sessions' }, label: 'Sessions' },
  { route: { panel: 'outcomes' }, label: 'Outcomes' },
  { route: { panel: 'verify' }, label: 'Verify' },
];

/** The console: its login, then one panel at a time, chosen in the URL's fragment. */
export function App() {
  const [login, setLogin] = useState<LoginState>({ state: 'checking' });
  const route = useRoute();

  const check = (reason?: string) =>
    callApi('/v1/console/login', ConsoleLoginJson).then(
      (login) => setLogin({ state: 'in', login }),
      (error: unknown) => setLogin({ state: 'out', reason: error instanceof ApiProblem && error.status === 403 ? error.message : reason }),
    );
  useEffect(() => void check(), []);

  if (login.state === 'checking') return <p class="loading">Loading…</p>;
  if (login.state === 'out') return <Login reason={login.reason} onLogin={(login) => setLogin({ state: 'in', login })} />;

  const logOut = async () => {
    await callApi('/v1/console/login', z.null(), { method: 'DELETE' });
    setLogin({ state: 'out' });
  };
  /** A panel's read was refused for want of a login: the login page says why. */
  const expired = () => void check('Your console login has expired: log in again.');
  const current = route.panel === 'timeline' ? 'sessions' : route.panel;

  return (
    <>
      <header class="top">
        <h1>Session ledger</h1>
        <nav aria-label="Panels">
          {TABS.map(({ route: tab, label }) => (
            <a href={hrefOf(tab)} aria-current={tab.panel === current ? 'page' : undefined}>
              {label}
            </a>
          ))}
        </nav>
        <p class="who">
          {login.login.role} <strong>{login.login.sub}</strong>
          {login.login.expiresAt && <span> · until {instant(login.login.expiresAt)}</span>}
          <button type="button" onClick={() => void logOut()}>
            Log out
          </button>
        </p>
      </header>
      <main>
        {route.panel === 'sessions' && <SessionsPanel onExpired={expired} />}
        {route.panel === 'timeline' && <TimelinePanel sessionId={route.sessionId} onExpired={expired} />}
        {route.panel === 'outcomes' && <OutcomesPanel onExpired={expired} />}
        {route.panel === 'verify' && <VerifyPanel role={login.login.role} onExpired={expired} />}
      </main>
    </>
  );
}
