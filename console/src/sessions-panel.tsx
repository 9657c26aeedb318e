import { useEffect, useRef, useState } from 'preact/hooks';
import { SESSION_STATUSES, SessionJson, SessionListJson } from '../../src/contract/index.js';
import { ApiProblem, callApi, queryOf } from './api.js';
import { fromLocalInput, instant } from './format.js';
import { withChange } from './live-list.js';
import { hrefOf } from './route.js';

/** The filter form's values, as typed. */
interface Filters {
  userId: string;
  provider: string;
  status: string;
  since: string;
  until: string;
}
const NO_FILTER: Filters = { userId: '', provider: '', status: '', since: '', until: '' };
const PAGE = 50;

type Live = { state: 'connecting' } | { state: 'live'; position: string } | { state: 'reconnecting' };

/**
 * The sessions, newest first, filtered, and live: the ledger's list watch sends each row the
 * projector commits, and the row changes where it stands.
 */
export function SessionsPanel({ onExpired }: { onExpired: () => void }) {
  const [filters, setFilters] = useState<Filters>(NO_FILTER);
  const [rows, setRows] = useState<readonly SessionJson[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [live, setLive] = useState<Live>({ state: 'connecting' });
  const [problem, setProblem] = useState<string>();
  /** The rows (id and position) that a live change brought, to flash their status once; the last few hundred. */
  const [changed, setChanged] = useState<ReadonlySet<string>>(new Set());
  const shown = useRef(filters);
  shown.current = filters;

  const listQuery = (f: Filters, after?: string) =>
    queryOf({
      userId: f.userId,
      provider: f.provider,
      status: f.status,
      since: fromLocalInput(f.since),
      until: fromLocalInput(f.until),
      limit: String(PAGE),
      cursor: after,
    });
  const fail = (error: unknown) => {
    if (error instanceof ApiProblem && error.status === 401) return onExpired();
    setProblem((error as Error).message);
  };
  const load = async (f: Filters) => {
    try {
      const page = await callApi(`/v1/sessions${listQuery(f)}`, SessionListJson);
      setRows(page.sessions);
      setCursor(page.nextCursor);
      setProblem(undefined);
    } catch (error) {
      fail(error);
    }
  };
  const loadMore = async () => {
    if (cursor === null) return;
    try {
      const page = await callApi(`/v1/sessions${listQuery(shown.current, cursor)}`, SessionListJson);
      setRows((current) => [...current, ...page.sessions]);
      setCursor(page.nextCursor);
    } catch (error) {
      fail(error);
    }
  };

  /** Whether a session new to the list is one the filters show. */
  const belongs = (row: SessionJson) => {
    const { status, since, until } = shown.current;
    const created = row.createdAt ?? '';
    const from = fromLocalInput(since);
    const to = fromLocalInput(until);
    return (!status || row.status === status) && (!from || created >= from) && (!to || created < to);
  };

  // The user and the provider of a session never change: the ledger filters the live rows by
  // them. Its status does, so the status filter applies to new rows only (see withChange).
  useEffect(() => {
    const source = new EventSource(`/v1/sessions/watch${queryOf({ userId: filters.userId, provider: filters.provider })}`);
    source.addEventListener('live', (message) => {
      setLive({ state: 'live', position: (JSON.parse(message.data as string) as { position: string }).position });
      // From here on no change is missed: (re)load what was committed before.
      void load(shown.current);
    });
    source.addEventListener('session', (message) => {
      const row = SessionJson.parse(JSON.parse(message.data as string));
      setRows((current) => withChange(current, row, belongs));
      setChanged((current) => new Set([...current, `${row.sessionId}@${row.position}`].slice(-300)));
    });
    source.addEventListener('error', () => {
      if (source.readyState === EventSource.CLOSED) {
        // Refused (a login that expired): the app checks the login and says so.
        onExpired();
      } else setLive({ state: 'reconnecting' });
    });
    return () => source.close();
  }, [filters.userId, filters.provider]);

  const applyFilters = (next: Filters) => {
    setFilters(next);
    // A change of user or provider reopens the live list, which reloads; any other change reloads here.
    if (next.userId === filters.userId && next.provider === filters.provider) void load(next);
  };
  const submit = (event: SubmitEvent) => {
    event.preventDefault();
    const data = new FormData(event.currentTarget as HTMLFormElement);
    const text = (name: keyof Filters) => {
      const value = data.get(name);
      return typeof value === 'string' ? value.trim() : '';
    };
    applyFilters({ userId: text('userId'), provider: text('provider'), status: text('status'), since: text('since'), until: text('until') });
  };
  const providers = [...new Set(rows.map((row) => row.provider).filter((provider): provider is string => provider !== null))].sort();

  return (
    <section aria-labelledby="sessions-title">
      <div class="panel-head">
        <h2 id="sessions-title">Sessions</h2>
        <p class={`live ${live.state}`} role="status">
          {live.state === 'live' ? `Live · as of position ${live.position}` : live.state === 'connecting' ? 'Connecting…' : 'Reconnecting…'}
        </p>
      </div>
      <form class="filters" onSubmit={submit} onReset={() => applyFilters(NO_FILTER)}>
        <label>
          User <input name="userId" value={filters.userId} autocomplete="off" />
        </label>
        <label>
          Provider <input name="provider" value={filters.provider} list="providers" autocomplete="off" />
        </label>
        <datalist id="providers">
          {providers.map((provider) => (
            <option value={provider} />
          ))}
        </datalist>
        <label>
          Status
          <select name="status" value={filters.status}>
            <option value="">any</option>
            {SESSION_STATUSES.map((status) => (
              <option value={status}>{status}</option>
            ))}
          </select>
        </label>
        <label>
          Created from (UTC) <input type="datetime-local" name="since" value={filters.since} />
        </label>
        <label>
          to (UTC) <input type="datetime-local" name="until" value={filters.until} />
        </label>
        <button type="submit">Show</button>
        <button type="reset">Clear</button>
      </form>
      {problem && (
        <p role="alert" class="problem">
          {problem}
        </p>
      )}
      <table class="sessions">
        <caption class="visually-hidden">Sessions, newest first</caption>
        <colgroup>
          <col class="c-session" />
          <col class="c-user" />
          <col class="c-provider" />
          <col class="c-status" />
          <col class="c-time" />
          <col class="c-time" />
          <col class="c-anomalies" />
        </colgroup>
        <thead>
          <tr>
            <th scope="col">Session</th>
            <th scope="col">User</th>
            <th scope="col">Provider</th>
            <th scope="col">Status</th>
            <th scope="col">Created</th>
            <th scope="col">Updated</th>
            <th scope="col">Anomalies</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.sessionId} data-session={row.sessionId} class={row.anomalies.length > 0 ? 'anomalous' : undefined}>
              <td>
                <a href={hrefOf({ panel: 'timeline', sessionId: row.sessionId })} title={row.sessionId}>
                  {row.sessionId}
                </a>
              </td>
              <td title={row.userId ?? ''}>{row.userId ?? '–'}</td>
              <td>{row.provider ?? '–'}</td>
              {/* Keyed by position: a change mounts the cell afresh, which flashes it once. */}
              <td key={row.position} class={changed.has(`${row.sessionId}@${row.position}`) ? 'status-cell changed' : 'status-cell'}>
                <span class={`status ${row.status}`}>{row.status}</span>
              </td>
              <td>{instant(row.createdAt)}</td>
              <td>{instant(row.updatedAt)}</td>
              <td>{row.anomalies.length > 0 ? <span class="anomaly">{'⚠\u00a0'}{[...new Set(row.anomalies.map((anomaly) => anomaly.kind))].join(', ')}</span> : ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {rows.length === 0 && <p class="empty">No session matches.</p>}
      {cursor !== null && (
        <button type="button" class="more" onClick={() => void loadMore()}>
          Load {PAGE} more
        </button>
      )}
    </section>
  );
}
