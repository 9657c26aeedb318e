// The platform frontend's live login status, as a reference: the browser's own EventSource,
// opened with a single-use watch ticket (EventSource cannot send an Authorization header, and
// a bearer token in a URL would end up in logs and histories).
//
// The page takes its session and the user's frontend token from the form, or from the URL's
// fragment (never sent to a server): #session=…&token=…; or, when the frontend's own server
// minted the ticket, #watch=<the watch path, ticket included>.

const LABELS = { connecting: 'connecting…', pending: 'waiting for login…', completed: 'signed in', failed: 'failed', cancelled: 'cancelled' };
const statusLine = document.querySelector('#status');
const detailLine = document.querySelector('#detail');

function show(status, detail = '') {
  statusLine.dataset.status = status;
  statusLine.textContent = LABELS[status] ?? status;
  detailLine.textContent = detail;
}

/** A ticket for one watch of the session, minted with the user's token. */
async function watchUrl(sessionId, token) {
  const answer = await fetch('/v1/watch-tickets', {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ sessionId }),
  });
  const body = await answer.json();
  if (!answer.ok) throw new Error(body.detail);
  return body.watch;
}

/** Why the ledger refused a watch: its problem's detail (the refused ticket is refused again, so this changes nothing). */
async function refusal(url) {
  const answer = await fetch(url, { headers: { accept: 'text/event-stream' } });
  const problem = await answer.json().catch(() => ({}));
  return `${answer.status}: ${problem.detail ?? answer.statusText}`;
}

/**
 * Watches until the ledger says the watch is over (`end`: at `completed` at once, at `failed`
 * or `cancelled` after a grace period in which a late success still arrives). A dropped
 * connection is reopened with a fresh ticket, after the last change seen, a few times.
 */
function watch(nextUrl) {
  let lastEventId = null;
  let drops = 0;
  const open = async () => {
    let url;
    try {
      url = await nextUrl();
    } catch (error) {
      return show('refused', `The live status is not available: ${error.message}`);
    }
    if (lastEventId !== null) url += `&lastEventId=${lastEventId}`;
    const source = new EventSource(url);
    let opened = false;
    source.addEventListener('open', () => (opened = true));
    source.addEventListener('status', (message) => {
      lastEventId = message.lastEventId;
      const session = JSON.parse(message.data);
      show(session.status, session.status === 'failed' ? (session.errorMessage ?? '') : '');
    });
    source.addEventListener('end', () => source.close());
    source.addEventListener('error', async () => {
      // The ticket is spent: never let the EventSource reconnect with it.
      source.close();
      if (!opened) return show('refused', `The live status was refused (${await refusal(url)}). Reload the page to try again.`);
      if (++drops > 5) return (detailLine.textContent = 'The connection to the ledger was lost. Reload the page to try again.');
      setTimeout(open, 1000 * drops);
    });
  };
  void open();
}

const form = document.querySelector('#watch-form');
form.addEventListener('submit', (event) => {
  event.preventDefault();
  const { session, token } = Object.fromEntries(new FormData(form));
  show('connecting');
  watch(() => watchUrl(session, token));
});

const given = new URLSearchParams(location.hash.slice(1));
if (given.has('watch')) {
  // A ticket minted elsewhere opens one watch, once.
  let ticketed = given.get('watch');
  watch(async () => {
    if (ticketed === null) throw new Error('the ticket was used; reload the page');
    const url = ticketed;
    ticketed = null;
    return url;
  });
} else if (given.has('session') && given.has('token')) {
  form.elements.session.value = given.get('session');
  form.elements.token.value = given.get('token');
  form.requestSubmit();
}
