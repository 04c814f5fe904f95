// TLS in front of two instances sharing one database: docker/nginx/lda-api.conf.template
// rendered for Debian's nginx (unprivileged, 127.0.0.1, a certificate made by openssl), in
// front of two `lda-api serve` processes that log in as lda_api (a member of lda_app only).
// It terminates TLS with HSTS, passes X-Request-Id, caps bodies per route (1 MiB; 32 MiB on
// the batch routes), keeps /metrics to the instances; a mixed load goes through it while one
// instance is killed (SIGKILL), then while the other is restarted (SIGTERM). Rate limits
// and the token cache are per instance (docs/deployment.md): measured here.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { Cluster, Instance, Proxy, cli, createToken, deployDatabase, sleep } from './_lib.mjs';

const C = Number(process.env.LDA_PROXY_LOAD_CONCURRENCY ?? 12); // requests in flight
const LOAD_MS = Number(process.env.LDA_PROXY_LOAD_MS ?? 9_000);
const KILL_AT_MS = 3_000;

let cluster;
let dbs;
let a;
let b;
let proxy;
let client;
const tok = {};

before(async () => {
  cluster = await Cluster.start('proxy-pg');
  dbs = await deployDatabase(cluster);
  await cli(dbs.ownerUrl, ['seed-demo']);
  tok.admin = await createToken(dbs.ownerUrl, 'admin');
  tok.coordinator = await createToken(dbs.ownerUrl, 'coordinator', { platforms: ['artois', 'lens_henin'] });
  tok.analyst = await createToken(dbs.ownerUrl, 'analyst');
  tok.siao = await createToken(dbs.ownerUrl, 'siao', { platforms: ['artois'], source: 'proxy-test' });
  // The load test counts failures: no rate limit there (it is measured on its own below).
  const env = { LDA_RATE_LIMIT_RPS: '0' };
  a = await Instance.start({ url: dbs.appUrl, env, name: 'instance A' });
  b = await Instance.start({ url: dbs.appUrl, env, name: 'instance B' });
  proxy = await Proxy.start({ upstreams: [`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`] });
  client = proxy.client({ maxSockets: C });
});

after(async () => {
  client?.close();
  if (proxy) await proxy.stop();
  for (const i of [a, b]) if (i?.child) await i.kill('SIGTERM');
  if (cluster) await cluster.stop();
});

const servedBy = (id) => [a, b].filter((i) => i.served(id)).map((i) => i.name);

test('proxy_terminates_tls_with_hsts_and_passes_the_request_id', async () => {
  const own = await client.request('GET', '/v1/platforms', { headers: { 'X-Request-Id': 'proxy-rid-1' } });
  assert.equal(own.status, 200);
  assert.match(own.headers['strict-transport-security'], /^max-age=\d{8,}; includeSubDomains$/);
  assert.equal(own.headers['x-request-id'], 'proxy-rid-1');
  assert.equal(own.headers.server, 'nginx', 'no version in Server');
  await sleep(100);
  assert.equal(servedBy('proxy-rid-1').length, 1, 'the instance logged the client request id');
  assert.ok(proxy.accessLog().some((l) => l.request_id === 'proxy-rid-1' && l.status === 200));

  // none (or one the service would refuse): the proxy makes one, the same everywhere
  for (const headers of [{}, { 'X-Request-Id': 'not valid: spaces and "quotes"' }]) {
    const res = await client.request('GET', '/healthz', { headers });
    const id = res.headers['x-request-id'];
    assert.match(id, /^[0-9a-f]{32}$/);
    await sleep(100);
    assert.equal(servedBy(id).length, 1);
    assert.ok(proxy.accessLog().some((l) => l.request_id === id));
  }
  // the proxy's log holds no path, query or client address
  const entry = proxy.accessLog().at(-1);
  assert.deepEqual(Object.keys(entry).sort(), [
    'bytes', 'method', 'request_id', 'request_time', 'status', 'time', 'upstream', 'upstream_status', 'upstream_time',
  ]);
  assert.doesNotMatch(JSON.stringify(proxy.accessLog()), /healthz|platforms/);

  // each instance's counters are read on the instance, not through the proxy
  const metrics = await client.request('GET', '/metrics', { validate: false });
  assert.equal(metrics.status, 404);
  assert.equal(metrics.json.type, '/problems/not-found');
});

test('proxy_caps_bodies_1_mib_and_32_mib_on_batch_routes', async () => {
  // a household over 1 MiB: 413 from the proxy, before any instance sees it
  const big = Buffer.alloc(1024 * 1024 + 1, 0x20);
  const r1 = await client.request('POST', '/v1/households', { body: big, token: tok.coordinator });
  assert.equal(r1.status, 413);
  assert.equal(r1.json.type, '/problems/payload-too-large');
  assert.equal(r1.json.request_id, r1.headers['x-request-id']);
  assert.match(r1.headers['strict-transport-security'], /max-age/);
  await sleep(100);
  assert.deepEqual(servedBy(r1.headers['x-request-id']), []);

  // 2 MiB on a batch route reaches the service (which answers for the records)
  const records = [];
  for (let i = 0; i < 5_000; i += 1) records.push({ external_id: `big-${i}`, note: 'x'.repeat(440) });
  const body = JSON.stringify(records);
  assert.ok(body.length > 2 * 1024 * 1024);
  const r2 = await client.request('POST', '/v1/siao-requests/batch', { body, token: tok.siao, timeout: 120_000 });
  assert.notEqual(r2.status, 413, r2.text.slice(0, 300));
  await sleep(100);
  assert.equal(servedBy(r2.headers['x-request-id']).length, 1, 'a batch over 1 MiB reached an instance');

  // over 32 MiB on a batch route: 413 from the proxy
  const huge = Buffer.alloc(32 * 1024 * 1024 + 1, 0x20);
  const r3 = await client.request('POST', '/v1/siao-requests/batch', { body: huge, token: tok.siao, timeout: 120_000 });
  assert.equal(r3.status, 413);
  await sleep(100);
  assert.deepEqual(servedBy(r3.headers['x-request-id']), []);
});

// ---------------------------------------------------------------------------------------
// The mixed load

let seq = 0;
function household() {
  seq += 1;
  return {
    platform: 'artois',
    composition: 'single_person',
    adults: 1,
    children: 0,
    head: {
      last_name: `Proxy${randomBytes(6).toString('hex')}`,
      first_name: 'Charge',
      birth_date: '1991-02-03',
      sex: 'unknown',
    },
    external_ref: `proxy-load-${process.pid}-${seq}`,
    housing_situation: 'street',
  };
}

function siaoBatch() {
  const out = [];
  for (let i = 0; i < 20; i += 1) {
    seq += 1;
    out.push({
      external_id: `proxy-load-${process.pid}-${seq}`,
      received_at: '2024-06-01T10:00:00+02:00',
      platform: 'artois',
      channel: 'call_115',
      age: 18 + (seq % 10),
    });
  }
  return out;
}

// One request of the mix: reads (public, case management, statistics) and writes (a
// household, a batch of 20 SIAO requests).
const MIX = [
  () => ['GET', '/v1/platforms', {}],
  () => ['GET', '/v1/households?limit=20', { token: tok.coordinator }],
  () => ['GET', '/v1/referrals?limit=20', { token: tok.coordinator }],
  () => ['GET', '/v1/observatory/youth?from=2024-01-01&to=2024-12-31', { token: tok.analyst }],
  () => ['POST', '/v1/households', { token: tok.coordinator, body: household() }],
  () => ['POST', '/v1/siao-requests/batch', { token: tok.siao, body: siaoBatch() }],
];

/**
 * Runs the mix with C workers for LOAD_MS; calls event() once, at eventAt ms. Resolves the
 * list of { id, method, path, body, start, end, status, error } and the event's time.
 */
async function load(eventAt, event) {
  const results = [];
  const t0 = Date.now();
  const timer = setTimeout(event, eventAt);
  let n = 0;
  const worker = async () => {
    while (Date.now() - t0 < LOAD_MS) {
      const [method, path, opts] = MIX[n++ % MIX.length]();
      const id = `load-${randomUUID()}`;
      const r = { id, method, path, body: opts.body, start: Date.now(), end: 0, status: 0, error: null };
      try {
        const res = await client.request(method, path, { ...opts, headers: { 'X-Request-Id': id } });
        r.status = res.status;
        r.json = res.json;
      } catch (err) {
        r.error = err.message;
      }
      r.end = Date.now();
      results.push(r);
    }
  };
  await Promise.all(Array.from({ length: C }, worker));
  clearTimeout(timer);
  return { results, seconds: (Date.now() - t0) / 1000 };
}

const ok = (r) => !r.error && r.status >= 200 && r.status < 300;
/** The first failures, short. */
const brief = (rs) => {
  const log = new Map(proxy.accessLog().map((l) => [l.request_id, l]));
  return rs
    .slice(0, 5)
    .map((r) => {
      const l = log.get(r.id);
      const via = l ? ` (proxy: ${l.upstream} ${l.upstream_status})` : '';
      return `${r.method} ${r.path} ${r.status || r.error.slice(0, 200)} ${r.json?.detail ?? ''}${via}`;
    })
    .concat(rs.length > 5 ? [`... ${rs.length - 5} more`] : []);
};

function summary(results, seconds) {
  const lat = results.map((r) => r.end - r.start).sort((x, y) => x - y);
  const pct = (p) => lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))];
  return `${results.length} requests in ${seconds.toFixed(1)} s (${(results.length / seconds).toFixed(0)}/s, c${C}), p50 ${pct(50)} ms, p99 ${pct(99)} ms`;
}

/** Every household the load created is stored once; every batch record once. */
async function assertWritesStoredOnce(results) {
  const created = results.filter((r) => r.path === '/v1/households' && r.status === 201);
  const refs = created.map((r) => r.body.external_ref);
  const rows = await cluster.sql(
    'lda',
    'SELECT external_ref, count(*)::int AS n FROM household WHERE external_ref = ANY($1) GROUP BY 1',
    [refs],
  );
  assert.equal(rows.rows.length, refs.length, 'every household answered 201 is stored');
  assert.ok(rows.rows.every((x) => x.n === 1), 'no household stored twice');
  const ids = results
    .filter((r) => r.path === '/v1/siao-requests/batch' && r.status === 200)
    .flatMap((r) => r.body.map((x) => x.external_id));
  const stored = await cluster.sql(
    'lda',
    "SELECT count(*)::int AS n, count(DISTINCT external_id)::int AS d FROM siao_request WHERE source = 'proxy-test' AND external_id = ANY($1)",
    [ids],
  );
  assert.deepEqual(stored.rows[0], { n: ids.length, d: ids.length });
}

test('proxy_load_loses_only_the_requests_in_flight_on_a_killed_instance', async () => {
  let inFlightOnA = null;
  let eventTime = null;
  const { results, seconds } = await load(KILL_AT_MS, async () => {
    try {
      const m = await fetch(`${a.url}/metrics`, { headers: { Authorization: `Bearer ${tok.admin}` }, signal: AbortSignal.timeout(1_000) });
      inFlightOnA = Number((await m.text()).match(/^lda_http_requests_in_flight (\d+)$/m)[1]) - 1;
    } catch {
      /* it is busy: not worth waiting for */
    }
    eventTime = Date.now();
    a.child.kill('SIGKILL');
  });
  await a.exited;
  a.child = null;
  try {
    await checkKillResults(results, seconds, eventTime, inFlightOnA);
  } finally {
    await a.start();
  }
});

async function checkKillResults(results, seconds, eventTime, inFlightOnA) {
  const failed = results.filter((r) => !ok(r));
  const log = new Map(proxy.accessLog().map((l) => [l.request_id, l]));
  // after the moment nginx takes to see A's idle keep-alive connections closed (a POST written
  // on one of them in that moment is in flight on A: nginx never sends a POST twice)
  const afterKill = results.filter((r) => r.start > eventTime + 250);
  console.log(
    `# load through the proxy, SIGKILL of instance A at ${KILL_AT_MS} ms: ${summary(results, seconds)}; ` +
      `failed ${failed.length} (${failed.map((r) => `${r.method} ${r.status || r.error} sent ${r.start - eventTime} ms after the kill`).join(', ') || 'none'}); ` +
      `A had ${inFlightOnA ?? '?'} requests in flight just before; ${afterKill.length} requests after the kill, all on B`,
  );
  assert.ok(results.length > 50, 'the load ran');
  assert.ok(results.filter((r) => r.start < eventTime).filter(ok).length > 10, 'both served before the kill');
  // Only requests in flight on A at the kill may fail, and only writes (nginx passes a GET
  // that lost its instance on to the other one; never a POST it has sent). In flight on A:
  // the proxy had handed it to A, before the kill or within the moment it takes nginx to see
  // that its idle keep-alive connections to A have closed.
  assert.ok(failed.length <= C, `${failed.length} failures > ${C} requests in flight`);
  for (const r of failed) {
    assert.ok(r.start <= eventTime + 250 && r.end >= eventTime, `${r.method} ${r.path} failed but was not in flight at the kill`);
    assert.equal(r.method, 'POST', `${r.method} ${r.path} failed: ${r.status || r.error}`);
    assert.equal(r.status, 503, `a lost request answers 503 (problem+json), not ${r.status || r.error}`);
    assert.match(log.get(r.id)?.upstream ?? '', new RegExp(`:${a.port}\\b`), 'it had been sent to A');
  }
  assert.ok(afterKill.length > 20);
  assert.deepEqual(brief(afterKill.filter((r) => !ok(r))), []);
  await assertWritesStoredOnce(results);
}

/**
 * Waits until the proxy sends requests to both instances again: nginx has no active health
 * check, so an instance that failed is tried again only after fail_timeout (5 s).
 */
async function untilBothServe() {
  const t0 = Date.now();
  const seen = new Set();
  while (seen.size < 2) {
    assert.ok(Date.now() - t0 < 20_000, 'the proxy did not come back to both instances');
    const id = `probe-${randomUUID()}`;
    await client.request('GET', '/healthz', { headers: { 'X-Request-Id': id } }).catch(() => {});
    await sleep(20);
    for (const i of [a, b]) if (i.served(id)) seen.add(i.name);
    await sleep(80);
  }
  return Date.now() - t0;
}

test('proxy_rolling_restart_with_sigterm_loses_nothing', async () => {
  // An operator restarts one instance at a time, and the next one only once the proxy
  // sends requests to the first again.
  const waited = await untilBothServe();
  console.log(`# the proxy sent requests to the restarted instance A again after ${waited} ms`);
  const { results, seconds } = await load(KILL_AT_MS, async () => {
    await b.stop(); // SIGTERM: stops accepting, finishes what it holds, exits 0
    await b.start();
  });
  const failed = results.filter((r) => !ok(r));
  console.log(`# load through the proxy, instance B restarted with SIGTERM: ${summary(results, seconds)}; failed ${failed.length}`);
  assert.deepEqual(brief(failed), []);
  await assertWritesStoredOnce(results);
});

test('rate_limits_and_the_token_cache_are_per_instance', async () => {
  // Each instance has its own bucket per token: through the proxy (least_conn spreads
  // sequential requests over both), a token gets up to twice an instance's burst.
  await Promise.all([a.stop(), b.stop()]);
  const env = { LDA_RATE_LIMIT_RPS: '1', LDA_RATE_LIMIT_BURST: '5' };
  await Promise.all([a.start(env), b.start(env)]);
  await untilBothServe();
  const token = await createToken(dbs.ownerUrl, 'coordinator', { name: 'rate', platforms: ['artois'] });
  const statuses = [];
  for (let i = 0; i < 20; i += 1) statuses.push((await client.request('GET', '/v1/households?limit=1', { token })).status);
  const passed = statuses.filter((s) => s === 200).length;
  console.log(`# rate limit 1/s, burst 5, per instance: ${passed} of 20 quick requests passed through two instances`);
  assert.ok(passed > 5, `${passed}: more than one instance's burst`);
  assert.ok(passed <= 10 + 2, `${passed}: at most two bursts (and what refilled meanwhile)`);
  assert.ok(statuses.every((s) => s === 200 || s === 429));

  // A token revoked through one instance: the other may still accept it from its cache
  // for a moment; measured, and bounded.
  await Promise.all([a.stop(), b.stop()]);
  await Promise.all([a.start(), b.start()]);
  const issued = await client.request('POST', '/v1/tokens', { token: tok.admin, body: { role: 'analyst', name: 'revoked-soon' } });
  assert.equal(issued.status, 201);
  const probe = (inst) =>
    fetch(`${inst.url}/v1/observatory/youth?from=2024-01-01&to=2024-12-31`, {
      headers: { Authorization: `Bearer ${issued.json.token}` },
    }).then((r) => r.status);
  assert.deepEqual([await probe(a), await probe(b)], [200, 200]); // both have it cached now
  const revoked = await fetch(`${a.url}/v1/tokens/${issued.json.id}`, {
    method: 'DELETE',
    headers: { Authorization: `Bearer ${tok.admin}` },
  });
  assert.equal(revoked.status, 204);
  const t0 = Date.now();
  assert.equal(await probe(a), 401, 'refused at once where it was revoked');
  let staleMs = 0;
  for (; (await probe(b)) !== 401; await sleep(50)) {
    staleMs = Date.now() - t0;
    assert.ok(staleMs < 10_000, 'the other instance kept accepting a revoked token');
  }
  console.log(`# token revoked on A: B accepted it for another ${staleMs} ms (its cache)`);
});
