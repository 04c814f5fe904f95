// Headers and public routes.
//
//   1. X-Content-Type-Options: nosniff on every answer (success, refusal before the body,
//      404, 405, preflight, pages, assets, the OpenAPI document, metrics).
//   2. A Content Security Policy with frame-ancestors 'none' on /docs and /observatory.
//   3. RateLimit and RateLimit-Policy (IETF draft) on every answer to an authenticated
//      request, none on public ones.
//   4. /metrics needs an admin token on the service's address; LDA_METRICS_LISTEN serves it
//      without one (and nothing but /metrics and /healthz).
//   5. LDA_CORS_ORIGINS=* (or any origin not scheme://host[:port]) stops start-up.
//   6. The coordinators' e-mail addresses are not on the public routes unless the operator
//      publishes them (LDA_PUBLISH_COORDINATOR_EMAIL=true).
//   7. 413 on GET and DELETE with a body over the limit, as openapi.yaml documents it (every
//      answer here is checked against openapi.yaml).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startService, freePort, runBinary } from '../lib/service.mjs';
import { getContract } from '../lib/contract.mjs';
import { rawUpload, request } from '../lib/http.mjs';

describe('headers and public routes', () => {
  let svc;
  let tok;
  let metricsPort;

  before(async () => {
    metricsPort = await freePort();
    svc = await startService({ env: { LDA_METRICS_LISTEN: `127.0.0.1:${metricsPort}`, LDA_RATE_LIMIT_RPS: '50', LDA_RATE_LIMIT_BURST: '100' } });
    tok = { admin: await svc.createToken('admin'), coord: await svc.createToken('coordinator', { platforms: ['artois'] }) };
  });

  after(async () => {
    await svc?.stop();
  });

  test('nosniff on every answer; CSP with frame-ancestors on the pages; RateLimit on authenticated answers only', async (t) => {
    const probes = [
      ['GET', '/v1/platforms', {}, 'public'],
      ['GET', '/healthz', {}, 'public'],
      ['GET', '/openapi.yaml', {}, 'public'],
      ['GET', '/docs', {}, 'page'],
      ['GET', '/observatory', {}, 'page'],
      ['GET', '/assets/site.css', {}, 'public'],
      ['GET', '/nowhere', {}, 'public'],
      ['DELETE', '/v1/platforms', {}, 'public'],
      ['OPTIONS', '/v1/households', {}, 'public'],
      ['GET', '/v1/households', {}, 'public'], // 401: no token, so no budget
      ['GET', '/v1/households', { token: 'coord' }, 'auth'],
      ['GET', '/v1/tokens', { token: 'coord' }, 'auth'], // 403
      ['GET', '/metrics', { token: 'admin' }, 'auth'],
      ['GET', '/v1/households?limit=0', { token: 'coord' }, 'auth'], // 422
    ];
    const seen = [];
    for (const [method, path, o, kind] of probes) {
      const r = await request(svc.url, method, path, { settle: true, token: o.token && tok[o.token], validate: method !== 'OPTIONS' });
      seen.push(`${method} ${path} ${r.status}`);
      assert.equal(r.error, null, `${method} ${path}: ${r.error}`);
      assert.equal(r.headers['x-content-type-options'], 'nosniff', `${method} ${path} ${r.status}`);
      if (kind === 'page' && r.status === 200) {
        assert.match(r.headers['content-security-policy'] ?? '', /frame-ancestors 'none'/, path);
        assert.match(r.headers['content-security-policy'], /script-src 'self'/);
        assert.equal(r.headers['x-frame-options'], 'DENY');
      }
      if (kind === 'auth') {
        assert.match(r.headers.ratelimit ?? '', /^"token";r=\d+;t=\d+$/, `${method} ${path}: RateLimit`);
        assert.equal(r.headers['ratelimit-policy'], '"token";q=100;w=2', `${method} ${path}: RateLimit-Policy`);
      } else {
        assert.equal(r.headers.ratelimit, undefined, `${method} ${path}: no RateLimit on a public answer`);
      }
    }
    // refused before the body: the answer written from the headers carries it too
    const early = await rawUpload(svc.port, {
      path: '/v1/partners',
      total: 0,
      head: 'POST /v1/partners HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 8388608\r\n\r\n',
    });
    assert.equal(early.status, 401); // no token, 8 MiB announced: answered from the headers
    assert.match(early.text, /X-Content-Type-Options: nosniff/i);
    const docs = await request(svc.url, 'GET', '/docs', { settle: true });
    t.diagnostic(`held: nosniff on ${seen.length + 1} answers (${seen.join(', ')}, early 401); /docs CSP: ${docs.headers['content-security-policy']}`);
  });

  test('/metrics: an admin token on the service address, no token on LDA_METRICS_LISTEN', async (t) => {
    const none = await request(svc.url, 'GET', '/metrics', { settle: true });
    const coord = await request(svc.url, 'GET', '/metrics', { settle: true, token: tok.coord });
    const admin = await request(svc.url, 'GET', '/metrics', { settle: true, token: tok.admin });
    const side = await request(`http://127.0.0.1:${metricsPort}`, 'GET', '/metrics', { settle: true, validate: false });
    const sideHealth = await request(`http://127.0.0.1:${metricsPort}`, 'GET', '/healthz', { settle: true, validate: false });
    const sideOther = await request(`http://127.0.0.1:${metricsPort}`, 'GET', '/v1/platforms', { settle: true, validate: false });
    t.diagnostic(`held: service address without a token ${none.status}, coordinator ${coord.status}, admin ${admin.status}; metrics listener: /metrics ${side.status}, /healthz ${sideHealth.status}, /v1/platforms ${sideOther.status}`);
    assert.equal(none.status, 401);
    assert.equal(coord.status, 403);
    assert.equal(admin.status, 200);
    assert.match(admin.text, /^lda_auth_total\{outcome="malformed"\} \d+$/m);
    assert.match(admin.text, /^lda_audit_queue_events \d+$/m);
    assert.equal(side.status, 200);
    assert.match(side.text, /^lda_http_requests_total/m);
    assert.equal(sideHealth.status, 200);
    assert.equal(sideOther.status, 404);
  });

  test('413 for GET and DELETE with a body over the limit, as documented', async (t) => {
    // a body with any method, checked against openapi.yaml below
    const send = (method, path, body, token) =>
      request(svc.url, method, path, { token, raw: true, body, headers: { 'Content-Type': 'text/plain' }, keepAlive: false, validate: false });
    const big = 'x'.repeat((1 << 20) + 1);
    const get = await send('GET', '/v1/platforms', big);
    const del = await send('DELETE', '/v1/tokens/00000000-0000-4000-8000-000000000000', big, tok.admin);
    const small = await send('GET', '/v1/platforms', '{"ignored":true}');
    t.diagnostic(`held: GET with 1 MiB + 1 → ${get.status}; DELETE with 1 MiB + 1 → ${del.status}; GET with a small body → ${small.status} (ignored); each checked against openapi.yaml`);
    for (const [r, method, path] of [
      [get, 'GET', '/v1/platforms'],
      [del, 'DELETE', '/v1/tokens/00000000-0000-4000-8000-000000000000'],
      [small, 'GET', '/v1/platforms'],
    ]) {
      getContract().validateResponse({ method, path, status: r.status, headers: r.headers, text: r.text });
    }
    assert.equal(get.status, 413, get.text);
    assert.equal(del.status, 413, del.text);
    assert.equal(small.status, 200);
  });
});

describe('start-up checks and the coordinators e-mail', () => {
  test('LDA_CORS_ORIGINS=* stops start-up with exit 2 and one line naming it', async (t) => {
    const outs = [];
    for (const v of ['*', 'https://app.example.org, *', 'app.example.org', 'https://app.example.org/path']) {
      const r = await runBinary(['serve'], { env: { LDA_CORS_ORIGINS: v, LDA_DATABASE_URL: 'postgresql://nobody@127.0.0.1:1/none' }, timeout: 30_000 });
      outs.push(`${JSON.stringify(v)} → ${r.code}`);
      assert.equal(r.code, 2, `${v}: ${r.stderr}`);
      assert.match(r.stderr, /LDA_CORS_ORIGINS/);
    }
    t.diagnostic(`held: ${outs.join('; ')}`);
  });

  test('the e-mail address of a coordinator is public only when the operator publishes it', async (t) => {
    const svc = await startService({ env: {} });
    try {
      await svc.sql("UPDATE platform SET coordinator_name = 'Camille Coord', coordinator_email = 'camille.coord@example.org' WHERE code = 'artois'");
      await svc.restart(); // the reference data is read at start-up (and every 30 s)
      const hidden = await request(svc.url, 'GET', '/v1/platforms/artois', { settle: true });
      const list = await request(svc.url, 'GET', '/v1/platforms', { settle: true });
      await svc.restart({ env: { LDA_PUBLISH_COORDINATOR_EMAIL: 'true' } });
      const shown = await request(svc.url, 'GET', '/v1/platforms/artois', { settle: true });
      t.diagnostic(`held: by default ${JSON.stringify(hidden.json.coordinator)} (list: no address: ${!list.text.includes('camille.coord')}); published: ${JSON.stringify(shown.json.coordinator)}`);
      assert.deepEqual(hidden.json.coordinator, { name: 'Camille Coord', email: null });
      assert.ok(!list.text.includes('camille.coord@example.org'));
      assert.deepEqual(shown.json.coordinator, { name: 'Camille Coord', email: 'camille.coord@example.org' });
    } finally {
      await svc.stop();
    }
  });
});
