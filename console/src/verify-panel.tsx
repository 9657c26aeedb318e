import { useEffect, useState } from 'preact/hooks';
import { SealsDocument, VerifyReportJson, type ConsoleLoginJson } from '../../src/contract/index.js';
import { ApiProblem, callApi } from './api.js';
import { instant } from './format.js';

/**
 * `verify` at a glance: the ledger folds every stream afresh, compares the read models with
 * the fold and checks every hash chain; each difference is listed. And the seals it keeps.
 * Auditors only: a controller's login is told so.
 */
export function VerifyPanel({ role, onExpired }: { role: ConsoleLoginJson['role']; onExpired: () => void }) {
  const [report, setReport] = useState<VerifyReportJson>();
  const [seals, setSeals] = useState<SealsDocument>();
  const [running, setRunning] = useState(false);
  const [problem, setProblem] = useState<string>();
  const fail = (error: unknown) => {
    if (error instanceof ApiProblem && error.status === 401) return onExpired();
    setProblem((error as Error).message);
  };

  useEffect(() => {
    if (role === 'auditor') callApi('/v1/audit/seals', SealsDocument).then(setSeals, fail);
  }, [role]);

  if (role !== 'auditor') {
    return (
      <section aria-labelledby="verify-title">
        <h2 id="verify-title">Verify</h2>
        <p class="note">Verify takes an auditor's login; this console is logged in as a controller.</p>
      </section>
    );
  }

  const run = async () => {
    setRunning(true);
    try {
      setReport(await callApi('/v1/audit/verify', VerifyReportJson));
      setProblem(undefined);
    } catch (error) {
      fail(error);
    } finally {
      setRunning(false);
    }
  };
  const lastSeal = seals?.seals.at(-1);

  return (
    <section aria-labelledby="verify-title">
      <div class="panel-head">
        <h2 id="verify-title">Verify</h2>
        <button type="button" onClick={() => void run()} disabled={running}>
          {running ? 'Verifying…' : 'Run verify'}
        </button>
      </div>
      <p class="note">
        {seals === undefined
          ? ''
          : lastSeal
            ? `${seals.seals.length} seals kept; the last at position ${lastSeal.position}, ${instant(lastSeal.sealedAt)}.`
            : seals.publicKey
              ? 'No seal yet.'
              : 'This ledger has no seal key: it writes no seals.'}
      </p>
      {problem && (
        <p role="alert" class="problem">
          {problem}
        </p>
      )}
      <div role="status" aria-live="polite">
        {report && (
          <p class={`verdict ${report.clean ? 'clean' : 'unclean'}`}>
            {report.clean ? '✓ Clean' : '✗ Differences found'}: {report.checked} sessions and {report.events} events checked, as of position{' '}
            {report.position}.
          </p>
        )}
      </div>
      {report && report.differences.length > 0 && (
        <table class="differences">
          <caption>The read model against a fresh fold</caption>
          <thead>
            <tr>
              <th scope="col">Session</th>
              <th scope="col">Column</th>
              <th scope="col">Read model</th>
              <th scope="col">Fold</th>
            </tr>
          </thead>
          <tbody>
            {report.differences.map((difference) => (
              <tr>
                <td>
                  <a href={`#/sessions/${encodeURIComponent(difference.sessionId)}`}>{difference.sessionId}</a>
                </td>
                <td>{difference.column}</td>
                <td>{difference.readModel}</td>
                <td>{difference.fold}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {report && report.chainBreaks.length > 0 && (
        <table class="differences">
          <caption>Broken hash chains</caption>
          <thead>
            <tr>
              <th scope="col">Session</th>
              <th scope="col">Revision</th>
              <th scope="col">What breaks</th>
            </tr>
          </thead>
          <tbody>
            {report.chainBreaks.map((chainBreak) => (
              <tr>
                <td>
                  <a href={`#/sessions/${encodeURIComponent(chainBreak.sessionId)}`}>{chainBreak.sessionId}</a>
                </td>
                <td>{chainBreak.revision}</td>
                <td>{chainBreak.reason === 'hash' ? 'a hash that does not match' : 'an event missing or out of sequence'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {report && report.undecodable.length > 0 && (
        <table class="differences">
          <caption>Events the ledger cannot decode</caption>
          <thead>
            <tr>
              <th scope="col">Session</th>
              <th scope="col">Revision</th>
              <th scope="col">Why</th>
            </tr>
          </thead>
          <tbody>
            {report.undecodable.map((event) => (
              <tr>
                <td>{event.sessionId}</td>
                <td>{event.revision}</td>
                <td>{event.reason}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {report && (report.outcomeDifferences?.length ?? 0) > 0 && (
        <table class="differences">
          <caption>Outcome counts against a fresh fold</caption>
          <thead>
            <tr>
              <th scope="col">Hour</th>
              <th scope="col">Provider</th>
              <th scope="col">Status</th>
              <th scope="col">Failure reason</th>
              <th scope="col">Read model</th>
              <th scope="col">Fold</th>
            </tr>
          </thead>
          <tbody>
            {report.outcomeDifferences!.map((difference) => (
              <tr>
                <td>{instant(difference.hour)}</td>
                <td>{difference.provider ?? '–'}</td>
                <td>{difference.status}</td>
                <td>{difference.failureReason ?? '–'}</td>
                <td>{difference.readModel}</td>
                <td>{difference.fold}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
