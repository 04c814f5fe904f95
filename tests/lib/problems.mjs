// The one check of an RFC 9457 answer, for every suite.
//
//   import { assertProblem } from '../lib/problems.mjs';
//   assertProblem(res, 422, { fields: ['head.birth_date'] });
//   assertProblem(res, 404, { path: '/v1/households/x', what: 'unknown id' });
//   assertProblem(res);                  // any 4xx/5xx problem, e.g. after a fuzzed request
//
// It asserts: the status (when given), Content-Type application/problem+json, a JSON object
// whose `status` is the answer's, whose `type` is the one of that status (/problems/<slug>),
// a string `title` and `detail`, `instance` a string (the request path when `path` is given),
// `request_id` equal to the X-Request-Id header, no leak of SQL, PostgreSQL messages, file
// paths or crash reports in the members the service wrote; then, when given, an entry of
// `errors` naming each of `fields`, and `detail` matching a RegExp or equal to a string.
// Returns the problem (the parsed body).
import assert from 'node:assert/strict';

/** The problem type of each status. */
export const PROBLEM_TYPE = {
  400: '/problems/bad-request',
  401: '/problems/unauthorized',
  403: '/problems/forbidden',
  404: '/problems/not-found',
  405: '/problems/method-not-allowed',
  409: '/problems/conflict',
  410: '/problems/gone',
  412: '/problems/precondition-failed',
  413: '/problems/payload-too-large',
  415: '/problems/unsupported-media-type',
  422: '/problems/validation',
  429: '/problems/rate-limited',
  500: '/problems/internal',
  503: '/problems/unavailable',
};

const LEAKS = [
  [/\b(SELECT|INSERT INTO|UPDATE \w+ SET|DELETE FROM|WHERE \w+ =|ON CONFLICT)\b/, 'SQL text'],
  [/\bDETAIL:|\bHINT:|\bSTATEMENT:|\bCONTEXT:/, 'a PostgreSQL DETAIL/HINT/STATEMENT line'],
  [/duplicate key value|violates (unique|check|foreign key|not-null) constraint|invalid input syntax|syntax error at or near/i, 'a PostgreSQL error message'],
  [/SQLSTATE|PGRES_|libpq|pq_|relation "\w+"/i, 'database internals'],
  [/(^|[\s"'(=])\/(work|home|root|usr|tmp|var|etc|opt)\/[\w./-]+/, 'a file path'],
  [/\b[\w/-]+\.(c|h|cc|cpp):\d+/, 'a source location'],
  [/AddressSanitizer|runtime error:|Segmentation fault|stack trace|backtrace|#\d+ 0x[0-9a-f]+/i, 'a crash report'],
];

/** The leak patterns a text matches: [] when clean. */
export function leaksIn(text) {
  return LEAKS.filter(([re]) => re.test(text)).map(([, what]) => what);
}

/** See the header of this file. `status` undefined or null: any status >= 400. */
export function assertProblem(res, status, { fields = [], path, detail, what = '' } = {}) {
  const label = () => `${what}${what ? ': ' : ''}${path ? `${path}: ` : ''}${res.status} ${String(res.text ?? res.error ?? '').slice(0, 800)}`;
  if (status === undefined || status === null) assert.ok(res.status >= 400, `${label()}: expected a 4xx/5xx problem`);
  else assert.equal(res.status, status, `${label()}: expected ${status}`);
  assert.match(res.headers['content-type'] ?? '', /^application\/problem\+json/, `${label()}: problem+json`);
  const p = res.json;
  assert.ok(p && typeof p === 'object' && !Array.isArray(p), `${label()}: a JSON problem`);
  assert.equal(p.status, res.status, `${label()}: problem status`);
  if (PROBLEM_TYPE[res.status]) assert.equal(p.type, PROBLEM_TYPE[res.status], `${label()}: problem type`);
  else assert.match(p.type ?? '', /^\/problems\/[a-z-]+$/, `${label()}: problem type`);
  assert.equal(typeof p.title, 'string', `${label()}: title`);
  assert.equal(typeof p.detail, 'string', `${label()}: detail`);
  assert.equal(p.request_id, res.headers['x-request-id'], `${label()}: request_id = X-Request-Id`);
  assert.equal(typeof p.instance, 'string', `${label()}: instance`);
  if (path !== undefined) assert.equal(p.instance, path.split('?')[0], `${label()}: instance`);
  // `instance` is the caller's own request path, echoed: the caller's own text is no leak
  const { instance, ...rest } = p;
  assert.deepEqual(leaksIn(JSON.stringify(rest)), [], `${label()}: leaks`);
  for (const f of typeof fields === 'string' ? [fields] : fields) {
    assert.ok(
      Array.isArray(p.errors) && p.errors.some((e) => e.field === f),
      `${label()}: no error with field ${JSON.stringify(f)}`,
    );
  }
  if (detail instanceof RegExp) assert.match(p.detail, detail, `${label()}: detail`);
  else if (detail !== undefined) assert.equal(p.detail, detail, `${label()}: detail`);
  return p;
}

/** Asserts: not a 5xx, and a problem (assertProblem) when >= 400. */
export function assertSane(res, what = '') {
  assert.ok(res.status < 500, `${what}: ${res.status} ${String(res.text).slice(0, 300)}`);
  if (res.status >= 400) assertProblem(res, undefined, { what });
}
