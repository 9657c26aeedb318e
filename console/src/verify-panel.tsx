import type { ComponentChild } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { SealsDocument, VerifyReportJson, type ConsoleLoginJson } from '../../src/contract/index.js';
import { ApiProblem, callApi } from './api.js';
import { instant } from './format.js';
import { hrefOf } from './route.js';

const sessionLink = (sessionId: string) => <a href={hrefOf({ panel: 'timeline', sessionId })}>{sessionId}</a>;

/** One kind of difference verify found, as a table; nothing when it found none of that kind. */
function Findings({ caption, columns, rows }: { caption: string; columns: string[]; rows: ComponentChild[][] }) {
  if (rows.length === 0) return null;
  return (
    <table class="differences">
      <caption>{caption}</caption>
      <thead>
        <tr>
          {columns.map((column) => (
            <th scope="col">{column}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((cells) => (
          <tr>
            {cells.map((cell) => (
              <td>{cell}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

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
      {report && (
        <>
          <Findings
            caption="The read model against a fresh fold"
            columns={['Session', 'Column', 'Read model', 'Fold']}
            rows={report.differences.map((difference) => [sessionLink(difference.sessionId), difference.column, difference.readModel, difference.fold])}
          />
          <Findings
            caption="Broken hash chains"
            columns={['Session', 'Revision', 'What breaks']}
            rows={report.chainBreaks.map((chainBreak) => [
              sessionLink(chainBreak.sessionId),
              chainBreak.revision,
              chainBreak.reason === 'hash' ? 'a hash that does not match' : 'an event missing or out of sequence',
            ])}
          />
          <Findings
            caption="Events the ledger cannot decode"
            columns={['Session', 'Revision', 'Why']}
            rows={report.undecodable.map((event) => [sessionLink(event.sessionId), event.revision, event.reason])}
          />
          <Findings
            caption="Outcome counts against a fresh fold"
            columns={['Hour', 'Provider', 'Status', 'Failure reason', 'Read model', 'Fold']}
            rows={(report.outcomeDifferences ?? []).map((difference) => [
              instant(difference.hour),
              difference.provider ?? '–',
              difference.status,
              difference.failureReason ?? '–',
              String(difference.readModel),
              String(difference.fold),
            ])}
          />
        </>
      )}
    </section>
  );
}
