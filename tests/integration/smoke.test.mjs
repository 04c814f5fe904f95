// Proves the harness end to end: a migrated database, a live server, responses checked
// against openapi.yaml, a clean SIGTERM exit.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startService } from '../lib/service.mjs';

const PLATFORMS = ['artois', 'audomarois', 'boulonnais', 'lens_henin', 'montreuillois'];

let svc;
let token;

before(async () => {
  svc = await startService();
  token = await svc.createToken('admin', { name: 'smoke' });
});

after(async () => {
  await svc?.stop();
});

test('healthz_answers_200', async () => {
  const res = await svc.api('GET', '/healthz');
  assert.equal(res.status, 200);
});

test('readyz_answers_200_on_a_migrated_database', async () => {
  const res = await svc.api('GET', '/readyz');
  assert.equal(res.status, 200);
});

test('platforms_lists_the_five_platforms', async () => {
  const res = await svc.api('GET', '/v1/platforms', { token });
  assert.equal(res.status, 200);
  const codes = res.json.items.map((p) => p.code).sort();
  assert.deepEqual(codes, PLATFORMS);
});

test('unknown_route_is_404_problem_json', async () => {
  const res = await svc.api('GET', '/v1/nope', { token });
  assert.equal(res.status, 404);
  assert.match(res.headers['content-type'], /^application\/problem\+json/);
  assert.equal(res.json.status, 404);
});

test('every_response_carries_a_request_id', async () => {
  for (const path of ['/healthz', '/readyz', '/v1/platforms', '/v1/nope']) {
    const res = await svc.api('GET', path, { token });
    assert.ok(res.headers['x-request-id'], `${path}: no X-Request-Id`);
  }
});

test('a_client_request_id_is_echoed', async () => {
  const res = await svc.api('GET', '/healthz', { headers: { 'X-Request-Id': 'abc-123' } });
  assert.equal(res.headers['x-request-id'], 'abc-123');
});
