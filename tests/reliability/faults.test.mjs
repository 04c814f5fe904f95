// Fault suite: what happens to the service and its data when PostgreSQL or the
// service itself fails.
//
//   1. PostgreSQL restarted (fast shutdown, start) under a bounded mixed load: answers during
//      the outage are 503 problem+json with Retry-After, nothing else 5xx, no connection
//      dropped; the service recovers by itself (same process) and every acknowledged write
//      is there.
//   2. PostgreSQL stopped with `pg_ctl stop -m immediate` right after N acknowledged writes
//      (referrals and SIAO batch records) while more writes are in flight: after the restart
//      (WAL replay) every acknowledged row is there.
//   3. The service SIGKILLed in the middle of a households batch and of a referrals batch,
//      the batch retried with the same Idempotency-Key: every record stored exactly once
//      (one row, one `received` event per referral). The same for SIAO request batches is
//      proven by tests/integration/batch.test.mjs ("crash safety: SIGKILL during a batch,
//      then retry with the same key"), not repeated here.
//   4. Durability: serve refuses to start on a PostgreSQL running without fsync,
//      full_page_writes or synchronous_commit (LDA_ALLOW_UNSAFE_DURABILITY, tests only,
//      overrides it and says so); a restart of PostgreSQL with no traffic, or an administrator
//      terminating the service's sessions, costs no request (closed pooled connections are
//      replaced before use).
//   5. Slow queries: with a small LDA_STATEMENT_TIMEOUT_MS, a request blocked by a lock held
//      from a superuser connection, or running a statement that never ends, answers 503
//      within its budget; the pooled connections come back clean (no transaction left open
//      in pg_stat_activity, the next requests succeed) and nothing is half-written.
//
// What stops, restarts or reconfigures PostgreSQL (1, 2, 4) runs on a PRIVATE cluster (the
// shared test cluster serves other tests in parallel and must stay up); the rest on the
// shared one, in a database of its own.
// Each test prints what it tried and what held (t.diagnostic).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { startService, runBinary, freePort, TEST_PSEUDONYM_KEY } from '../lib/service.mjs';
import { PrivateCluster, sqlOnce, startPrivateService } from '../lib/cluster.mjs';
import { request, show } from '../lib/http.mjs';
import { SANITIZED, SLOWDOWN, Tally, isProper503, loadLoop } from '../lib/load.mjs';
import { batchHouseholdRecord, batchReferralRecord, recentMeasureBody, recentReferralBody, recentSiaoRecords } from '../lib/data.mjs';
import { sleep } from '../lib/wait.mjs';
import { assertCounts, report } from '../lib/batch-report.mjs';

const PLATFORMS = ['artois', 'lens_henin'];
/** The lines that are not a JSON object (libpq prints server messages as plain text). */
const notJson = (lines) =>
  lines.filter((l) => {
    try {
      return typeof JSON.parse(l) !== 'object';
    } catch {
      return true;
    }
  });
const okStatus = (r) => !r.error && r.status >= 200 && r.status < 300;
const okOr503 = (r) => okStatus(r) || (!r.error && isProper503(r));

// ============================================================================ PostgreSQL down

describe('PostgreSQL restarted and crashed under the service (private cluster)', () => {
  const cluster = new PrivateCluster();
  let svc;
  const tok = {};

  before(async () => {
    await cluster.start();
    svc = await startPrivateService(cluster, {
      LDA_DB_POOL: '4',
      LDA_THREADS: '4',
      LDA_RATE_LIMIT_RPS: '0', // the load below is bounded by its clients, not by 429s
      LDA_STATEMENT_TIMEOUT_MS: String(5_000 * SLOWDOWN),
    });
    tok.coord = await svc.createToken('coordinator', { platforms: PLATFORMS, name: 'faults-coord' });
    tok.siao = await svc.createToken('siao', { platforms: PLATFORMS, source: 'faults', name: 'faults-siao' });
    tok.admin = await svc.createToken('admin', { name: 'faults-metrics' });
  });

  after(async () => {
    try {
      await cluster.start(); // stop() drops the database: the cluster must be up
      await svc?.stop();
    } finally {
      await cluster.destroy();
    }
  });

  /** Polls /readyz and /v1/platforms until both answer 200; returns when (ms since epoch). */
  async function waitRecovered(limitMs) {
    const t0 = Date.now();
    while (Date.now() - t0 < limitMs) {
      const [a, b] = await Promise.all([request(svc.url, 'GET', '/readyz', { settle: true, timeout: 5_000 }), request(svc.url, 'GET', '/v1/platforms', { settle: true, timeout: 5_000 })]);
      if (a.status === 200 && b.status === 200) return Date.now();
      await sleep(100);
    }
    return null;
  }

  test('PostgreSQL restarted under load: 503 + Retry-After while down, no other 5xx, recovery without a restart, acknowledged writes kept', async (t) => {
    const pid = svc.child.pid;
    const tally = new Tally();
    const results = [];
    const referrals = []; // ids acknowledged with 201
    const measures = [];
    const step = async (c, i) => {
      let r;
      switch ((c + i) % 6) {
        case 0:
          r = await request(svc.url, 'GET', '/v1/platforms', { settle: true });
          break;
        case 1:
          r = await request(svc.url, 'GET', '/v1/referrals?limit=10', { settle: true, token: tok.coord });
          break;
        case 2:
          r = await request(svc.url, 'POST', '/v1/referrals', { settle: true, token: tok.coord, body: recentReferralBody(PLATFORMS[i % 2]) });
          if (r.status === 201) referrals.push(r.json.id);
          break;
        case 3:
          r = await request(svc.url, 'GET', '/readyz', { settle: true });
          break;
        case 4:
          if (referrals.length) {
            const id = referrals[i % referrals.length];
            r = await request(svc.url, 'POST', `/v1/referrals/${id}/measures`, { settle: true, token: tok.coord, body: recentMeasureBody(), op: 'POST /v1/referrals/{id}/measures' });
            if (r.status === 201) measures.push(r.json.id);
          } else r = await request(svc.url, 'GET', '/v1/platforms/artois', { settle: true });
          break;
        default:
          r = await request(svc.url, 'GET', '/v1/households?limit=10', { settle: true, token: tok.coord });
      }
      results.push(r);
      tally.add(r, okOr503);
    };
    // 6 clients with a 20 ms pause: a bounded load (a few hundred requests a second at most)
    const load = loadLoop({ clients: 6, step, maxMs: 120_000, maxIterations: 60_000, pauseMs: 20 });
    // some answered load before the outage (at least 3 s of it, and 30 answers: on a busy
    // machine the first answers take longer)
    const loadFrom = Date.now();
    await sleep(3_000);
    while (results.length < 30 && Date.now() - loadFrom < 30_000) await sleep(200);
    const stopAt = Date.now();
    await cluster.stop();
    const downAt = Date.now();
    await sleep(3_000);
    const startAt = Date.now();
    await cluster.start();
    const upAt = Date.now();
    const recoveredAt = await waitRecovered(15_000 * SLOWDOWN);
    await sleep(3_000);
    load.stop();
    const iterations = await load.done;

    const phase = (r) => (r.at + r.ms < stopAt ? 'before' : r.at > (recoveredAt ?? Infinity) + 1_000 ? 'after' : 'outage');
    const by = { before: new Tally(), outage: new Tally(), after: new Tally() };
    for (const r of results) by[phase(r)].add(r);
    const slow503 = results.filter((r) => r.status === 503).reduce((m, r) => Math.max(m, r.ms), 0);
    t.diagnostic(
      `tried: ${iterations} requests by 6 clients (reads of platforms, referrals, households, readyz; writes of referrals and measures); ` +
        `PostgreSQL fast shutdown took ${downAt - stopAt} ms, down ${startAt - downAt} ms, start ${upAt - startAt} ms, ` +
        `service answering 200 again ${recoveredAt ? recoveredAt - upAt : 'never'} ms after PostgreSQL was up; slowest 503 ${slow503} ms`,
    );
    for (const k of ['before', 'outage', 'after']) t.diagnostic(`${k} the outage:\n${by[k].toString()}`);

    assert.ok(recoveredAt, 'the service did not answer 200 again within the limit');
    assert.equal(svc.exit, null, 'the service never exited');
    assert.equal(svc.child.pid, pid, 'the same process (no restart)');
    assert.deepEqual(tally.samples, [], 'only 2xx and 503 problem+json with Retry-After (no other 5xx, no dropped connection)');
    assert.equal(by.before.count((k) => k !== '200' && k !== '201'), 0, 'all 2xx before the outage');
    assert.equal(by.after.count((k) => k !== '200' && k !== '201'), 0, 'all 2xx once recovered');
    assert.ok(by.outage.count((k) => k === '503') > 0, 'the outage was seen (some 503)');
    assert.ok(by.after.total > 0 && by.before.total > 0, 'load before and after the outage');
    assert.ok(slow503 <= 5_000 * SLOWDOWN, `a 503 took ${slow503} ms`);
    assert.ok(recoveredAt - upAt <= 10_000 * SLOWDOWN, `recovery took ${recoveredAt - upAt} ms`);

    const { rows } = await sqlOnce(svc.dbUrl, 'SELECT count(*)::int AS n FROM referral WHERE id = ANY($1::uuid[])', [referrals]);
    const { rows: mrows } = await sqlOnce(svc.dbUrl, 'SELECT count(*)::int AS n FROM measure WHERE id = ANY($1::uuid[])', [measures]);
    t.diagnostic(`held: ${rows[0].n}/${referrals.length} acknowledged referrals and ${mrows[0].n}/${measures.length} acknowledged measures stored`);
    assert.equal(rows[0].n, referrals.length, 'every acknowledged referral is stored');
    assert.equal(mrows[0].n, measures.length, 'every acknowledged measure is stored');
  });

  test('pg_ctl stop -m immediate right after N acknowledged writes: every acknowledged row is there after the restart', async (t) => {
    const N = 150; // acknowledged write requests before the crash
    const pid = svc.child.pid;
    const tally = new Tally();
    const ackRefs = [];
    const ackSiao = []; // external ids of SIAO records acknowledged as created
    const tried = { referrals: 0, batches: 0 };
    let acked = 0;
    let crash = null;
    let lastAckAt = 0;
    const step = async (c, i) => {
      let r;
      if (c < 3) {
        tried.referrals += 1;
        r = await request(svc.url, 'POST', '/v1/referrals', { settle: true, token: tok.coord, body: recentReferralBody(PLATFORMS[i % 2]) });
        if (r.status === 201) ackRefs.push(r.json.id);
      } else {
        tried.batches += 1;
        const records = recentSiaoRecords(`crash-${c}-${i}`, 20);
        r = await request(svc.url, 'POST', '/v1/siao-requests/batch', { settle: true, token: tok.siao, body: records });
        if (r.status === 200) {
          assert.equal(r.json.created, records.length, `batch report ${r.text.slice(0, 300)}`);
          ackSiao.push(...records.map((x) => x.external_id));
        }
      }
      tally.add(r, okOr503);
      if (okStatus(r)) {
        acked += 1;
        lastAckAt = Date.now();
        if (acked >= N && !crash) crash = { at: Date.now(), lastAck: lastAckAt, done: cluster.crash() };
      }
    };
    const load = loadLoop({ clients: 5, step, maxMs: 120_000, maxIterations: 20_000 });
    const t0 = Date.now();
    while (!crash && Date.now() - t0 < 90_000) await sleep(10);
    assert.ok(crash, `only ${acked} writes acknowledged in 90 s`);
    await crash.done;
    const crashedAt = Date.now();
    const ackedAtCrash = { refs: ackRefs.length, siao: ackSiao.length };
    await sleep(1_500); // writers keep trying against the dead database
    load.stop();
    await load.done;
    const acks = { refs: [...ackRefs], siao: [...ackSiao] };
    await cluster.start();
    const recoveredAt = await waitRecovered(15_000 * SLOWDOWN);
    assert.ok(recoveredAt, 'the service did not answer 200 again after the restart');

    const log = cluster.log();
    const recovery = /not properly shut down; automatic recovery in progress/.test(log) && /redo (starts|done)/.test(log);
    const { rows: r1 } = await sqlOnce(svc.dbUrl, 'SELECT count(*)::int AS n FROM referral WHERE id = ANY($1::uuid[])', [acks.refs]);
    const { rows: r2 } = await sqlOnce(
      svc.dbUrl,
      "SELECT count(*)::int AS n FROM siao_request WHERE source = 'faults' AND external_id = ANY($1::text[])",
      [acks.siao],
    );
    const { rows: all } = await sqlOnce(
      svc.dbUrl,
      "SELECT (SELECT count(*) FROM referral)::int AS referrals, (SELECT count(*) FROM siao_request WHERE source = 'faults')::int AS siao",
    );
    t.diagnostic(
      `tried: ${tried.referrals} POST /v1/referrals and ${tried.batches} SIAO batches of 20 by 5 writers; ` +
        `pg_ctl stop -m immediate ${crash.at - crash.lastAck} ms after the ${N}th acknowledged write ` +
        `(${ackedAtCrash.refs} referrals and ${ackedAtCrash.siao} SIAO records acknowledged then, ${acks.refs.length} and ${acks.siao.length} in all), ` +
        `stop took ${crashedAt - crash.at} ms; crash recovery in the PostgreSQL log: ${recovery}\n${tally.toString()}`,
    );
    t.diagnostic(
      `held: ${r1[0].n}/${acks.refs.length} acknowledged referrals and ${r2[0].n}/${acks.siao.length} acknowledged SIAO records found; ` +
        `tables hold ${all[0].referrals} referrals and ${all[0].siao} records of the source (unacknowledged writes in flight may or may not be there)`,
    );
    assert.ok(recovery, 'PostgreSQL replayed its WAL (it was really stopped without a checkpoint)');
    assert.equal(r1[0].n, acks.refs.length, 'every acknowledged referral survived');
    assert.equal(r2[0].n, acks.siao.length, 'every acknowledged SIAO record survived');
    assert.deepEqual(tally.samples, [], 'writes answered 2xx or 503 problem+json with Retry-After, nothing else');
    assert.equal(svc.exit, null, 'the service never exited');
    assert.equal(svc.child.pid, pid, 'the same process');
  });
  test('PostgreSQL restarted while the service is idle: the first requests after are all 200 (no stale pooled connection)', async (t) => {
    const burst = async (n) =>
      Promise.all(
        Array.from({ length: n }, (_, i) =>
          i % 2 ? request(svc.url, 'GET', '/v1/platforms', { settle: true }) : request(svc.url, 'GET', '/v1/referrals?limit=5', { settle: true, token: tok.coord }),
        ),
      );
    const connected = async () => Number((await request(svc.url, 'GET', '/metrics', { settle: true, token: tok.admin })).text.match(/^lda_db_pool_connected (\d+)/m)?.[1]);
    const warm = await burst(16);
    assert.deepEqual(warm.filter((r) => r.status !== 200).map((r) => r.status), []);
    const open = await connected();
    const mark = svc.logs.length;
    // no request at all while PostgreSQL is down: the pooled connections are not touched
    await cluster.stop();
    await sleep(1_000);
    await cluster.start();
    await sleep(1_000);
    const first = await burst(16);
    const second = await burst(16);
    t.diagnostic(
      `tried: ${open} pooled connections open, PostgreSQL stopped and started again with no request meanwhile, then two bursts of 16 requests\n` +
        `held: first burst ${first.map((r) => r.status).join(' ')}; second ${second.map((r) => r.status).join(' ')}; pool connected after: ${await connected()}`,
    );
    assert.ok(open >= 2, `only ${open} pooled connection(s) open before the restart`);
    assert.deepEqual(notJson(svc.logs.slice(mark)), [], 'stderr stays one JSON object per line (no raw libpq message)');
    assert.deepEqual(first.filter((r) => r.status !== 200).map((r) => `${r.op} ${r.status}`), [], 'a request failed on a connection the server had closed');
    assert.deepEqual(second.filter((r) => r.status !== 200).map((r) => `${r.op} ${r.status}`), []);
  });
  test('a PostgreSQL without fsync, full_page_writes or synchronous_commit: serve refuses to start (unless the test-only override)', async (t) => {
    const serveOnce = async (env = {}) =>
      runBinary(['serve'], {
        env: {
          LDA_DATABASE_URL: svc.dbUrl,
          LDA_PSEUDONYM_KEY: TEST_PSEUDONYM_KEY,
          LDA_LISTEN: `127.0.0.1:${await freePort()}`,
          ...env,
        },
        timeout: 30_000 * SLOWDOWN,
      });
    const dbName = new URL(svc.dbUrl).pathname.slice(1);
    // A new session sees `value` for the setting (a reload is asynchronous); 10 s at most.
    const settled = async (setting, value) => {
      for (let i = 0; i < 100; i += 1) {
        const { rows } = await sqlOnce(svc.dbUrl, 'SELECT current_setting($1) AS v', [setting]);
        if (rows[0].v === value) return;
        await sleep(100);
      }
      assert.fail(`${setting} is not ${value} after 10 s`);
    };
    const cases = [
      ['fsync', 'ALTER SYSTEM SET fsync = off', 'ALTER SYSTEM RESET fsync'],
      ['full_page_writes', 'ALTER SYSTEM SET full_page_writes = off', 'ALTER SYSTEM RESET full_page_writes'],
      ['synchronous_commit', `ALTER DATABASE "${dbName}" SET synchronous_commit = off`, `ALTER DATABASE "${dbName}" RESET synchronous_commit`],
    ];
    const lines = [];
    for (const [setting, set, reset] of cases) {
      await sqlOnce(cluster.superUrl, set);
      await sqlOnce(cluster.superUrl, 'SELECT pg_reload_conf()');
      let refused;
      try {
        await settled(setting, 'off');
        refused = await serveOnce();
      } finally {
        await sqlOnce(cluster.superUrl, reset);
        await sqlOnce(cluster.superUrl, 'SELECT pg_reload_conf()');
        await settled(setting, 'on');
      }
      const named = refused.stderr.split('\n').some((l) => /"msg":"PostgreSQL is not durable"/.test(l) && l.includes(`"setting":"${setting}"`));
      lines.push(`${setting} off → serve exited ${refused.code}${named ? ', the log names the setting' : ''}`);
      assert.notEqual(refused.code, 0, `serve started with ${setting} off:\n${refused.stderr}`);
      assert.ok(named, `no log line naming ${setting}:\n${refused.stderr}`);
    }
    // the override (tests only): it serves, and says so
    await sqlOnce(cluster.superUrl, 'ALTER SYSTEM SET fsync = off');
    await sqlOnce(cluster.superUrl, 'SELECT pg_reload_conf()');
    const mark = svc.logs.length;
    try {
      await settled('fsync', 'off');
      await svc.restart({ env: { LDA_ALLOW_UNSAFE_DURABILITY: 'true' } });
      assert.equal((await request(svc.url, 'GET', '/readyz', { settle: true })).status, 200);
      assert.ok(svc.logs.slice(mark).some((l) => /serving without durability/.test(l)), 'the override is logged');
      lines.push('fsync off with LDA_ALLOW_UNSAFE_DURABILITY=true → serves, with a warning logged');
    } finally {
      await sqlOnce(cluster.superUrl, 'ALTER SYSTEM RESET fsync');
      await sqlOnce(cluster.superUrl, 'SELECT pg_reload_conf()');
      await settled('fsync', 'on');
      await svc.restart();
    }
    t.diagnostic(`tried and held:\n  ${lines.join('\n  ')}`);
  });
});

// ============================================================================ SIGKILL mid-batch

describe('the service SIGKILLed during a households batch and a referrals batch, retried with the same key', () => {
  const SIZE = 3_000;
  let svc;
  let siao;

  before(async () => {
    svc = await startService();
    siao = await svc.createToken('siao', { platforms: PLATFORMS, source: 'kill', name: 'faults-kill' });
  });

  after(async () => {
    await svc?.stop();
  });

  /** Posts `records` with a key, SIGKILLs the service `delay` ms later, retries: the report. */
  async function killAndRetry(path, records, delay) {
    const opts = {
      body: JSON.stringify(records),
      raw: true,
      token: siao,
      headers: { 'Content-Type': 'application/json', 'Idempotency-Key': randomUUID() },
      timeout: 120_000,
    };
    const inflight = svc.api('POST', path, opts).then(
      (res) => ({ res }),
      (err) => ({ err }),
    );
    await sleep(delay);
    await svc.restart({ signal: 'SIGKILL' });
    const first = await inflight;
    if (!first.err) assert.equal(first.res.status, 200, `answered before the kill: ${show(first.res)}`);
    // a client retries a 503 after its Retry-After (the killed transaction may still hold
    // its locks for a moment): a bounded number of times
    let retry = await svc.api('POST', path, opts);
    for (let i = 0; i < 10 && retry.status === 503; i += 1) {
      assert.ok(Number(retry.headers['retry-after']) >= 1, `503 without Retry-After: ${show(retry)}`);
      await sleep(1000 * Math.min(5, Number(retry.headers['retry-after'])));
      retry = await svc.api('POST', path, opts);
    }
    return { cut: Boolean(first.err), rep: report(retry, `retry of ${path}`), replayed: retry.headers['idempotent-replayed'] === 'true' };
  }

  test('each household and referral stored exactly once, with one received event per referral', async (t) => {
    // How long a batch takes here, to kill at a moment inside it.
    const warm = Array.from({ length: SIZE }, (_, i) => batchHouseholdRecord(`warm-h-${i}`, PLATFORMS[i % 2]));
    let t0 = performance.now();
    assertCounts(report(await svc.api('POST', '/v1/households/batch', { body: warm, token: siao, timeout: 120_000 })), { created: SIZE }, 'warm-up');
    const hMs = performance.now() - t0;
    const warmRefs = warm.map((h, i) => batchReferralRecord(`warm-r-${i}`, h.platform, { household_external_id: h.external_id }));
    t0 = performance.now();
    assertCounts(report(await svc.api('POST', '/v1/referrals/batch', { body: warmRefs, token: siao, timeout: 120_000 })), { created: SIZE }, 'warm-up');
    const rMs = performance.now() - t0;

    const lines = [`a ${SIZE}-record batch takes ${Math.round(hMs)} ms (households) and ${Math.round(rMs)} ms (referrals)`];
    let cuts = 0;
    for (const [n, frac] of [0.3, 0.7].entries()) {
      const hh = Array.from({ length: SIZE }, (_, i) => batchHouseholdRecord(`k${n}-h-${i}`, PLATFORMS[i % 2]));
      const h = await killAndRetry('/v1/households/batch', hh, Math.max(20, Math.round(hMs * frac)));
      assertCounts(h.rep, { created: SIZE }, `households retried after a kill at ${frac}`);
      const refs = hh.map((x, i) => batchReferralRecord(`k${n}-r-${i}`, x.platform, { household_external_id: x.external_id }));
      const r = await killAndRetry('/v1/referrals/batch', refs, Math.max(20, Math.round(rMs * frac)));
      assertCounts(r.rep, { created: SIZE }, `referrals retried after a kill at ${frac}`);
      cuts += Number(h.cut) + Number(r.cut);
      lines.push(
        `kill at ${Math.round(frac * 100)} % of a batch: households ${h.cut ? 'cut' : 'answered before the kill'}, retry ${h.replayed ? 'replayed' : 'ran'}; ` +
          `referrals ${r.cut ? 'cut' : 'answered before the kill'}, retry ${r.replayed ? 'replayed' : 'ran'}`,
      );
    }
    const { rows } = await svc.sql(
      `SELECT (SELECT count(*) FROM household WHERE source = 'kill' AND external_ref LIKE 'k%')::int AS h,
              (SELECT count(DISTINCT external_ref) FROM household WHERE source = 'kill' AND external_ref LIKE 'k%')::int AS hd,
              (SELECT count(*) FROM referral WHERE source = 'kill' AND external_id LIKE 'k%')::int AS r,
              (SELECT count(DISTINCT external_id) FROM referral WHERE source = 'kill' AND external_id LIKE 'k%')::int AS rd,
              (SELECT count(*) FROM referral_event e JOIN referral r ON r.id = e.referral_id
                WHERE r.source = 'kill' AND r.external_id LIKE 'k%')::int AS events,
              (SELECT count(*) FROM idempotency_key WHERE status = 0)::int AS unfinished`,
    );
    lines.push(`held: ${JSON.stringify(rows[0])} (expected ${2 * SIZE} of each, no unfinished idempotency key)`);
    t.diagnostic(lines.join('\n'));
    assert.deepEqual(rows[0], { h: 2 * SIZE, hd: 2 * SIZE, r: 2 * SIZE, rd: 2 * SIZE, events: 2 * SIZE, unfinished: 0 });
    assert.ok(cuts >= 1, 'no kill hit a batch in flight');
  });
});

// ============================================================================ slow queries

describe('slow queries: statement and lock timeouts answer 503 within budget, connections come back clean', () => {
  const TIMEOUT_MS = 1_000 * SLOWDOWN; // LDA_STATEMENT_TIMEOUT_MS (lock_timeout is half of it)
  const SLACK_MS = 1_000 * SLOWDOWN;
  // One request alone: its statement runs (or waits for a lock) at most the timeout.
  const BUDGET_MS = TIMEOUT_MS + SLACK_MS;
  // A burst: libmicrohttpd's pool threads each serve their connections one request at a time,
  // and a burst of connections may land on one thread, so the k-th blocked request of a
  // thread answers after at most k timeouts (see docs/security.md, "Known limits").
  const burstBudget = (n) => n * TIMEOUT_MS + SLACK_MS;
  const POOL = 4;
  let svc;
  const tok = {};

  before(async () => {
    svc = await startService({
      env: { LDA_STATEMENT_TIMEOUT_MS: String(TIMEOUT_MS), LDA_DB_POOL: String(POOL), LDA_THREADS: String(POOL), LDA_RATE_LIMIT_RPS: '0' },
    });
    tok.coord = await svc.createToken('coordinator', { platforms: PLATFORMS, name: 'slow-coord' });
    const first = await request(svc.url, 'POST', '/v1/referrals', { settle: true, token: tok.coord, body: recentReferralBody() });
    assert.equal(first.status, 201, first.text);
    tok.referral = first.json.id;
    // open the pooled connections
    await Promise.all(Array.from({ length: 2 * POOL }, () => request(svc.url, 'GET', '/v1/platforms', { settle: true })));
  });

  after(async () => {
    await svc?.stop();
  });

  /** The service's sessions as pg_stat_activity shows them (lda-api's application_name). */
  async function sessions() {
    const { rows } = await svc.sql(
      `SELECT state, wait_event_type, (xact_start IS NOT NULL) AS in_xact
         FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'lda-api'`,
    );
    return rows;
  }

  const counts = async () =>
    (await svc.sql('SELECT (SELECT count(*) FROM referral)::int AS referrals, (SELECT count(*) FROM household)::int AS households')).rows[0];

  /**
   * Asserts that no session of the service is left in a transaction: polled for up to 2 s
   * (×3 on the sanitizer build), since the audit writer may be running its INSERT at that
   * moment. A session "idle in transaction" fails at once (a request left its transaction
   * open: the pool would hand it to the next one); one still active after the wait fails too.
   * Returns the last sample.
   */
  async function assertNoStuckSession(what) {
    const deadline = Date.now() + 2_000 * SLOWDOWN;
    for (;;) {
      const s = await sessions();
      const open = s.filter((x) => /^idle in transaction/.test(x.state ?? ''));
      assert.deepEqual(open, [], `${what}: a session left idle in a transaction: ${JSON.stringify(s)}`);
      if (s.every((x) => x.state === 'idle' && !x.in_xact)) return s;
      if (Date.now() > deadline) assert.fail(`${what}: sessions still busy after ${2_000 * SLOWDOWN} ms: ${JSON.stringify(s)}`);
      await sleep(100);
    }
  }

  /** Asserts the pool is clean: idle sessions, none in a transaction, then 3×POOL requests OK. */
  async function assertClean(t, what) {
    const s = await assertNoStuckSession(what);
    const rs = await Promise.all(
      Array.from({ length: 3 * POOL }, (_, i) =>
        i % 3 === 0
          ? request(svc.url, 'GET', '/v1/platforms', { settle: true })
          : i % 3 === 1
            ? request(svc.url, 'GET', `/v1/referrals/${tok.referral}`, { settle: true, token: tok.coord, op: 'GET /v1/referrals/{id}' })
            : request(svc.url, 'POST', '/v1/referrals', { settle: true, token: tok.coord, body: recentReferralBody() }),
      ),
    );
    const bad = rs.filter((r) => !okStatus(r)).map((r) => `${r.op} ${r.status} ${r.error ?? ''} ${r.text.slice(0, 200)}`);
    assert.deepEqual(bad, [], `${what}: requests after the slow ones`);
    t.diagnostic(`${what}: ${s.length} sessions, all idle outside a transaction; then ${rs.length} requests all 2xx`);
  }

  /** The requests one after the other, then all at once: [serial results, burst results]. */
  async function serialThenBurst(makers) {
    const serial = [];
    for (const make of makers) serial.push(await make());
    const burst = await Promise.all(makers.map((make) => make()));
    return [serial, burst];
  }

  function assertAll503(t, title, serial, burst) {
    const fmt = (r) => `  ${r.op} → ${r.status} in ${r.ms} ms, Retry-After ${r.headers['retry-after']}`;
    t.diagnostic(`${title}\n one at a time (budget ${BUDGET_MS} ms each):\n${serial.map(fmt).join('\n')}\n all at once (budget ${burstBudget(burst.length)} ms):\n${burst.map(fmt).join('\n')}`);
    for (const r of [...serial, ...burst]) {
      assert.ok(isProper503(r), `${r.op}: expected 503 problem+json with Retry-After, got ${r.status} ${r.error ?? ''} ${r.text.slice(0, 200)}`);
    }
    for (const r of serial) assert.ok(r.ms <= BUDGET_MS, `${r.op} alone answered after ${r.ms} ms (budget ${BUDGET_MS})`);
    for (const r of burst) assert.ok(r.ms <= burstBudget(burst.length), `${r.op} in the burst answered after ${r.ms} ms`);
  }

  test('a lock held by a superuser: reads and writes answer 503 problem+json within budget; nothing written; clean pool after', async (t) => {
    const locker = new pg.Client({ connectionString: svc.dbUrl });
    locker.on('error', () => {});
    await locker.connect();
    const before = await counts();
    let serial;
    let burst;
    try {
      await locker.query('BEGIN');
      // (the public reference data, platforms and funding, is served from memory: a lock on
      // its tables does not reach it, checked below)
      await locker.query('LOCK TABLE funding, referral, household IN ACCESS EXCLUSIVE MODE');
      const fromMemory = await request(svc.url, 'GET', '/v1/funding?ami=1', { settle: true });
      assert.equal(fromMemory.status, 200, `funding with its table locked: ${fromMemory.text.slice(0, 200)}`);
      assert.ok(fromMemory.ms < 1_000 * SLOWDOWN, `funding took ${fromMemory.ms} ms`);
      [serial, burst] = await serialThenBurst([
        () => request(svc.url, 'GET', '/v1/referrals?limit=5', { settle: true, token: tok.coord }),
        () => request(svc.url, 'GET', `/v1/referrals/${tok.referral}`, { settle: true, token: tok.coord, op: 'GET /v1/referrals/{id}' }),
        () => request(svc.url, 'POST', '/v1/referrals', { settle: true, token: tok.coord, body: recentReferralBody() }),
        () => request(svc.url, 'GET', '/v1/households?limit=5', { settle: true, token: tok.coord }),
      ]);
      // while the lock is still held: no session of the service is still waiting on it
      await assertNoStuckSession('while the lock is still held');
    } finally {
      await locker.query('ROLLBACK').catch(() => {});
      await locker.end();
    }
    assertAll503(t, `tried: requests on tables locked IN ACCESS EXCLUSIVE MODE by a superuser; statement_timeout ${TIMEOUT_MS} ms, pool ${POOL}`, serial, burst);
    assert.deepEqual(await counts(), before, 'the writes blocked by the lock stored nothing');
    const logged = svc.logEntries().filter((e) => e.msg === 'database error').map((e) => e.sqlstate);
    assert.ok(logged.includes('55P03'), `lock_not_available logged by SQLSTATE only: ${logged}`);
    await assertClean(t, 'after the lock was released');
  });

  test('an uncached token while api_token is locked: 503, not 401', async (t) => {
    const fresh = await svc.createToken('coordinator', { platforms: PLATFORMS, name: 'slow-fresh' });
    const locker = new pg.Client({ connectionString: svc.dbUrl });
    locker.on('error', () => {});
    await locker.connect();
    let r;
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE api_token IN ACCESS EXCLUSIVE MODE');
      r = await request(svc.url, 'GET', '/v1/referrals?limit=5', { settle: true, token: fresh });
    } finally {
      await locker.query('ROLLBACK').catch(() => {});
      await locker.end();
    }
    t.diagnostic(`tried: a first request with a new token while api_token is locked → ${r.status} in ${r.ms} ms`);
    assert.ok(isProper503(r), `expected 503, got ${r.status} ${r.text.slice(0, 200)}`);
    assert.ok(r.ms <= BUDGET_MS, `answered after ${r.ms} ms`);
    const again = await request(svc.url, 'GET', '/v1/referrals?limit=5', { settle: true, token: fresh });
    assert.equal(again.status, 200, 'the token works once the lock is gone');
    await assertClean(t, 'after the api_token lock');
  });

  test('an administrator terminates the service\'s sessions: the next requests are all 2xx, on new connections', async (t) => {
    await Promise.all(Array.from({ length: 2 * POOL }, () => request(svc.url, 'GET', '/v1/platforms', { settle: true })));
    const mark = svc.logs.length;
    const { rows } = await svc.sql(
      "SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'lda-api'",
    );
    await sleep(200);
    const rs = await Promise.all(
      Array.from({ length: 3 * POOL }, (_, i) =>
        i % 2 ? request(svc.url, 'GET', '/v1/platforms', { settle: true }) : request(svc.url, 'GET', `/v1/referrals/${tok.referral}`, { settle: true, token: tok.coord, op: 'GET /v1/referrals/{id}' }),
      ),
    );
    const replaced = svc.logEntries().filter((e) => e.msg === 'database connection closed while idle; reconnecting').length;
    t.diagnostic(`tried: pg_terminate_backend on the service's ${rows[0].n} sessions, then ${rs.length} concurrent requests\nheld: ${rs.map((r) => r.status).join(' ')}; connections replaced before use: ${replaced}`);
    assert.ok(rows[0].n >= 1, 'no session to terminate');
    assert.deepEqual(rs.filter((r) => !okStatus(r)).map((r) => `${r.op} ${r.status}`), [], 'no request failed on a terminated session');
    assert.deepEqual(notJson(svc.logs.slice(mark)), [], 'stderr stays one JSON object per line');
    await assertClean(t, 'after the sessions were terminated');
  });

  test('a statement that runs past statement_timeout: 503 within budget, transaction rolled back, clean pool after', async (t) => {
    // A trigger that sleeps far longer than the timeout stands for a runaway statement
    // (created by the superuser on this test's own database, dropped at the end).
    await svc.sql(`CREATE FUNCTION rel2_slow() RETURNS trigger LANGUAGE plpgsql AS $$
                     BEGIN PERFORM pg_sleep(60); RETURN NEW; END $$`);
    await svc.sql('CREATE TRIGGER rel2_slow BEFORE INSERT ON referral FOR EACH ROW EXECUTE FUNCTION rel2_slow()');
    const before = await counts();
    let serial;
    let burst;
    try {
      [serial, burst] = await serialThenBurst(
        Array.from({ length: POOL }, (_, i) => () => request(svc.url, 'POST', '/v1/referrals', { settle: true, token: tok.coord, body: recentReferralBody(PLATFORMS[i % 2]) })),
      );
    } finally {
      await svc.sql('DROP TRIGGER rel2_slow ON referral');
      await svc.sql('DROP FUNCTION rel2_slow()');
    }
    assertAll503(t, `tried: POST /v1/referrals whose INSERT sleeps 60 s; statement_timeout ${TIMEOUT_MS} ms, pool ${POOL}`, serial, burst);
    assert.deepEqual(await counts(), before, 'the inline households of the timed-out referrals were rolled back too');
    const logged = svc.logEntries().filter((e) => e.msg === 'database error').map((e) => e.sqlstate);
    assert.ok(logged.includes('57014'), `query_canceled logged by SQLSTATE: ${logged}`);
    await assertClean(t, 'after the statement timeouts');
    if (SANITIZED) t.diagnostic('sanitizer build: timeouts and budgets ×3');
  });
});
