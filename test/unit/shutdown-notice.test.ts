/**
 * The notice every open watch waits on for the server's shutdown: each listener told once,
 * an unsubscribed one never, one that comes after the notice never (it checks `given`), and
 * the same function subscribed twice is two subscriptions, each ended by its own unsubscribe.
 */
import t from 'tap';
import { createShutdownNotice } from '../../src/http/shutdown-notice.js';

t.test('each listener is told once; an unsubscribed one and a late one never', async (t) => {
  const notice = createShutdownNotice();
  const told: string[] = [];
  notice.onShutdown(() => told.push('a'));
  const leave = notice.onShutdown(() => told.push('b'));
  notice.onShutdown(() => told.push('c'));
  leave();
  t.notOk(notice.given, 'not given before give()');
  notice.give();
  notice.give();
  t.ok(notice.given);
  t.same(told, ['a', 'c'], 'each subscribed listener once, in order; the one that left not at all');
  notice.onShutdown(() => told.push('late'))();
  t.same(told, ['a', 'c'], 'a listener subscribed after the notice is not told: the caller reads `given`');
});

t.test('the same function twice is two subscriptions', async (t) => {
  const notice = createShutdownNotice();
  let told = 0;
  const listener = () => told++;
  const first = notice.onShutdown(listener);
  notice.onShutdown(listener);
  first();
  notice.give();
  t.equal(told, 1, 'the second subscription still holds after the first one left');
});

t.test('a listener that unsubscribes another during the notice does not stop it being told', async (t) => {
  const notice = createShutdownNotice();
  const told: string[] = [];
  let leaveB: () => void = () => {};
  notice.onShutdown(() => {
    told.push('a');
    leaveB();
  });
  leaveB = notice.onShutdown(() => told.push('b'));
  notice.give();
  t.same(told, ['a', 'b'], 'every stream is told, even when one ending touches the set');
});
