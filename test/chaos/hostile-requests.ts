/**
 * fast-check arbitraries of hostile HTTP requests against the ledger's documented routes:
 * bodies (wrong types, megabyte strings, deep nesting, `__proto__` and `constructor` keys,
 * invalid UTF-8, numbers past 2^53), headers (content types, auth schemes, tokens, sizes),
 * paths and queries (odd ids, traversal, unicode, bad numbers and cursors), and HTTP that
 * is not HTTP. A request is kept small to print: a megabyte is `{ repeat, times }`, raw
 * bytes are `{ bytes }`, a token is `{ token: name }`; `renderRequest` makes the bytes.
 */
import fc from 'fast-check';

/** A piece of a request's text. */
export type Part = string | { repeat: string; times: number } | { bytes: number[] } | { token: string };

/** A request made of parts: its method, target (path and query as sent), headers and body. */
export interface HostileRequest {
  method: string;
  target: Part[];
  headers: [string, Part[]][];
  body: Part[] | null;
  /** How the body is framed: by Content-Length (the default), or chunked. */
  framing?: 'length' | 'chunked';
}

/** Bytes sent as they are, no request line or header added: HTTP that is not HTTP. */
export interface RawBytes {
  raw: Part[];
}

export type Fuzzed = HostileRequest | RawBytes;

/** A documented operation, as the OpenAPI document names it. */
export interface FuzzOperation {
  operationId: string;
  method: string;
  /** With `{param}`s. */
  path: string;
  query: string[];
}

/** What the arbitraries draw from: the document's operations, the tokens' names, ids that exist. */
export interface FuzzContext {
  operations: readonly FuzzOperation[];
  /** The controller's first: the writer of most routes. */
  validTokens: readonly string[];
  hostileTokens: readonly string[];
  sessionId: string;
  userId: string;
  vmId: string;
}

const render = (parts: readonly Part[], tokens: Record<string, string>): Buffer =>
  Buffer.concat(
    parts.map((part) => {
      if (typeof part === 'string') return Buffer.from(part, 'utf8');
      if ('repeat' in part) return Buffer.from(part.repeat.repeat(part.times), 'utf8');
      if ('bytes' in part) return Buffer.from(part.bytes);
      const token = tokens[part.token];
      if (token === undefined) throw new Error(`no token named ${part.token}`);
      return Buffer.from(token, 'utf8');
    }),
  );

/** The bytes of a fuzzed request; `Connection: close` so that the server ends the exchange. */
export function renderRequest(fuzzed: Fuzzed, tokens: Record<string, string>): Buffer {
  if ('raw' in fuzzed) return render(fuzzed.raw, tokens);
  const { method, target, headers, body, framing = 'length' } = fuzzed;
  const content = body === null ? null : render(body, tokens);
  const lines = [Buffer.from(`${method} `), render(target, tokens), Buffer.from(' HTTP/1.1\r\n')];
  const named = new Set(headers.map(([name]) => name.toLowerCase()));
  if (!named.has('host')) lines.push(Buffer.from('Host: 127.0.0.1\r\n'));
  lines.push(Buffer.from('Connection: close\r\n'));
  for (const [name, value] of headers) lines.push(Buffer.from(`${name}: `), render(value, tokens), Buffer.from('\r\n'));
  if (content !== null && framing === 'length') lines.push(Buffer.from(`Content-Length: ${content.length}\r\n`));
  if (content !== null && framing === 'chunked') lines.push(Buffer.from('Transfer-Encoding: chunked\r\n'));
  lines.push(Buffer.from('\r\n'));
  if (content !== null && framing === 'chunked') {
    if (content.length > 0) lines.push(Buffer.from(`${content.length.toString(16)}\r\n`), content, Buffer.from('\r\n'));
    lines.push(Buffer.from('0\r\n\r\n'));
  } else if (content !== null) lines.push(content);
  return Buffer.concat(lines);
}

// ---- values ---------------------------------------------------------------------------------

const big = (min: number, max: number, repeat = 'x') => fc.integer({ min, max }).map((times): Part => ({ repeat, times }));

/** Bytes that are not UTF-8: lone continuation bytes, overlongs, surrogates, truncated sequences. */
const invalidUtf8 = fc.constantFrom<Part>(
  { bytes: [0xff] },
  { bytes: [0xfe, 0xff] },
  { bytes: [0xc3, 0x28] },
  { bytes: [0xc0, 0xaf] },
  { bytes: [0xed, 0xa0, 0x80] },
  { bytes: [0xf0, 0x9f, 0x92] },
  { bytes: [0x80] },
  { bytes: [0x00] },
);

/** A path segment where an id goes: ids that exist, valid ones that do not, and odd ones. */
function idArb(context: FuzzContext): fc.Arbitrary<Part[]> {
  return fc.oneof(
    fc.constantFrom<Part[]>([context.sessionId], [context.vmId], ['no-such-session']),
    fc.uuid().map((id): Part[] => [id]),
    fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,40}$/).map((id): Part[] => [id]),
    fc.constantFrom<Part[]>(
      [''],
      ['.'],
      ['..'],
      ['%2e%2e'],
      ['%2E%2E%2F%2E%2E%2Fpackage.json'],
      ['..%2F..%2Fpackage.json'],
      ['..%5C..%5Cpackage.json'],
      ['%00'],
      ['%ZZ'],
      ['%'],
      ['%c3%28'],
      ['%ff%fe'],
      ['%ed%a0%80'],
      ['__proto__'],
      ['constructor'],
      ['prototype'],
      ['é'],
      ['%C3%A9'],
      ['💥'],
      ['%F0%9F%92%A5'],
      [';'],
      ['*'],
      ['a;b=c'],
      ['%20'],
      ['%0d%0aSet-Cookie:%20x=1'],
      ['a'.repeat(129)],
    ),
    fc.tuple(big(100, 3000, 'a')).map((parts): Part[] => parts),
    invalidUtf8.map((bytes): Part[] => ['s-', bytes]),
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }).map((text): Part[] => [encodeURIComponent(text)]),
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }).map((text): Part[] => [text.replace(/[\s?#/]/g, '')]),
  );
}

const QUERY_KEYS = ['after', 'asOf', 'limit', 'cursor', 'userId', 'status', 'provider', 'since', 'until', 'ticket', 'lastEventId', 'sessionId'];

const base64url = (text: string) => Buffer.from(text).toString('base64url');

/** A query value: numbers that are not, or too large; times that are not; cursors that are not. */
const queryValueArb: fc.Arbitrary<Part[]> = fc.oneof(
  fc.constantFrom<Part[]>(
    ['-1'],
    ['1e9'],
    ['1e400'],
    ['garbage'],
    [''],
    ['0'],
    ['00'],
    ['1.5'],
    ['0x10'],
    ['NaN'],
    ['Infinity'],
    ['9007199254740993'],
    ['99999999999999999999'],
    ['18446744073709551616'],
    ['2024-02-30T00:00:00Z'],
    ['2024-01-01T00:00:00Z'],
    ['2024-01-01T00:00:00+25:00'],
    ['9999-12-31T23:59:59.999Z'],
    ['0000-01-01T00:00:00Z'],
    ['true'],
    ['null'],
    ['%00'],
    ['%ZZ'],
    ['[]'],
    ['{}'],
    ['pending'],
    ['completed'],
    ['gemini'],
    ['%F0%9F%92%A5'],
    [base64url('[1,"x"]')],
    [base64url('[9007199254740993,"x"]')],
    [base64url('[1e400,"x"]')],
    [base64url('{"__proto__":{"x":1}}')],
    [base64url('[1]')],
    [base64url('"x"')],
    [base64url('not json')],
    ['====='],
    ['a.b.c'],
  ),
  big(200, 9000, 'A').map((part): Part[] => [part]),
  fc.nat().map((n): Part[] => [String(n)]),
  fc.string({ maxLength: 20 }).map((text): Part[] => [encodeURIComponent(text)]),
  invalidUtf8.map((bytes): Part[] => [bytes]),
);

function queryArb(keys: readonly string[]): fc.Arbitrary<Part[]> {
  const key = fc.oneof(fc.constantFrom(...keys, ...QUERY_KEYS), fc.constantFrom('__proto__', 'constructor', 'debug', 'after[]', 'a[b]', ''));
  return fc.array(fc.tuple(key, queryValueArb), { maxLength: 3 }).map((pairs) => {
    const parts: Part[] = [];
    pairs.forEach(([name, value], index) => parts.push(index === 0 ? '?' : '&', name, '=', ...value));
    return parts;
  });
}

// ---- bodies ---------------------------------------------------------------------------------

/** A body each operation takes, valid but for what the fuzzer then changes; null for none. */
function validBodyArb(operation: FuzzOperation, context: FuzzContext): fc.Arbitrary<Record<string, unknown> | null> {
  const { userId, sessionId, vmId } = context;
  switch (operation.operationId) {
    case 'startSession':
      return fc.uuid().map((id) => ({ userId, provider: 'gemini', browserVmId: `vm-${id}` }));
    case 'recordFact':
      return fc.tuple(
        fc.uuid(),
        fc.constantFrom<[string, Record<string, unknown>]>(
          ['CredentialsStored', { provider: 'gemini', credentialRef: 'cred-fuzz' }],
          ['SessionFailed', { reason: 'consentDenied', errorMessage: 'The user denied consent' }],
          ['VmDestroyed', { vmId, reason: 'VM cleaned up' }],
          ['SessionCancelled', { cancelledBy: userId }],
        ),
      ).map(([eventId, [type, data]]) => ({ type, eventId, data }));
    case 'recordVmDestroyed':
      return fc.uuid().map((eventId) => ({ reason: 'VM cleaned up', eventId }));
    case 'completeLegacySession':
      return fc.constant({ credentialRef: 'cred-fuzz' });
    case 'issueWatchTicket':
      return fc.constant({ sessionId });
    default:
      return fc.constant(operation.method === 'POST' ? {} : null);
  }
}

/** A value where another was expected: of another type, or of the right type but not one the ledger takes. */
function wrongValueArb(context: FuzzContext): fc.Arbitrary<string> {
  return fc.oneof(
    {
      weight: 2,
      arbitrary: fc
        .oneof(
          fc.constantFrom('gemini', 'bard', 'x', '', ' ', 'consentDenied', context.sessionId, 'other-session', context.userId, '2020-01-01T00:00:00Z', '../x'),
          fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,10}$/),
          fc.string({ maxLength: 8 }),
        )
        .map((text) => JSON.stringify(text)),
    },
    fc.constantFrom('null', 'true', '0', '-1', '1.5', '[]', '{}', '9007199254740993', '1e400', '-0', '"\\u0000"', '"\\ud800"', '{"__proto__":{"x":1}}'),
    fc.jsonValue({ maxDepth: 2 }).map((value) => JSON.stringify(value)),
  );
}

/** A valid body with one key changed, removed or added; its JSON text. */
function mutatedBodyArb(valid: Record<string, unknown>, context: FuzzContext): fc.Arbitrary<Part[]> {
  const wrongValue = wrongValueArb(context);
  const keys = Object.keys(valid);
  const dataKeys = Object.keys((valid.data as Record<string, unknown> | undefined) ?? {});
  const json = (value: unknown) => JSON.stringify(value);
  const arbs: fc.Arbitrary<Part[]>[] = [
    fc.constant([json(valid)]),
    // A key given the text of another value: JSON.stringify cannot write 1e400 or a lone surrogate.
    fc.tuple(fc.constantFrom(...keys, 'expectedRevision', 'eventId'), wrongValue).map(([key, value]): Part[] => {
      const rest = json({ ...valid, [key]: undefined }).slice(1);
      return [`{"${key}":${value}${rest === '}' ? '' : ','}${rest}`];
    }),
    fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'accessToken', 'refreshToken').map((key): Part[] => [
      `{"${key}":{"role":"controller","prototype":{"polluted":true}}${keys.length > 0 ? ',' : ''}${json(valid).slice(1)}`,
    ]),
  ];
  if (keys.length > 0) arbs.push(fc.constantFrom(...keys).map((key): Part[] => [json({ ...valid, [key]: undefined })]));
  if (dataKeys.length > 0) {
    // Most often a fact's data: where the ledger's own rules (the providers configured) come after the schema's.
    const dataChanged = fc.tuple(fc.constantFrom(...dataKeys, '__proto__', 'constructor', 'sessionId'), wrongValue).map(([key, value]): Part[] => {
      const data = valid.data as Record<string, unknown>;
      const rest = json({ ...data, [key]: undefined }).slice(1);
      return [`${json({ ...valid, data: undefined }).slice(0, -1)},"data":{"${key}":${value}${rest === '}' ? '' : ','}${rest}}`];
    });
    return fc.oneof({ weight: arbs.length, arbitrary: dataChanged }, ...arbs);
  }
  return fc.oneof(...arbs);
}

/** Bodies no valid one resembles: not JSON, too deep, too large, not UTF-8, numbers JSON cannot hold. */
function hostileBodyArb(valid: Record<string, unknown> | null): fc.Arbitrary<Part[]> {
  const json = valid === null ? '{}' : JSON.stringify(valid);
  const withString = (key: string, value: Part): Part[] => [`{"${key}":"`, value, `",${json.slice(1)}`];
  return fc.oneof(
    fc.constantFrom<Part[]>(
      [''],
      ['null'],
      ['[]'],
      ['"x"'],
      ['1e400'],
      ['9007199254740993'],
      ['{'],
      ['{"a":1,}'],
      ['\ufeff' + json],
      [json.replace('{', '{"type":"SessionStarted",')],
      [json + json],
      [json.slice(0, -1)],
      ['{"expectedRevision":9007199254740993}'],
      [`${json.slice(0, -1)},"expectedRevision":9007199254740993}`],
      [`${json.slice(0, -1)},"expectedRevision":"99999999999999999999"}`],
      [`${json.slice(0, -1)},"limit":1e400}`],
      ['{"__proto__":{"__proto__":{"polluted":true}}}'],
      ['{"constructor":{"prototype":{"polluted":true}}}'],
      ['reason=x&eventId=y'],
      ['\u0000'],
    ),
    // Deep nesting: arrays, objects, and as the value of a real key.
    fc.integer({ min: 1, max: 20_000 }).map((depth): Part[] => [{ repeat: '[', times: depth }, { repeat: ']', times: depth }]),
    fc.integer({ min: 1, max: 5_000 }).map((depth): Part[] => [{ repeat: '{"a":', times: depth }, '1', { repeat: '}', times: depth }]),
    fc.integer({ min: 1, max: 5_000 }).map((depth): Part[] => [`${json.slice(0, -1)},"data":`, { repeat: '[', times: depth }, { repeat: ']', times: depth }, '}']),
    // Megabyte strings, in a real key and alone.
    big(1 << 20, 2 << 20).map((part) => withString('credentialRef', part)),
    big(1 << 20, 2 << 20).map((part): Part[] => ['"', part, '"']),
    big(16_000, 17_000).map((part) => withString('reason', part)),
    // Invalid UTF-8 in a string, in a key, and bare.
    invalidUtf8.map((bytes) => withString('userId', bytes)),
    invalidUtf8.map((bytes): Part[] => ['{"', bytes, `":1,${json.slice(1)}`]),
    invalidUtf8.map((bytes): Part[] => [bytes, json]),
    fc.jsonValue({ maxDepth: 3 }).map((value): Part[] => [JSON.stringify(value)]),
    fc.string({ maxLength: 40 }).map((text): Part[] => [text]),
  );
}

// ---- headers --------------------------------------------------------------------------------

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=latin1',
  'application/json; charset=utf-16',
  'application/json;charset="utf-8"',
  'APPLICATION/JSON',
  'application/json, text/plain',
  'application/json; boundary=x; charset=utf-8; x=y',
  'application/problem+json',
  'application/jsonx',
  'application/vnd.api+json',
  'application/*',
  '*/*',
  'text/plain',
  'text/html',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  '',
  ';',
  'json',
];

/** The Authorization header, or none, or two: every scheme and token. */
function authorizationArb(tokens: fc.Arbitrary<string>): fc.Arbitrary<[string, Part[]][]> {
  const token = tokens.map((name): Part => ({ token: name }));
  return fc.oneof(
    token.map((t): [string, Part[]][] => [['Authorization', ['Bearer ', t]]]),
    fc.tuple(fc.constantFrom('bearer ', 'BEARER ', 'Bearer  ', 'Bearer\t', 'Basic ', 'Token ', 'JWT ', 'Digest username=', '', ' Bearer '), token).map(
      ([scheme, t]): [string, Part[]][] => [['Authorization', [scheme, t]]],
    ),
    token.map((t): [string, Part[]][] => [['Authorization', ['Bearer ', t, ' ', t]]]),
    fc.constantFrom<[string, Part[]][]>(
      [],
      [['Authorization', ['Bearer']]],
      [['Authorization', ['Bearer ']]],
      [['Authorization', ['']]],
      [['Authorization', ['Basic dXNlcjpwYXNz']]],
      [['Authorization', ['Bearer ', { repeat: 'a', times: 9000 }]]],
    ),
    fc.tuple(token, token).map(([a, b]): [string, Part[]][] => [
      ['Authorization', ['Bearer ', a]],
      ['Authorization', ['Bearer ', b]],
    ]),
    fc.tuple(token, fc.boolean()).map(([t, alsoBearer]): [string, Part[]][] => [
      ['Cookie', ['ledger_console=', t]],
      ...(alsoBearer ? [['Authorization', ['Bearer ', t]] as [string, Part[]]] : []),
    ]),
    big(17_000, 70_000, 'a').map((part): [string, Part[]][] => [['Authorization', ['Bearer ', part]]]),
  );
}

/** Headers besides the body's type and the credentials. */
const otherHeadersArb: fc.Arbitrary<[string, Part[]][]> = fc.array(
  fc.oneof(
    fc.constantFrom<[string, Part[]]>(
      ['Accept', ['text/event-stream']],
      ['Accept', ['application/json']],
      ['Accept', ['text/html']],
      ['Accept', ['application/xml;q=1, */*;q=0']],
      ['Accept', ['garbage']],
      ['Last-Event-ID', ['-1']],
      ['Last-Event-ID', ['99999999999999999999']],
      ['Last-Event-ID', ['abc']],
      ['Last-Event-ID', ['1']],
      ['Expect', ['100-continue']],
      ['Expect', ['the unexpected']],
      ['Origin', ['http://evil.example']],
      ['Accept-Encoding', ['gzip, br']],
      ['Content-Encoding', ['gzip']],
      ['X-Forwarded-For', ['1.2.3.4']],
      ['If-None-Match', ['*']],
      ['Range', ['bytes=0-1']],
      ['Range', ['bytes=99999999-']],
      ['Host', ['']],
      ['Host', ['evil.example']],
      ['Host', ['127.0.0.1:99999']],
      ['Transfer-Encoding', ['gzip, chunked']],
      ['Connection', ['Upgrade']],
      ['Upgrade', ['websocket']],
      ['Upgrade', ['h2c']],
    ),
    fc.tuple(fc.constantFrom('X-Fuzz', 'Accept', 'User-Agent', 'Referer', 'Cookie'), big(17_000, 70_000)).map(([name, part]): [string, Part[]] => [name, [part]]),
    fc.tuple(fc.constantFrom('X-Fuzz', 'Accept', 'Last-Event-ID', 'Cookie'), invalidUtf8).map(([name, bytes]): [string, Part[]] => [name, ['v', bytes]]),
  ),
  { maxLength: 2 },
);

// ---- requests -------------------------------------------------------------------------------

const ODD_METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'TRACE', 'FOO', 'get', 'PROPFIND', 'M-SEARCH'];

/** The target of an operation with its path parameters drawn, and a query. */
function targetArb(operation: FuzzOperation, context: FuzzContext, { odd }: { odd: boolean }): fc.Arbitrary<Part[]> {
  const names = [...operation.path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]!);
  const known = (name: string): Part[] => [name === 'vmId' ? context.vmId : context.sessionId];
  const param = (name: string) => (odd ? idArb(context) : fc.oneof({ weight: 3, arbitrary: fc.constant(known(name)) }, { weight: 1, arbitrary: idArb(context) }));
  return fc.tuple(fc.tuple(...names.map(param)), odd ? queryArb(operation.query) : fc.oneof(fc.constant<Part[]>([]), queryArb(operation.query))).map(([values, query]) => {
    const parts: Part[] = [];
    let rest = operation.path;
    names.forEach((name, index) => {
      const [before, after] = rest.split(`{${name}}`) as [string, string];
      parts.push(before, ...values[index]!);
      rest = after;
    });
    parts.push(rest, ...query);
    return parts;
  });
}

/** A request to a documented operation, its token from `tokens`, its body and headers hostile or not. */
function requestToArb(
  context: FuzzContext,
  {
    operations = context.operations,
    tokens,
    body: hostileBody,
    oddTarget,
    headers: hostileHeaders,
  }: { operations?: readonly FuzzOperation[]; tokens: fc.Arbitrary<string>; body: boolean; oddTarget: boolean; headers: boolean },
): fc.Arbitrary<HostileRequest> {
  return fc.constantFrom(...operations).chain((operation) => {
    const bodyArb: fc.Arbitrary<Part[] | null> = validBodyArb(operation, context).chain((valid) =>
      valid === null
        ? fc.constant(null)
        : hostileBody
          ? fc.oneof({ weight: 3, arbitrary: mutatedBodyArb(valid, context) }, { weight: 2, arbitrary: hostileBodyArb(valid) }, { weight: 1, arbitrary: fc.constant(null) })
          : fc.constant([JSON.stringify(valid)]),
    );
    return fc
      .record({
        method: hostileHeaders ? fc.oneof({ weight: 4, arbitrary: fc.constant(operation.method) }, { weight: 1, arbitrary: fc.constantFrom(...ODD_METHODS) }) : fc.constant(operation.method),
        target: targetArb(operation, context, { odd: oddTarget }),
        authorization: hostileHeaders ? authorizationArb(tokens) : tokens.map((name): [string, Part[]][] => [['Authorization', ['Bearer ', { token: name }]]]),
        contentType: hostileHeaders ? fc.option(fc.constantFrom(...CONTENT_TYPES), { nil: undefined }) : fc.constant('application/json'),
        others: hostileHeaders ? otherHeadersArb : fc.constant([]),
        body: bodyArb,
        framing: fc.constantFrom<'length' | 'chunked'>('length', 'length', 'length', 'chunked'),
      })
      .map(({ method, target, authorization, contentType, others, body, framing }) => ({
        method,
        target,
        headers: [...authorization, ...(body !== null && contentType !== undefined ? [['Content-Type', [contentType]] as [string, Part[]]] : []), ...others],
        body,
        framing,
      }));
  });
}

/**
 * Every documented route that takes a body, with hostile bodies. Mostly with the controller's
 * token: a token the route refuses is answered before the body is read.
 */
export const hostileBodies = (context: FuzzContext) =>
  requestToArb(context, {
    operations: context.operations.filter((operation) => operation.method !== 'GET'),
    tokens: fc.oneof({ weight: 3, arbitrary: fc.constant(context.validTokens[0]!) }, { weight: 2, arbitrary: fc.constantFrom(...context.validTokens) }),
    body: true,
    oddTarget: false,
    headers: false,
  });

/** Every documented route, with hostile tokens, schemes, content types and headers. */
export const hostileHeaders = (context: FuzzContext) =>
  requestToArb(context, {
    tokens: fc.oneof(fc.constantFrom(...context.validTokens), fc.constantFrom(...context.hostileTokens)),
    body: false,
    oddTarget: false,
    headers: true,
  });

/** Every documented route with odd ids and queries, and paths no route has: traversal, encodings, sizes. */
export function hostileTargets(context: FuzzContext): fc.Arbitrary<HostileRequest> {
  const documented = requestToArb(context, { tokens: fc.constantFrom(...context.validTokens), body: false, oddTarget: true, headers: false });
  const segment: fc.Arbitrary<Part[]> = fc.oneof(
    fc.constantFrom('v1', 'sessions', 'api', 'auth', 'session', 'console', 'example', 'docs', 'static', 'json', '..', '.', '%2e%2e', '%2f', '%5c', '', 'package.json').map((name): Part[] => [name]),
    idArb(context),
  );
  const undocumented = fc
    .tuple(
      fc.oneof(
        fc.constantFrom<Part[]>(
          ['/console/../package.json'],
          ['/console/%2e%2e/package.json'],
          ['/console/..%2fpackage.json'],
          ['/console/%2e%2e%2f%2e%2e%2fetc%2fpasswd'],
          ['/console/.%2e/.%2e/package.json'],
          ['/console/%252e%252e/package.json'],
          ['/console/index.html%00.json'],
          ['/console/%00'],
          ['/console/%ZZ'],
          ['/console/', { repeat: 'a', times: 3000 }],
          ['/example/../../package.json'],
          ['/example/%2e%2e/%2e%2e/package.json'],
          ['/example/..%5c..%5cpackage.json'],
          ['/example/%c0%ae%c0%ae/package.json'],
          ['/example'],
          ['/console'],
          ['/docs/../package.json'],
          ['/docs/static/%2e%2e/%2e%2e/package.json'],
          ['/docs/json'],
          ['/docs/yaml'],
          ['//etc/passwd'],
          ['/%2e%2e/%2e%2e/package.json'],
          ['/\\..\\package.json'],
          ['/v1/../v1/sessions'],
          ['/v1//sessions'],
          ['/V1/SESSIONS'],
          ['/v1/sessions/'],
          ['/v1/sessions/%2F/events'],
          ['/v1/sessions#fragment'],
          ['*'],
          ['v1/sessions'],
          ['http://127.0.0.1/v1/sessions'],
          ['/?', { repeat: 'a=1&', times: 2000 }],
          ['/v1/sessions?', { repeat: 'limit=1&', times: 1500 }],
          ['/', { bytes: [0xff, 0xfe] }],
          ['/v1/sessions/', { bytes: [0xc3, 0x28] }],
        ),
        fc.array(segment, { minLength: 1, maxLength: 5 }).map((segments): Part[] => segments.flatMap((parts) => ['/', ...parts])),
      ),
      fc.constantFrom('GET', 'GET', 'POST', 'HEAD', 'DELETE'),
      fc.constantFrom(...context.validTokens),
    )
    .map(([target, method, token]): HostileRequest => ({ method, target, headers: [['Authorization', ['Bearer ', { token }]]], body: null }));
  return fc.oneof(documented, undocumented);
}

/** Bytes that are HTTP/1.1 gone wrong: request lines, headers and framing a parser must refuse. */
export function malformedHttp(context: FuzzContext): fc.Arbitrary<RawBytes> {
  const path = `/v1/sessions/${context.sessionId}`;
  const auth: Part[] = ['Authorization: Bearer ', { token: context.validTokens[0]! }, '\r\n'];
  return fc.oneof(
    fc.constantFrom<Part[]>(
      ['GARBAGE\r\n\r\n'],
      [`get ${path} HTTP/1.1\r\nHost: x\r\n\r\n`],
      [`GET ${path} HTTP/2.0\r\nHost: x\r\n\r\n`],
      [`GET ${path} HTTP/9.9\r\nHost: x\r\n\r\n`],
      [`GET ${path} HTTP/1.0\r\n`, ...auth, '\r\n'],
      [`GET ${path}\r\n\r\n`],
      ['PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'],
      [`GET ${path} HTTP/1.1\r\n\r\n`],
      [`GET ${path} HTTP/1.1\nHost: x\n\n`],
      [`GET ${path} HTTP/1.1\r\nHost: x\r\nNo-Colon\r\n\r\n`],
      [`GET ${path} HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n`],
      [`GET ${path} HTTP/1.1\r\nHost: x\r\nX: a\r\n folded\r\n\r\n`],
      [`GET ${path} HTTP/1.1\r\nHost: x\r\nX: a\u0000b\r\n\r\n`],
      [`GET ${path} HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n`],
      [`POST /v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`],
      [`POST /v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}`],
      [`POST /v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n`],
      [`POST /v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n`],
      [`POST /v1/sessions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n{}\r\n0\r\n\r\n`],
      [`POST /v1/sessions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n`, ...auth, '\r\n2\r\n{}\r\n0\r\n\r\n'],
      [`CONNECT 127.0.0.1:80 HTTP/1.1\r\nHost: x\r\n\r\n`],
      [`OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n`],
      [`GET http://evil.example${path} HTTP/1.1\r\nHost: x\r\n`, ...auth, '\r\n'],
      [`GET /v1/sessions/a b HTTP/1.1\r\nHost: x\r\n\r\n`],
      [`GET /v1/sessions/\u0000 HTTP/1.1\r\nHost: x\r\n\r\n`],
      ['GET /', { repeat: 'a', times: 20_000 }, ' HTTP/1.1\r\nHost: x\r\n\r\n'],
      [`GET ${path} HTTP/1.1\r\nHost: x\r\n`, { repeat: 'X-A: b\r\n', times: 3000 }, '\r\n'],
    ),
    // Not starting with a line break: a parser skips those before a request line, and waits for one.
    fc
      .tuple(fc.string({ minLength: 1, maxLength: 30 }), fc.string({ maxLength: 30 }))
      .filter(([line]) => !/^[\r\n]/.test(line))
      .map(([line, header]): Part[] => [`${line}\r\n${header}\r\n\r\n`]),
    fc.tuple(fc.constantFrom('GET', 'POST'), invalidUtf8).map(([method, bytes]): Part[] => [`${method} /v1/sessions/`, bytes, ' HTTP/1.1\r\nHost: x\r\n', ...auth, '\r\n']),
    fc
      .uint8Array({ minLength: 1, maxLength: 64 })
      .filter((bytes) => bytes[0] !== 0x0d && bytes[0] !== 0x0a)
      .map((bytes): Part[] => [{ bytes: [...bytes] }, '\r\n\r\n']),
  ).map((raw) => ({ raw }));
}
