// Webhooks (POST /v1/webhooks): deliveries to a receiver on loopback (allowed by
// LDA_WEBHOOK_ALLOW), signed per Standard Webhooks and verified here with node:crypto; at
// least once across a restart and a SIGKILL, and through a receiver that fails its first
// attempts; in feed order for each resource; the delivery log, replay, secret rotation with an
// overlap, 410, giving up after LDA_WEBHOOK_GIVE_UP_S; the URL policy (https, public
// addresses, checked again on the address connected); scope as for the feed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { freePort, startService } from '../lib/service.mjs';
import { createReferral, readAll, standardWebhookMatches, transition } from '../lib/changes.mjs';
import { sleep, until } from '../lib/wait.mjs';

/** A receiver on 127.0.0.1: behaviour per path (`/hook/<name>`), every request recorded. */
class Receiver {
  constructor() {
    this.requests = []; // { name, headers, body (Buffer), status, at }
    this.behaviour = new Map(); // name → (req, count) → { status, delayMs, body }
    this.counts = new Map(); // webhook-id → requests seen
  }

  async start() {
    this.port = await freePort();
    this.server = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', async () => {
        const name = (req.url ?? '').replace(/^\/hook\//, '');
        const id = req.headers['webhook-id'];
        const n = (this.counts.get(id) ?? 0) + 1;
        this.counts.set(id, n);
        const rule = this.behaviour.get(name) ?? (() => ({ status: 200 }));
        const { status = 200, delayMs = 0, body = 'ok' } = rule(req, n) ?? {};
        if (delayMs) await sleep(delayMs);
        this.requests.push({ name, headers: req.headers, body: Buffer.concat(chunks), status, at: Date.now() });
        if (!res.destroyed) {
          res.writeHead(status, { 'Content-Type': 'text/plain' });
          res.end(body);
        }
      });
    });
    await new Promise((r) => this.server.listen(this.port, '127.0.0.1', r));
    this.origin = `http://127.0.0.1:${this.port}`;
    return this;
  }

  url(name) {
    return `${this.origin}/hook/${name}`;
  }

  /** The accepted (2xx) deliveries of `name`, in the order they were answered. */
  accepted(name) {
    return this.requests.filter((r) => r.name === name && r.status >= 200 && r.status < 300);
  }

  events(name) {
    return this.accepted(name).map((r) => JSON.parse(r.body.toString('utf8')));
  }

  stop() {
    this.server.closeAllConnections?.();
    return new Promise((r) => this.server.close(r));
  }
}

let svc;
let rx;
const tok = {};

const ENV = (rxOrigin) => ({
  LDA_WEBHOOK_ALLOW: rxOrigin,
  LDA_WEBHOOK_RETRY_BASE_MS: '100',
  LDA_WEBHOOK_TIMEOUT_S: '2',
  LDA_RATE_LIMIT_RPS: '0',
});

async function newToken(name, body) {
  const res = await svc.api('POST', '/v1/tokens', { token: tok.admin, body: { name: `wh-${name}`, ...body } });
  assert.equal(res.status, 201, res.text);
  tok[name] = res.json.token;
  tok[`${name}Id`] = res.json.id;
}

async function register(token, body, on = svc) {
  const res = await on.api('POST', '/v1/webhooks', { token, body });
  assert.equal(res.status, 201, res.text);
  return res.json;
}

before(async () => {
  rx = await new Receiver().start();
  svc = await startService({ env: ENV(rx.origin) });
  tok.admin = await svc.createToken('admin', { name: 'wh-admin' });
  await newToken('coordA', { role: 'coordinator', platforms: ['artois'] });
  await newToken('coordB', { role: 'coordinator', platforms: ['lens_henin'] });
  await newToken('partner1', { role: 'partner', platforms: ['artois'] });
  await newToken('partner2', { role: 'partner', platforms: ['artois'] });
  await newToken('analyst', { role: 'analyst' });
});

after(async () => {
  await svc?.stop();
  await rx?.stop();
});

test('the_secret_is_shown_once_and_kept_sealed', async () => {
  const w = await register(tok.admin, { url: rx.url('sealed'), event_types: ['measure_ended'] });
  assert.match(w.secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
  assert.equal(w.status, 'active');
  const again = await svc.api('GET', `/v1/webhooks/${w.id}`, { token: tok.admin });
  assert.equal(again.status, 200);
  assert.equal(again.json.secret, undefined);
  const list = await svc.api('GET', '/v1/webhooks', { token: tok.admin });
  assert.ok(list.json.items.some((x) => x.id === w.id) && !list.text.includes(w.secret.slice(6)));
  const row = (await svc.sql('SELECT secret FROM webhook_endpoint WHERE id = $1', [w.id])).rows[0];
  assert.match(row.secret, /^v1\./);
  assert.ok(!row.secret.includes(w.secret.slice(6, 30)), 'the secret is stored in clear');
  const del = await svc.api('DELETE', `/v1/webhooks/${w.id}`, { token: tok.admin });
  assert.equal(del.status, 204);
});

test('urls_must_be_https_to_a_public_address_unless_the_operator_allows_the_origin', async () => {
  const refused = [
    'http://hooks.example.org/x',
    'https://127.0.0.1/x',
    'https://10.1.2.3/x',
    'https://192.168.0.10/x',
    'https://169.254.169.254/latest/meta-data',
    'https://[::1]:8443/x',
    'https://[fd00::1]/x',
    'https://localhost/x',
    'https://api.localhost/x',
    'https://printer.local/x',
    'https://intranet/x',
    'https://127.1/x',
    'https://user:pass@hooks.example.org/x',
    'https://hooks.example.org/x#frag',
    'ftp://hooks.example.org/x',
    `http://127.0.0.1:${rx.port + 1}/x`,
    'https://hooks.example.org:99999/x',
  ];
  for (const url of refused) {
    const res = await svc.api('POST', '/v1/webhooks', { token: tok.admin, body: { url } });
    assert.equal(res.status, 422, `${url}: ${res.text}`);
    assert.ok(res.json.errors.some((e) => e.field === '/url'), `${url}: ${res.text}`);
  }
  const bad = await svc.api('POST', '/v1/webhooks', { token: tok.admin, body: { url: rx.url('x'), event_types: ['referral.created'], extra: 1 } });
  assert.equal(bad.status, 422);
  const pub = await register(tok.admin, { url: 'https://hooks.example.org/lda' });
  await svc.api('DELETE', `/v1/webhooks/${pub.id}`, { token: tok.admin });
  const patched = await svc.api('PATCH', `/v1/webhooks/${pub.id}`, { token: tok.admin, body: { url: 'https://10.0.0.1/x' } });
  assert.equal(patched.status, 404, 'deleted');
  const count = (await svc.sql('SELECT count(*)::int AS n FROM webhook_endpoint')).rows[0].n;
  assert.equal(count, 0, 'nothing refused was stored');
});

test('deliveries_are_signed_per_standard_webhooks_and_retried_until_the_receiver_accepts', async () => {
  // the receiver fails the first two attempts of every message
  rx.behaviour.set('signed', (req, n) => ({ status: n <= 2 ? 503 : 204 }));
  const w = await register(tok.admin, { url: rx.url('signed'), event_types: ['referral_created', 'referral_status_changed'] });
  const start = (await readAll(svc, tok.admin)).cursor;
  const r = await createReferral(svc, tok.coordA, 'artois');
  await transition(svc, tok.coordA, r.id, 'assessing', '2025-01-15');
  await until(() => rx.accepted('signed').length >= 2, 'two accepted deliveries');
  const feed = (await readAll(svc, tok.admin, { after: start })).events;
  for (const req of rx.requests.filter((x) => x.name === 'signed')) {
    assert.equal(standardWebhookMatches(w.secret, req.headers, req.body), 1, `signature of ${req.headers['webhook-id']}`);
    assert.match(req.headers['webhook-id'], /^msg_[0-9a-f-]{36}$/);
    const ts = Number(req.headers['webhook-timestamp']);
    assert.ok(Math.abs(ts - Date.now() / 1000) < 60, 'a fresh timestamp, in seconds');
    assert.equal(req.headers['content-type'], 'application/json');
    // a tampered body or another secret does not verify
    assert.equal(standardWebhookMatches(w.secret, req.headers, Buffer.concat([req.body, Buffer.from(' ')])), 0);
    assert.equal(standardWebhookMatches(`whsec_${Buffer.alloc(32, 7).toString('base64')}`, req.headers, req.body), 0);
  }
  const got = rx.events('signed');
  assert.deepEqual(got.map((p) => p.type), ['referral_created', 'referral_status_changed']);
  for (const p of got) {
    assert.equal(p.data.type, p.type);
    const same = feed.find((e) => e.id === p.data.id);
    assert.deepEqual(p.data, same, 'the payload is the feed event');
  }
  // the same webhook-id on every attempt
  const ids = rx.requests.filter((x) => x.name === 'signed').map((x) => x.headers['webhook-id']);
  assert.equal(new Set(ids).size, 2);
  assert.equal(ids.length, 6);
  const log = await svc.api('GET', `/v1/webhooks/${w.id}/deliveries`, { token: tok.admin });
  assert.equal(log.status, 200, log.text);
  assert.equal(log.json.items.length, 2);
  for (const d of log.json.items) {
    assert.equal(d.state, 'delivered');
    assert.equal(d.attempts, 3);
    assert.deepEqual(d.recent_attempts.map((a) => a.status), [204, 503, 503]);
    assert.deepEqual(d.recent_attempts.map((a) => a.error), [null, 'http_status', 'http_status']);
    assert.ok(ids.includes(d.message_id));
  }
  const delivered = await svc.api('GET', `/v1/webhooks/${w.id}/deliveries?state=delivered&limit=1`, { token: tok.admin });
  assert.equal(delivered.json.items.length, 1);
  assert.ok(delivered.json.next_cursor);
  const next = await svc.api('GET', `/v1/webhooks/${w.id}/deliveries?state=delivered&limit=1&cursor=${delivered.json.next_cursor}`, { token: tok.admin });
  assert.equal(next.json.items.length, 1);
  assert.notEqual(next.json.items[0].id, delivered.json.items[0].id);

  // replay: the same message again, now
  const replay = await svc.api('POST', `/v1/webhooks/${w.id}/deliveries/${log.json.items[0].id}/replay`, { token: tok.admin });
  assert.equal(replay.status, 202, replay.text);
  assert.equal(replay.json.state, 'pending');
  rx.behaviour.set('signed', () => ({ status: 200 }));
  await until(() => rx.requests.filter((x) => x.headers['webhook-id'] === log.json.items[0].message_id).length === 4, 'the replay');
  await svc.api('DELETE', `/v1/webhooks/${w.id}`, { token: tok.admin });
});

test('a_slow_receiver_times_out_and_a_long_answer_is_cut_without_failing', async () => {
  rx.behaviour.set('slow', (req, n) => (n === 1 ? { status: 200, delayMs: 3500 } : { status: 200, body: 'x'.repeat(1 << 20) }));
  const w = await register(tok.admin, { url: rx.url('slow'), event_types: ['referral_created'] });
  await createReferral(svc, tok.coordA, 'artois');
  const d = await until(async () => {
    const log = await svc.api('GET', `/v1/webhooks/${w.id}/deliveries`, { token: tok.admin });
    return log.json.items[0]?.state === 'delivered' ? log.json.items[0] : null;
  }, 'the delivery after a timeout', 20_000);
  assert.equal(d.recent_attempts.at(-1).error, 'timeout');
  assert.ok(d.recent_attempts.at(-1).duration_ms < 3500, `the attempt was cut at the timeout: ${d.recent_attempts.at(-1).duration_ms} ms`);
  assert.equal(d.recent_attempts[0].status, 200);
  await svc.api('DELETE', `/v1/webhooks/${w.id}`, { token: tok.admin });
});

test('every_event_is_delivered_at_least_once_across_a_restart_and_a_crash_in_order_per_resource', async () => {
  let up = false;
  let k = 0;
  // down at first; once up, one request in three still fails
  rx.behaviour.set('durable', () => {
    k += 1;
    if (!up) return { status: 503 };
    return { status: k % 3 === 0 ? 500 : 200 };
  });
  const w = await register(tok.admin, { url: rx.url('durable') });
  const start = (await readAll(svc, tok.admin)).cursor;
  const refs = [];
  for (let i = 0; i < 4; i += 1) refs.push(await createReferral(svc, tok.coordA, 'artois'));
  for (const r of refs) await transition(svc, tok.coordA, r.id, 'assessing', '2025-01-15');
  await until(() => rx.requests.filter((x) => x.name === 'durable').length >= 3, 'failed attempts');
  await svc.restart(); // SIGTERM, exit 0, start again: the deliveries are in PostgreSQL
  for (const r of refs) await transition(svc, tok.coordA, r.id, 'orientation_proposed', '2025-01-16');
  // a crash in the middle of an attempt: its lease expires and it is sent again
  up = true;
  let inflight = false;
  rx.behaviour.set('durable', () => {
    inflight = true;
    return { status: 200, delayMs: 1500 };
  });
  await until(() => inflight, 'an attempt in flight');
  await sleep(300);
  await svc.kill('SIGKILL');
  rx.behaviour.set('durable', () => {
    k += 1;
    return { status: k % 3 === 0 ? 500 : 200 };
  });
  await svc.start();
  const feed = (await until(async () => {
    const f = (await readAll(svc, tok.admin, { after: start })).events;
    return f.length >= 4 * 4 ? f : null;
  }, 'the events')).filter((e) => refs.some((r) => [r.id, r.household].includes(e.resource_id)));
  await until(() => {
    const got = new Set(rx.events('durable').map((p) => p.data.id));
    return feed.every((e) => got.has(e.id));
  }, 'every event delivered', 40_000);
  // in feed order for each resource: versions only go up in the order deliveries were accepted
  const firstAccepted = [];
  const seenIds = new Set();
  for (const p of rx.events('durable')) {
    if (seenIds.has(p.data.id)) continue; // a duplicate (at least once) is fine
    seenIds.add(p.data.id);
    firstAccepted.push(p.data);
  }
  for (const r of refs) {
    const versions = firstAccepted.filter((e) => e.resource_id === r.id).map((e) => e.data.version);
    assert.deepEqual(versions, [1, 2, 3], `referral ${r.id}: delivered in order`);
  }
  await svc.api('DELETE', `/v1/webhooks/${w.id}`, { token: tok.admin });
});

test('rotation_signs_with_both_secrets_during_the_overlap_then_the_new_one_only', async () => {
  const w = await register(tok.admin, { url: rx.url('rotate'), event_types: ['referral_created'] });
  const rot = await svc.api('POST', `/v1/webhooks/${w.id}/rotate-secret?overlap_seconds=3600`, { token: tok.admin });
  assert.equal(rot.status, 200, rot.text);
  assert.notEqual(rot.json.secret, w.secret);
  assert.ok(rot.json.previous_secret_expires_at);
  await createReferral(svc, tok.coordA, 'artois');
  await until(() => rx.accepted('rotate').length === 1, 'a delivery during the overlap');
  const during = rx.accepted('rotate')[0];
  assert.equal(during.headers['webhook-signature'].split(' ').length, 2);
  assert.equal(standardWebhookMatches(rot.json.secret, during.headers, during.body), 1);
  assert.equal(standardWebhookMatches(w.secret, during.headers, during.body), 1);
  const rot2 = await svc.api('POST', `/v1/webhooks/${w.id}/rotate-secret?overlap_seconds=0`, { token: tok.admin });
  assert.equal(rot2.status, 200);
  assert.equal(rot2.json.previous_secret_expires_at, null);
  await createReferral(svc, tok.coordA, 'artois');
  await until(() => rx.accepted('rotate').length === 2, 'a delivery after the overlap');
  const afterwards = rx.accepted('rotate')[1];
  assert.equal(afterwards.headers['webhook-signature'].split(' ').length, 1);
  assert.equal(standardWebhookMatches(rot2.json.secret, afterwards.headers, afterwards.body), 1);
  assert.equal(standardWebhookMatches(rot.json.secret, afterwards.headers, afterwards.body), 0);
  const bad = await svc.api('POST', `/v1/webhooks/${w.id}/rotate-secret?overlap_seconds=999999`, { token: tok.admin });
  assert.equal(bad.status, 422);
  await svc.api('DELETE', `/v1/webhooks/${w.id}`, { token: tok.admin });
});

test('a_410_disables_the_endpoint_and_enabling_it_again_sends_what_waited', async () => {
  let gone = true;
  rx.behaviour.set('gone', () => ({ status: gone ? 410 : 200 }));
  const w = await register(tok.admin, { url: rx.url('gone'), event_types: ['referral_created'] });
  await createReferral(svc, tok.coordA, 'artois');
  const disabled = await until(async () => {
    const res = await svc.api('GET', `/v1/webhooks/${w.id}`, { token: tok.admin });
    return res.json.status === 'disabled' ? res : null;
  }, 'the endpoint disabled');
  assert.equal(disabled.json.disabled_reason, 'gone');
  await createReferral(svc, tok.coordA, 'artois');
  await sleep(500);
  assert.equal(rx.requests.filter((x) => x.name === 'gone').length, 1, 'nothing sent while disabled');
  gone = false;
  const stale = await svc.api('PATCH', `/v1/webhooks/${w.id}`, { token: tok.admin, body: { status: 'active' }, headers: { 'If-Match': '"1"' } });
  assert.equal(stale.status, 412, 'If-Match is checked');
  const on = await svc.api('PATCH', `/v1/webhooks/${w.id}`, { token: tok.admin, body: { status: 'active' } });
  assert.equal(on.status, 200, on.text);
  assert.equal(on.json.disabled_reason, null);
  await until(() => rx.accepted('gone').length === 2, 'both deliveries after enabling');
  const off = await svc.api('PATCH', `/v1/webhooks/${w.id}`, { token: tok.admin, body: { status: 'disabled' } });
  assert.equal(off.json.disabled_reason, 'by_owner');
  await svc.api('DELETE', `/v1/webhooks/${w.id}`, { token: tok.admin });
});

test('an_address_that_is_not_public_is_refused_when_connecting_too', async () => {
  // registered through the API with an allowed origin, then moved (by an operator with SQL)
  // to names and addresses the policy refuses: the worker checks what it connects to
  const w = await register(tok.admin, { url: rx.url('moved'), event_types: ['referral_created'] });
  for (const [url, error] of [
    [`https://localhost:${rx.port}/hook/moved`, 'blocked_address'],
    [`https://127.0.0.1:${rx.port}/hook/moved`, 'blocked_address'],
    [`http://127.0.0.2:${rx.port}/hook/moved`, 'protocol'],
  ]) {
    await svc.sql('UPDATE webhook_endpoint SET url = $2 WHERE id = $1', [w.id, url]);
    await svc.sql(`UPDATE webhook_delivery SET state = 'delivered' WHERE endpoint_id = $1`, [w.id]);
    await createReferral(svc, tok.coordA, 'artois');
    const d = await until(async () => {
      const log = await svc.api('GET', `/v1/webhooks/${w.id}/deliveries?state=pending`, { token: tok.admin });
      return log.json.items[0]?.last_error ? log.json.items[0] : null;
    }, `a refused attempt to ${url}`);
    assert.equal(d.last_error, error, url);
    assert.equal(d.last_status, null);
  }
  assert.equal(rx.requests.filter((x) => x.name === 'moved').length, 0, 'nothing reached the receiver');
  await svc.api('DELETE', `/v1/webhooks/${w.id}`, { token: tok.admin });
});

test('endpoints_receive_what_their_token_may_see_and_belong_to_it', async () => {
  const mk = (who, name, extra = {}) => register(tok[who], { url: rx.url(name), ...extra });
  const p1 = await mk('partner1', 'p1');
  const p2 = await mk('partner2', 'p2');
  const b = await mk('coordB', 'b');
  const aOnly = await mk('admin', 'a-artois', { platforms: ['artois'] });
  const r1 = await createReferral(svc, tok.partner1, 'artois');
  const r2 = await createReferral(svc, tok.partner2, 'artois');
  const rB = await createReferral(svc, tok.coordB, 'lens_henin');
  await transition(svc, tok.coordA, r1.id, 'assessing', '2025-01-15');
  const m = await svc.api('POST', `/v1/referrals/${r1.id}/measures`, { token: tok.coordA, body: { kind: 'adsl', operator: 'Z', started_on: '2025-01-20' } });
  assert.equal(m.status, 201);
  await until(() => rx.accepted('p1').length >= 2 && rx.accepted('b').length >= 2 && rx.accepted('a-artois').length >= 6, 'the deliveries');
  await sleep(800); // anything that should not come would have come by now
  assert.ok(rx.events('p1').every((p) => p.data.resource_id === r1.id && p.data.resource_type === 'referral'), 'partner1: its referral only');
  assert.deepEqual(rx.events('p1').map((p) => p.type), ['referral_created', 'referral_status_changed']);
  assert.ok(rx.events('p2').every((p) => p.data.resource_id === r2.id), 'partner2: its referral only');
  assert.ok(rx.events('b').every((p) => p.data.platform === 'lens_henin') && rx.events('b').some((p) => p.data.resource_id === rB.id));
  assert.ok(rx.events('a-artois').every((p) => p.data.platform === 'artois'));

  // a platform outside the token's scope: 403; analysts: 403
  const out = await svc.api('POST', '/v1/webhooks', { token: tok.coordB, body: { url: rx.url('x'), platforms: ['artois'] } });
  assert.equal(out.status, 403, out.text);
  const an = await svc.api('POST', '/v1/webhooks', { token: tok.analyst, body: { url: rx.url('x') } });
  assert.equal(an.status, 403);
  // another token's endpoint does not exist for it
  const d0 = (await svc.api('GET', `/v1/webhooks/${p1.id}/deliveries`, { token: tok.partner1 })).json.items[0];
  for (const [m2, path, body] of [
    ['GET', `/v1/webhooks/${p1.id}`],
    ['PATCH', `/v1/webhooks/${p1.id}`, { status: 'disabled' }],
    ['DELETE', `/v1/webhooks/${p1.id}`],
    ['GET', `/v1/webhooks/${p1.id}/deliveries`],
    ['POST', `/v1/webhooks/${p1.id}/rotate-secret`],
    ['POST', `/v1/webhooks/${p1.id}/deliveries/${d0.id}/replay`],
  ]) {
    const res = await svc.api(m2, path, { token: tok.partner2, body });
    assert.equal(res.status, 404, `${m2} ${path}: ${res.text}`);
  }
  const mine = await svc.api('GET', '/v1/webhooks', { token: tok.partner2 });
  assert.deepEqual(mine.json.items.map((x) => x.id), [p2.id]);
  const all = await svc.api('GET', '/v1/webhooks?limit=500', { token: tok.admin });
  assert.ok([p1.id, p2.id, b.id, aOnly.id].every((id) => all.json.items.some((x) => x.id === id)), 'an admin sees every endpoint');

  // revoking the owner's token disables its endpoints
  const rev = await svc.api('DELETE', `/v1/tokens/${tok.partner2Id}`, { token: tok.admin });
  assert.equal(rev.status, 204);
  await createReferral(svc, tok.partner1, 'artois');
  const off = await until(async () => {
    const res = await svc.api('GET', `/v1/webhooks/${p2.id}`, { token: tok.admin });
    return res.json.status === 'disabled' ? res.json : null;
  }, 'the endpoint of a revoked token disabled');
  assert.equal(off.disabled_reason, 'owner_revoked');
  for (const x of [p1, p2, b, aOnly]) await svc.api('DELETE', `/v1/webhooks/${x.id}`, { token: tok.admin });
});

test('a_delivery_failing_for_the_give_up_period_is_failed_and_disables_its_endpoint', async () => {
  const rx2 = await new Receiver().start();
  const small = await startService({ env: { ...ENV(rx2.origin), LDA_WEBHOOK_GIVE_UP_S: '3', LDA_WEBHOOK_RETRY_BASE_MS: '300' } });
  try {
    const admin = await small.createToken('admin', { name: 'giveup-admin' });
    let fixed = false;
    rx2.behaviour.set('down', () => ({ status: fixed ? 200 : 500 }));
    const res = await small.api('POST', '/v1/webhooks', { token: admin, body: { url: rx2.url('down'), event_types: ['referral_created'] } });
    assert.equal(res.status, 201, res.text);
    const w = res.json;
    await createReferral(small, admin, 'artois');
    const disabled = await until(async () => {
      const r = await small.api('GET', `/v1/webhooks/${w.id}`, { token: admin });
      return r.json.status === 'disabled' ? r.json : null;
    }, 'the endpoint disabled', 20_000);
    assert.equal(disabled.disabled_reason, 'failing');
    assert.ok(disabled.disabled_at);
    const failed = await small.api('GET', `/v1/webhooks/${w.id}/deliveries?state=failed`, { token: admin });
    assert.equal(failed.json.items.length, 1);
    assert.ok(failed.json.items[0].attempts >= 2, 'retried with backoff before giving up');
    // exponential: 300, 600, 1 200 ms... (each due attempt is picked up within half a second)
    const at = failed.json.items[0].recent_attempts.map((a) => Date.parse(a.at)).reverse();
    const gaps = at.slice(1).map((t, i) => t - at[i]);
    assert.ok(gaps.length >= 2 && gaps.at(-1) >= 2 * gaps[0] - 100, `backoff grows: gaps ${gaps} ms`);
    fixed = true;
    const on = await small.api('PATCH', `/v1/webhooks/${w.id}`, { token: admin, body: { status: 'active' } });
    assert.equal(on.status, 200);
    await until(() => rx2.accepted('down').length === 1, 'the given-up delivery sent again');
  } finally {
    await small.stop();
    await rx2.stop();
  }
});

test('the_vocabularies_list_the_event_types_and_the_endpoint_states_in_french', async () => {
  const v = await svc.api('GET', '/v1/vocabularies');
  assert.ok(v.json.change_type.some((e) => e.code === 'referral_status_changed' && /statut/i.test(e.label_fr)));
  assert.deepEqual(v.json.webhook_status.map((e) => e.code), ['active', 'disabled']);
  assert.deepEqual(v.json.webhook_delivery_state.map((e) => e.code), ['pending', 'delivered', 'failed']);
});
