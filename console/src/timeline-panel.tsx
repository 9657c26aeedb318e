import { useEffect, useRef, useState } from 'preact/hooks';
import { SessionJson, TimelineJson } from '../../src/contract/index.js';
import { ApiProblem, callApi } from './api.js';
import { instant, shortHash } from './format.js';
import { hrefOf } from './route.js';

type Step = TimelineJson['steps'][number];

/** An event's data without the session id every one of them repeats. */
function dataOf(step: Step): string {
  return Object.entries(step.event.data)
    .filter(([key]) => key !== 'sessionId')
    .map(([key, value]) => `${key}: ${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' · ');
}

function correlationOf(step: Step): string {
  const { correlationId } = step.event.metadata;
  return typeof correlationId === 'string' ? correlationId : '';
}

function actorOf(step: Step): string {
  const actor = step.event.metadata.actor as { role?: string; sub?: string } | undefined;
  return actor ? `${actor.role ?? '?'}:${actor.sub ?? '?'}` : '–';
}

/**
 * One session's stream, step by step: each event with its metadata, the status after it and
 * the anomalies it showed; the hash chain's state; and a slider that shows the session as of
 * any of its events (`?asOf=`, folded by the ledger). It follows the session's watch, so a
 * late event appears without a reload.
 */
export function TimelinePanel({ sessionId, onExpired }: { sessionId: string; onExpired: () => void }) {
  const [timeline, setTimeline] = useState<TimelineJson>();
  const [at, setAt] = useState<number>();
  const [asOf, setAsOf] = useState<SessionJson>();
  const [problem, setProblem] = useState<string>();
  // The slider follows the newest event until the user moves it back; a reload (a late event,
  // or the watch's first status) must not pull it away from the step they are looking at.
  const followsNewest = useRef(true);
  const path = `/v1/sessions/${encodeURIComponent(sessionId)}`;

  const fail = (error: unknown) => {
    if (error instanceof ApiProblem && error.status === 401) return onExpired();
    setProblem((error as Error).message);
  };
  const load = async () => {
    try {
      const loaded = await callApi(`${path}/timeline`, TimelineJson);
      setTimeline(loaded);
      setAt((current) => (followsNewest.current || current === undefined ? loaded.steps.length - 1 : current));
      setProblem(undefined);
    } catch (error) {
      fail(error);
    }
  };

  useEffect(() => {
    void load();
    // A change of status (a late success, say) reloads the steps; the watch says when it is over.
    const source = new EventSource(`${path}/watch`);
    source.addEventListener('status', () => void load());
    source.addEventListener('end', () => source.close());
    source.addEventListener('error', () => source.close());
    return () => source.close();
  }, [sessionId]);

  const step = timeline && at !== undefined ? timeline.steps[at] : undefined;
  useEffect(() => {
    if (!step) return;
    const abort = new AbortController();
    callApi(`${path}?asOf=${step.event.position}`, SessionJson, { signal: abort.signal }).then(setAsOf, (error: unknown) => {
      if (!abort.signal.aborted) fail(error);
    });
    return () => abort.abort();
  }, [step?.event.position]);

  if (!timeline) {
    return (
      <section aria-labelledby="timeline-title">
        <h2 id="timeline-title">Session {sessionId}</h2>
        <p role={problem ? 'alert' : 'status'} class={problem ? 'problem' : 'loading'}>
          {problem ?? 'Loading…'}
        </p>
        <a href={hrefOf({ panel: 'sessions' })}>Back to the sessions</a>
      </section>
    );
  }
  const { steps, chain } = timeline;
  const last = steps.at(-1)!;

  return (
    <section aria-labelledby="timeline-title">
      <div class="panel-head">
        <h2 id="timeline-title">
          Session <code>{sessionId}</code>
        </h2>
        <a href={hrefOf({ panel: 'sessions' })}>Back to the sessions</a>
      </div>
      {problem && (
        <p role="alert" class="problem">
          {problem}
        </p>
      )}
      <p class={`chain ${chain.break ? 'broken' : 'intact'}`}>
        {chain.break
          ? `Hash chain broken at revision ${chain.break.revision}: ${chain.break.reason === 'hash' ? 'an event whose hash does not match its content' : 'an event missing or out of sequence'}.`
          : `Hash chain intact over ${steps.length} events · head ${shortHash(chain.head)}`}
      </p>

      <div class="as-of">
        <label for="as-of">Show the session as of event</label>
        <input
          id="as-of"
          type="range"
          min={0}
          max={steps.length - 1}
          step={1}
          value={at}
          aria-valuetext={step ? `event ${at! + 1} of ${steps.length}: ${step.event.type}` : undefined}
          onInput={(event) => {
            const chosen = Number(event.currentTarget.value);
            followsNewest.current = chosen === steps.length - 1;
            setAt(chosen);
          }}
        />
        <output for="as-of" class="as-of-result">
          {step && asOf && (
            <>
              Event {at! + 1} of {steps.length} (position {step.event.position}, {instant(step.event.metadata.recordedAt as string)}):{' '}
              <span class={`status ${asOf.status}`}>{asOf.status}</span>
              {asOf.errorMessage && <span> · {asOf.errorMessage}</span>}
              {asOf.anomalies.length > 0 && <span class="anomaly"> · {'⚠\u00a0'}{asOf.anomalies.map((anomaly) => anomaly.kind).join(', ')}</span>}
            </>
          )}
        </output>
      </div>

      <table class="timeline">
        <caption class="visually-hidden">The events of the session, in order</caption>
        <colgroup>
          <col class="c-rev" />
          <col class="c-time" />
          <col class="c-type" />
          <col class="c-actor" />
          <col class="c-data" />
          <col class="c-status" />
          <col class="c-anomalies" />
          <col class="c-hash" />
        </colgroup>
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">Recorded</th>
            <th scope="col">Event</th>
            <th scope="col" title="Who recorded it, and its correlation id">Actor</th>
            <th scope="col">Data</th>
            <th scope="col">Status after</th>
            <th scope="col">Anomalies</th>
            <th scope="col">Hash</th>
          </tr>
        </thead>
        <tbody>
          {steps.map((each, index) => {
            const broken = chain.break !== null && BigInt(each.event.revision) >= BigInt(chain.break.revision);
            const classes = [each.anomalies.length > 0 && 'anomalous', at !== undefined && index > at && 'later', broken && 'unchained'].filter(Boolean).join(' ');
            return (
              <tr key={each.event.eventId} class={classes || undefined}>
                <td>{each.event.revision}</td>
                <td>{instant(each.event.metadata.recordedAt as string)}</td>
                <td>{each.event.type}</td>
                <td title={`${actorOf(each)}\ncorrelation: ${correlationOf(each) || 'none'}`}>
                  <span class="actor">{actorOf(each)}</span>
                  <span class="correlation">{correlationOf(each) || 'no correlation id'}</span>
                </td>
                <td class="data">{dataOf(each)}</td>
                <td>
                  <span class={`status ${each.status}`}>{each.status}</span>
                </td>
                <td class="anomalies" title={each.anomalies.join(', ')}>{each.anomalies.length > 0 ? <span class="anomaly">{'⚠\u00a0'}{each.anomalies.join(', ')}</span> : ''}</td>
                <td title={each.event.hash ?? ''}>
                  <code>{shortHash(each.event.hash)}</code>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <p class="note">
        Now: <span class={`status ${last.status}`}>{last.status}</span> at position {last.event.position}.
      </p>
    </section>
  );
}
