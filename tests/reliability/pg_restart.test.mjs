// After a PostgreSQL restart: not a single 503 once PostgreSQL accepts connections.
//
// A pooled connection is checked before it is lent (a poll of its socket, and a round trip
// when it idled a few seconds): one the restart closed is replaced, not lent. While the
// database is down, one request at a time tries to connect and the others fail with it
// (503 with Retry-After, at once); as soon as PostgreSQL accepts connections the next
// request connects: there is no time-based backoff left to wait out. libpq's notices (the
// FATAL each backend sends on a fast shutdown) are logged as JSON lines. A connection that
// carried a very large statement or result is closed when it comes back to the pool.
//
//   1. Three `pg_ctl stop -m fast` / `pg_ctl start -w` cycles under a load of six clients
//      reading and writing: every answer is 2xx, or 503 problem+json with Retry-After; and
//      no request started after `pg_ctl start -w` returned (PostgreSQL accepting
//      connections) answers 503. Every stderr line is a JSON object; the backends' FATAL
//      57P01 is among the logged notices.
//   2. A batch of 10 000 SIAO requests (a statement of several MiB): its connection is closed
//      when it comes back (lda_db_recycled_total), and the next requests are served.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { PrivateCluster, startPrivateService } from '../lib/cluster.mjs';
import { request } from '../lib/http.mjs';
import { SLOWDOWN, Tally, isProper503 } from '../lib/load.mjs';
import { sleep } from '../lib/wait.mjs';
import { recentReferralBody, recentSiaoRecords } from '../lib/data.mjs';
import { metric } from '../lib/metrics.mjs';

const CYCLES = 3;
const DOWN_MS = 1_500;

describe('PostgreSQL restarted under load', () => {
  const cluster = new PrivateCluster();
  let svc;
  const tok = {};

  before(async () => {
    await cluster.start();
    svc = await startPrivateService(cluster, { LDA_RATE_LIMIT_RPS: '0', LDA_DB_POOL: '4' });
    tok.coord = await svc.createToken('coordinator', { platforms: ['artois', 'lens_henin'], name: 'restart-coord' });
    tok.siao = await svc.createToken('siao', { platforms: ['artois', 'lens_henin'], source: 'restart', name: 'restart-siao' });
    tok.admin = await svc.createToken('admin', { name: 'restart-metrics' });
  });

  after(async () => {
    try {
      await svc?.stop();
    } finally {
      await cluster.destroy();
    }
  });

  test('no 503 once PostgreSQL accepts connections again', async (t) => {
    const results = [];
    let stop = false;
    let n = 0;
    const ops = [
      () => request(svc.url, 'GET', '/v1/households?limit=5', { settle: true, token: tok.coord, op: 'households' }),
      () => request(svc.url, 'GET', '/v1/referrals?limit=5', { settle: true, token: tok.coord, op: 'referrals' }),
      () => request(svc.url, 'POST', '/v1/referrals', { settle: true, token: tok.coord, body: recentReferralBody('artois'), op: 'new referral' }),
      () => request(svc.url, 'POST', '/v1/siao-requests/batch', { settle: true, token: tok.siao, body: recentSiaoRecords(`rs-${n++}`, 5), op: 'siao batch' }),
      () => request(svc.url, 'GET', '/v1/platforms', { settle: true, op: 'platforms' }),
      () => request(svc.url, 'GET', '/readyz', { settle: true, op: 'readyz', validate: true }),
    ];
    const loops = ops.map(async (op) => {
      while (!stop) {
        results.push(await op());
        await sleep(10);
      }
    });
    const cycles = [];
    try {
      await sleep(1_500);
      for (let c = 0; c < CYCLES; c += 1) {
        const downAt = Date.now();
        await cluster.stop();
        const stoppedAt = Date.now();
        await sleep(DOWN_MS);
        await cluster.start(); // pg_ctl start -w: returns once PostgreSQL accepts connections
        const upAt = Date.now();
        cycles.push({ downAt, stoppedAt, upAt });
        await sleep(2_500);
      }
    } finally {
      stop = true;
      await Promise.all(loops);
    }
    const tally = new Tally();
    const expected = (r) => (r.status >= 200 && r.status < 300) || isProper503(r) || (r.op === 'readyz' && r.status === 503);
    for (const r of results) tally.add(r, expected);
    // requests started after PostgreSQL accepted connections again, before the next stop
    const afterUp = results.filter((r) => cycles.some((cy, i) => r.at >= cy.upAt && r.at < (cycles[i + 1]?.downAt ?? Infinity)));
    const late503 = afterUp.filter((r) => r.status === 503);
    const during = results.filter((r) => cycles.some((cy) => r.at >= cy.downAt && r.at < cy.upAt));
    const logLines = svc.logs.filter((l) => l.trim());
    const notJson = logLines.filter((l) => {
      try {
        return typeof JSON.parse(l) !== 'object';
      } catch {
        return true;
      }
    });
    const notices = svc.logEntries().filter((e) => e.msg === 'database notice');
    t.diagnostic(
      `tried: ${CYCLES} cycles of pg_ctl stop -m fast, ${DOWN_MS} ms down, pg_ctl start -w, under 6 clients (households, referrals, new referrals, SIAO batches, platforms, readyz): ${results.length} requests\n` +
        `held: ${during.length} requests started while PostgreSQL was down (${during.filter((r) => r.status === 503).length} answered 503 with Retry-After); ` +
        `${afterUp.length} started after pg_ctl start -w returned: ${late503.length} answered 503 ` +
        `(first answers after each start: ${cycles.map((cy) => results.filter((r) => r.at >= cy.upAt).slice(0, 6).map((r) => r.status).join(' ')).join(' | ')}); ` +
        `${notices.length} libpq notices logged as JSON (${[...new Set(notices.map((e) => e.sqlstate))].join(', ')}); ${notJson.length} stderr lines not JSON\n${tally.toString()}`,
    );
    assert.deepEqual(tally.samples, [], 'every answer 2xx or 503 problem+json with Retry-After');
    const upOf = (r) => cycles.filter((cy) => r.at >= cy.upAt).pop().upAt;
    assert.deepEqual(late503.map((r) => `${r.op} at +${r.at - upOf(r)} ms`), [], 'no 503 once PostgreSQL accepts connections');
    assert.ok(afterUp.length >= 30, `only ${afterUp.length} requests after the restarts`);
    assert.deepEqual(notJson.slice(0, 3), [], 'stderr: one JSON object per line');
    assert.ok(notices.some((e) => e.sqlstate === '57P01'), 'the backends goodbye (57P01) logged as a notice');
    assert.equal(svc.exit, null, 'the service never exited');
  });

  test('a connection that carried a very large statement is closed when it comes back', async (t) => {
    const before = await request(svc.url, 'GET', '/metrics', { settle: true, token: tok.admin });
    // records at their largest (person keys are pseudonymised before they are sent, so only
    // the source's own fields make the statement large): 100-character ids, every resource
    // and need code, so that each statement of the batch is well over the recycling size
    const vocab = (await request(svc.url, 'GET', '/v1/vocabularies', { settle: true })).json;
    const codes = (name) => vocab[name].map((c) => c.code).filter((c) => c !== 'unknown' && c !== 'none').slice(0, 20);
    const big = await request(svc.url, 'POST', '/v1/siao-requests/batch', { settle: true, token: tok.siao,
      body: recentSiaoRecords(`big-${Date.now()}`, 10_000).map((r, i) => ({
        ...r,
        external_id: `${r.external_id}-`.padEnd(100, 'e'),
        person_key: `${i}-${'k'.repeat(120)}`,
        received_at: new Date(Date.now() - 3_600_000 - i * 1000).toISOString(),
        resources: codes('resource'),
        needs: codes('siao_need'),
      })),
      timeout: 120_000 * SLOWDOWN,
    });
    assert.equal(big.status, 200, big.text.slice(0, 300));
    assert.equal(big.json.created, 10_000, big.text.slice(0, 300));
    const after1 = await request(svc.url, 'GET', '/metrics', { settle: true, token: tok.admin });
    const recycled = metric(after1.text, 'lda_db_recycled_total') - metric(before.text, 'lda_db_recycled_total');
    const next = [];
    for (let i = 0; i < 10; i += 1) next.push((await request(svc.url, 'GET', '/v1/households?limit=5', { settle: true, token: tok.coord })).status);
    t.diagnostic(`held: a batch of 10 000 records (records at their largest) (${big.json.created} created) → ${recycled} connection(s) closed at release (lda_db_recycled_total); the next requests: ${next.join(' ')}`);
    assert.ok(recycled >= 1, 'the connection was recycled');
    assert.deepEqual([...new Set(next)], [200]);
  });
});
