import { createSigner } from 'fast-jwt';
import t from 'tap';
import { ProblemError } from '../../src/http/problem-error.js';
import { createTokenVerifier } from '../../src/http/token-verifier.js';

const secret = 'a-secret-of-at-least-thirty-two-characters';
const sign = createSigner({ key: secret, algorithm: 'HS256' });
const T = 2_000_000_000;
const claims = { role: 'controller', sub: 'vm-manager' };

/** A verifier whose clock the test moves, in seconds. */
function verifierAt(start: number) {
  let seconds = start;
  const verify = createTokenVerifier({ secret, maxTtlSeconds: 3600, now: () => seconds * 1000 });
  return { verify, at: (s: number) => (seconds = s) };
}

const detailOf = (fn: () => unknown) => {
  try {
    fn();
    return 'accepted';
  } catch (error) {
    return error instanceof ProblemError ? error.message : String(error);
  }
};

t.test('a token verified once is still held to its times at every use (its payload is cached, not its verdict)', async (t) => {
  const { verify, at } = verifierAt(T);
  const token = sign({ ...claims, iat: T, exp: T + 60 });
  t.equal(verify(token).principal.sub, 'vm-manager');
  t.equal(verify(token).expiresAt.getTime(), (T + 60) * 1000, 'again, from the cache');
  at(T + 60);
  t.equal(detailOf(() => verify(token)), 'the token has expired');
});

t.test('a token not valid yet is refused, then taken once its nbf has come', async (t) => {
  const { verify, at } = verifierAt(T);
  const token = sign({ ...claims, nbf: T + 10, iat: T, exp: T + 60 });
  t.match(detailOf(() => verify(token)), /not valid yet/);
  at(T + 10);
  t.equal(verify(token).principal.role, 'controller');
});

t.test('a refused signature stays refused, however often it is sent', async (t) => {
  const { verify } = verifierAt(T);
  const forged = createSigner({ key: 'another-secret-of-thirty-two-characters', algorithm: 'HS256' })({ ...claims, iat: T, exp: T + 60 });
  for (let i = 0; i < 3; i++) t.match(detailOf(() => verify(forged)), /signature that does not verify/);
});
