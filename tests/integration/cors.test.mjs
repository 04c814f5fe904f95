// CORS (LDA_CORS_ORIGINS): a browser app served from a configured origin may call the
// API; any other origin gets no Access-Control-Allow-Origin, and so cannot read the answers.
//
// Preflights (OPTIONS) are not operations of openapi.yaml, so they are sent without the
// contract check (validate: false); the other requests are checked against the contract.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startService } from '../lib/service.mjs';

const APP = 'https://app.example.org';
const ADMIN = 'https://admin.example.org';
const OTHER = 'https://intrus.example.net';

let svc; // LDA_CORS_ORIGINS=APP,ADMIN
let plain; // no LDA_CORS_ORIGINS
let coordinator;

before(async () => {
  [svc, plain] = await Promise.all([
    startService({ env: { LDA_CORS_ORIGINS: `${APP},${ADMIN}` } }),
    startService({ env: { LDA_CORS_ORIGINS: undefined } }),
  ]);
  coordinator = await svc.createToken('coordinator', { platforms: ['artois'], name: 'cors-coordinator' });
});

after(async () => {
  await Promise.all([svc?.stop(), plain?.stop()]);
});

/** An OPTIONS request as a browser sends it before a cross-origin call. */
async function preflight(service, path, { origin, method = 'POST', headers = 'authorization,content-type' } = {}) {
  const h = {};
  if (origin !== undefined) h.Origin = origin;
  if (method !== undefined) h['Access-Control-Request-Method'] = method;
  if (headers !== undefined) h['Access-Control-Request-Headers'] = headers;
  const res = await service.api('OPTIONS', path, { headers: h, timeout: 10_000, validate: false });
  return { status: res.status, headers: res.headers, text: res.text };
}

/** A header holding a comma-separated list, as lower-case items. */
function listOf(headers, name) {
  return (headers[name] ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
}

function assertNoCors(headers, what) {
  for (const name of [
    'access-control-allow-origin',
    'access-control-allow-methods',
    'access-control-allow-headers',
    'access-control-expose-headers',
    'access-control-allow-credentials',
  ]) {
    assert.equal(headers[name], undefined, `${what}: unexpected ${name}: ${headers[name]}`);
  }
}

test('preflight_from_a_listed_origin_allows_the_method_and_the_headers', async () => {
  const res = await preflight(svc, '/v1/referrals', { origin: APP });
  assert.equal(res.status, 204, res.text);
  assert.equal(res.text, '');
  assert.equal(res.headers['access-control-allow-origin'], APP);
  assert.ok(listOf(res.headers, 'vary').includes('origin'), `Vary: ${res.headers.vary}`);
  const methods = listOf(res.headers, 'access-control-allow-methods');
  for (const m of ['get', 'post']) assert.ok(methods.includes(m), `Allow-Methods lacks ${m}: ${methods}`);
  const allowed = listOf(res.headers, 'access-control-allow-headers');
  for (const h of ['authorization', 'content-type', 'if-match', 'idempotency-key']) {
    assert.ok(allowed.includes(h), `Allow-Headers lacks ${h}: ${res.headers['access-control-allow-headers']}`);
  }
  assert.notEqual(res.headers['access-control-allow-origin'], '*');
  // Bearer tokens, no cookies: credentials mode is never needed.
  assert.equal(res.headers['access-control-allow-credentials'], undefined);
});

test('preflight_echoes_each_listed_origin_not_the_first_one', async () => {
  const res = await preflight(svc, '/v1/referrals', { origin: ADMIN, method: 'GET', headers: 'authorization' });
  assert.equal(res.status, 204, res.text);
  assert.equal(res.headers['access-control-allow-origin'], ADMIN);
});

test('preflight_for_a_patch_lists_patch_and_if_match', async () => {
  const res = await preflight(svc, '/v1/referrals/3f8e2a61-5b7c-4d2e-9a1f-0c6b8d4e7f12', {
    origin: APP,
    method: 'PATCH',
    headers: 'authorization,content-type,if-match',
  });
  assert.equal(res.status, 204, res.text);
  assert.equal(res.headers['access-control-allow-origin'], APP);
  assert.ok(listOf(res.headers, 'access-control-allow-methods').includes('patch'), res.headers['access-control-allow-methods']);
  assert.ok(listOf(res.headers, 'access-control-allow-headers').includes('if-match'));
});

test('preflight_needs_no_token', async () => {
  // A browser never sends Authorization on a preflight: it must not answer 401.
  const res = await preflight(svc, '/v1/observatory/youth', { origin: APP, method: 'GET', headers: 'authorization' });
  assert.equal(res.status, 204, res.text);
  assert.equal(res.headers['access-control-allow-origin'], APP);
});

test('simple_get_from_a_listed_origin_exposes_the_headers_a_client_reads', async () => {
  const res = await svc.api('GET', '/v1/platforms', { headers: { Origin: APP } });
  assert.equal(res.status, 200);
  assert.equal(res.headers['access-control-allow-origin'], APP);
  assert.ok(listOf(res.headers, 'vary').includes('origin'), `Vary: ${res.headers.vary}`);
  const exposed = listOf(res.headers, 'access-control-expose-headers');
  for (const h of ['etag', 'location', 'x-request-id']) {
    assert.ok(exposed.includes(h), `Expose-Headers lacks ${h}: ${res.headers['access-control-expose-headers']}`);
  }
});

test('errors_carry_cors_headers_so_the_app_can_read_the_problem', async () => {
  const res = await svc.api('GET', '/v1/referrals', { headers: { Origin: APP } });
  assert.equal(res.status, 401);
  assert.equal(res.headers['access-control-allow-origin'], APP);
  assert.equal(res.json.status, 401);
});

test('statistics_from_a_listed_origin_expose_the_csv_file_name_and_the_grid_errors', async () => {
  // A dashboard on another origin downloads a grid question as CSV, and reads the 422 that
  // names the parameter of a question off the grid (a period of whole months only).
  const csv = await svc.api('GET', '/v1/stats/activity?from=2024-01-01&to=2024-12-31&platform=artois&format=csv', {
    token: coordinator,
    headers: { Origin: APP },
  });
  assert.equal(csv.status, 200, csv.text);
  assert.equal(csv.headers['access-control-allow-origin'], APP);
  assert.match(csv.headers['content-disposition'] ?? '', /attachment/);
  assert.ok(listOf(csv.headers, 'access-control-expose-headers').includes('content-disposition'));

  const off = await svc.api('GET', '/v1/stats/activity?from=2024-01-02&to=2024-12-31&platform=artois', {
    token: coordinator,
    headers: { Origin: APP },
  });
  assert.equal(off.status, 422, off.text);
  assert.equal(off.headers['access-control-allow-origin'], APP);
  assert.deepEqual(off.json.errors.map((e) => e.field), ['from']);
});

test('a_created_resource_exposes_location_and_etag_to_the_listed_origin', async () => {
  const res = await svc.api('POST', '/v1/partners', {
    token: coordinator,
    headers: { Origin: ADMIN },
    body: { name: 'CCAS de Béthune', kind: 'ccas', platform: 'artois' },
  });
  assert.equal(res.status, 201, res.text);
  assert.equal(res.headers['access-control-allow-origin'], ADMIN);
  assert.ok(res.headers.location, 'no Location');
  assert.ok(listOf(res.headers, 'access-control-expose-headers').includes('location'));
});

test('an_origin_not_listed_gets_no_cors_headers', async () => {
  const get = await svc.api('GET', '/v1/platforms', { headers: { Origin: OTHER } });
  assert.equal(get.status, 200);
  assertNoCors(get.headers, `GET with Origin ${OTHER}`);

  const pre = await preflight(svc, '/v1/referrals', { origin: OTHER });
  assertNoCors(pre.headers, `preflight with Origin ${OTHER}`);
});

test('origins_are_compared_whole_not_by_prefix_or_suffix', async () => {
  for (const origin of [
    `${APP}.intrus.example.net`,
    'https://app.example.or',
    'http://app.example.org',
    `${APP}:8443`,
    'null',
  ]) {
    const res = await svc.api('GET', '/v1/platforms', { headers: { Origin: origin } });
    assert.equal(res.status, 200);
    assertNoCors(res.headers, `Origin ${origin}`);
  }
});

test('a_request_without_origin_gets_no_cors_headers', async () => {
  const res = await svc.api('GET', '/v1/platforms');
  assert.equal(res.status, 200);
  assertNoCors(res.headers, 'no Origin');
});

test('without_LDA_CORS_ORIGINS_no_origin_is_allowed', async () => {
  const get = await plain.api('GET', '/v1/platforms', { headers: { Origin: APP } });
  assert.equal(get.status, 200);
  assertNoCors(get.headers, 'GET, CORS not configured');

  const pre = await preflight(plain, '/v1/referrals', { origin: APP });
  assertNoCors(pre.headers, 'preflight, CORS not configured');
});

test('preflight_on_an_unknown_path_is_404', async () => {
  const res = await preflight(svc, '/v1/nope', { origin: APP });
  assert.equal(res.status, 404, res.text);
  assert.match(res.headers['content-type'] ?? '', /^application\/problem\+json/);
  assert.equal(JSON.parse(res.text).status, 404);
  assert.equal(res.headers['access-control-allow-methods'], undefined);
});
