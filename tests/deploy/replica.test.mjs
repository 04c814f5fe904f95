// A real read replica: a streaming standby of the primary (pg_basebackup -R, through
// scripts/pg-cluster.sh replica), named by LDA_DATABASE_URL_READ. The statistics read from it;
// a batch written on the primary shows in them once the replica has replayed it (measured);
// /metrics reports the replica's lag (seen growing while replay is paused, back to zero
// after). With the replica stopped, the statistics answer 503 (Retry-After) and everything
// else (readiness, case management, pushes) goes on from the primary; they come back by
// themselves when it returns. Both database URLs log in as lda_api (a member of lda_app only).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, Instance, createToken, deployDatabase, httpApi, metric, sleep } from './_lib.mjs';

const YEAR = '/v1/observatory/youth?from=2024-01-01&to=2024-12-31';

let primary;
let replica;
let dbs;
let svc;
let api;
const tok = {};
let pushed = 0;

before(async () => {
  primary = await Cluster.start('replica-primary');
  dbs = await deployDatabase(primary);
  replica = await Cluster.start('replica-standby', { replicaOf: primary });
  tok.siao = await createToken(dbs.ownerUrl, 'siao', { platforms: ['artois'], source: 'replica-test' });
  tok.analyst = await createToken(dbs.ownerUrl, 'analyst');
  tok.admin = await createToken(dbs.ownerUrl, 'admin'); // /metrics
  tok.coordinator = await createToken(dbs.ownerUrl, 'coordinator', { platforms: ['artois'] });
  svc = await Instance.start({
    url: dbs.appUrl,
    env: { LDA_DATABASE_URL_READ: dbs.appUrlOn(replica) },
    name: 'lda-api with a replica',
  });
  api = httpApi(svc.url);
});

after(async () => {
  if (svc) await svc.stop();
  if (replica) await replica.stop();
  if (primary) await primary.stop();
});

/** Pushes n SIAO requests of 2024 on the primary (through the service). */
async function push(n) {
  const records = [];
  for (let i = 0; i < n; i += 1) {
    pushed += 1;
    records.push({
      external_id: `replica-${pushed}`,
      received_at: `2024-${String(1 + (pushed % 12)).padStart(2, '0')}-15T10:00:00+01:00`,
      platform: 'artois',
      channel: 'call_115',
      age: 16 + (pushed % 20),
    });
  }
  const res = await api('POST', '/v1/siao-requests/batch', { token: tok.siao, body: records });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.created, n);
}

async function requestsTotal() {
  const res = await api('GET', YEAR, { token: tok.analyst });
  assert.equal(res.status, 200, res.text);
  return res.json.requests_total;
}

/** Polls the statistics until requests_total is `want`; resolves the milliseconds it took. */
async function until(want, limitMs = 30_000) {
  const t0 = Date.now();
  for (;;) {
    if ((await requestsTotal()) === want) return Date.now() - t0;
    assert.ok(Date.now() - t0 < limitMs, `requests_total did not reach ${want} within ${limitMs} ms`);
    await sleep(5);
  }
}

async function metrics() {
  const res = await api('GET', '/metrics', { token: tok.admin });
  assert.equal(res.status, 200);
  return {
    up: metric(res.text, 'lda_db_replica_up'),
    seconds: metric(res.text, 'lda_db_replica_lag_seconds'),
    bytes: metric(res.text, 'lda_db_replica_lag_bytes'),
  };
}

test('statistics_read_on_the_replica_follow_a_batch_written_on_the_primary', async () => {
  const standby = await replica.sql('lda', 'SELECT pg_is_in_recovery() AS r');
  assert.equal(standby.rows[0].r, true, 'a streaming standby');
  assert.equal(await requestsTotal(), 0);

  await push(300);
  const followMs = await until(300);
  const m = await metrics();
  console.log(`# a batch of 300 committed on the primary was in the replica's statistics ${followMs} ms after its answer; lag then ${m.seconds} s, ${m.bytes} bytes`);
  assert.equal(m.up, 1);
  assert.ok(m.seconds >= 0 && m.seconds < 5, `lag ${m.seconds} s`);
  assert.ok(m.bytes >= 0 && m.bytes < 16 * 1024 * 1024, `lag ${m.bytes} bytes`);

  // Replay paused (as a long query on the replica, or a slow disk, would hold it back):
  // the figures stay where they were and /metrics shows the lag.
  await replica.sql('lda', 'SELECT pg_wal_replay_pause()');
  await push(200);
  let lagged;
  for (const t0 = Date.now(); ; await sleep(100)) {
    lagged = await metrics();
    if (lagged.bytes > 0 && lagged.seconds > 0) break;
    assert.ok(Date.now() - t0 < 10_000, `no lag reported while replay is paused: ${JSON.stringify(lagged)}`);
  }
  await sleep(1_000);
  assert.equal(await requestsTotal(), 300, 'the replica has not replayed the second batch');
  const later = await metrics();
  assert.ok(later.seconds > lagged.seconds, 'the lag grows while replay is paused');
  console.log(`# replay paused: statistics still 300 while the primary holds 500; lag ${later.seconds} s, ${later.bytes} bytes`);

  await replica.sql('lda', 'SELECT pg_wal_replay_resume()');
  const catchUpMs = await until(500);
  let caughtUp;
  for (const t0 = Date.now(); ; await sleep(100)) {
    caughtUp = await metrics();
    if (caughtUp.seconds === 0) break;
    assert.ok(Date.now() - t0 < 10_000, `lag not back to 0: ${JSON.stringify(caughtUp)}`);
  }
  console.log(`# replay resumed: statistics at 500 after ${catchUpMs} ms; lag ${caughtUp.seconds} s, ${caughtUp.bytes} bytes`);
});

test('replica_stopped_statistics_answer_503_and_case_management_goes_on', async () => {
  await replica.stop();
  const stats = await api('GET', YEAR, { token: tok.analyst });
  assert.equal(stats.status, 503);
  assert.equal(stats.headers['retry-after'], '1');
  assert.equal(stats.json.type, '/problems/unavailable');
  assert.equal((await metrics()).up, 0);

  // readiness and everything but the statistics: the primary alone
  assert.equal((await api('GET', '/readyz')).status, 200);
  assert.equal((await api('GET', '/v1/platforms')).status, 200);
  const created = await api('POST', '/v1/households', {
    token: tok.coordinator,
    body: {
      platform: 'artois',
      composition: 'single_person',
      adults: 1,
      children: 0,
      head: { last_name: 'Replica', first_name: 'Down', birth_date: '1985-04-04', sex: 'unknown' },
      housing_situation: 'street',
    },
  });
  assert.equal(created.status, 201, created.text);
  assert.equal((await api('GET', `/v1/households/${created.json.id}`, { token: tok.coordinator })).status, 200);
  await push(50);

  // back: the pool reconnects by itself, and the replica catches up
  await replica.restart();
  const t0 = Date.now();
  for (;;) {
    const res = await api('GET', YEAR, { token: tok.analyst });
    if (res.status === 200 && res.json.requests_total === 550) break;
    assert.ok(Date.now() - t0 < 30_000, `statistics not back: ${res.status} ${res.text.slice(0, 200)}`);
    await sleep(100);
  }
  console.log(`# replica restarted: statistics back, with the batch pushed meanwhile, ${Date.now() - t0} ms later`);
  assert.equal((await metrics()).up, 1);
});
