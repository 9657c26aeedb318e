import { useEffect, useMemo, useState } from 'preact/hooks';
import { OutcomesJson } from '../../src/contract/index.js';
import { ApiProblem, callApi, queryOf } from './api.js';
import { CompletionChart } from './completion-chart.js';
import { instant, percent } from './format.js';
import { completionSeries, DAY_MS, HOUR_MS } from './outcome-series.js';

const RANGES = [
  { label: 'last 24 hours', hours: 24 },
  { label: 'last 7 days', hours: 24 * 7 },
  { label: 'last 30 days', hours: 24 * 30 },
];

/** Outcomes, from the `session_outcomes` projection: completion rate per provider over time, and the top failure reasons. */
export function OutcomesPanel({ onExpired }: { onExpired: () => void }) {
  const [hours, setHours] = useState(24);
  const [provider, setProvider] = useState('');
  const [outcomes, setOutcomes] = useState<OutcomesJson>();
  const [known, setKnown] = useState<string[]>([]);
  const [problem, setProblem] = useState<string>();

  useEffect(() => {
    const abort = new AbortController();
    const from = new Date(Date.now() - hours * 3_600_000).toISOString();
    callApi(`/v1/stats/outcomes${queryOf({ from, provider })}`, OutcomesJson, { signal: abort.signal }).then(
      (loaded) => {
        setOutcomes(loaded);
        setProblem(undefined);
        // The providers offered are the ones seen, kept when the chart narrows to one.
        setKnown((seen) => [...new Set([...seen, ...loaded.providers.flatMap((each) => (each.provider === null ? [] : [each.provider]))])].sort());
      },
      (error: unknown) => {
        if (abort.signal.aborted) return;
        if (error instanceof ApiProblem && error.status === 401) return onExpired();
        setProblem((error as Error).message);
      },
    );
    return () => abort.abort();
  }, [hours, provider]);

  // By hour over a day or two; by day beyond, where hours would be too many points to read.
  const period = hours <= 48 ? 'hour' : 'day';
  const series = useMemo(() => outcomes && completionSeries(outcomes, period === 'hour' ? HOUR_MS : DAY_MS), [outcomes, period]);
  const mostFailed = Math.max(1, ...(outcomes?.topFailureReasons.map((reason) => reason.sessions) ?? []));

  return (
    <section aria-labelledby="outcomes-title">
      <div class="panel-head">
        <h2 id="outcomes-title">Outcomes</h2>
        {outcomes && (
          <p class="note">
            {instant(outcomes.from)} to {instant(outcomes.to)} · as of position {outcomes.position}
          </p>
        )}
      </div>
      <form class="filters" onSubmit={(event) => event.preventDefault()}>
        <label>
          Period
          <select value={hours} onChange={(event) => setHours(Number(event.currentTarget.value))}>
            {RANGES.map((range) => (
              <option value={range.hours}>{range.label}</option>
            ))}
          </select>
        </label>
        <label>
          Provider
          <select value={provider} onChange={(event) => setProvider(event.currentTarget.value)}>
            <option value="">all</option>
            {known.map((name) => (
              <option value={name}>{name}</option>
            ))}
          </select>
        </label>
      </form>
      {problem && (
        <p role="alert" class="problem">
          {problem}
        </p>
      )}
      {outcomes && series && (
        <>
          <h3>Completion rate per provider, by {period}</h3>
          <CompletionChart series={series} period={period} />
          <table class="figures">
            <caption>Sessions per provider in the period</caption>
            <thead>
              <tr>
                <th scope="col">Provider</th>
                <th scope="col">Sessions</th>
                <th scope="col">Completed</th>
                <th scope="col">Failed</th>
                <th scope="col">Cancelled</th>
                <th scope="col">Pending</th>
                <th scope="col">Completion rate</th>
              </tr>
            </thead>
            <tbody>
              {outcomes.providers.map((each) => (
                <tr key={each.provider ?? ''}>
                  <th scope="row">{each.provider ?? '(none)'}</th>
                  <td>{each.sessions}</td>
                  <td>{each.completed}</td>
                  <td>{each.failed}</td>
                  <td>{each.cancelled}</td>
                  <td>{each.pending}</td>
                  <td>{percent(each.completionRate)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {outcomes.providers.length === 0 && <p class="empty">No session was created in this period.</p>}

          <h3 id="reasons-title">Top failure reasons</h3>
          {outcomes.topFailureReasons.length === 0 ? (
            <p class="empty">No session failed in this period.</p>
          ) : (
            <table class="reasons" aria-labelledby="reasons-title">
              <thead>
                <tr>
                  <th scope="col">Reason</th>
                  <th scope="col">Sessions</th>
                </tr>
              </thead>
              <tbody>
                {outcomes.topFailureReasons.map((reason) => (
                  <tr key={reason.reason}>
                    <th scope="row">{reason.reason}</th>
                    <td>
                      <span class="bar" style={{ width: `${(reason.sessions / mostFailed) * 100}%` }} />
                      <span class="count">{reason.sessions}</span>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </section>
  );
}
