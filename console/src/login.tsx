import { useState } from 'preact/hooks';
import { ConsoleLoginJson } from '../../src/contract/index.js';
import { callApi } from './api.js';

/**
 * The console's login: an auditor's or a controller's token, pasted once. The ledger answers
 * with an HttpOnly cookie; the token itself is dropped from the page as soon as it is sent.
 */
export function Login({ reason, onLogin }: { reason?: string | undefined; onLogin: (login: ConsoleLoginJson) => void }) {
  const [refusal, setRefusal] = useState<string | undefined>(reason);
  const [busy, setBusy] = useState(false);

  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const input = form.elements.namedItem('token') as HTMLTextAreaElement;
    const token = input.value.trim();
    input.value = '';
    setBusy(true);
    try {
      onLogin(await callApi('/v1/console/login', ConsoleLoginJson, { method: 'POST', token }));
    } catch (error) {
      setRefusal(`The ledger refused this token: ${(error as Error).message}.`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="login">
      <h1>Session ledger console</h1>
      <form onSubmit={(event) => void submit(event)}>
        <label for="token">Auditor or controller token</label>
        <textarea id="token" name="token" rows={4} required spellcheck={false} autocomplete="off" aria-describedby="token-help" />
        <p id="token-help" class="help">
          Paste it once: the ledger keeps your login in a cookie no script can read, for a working day at most.
        </p>
        <button type="submit" disabled={busy}>
          Open the console
        </button>
        <p role="alert" class="refusal">
          {refusal}
        </p>
      </form>
    </main>
  );
}
