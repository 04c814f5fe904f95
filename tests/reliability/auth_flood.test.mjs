// Database load without a token: what floods of bogus tokens and of public requests cost.
//
// A token that is not of the issued form ("lda_" + 43 characters) is refused without a
// look-up; an unknown token is remembered (a negative cache), so asking again is free; the
// look-ups that find nothing are budgeted per client address (LDA_AUTH_FAIL_RPS and _BURST;
// 429 beyond); public reference data is answered from memory; /readyz is worked out at most
// once a second; the per-token rate buckets live apart from the look-up caches; statistics
// hold at most LDA_STATS_CONCURRENCY connections.
//
//   1. With a pool of 3 connections: 16 loops of random well-formed bogus tokens from one
//      address, 8 loops of malformed ones from another, 8 loops of public routes (platforms,
//      funding, vocabularies, readyz) from a third, for FLOOD_MS; a real client with a valid
//      token reads and writes meanwhile. Printed: peak RSS, the real client's p99, errors and
//      5xx, the look-ups made. Asserted: the real client gets no error and no 5xx; the
//      database saw at most the address's budget of look-ups (burst + rate × time), the rest
//      answered 429 without one; malformed tokens cost none; the public floods never answered
//      5xx, and RSS stays under RSS_BOUND_MIB (plain build).
//   2. The same unknown token 500 times: one look-up.
//   3. A token's rate budget survives a flood of other tokens (the budget lives apart from the
//      look-up cache: evicting an entry no longer resets it).
//   4. Statistics blocked by a lock cannot take the pool from case management.
//   5. A flood of public requests takes no connection from the pool.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startService } from '../lib/service.mjs';
import pg from 'pg';
import { SANITIZED, SLOWDOWN, bogusToken, describeClient, memKb, mib, realClient, rssSampler } from '../lib/load.mjs';
import { sleep } from '../lib/wait.mjs';
import { request } from '../lib/http.mjs';
import { recentReferralBody } from '../lib/data.mjs';
import { metric } from '../lib/metrics.mjs';

const FLOOD_MS = 8_000;
const RSS_BOUND_MIB = 96;
const FAIL_RPS = 10; // LDA_AUTH_FAIL_RPS (the default)
const FAIL_BURST = 100; // LDA_AUTH_FAIL_BURST (the default)

/** Loops `step` from `clients` concurrent loops until `ms` elapse; counts answers by status. */
async function flood(clients, ms, step) {
  const counts = {};
  const deadline = Date.now() + ms;
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      for (let i = 0; Date.now() < deadline; i += 1) {
        const r = await step(c, i);
        const k = r.status ? String(r.status) : `error:${r.error}`;
        counts[k] = (counts[k] ?? 0) + 1;
      }
    }),
  );
  return counts;
}

/** GET with a given Authorization value from a given local address; { status, error }. */
function getFrom(port, path, { auth, localAddress }) {
  const headers = auth ? { Authorization: auth } : {};
  return request(`http://127.0.0.1:${port}`, 'GET', path, { headers, localAddress, keepAlive: false, validate: false, settle: true });
}

async function metricsOf(svc, token) {
  const r = await request(svc.url, 'GET', '/metrics', { settle: true, token });
  assert.equal(r.status, 200, r.text);
  return r.text;
}

describe('database load without a token', () => {
  let svc;
  let tok;

  before(async () => {
    svc = await startService({ env: { LDA_DB_POOL: '3', LDA_RATE_LIMIT_RPS: '0' } });
    tok = {
      admin: await svc.createToken('admin'),
      coord: await svc.createToken('coordinator', { platforms: ['artois'] }),
    };
  });

  after(async () => {
    await svc?.stop();
  });

  test('floods of bogus tokens, malformed tokens and public requests: the database is spared, a real client served', async (t) => {
    for (let i = 0; i < 10; i += 1) await request(svc.url, 'GET', '/v1/households?limit=5', { settle: true, token: tok.coord });
    const m0 = await metricsOf(svc, tok.admin);
    const rest = memKb(svc.child.pid).rss;
    const sampler = rssSampler(svc.child.pid);
    const client = realClient(svc.port, {
      clients: 2,
      pick: (i) => (i % 4 === 3 ? { method: 'POST', path: '/v1/referrals', token: tok.coord, body: recentReferralBody('artois') } : { path: '/v1/households?limit=5', token: tok.coord }),
    });
    const publicPaths = ['/v1/platforms', '/v1/funding', '/v1/vocabularies', '/readyz', '/v1/platforms/artois'];
    const t0 = Date.now();
    const [bogus, malformed, pub] = await Promise.all([
      flood(16, FLOOD_MS, () => getFrom(svc.port, '/v1/referrals', { auth: `Bearer ${bogusToken()}`, localAddress: '127.0.0.2' })),
      flood(8, FLOOD_MS, (c, i) => getFrom(svc.port, '/v1/households', { auth: i % 2 ? 'Bearer not-a-token' : `Bearer lda_${'x'.repeat(40)}`, localAddress: '127.0.0.3' })),
      flood(8, FLOOD_MS, (c, i) => getFrom(svc.port, publicPaths[(c + i) % publicPaths.length], { localAddress: '127.0.0.4' })),
    ]);
    const seconds = (Date.now() - t0) / 1000;
    const real = await client.stop();
    const { peakKb } = sampler.stop();
    const m1 = await metricsOf(svc, tok.admin);
    const d = (name) => metric(m1, name) - metric(m0, name);
    const lookups = d('lda_auth_total{outcome="lookup"}');
    const unknown = d('lda_auth_total{outcome="unknown"}');
    const throttled = d('lda_auth_total{outcome="throttled"}');
    const malformedCount = d('lda_auth_total{outcome="malformed"}');
    const allowed = FAIL_BURST + FAIL_RPS * seconds;
    t.diagnostic(
      `tried: for ${seconds.toFixed(1)} s with LDA_DB_POOL=3: 16 loops of random well-formed bogus tokens from 127.0.0.2, 8 loops of malformed tokens from 127.0.0.3, ` +
        `8 loops of public routes (${publicPaths.join(', ')}) from 127.0.0.4; a real client (coordinator token: households list, new referrals) on 127.0.0.1\n` +
        `held: bogus tokens ${JSON.stringify(bogus)}, malformed ${JSON.stringify(malformed)}, public ${JSON.stringify(pub)}; ` +
        `the service looked up ${lookups} tokens (${unknown} unknown; budget of the flooding address ${Math.round(allowed)}), ` +
        `${throttled} bogus tokens answered 429 without a look-up, ${malformedCount} malformed ones refused without; ` +
        `service RSS at rest ${mib(rest)} MiB, peak ${mib(peakKb)} MiB (bound ${SANITIZED ? 'n/a (sanitizer)' : `${RSS_BOUND_MIB} MiB`}); real client: ${describeClient(real)}`,
    );
    assert.equal(real.fiveXX, 0, `real client 5xx: ${real.samples.join(' | ')}`);
    assert.equal(real.errors, 0, `real client errors: ${real.samples.join(' | ')}`);
    assert.ok(unknown <= allowed + 20, `${unknown} unknown tokens looked up, budget ${allowed}`);
    assert.ok((bogus['429'] ?? 0) > 0, 'the flooding address was throttled');
    assert.deepEqual(Object.keys(bogus).filter((k) => k !== '401' && k !== '429'), [], 'bogus tokens: 401 or 429 only');
    assert.deepEqual(Object.keys(malformed), ['401'], 'malformed tokens: 401, never a look-up, never throttled');
    assert.ok(malformedCount >= malformed['401'], 'every malformed token counted as refused without a look-up');
    assert.deepEqual(Object.keys(pub), ['200'], 'public routes: 200 throughout');
    if (!SANITIZED) assert.ok(peakKb < RSS_BOUND_MIB * 1024, `peak RSS ${mib(peakKb)} MiB`);
    // a valid token from the throttled address still works (it was seen valid before)
    const fromThere = await getFrom(svc.port, '/v1/households?limit=1', { auth: `Bearer ${tok.coord}`, localAddress: '127.0.0.2' });
    assert.equal(fromThere.status, 200, 'a token the service knows keeps working from a throttled address');
    assert.ok(fromThere.headers['retry-after'] === undefined);
  });

  test('an unknown token asked 500 times is looked up once', async (t) => {
    const m0 = await metricsOf(svc, tok.admin);
    const token = bogusToken();
    const statuses = {};
    for (let i = 0; i < 500; i += 1) {
      const r = await getFrom(svc.port, '/v1/referrals', { auth: `Bearer ${token}`, localAddress: '127.0.0.9' });
      statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    }
    const m1 = await metricsOf(svc, tok.admin);
    const looked = metric(m1, 'lda_auth_total{outcome="lookup"}') - metric(m0, 'lda_auth_total{outcome="lookup"}');
    const cached = metric(m1, 'lda_auth_total{outcome="negative_cache"}') - metric(m0, 'lda_auth_total{outcome="negative_cache"}');
    t.diagnostic(`held: 500 requests with one unknown token → ${JSON.stringify(statuses)}; ${looked} look-up(s), ${cached} answered from the negative cache`);
    assert.deepEqual(statuses, { 401: 500 });
    assert.ok(looked <= 2, `${looked} look-ups`);
    assert.ok(cached >= 498);
  });

  test('public requests take no connection from the pool', async (t) => {
    let maxInUse = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const text = await metricsOf(svc, tok.admin);
        maxInUse = Math.max(maxInUse, metric(text, 'lda_db_pool_connections{state="in_use"}'));
        await sleep(20);
      }
    })();
    const counts = await flood(16, 4_000, (c, i) => getFrom(svc.port, ['/v1/platforms', '/v1/funding?ami=1', '/v1/platforms/lens_henin', '/v1/vocabularies'][(c + i) % 4], { localAddress: '127.0.0.5' }));
    sampling = false;
    await sampler;
    t.diagnostic(`held: 16 loops of public reference reads for 4 s → ${JSON.stringify(counts)}; at most ${maxInUse} pooled connection(s) in use meanwhile (the /metrics probe itself takes none)`);
    assert.deepEqual(Object.keys(counts), ['200']);
    assert.ok(maxInUse <= 1, `${maxInUse} connections in use (a refresh of the reference data may take one)`);
  });
});

describe('rate budgets', () => {
  let svc;
  let tok;
  const BURST = 100;

  before(async () => {
    svc = await startService({ env: { LDA_RATE_LIMIT_RPS: '1', LDA_RATE_LIMIT_BURST: String(BURST) } });
    tok = { spender: await svc.createToken('coordinator', { platforms: ['artois'], name: 'spender' }) };
  });

  after(async () => {
    await svc?.stop();
  });

  test("a token's spent budget survives a flood of other tokens", async (t) => {
    // spend the whole budget (100, refilled at 1/s) and see the 429
    const spent = [];
    for (let i = 0; i < BURST + 10 && !spent.includes(429); i += 1) spent.push((await request(svc.url, 'GET', '/v1/partners?limit=1', { settle: true, token: tok.spender })).status);
    assert.ok(spent.includes(429), `spent: ${spent.length} requests`);
    const t0 = Date.now();
    // 1 000 distinct bogus tokens from 20 addresses (within their budgets): the old cache kept
    // the budget in the entry these evicted
    let k = 0;
    await Promise.all(
      Array.from({ length: 20 }, async (_, c) => {
        while (k < 1000) {
          k += 1;
          await getFrom(svc.port, '/v1/partners', { auth: `Bearer ${bogusToken()}`, localAddress: `127.0.1.${c + 1}` });
        }
      }),
    );
    const elapsed = (Date.now() - t0) / 1000;
    // as many requests as the refill since the spend could pay for, and 10 more: a kept budget
    // refuses those 10; a reset one (a full bucket of 100) would pass them all
    const n = Math.min(Math.floor(elapsed) + 10, BURST - 10);
    const t1 = Date.now();
    const after = [];
    for (let i = 0; i < n; i += 1) after.push(await request(svc.url, 'GET', '/v1/partners?limit=1', { settle: true, token: tok.spender }));
    const refill = Math.floor((Date.now() - t0) / 1000) + 1;
    const ok = after.filter((r) => r.status === 200).length;
    const policy = after[0].headers['ratelimit-policy'];
    t.diagnostic(
      `held: budget of ${BURST} spent (${spent.length} requests, the last 429); 1 000 bogus tokens in ${elapsed.toFixed(1)} s; then ${n} requests in ${Date.now() - t1} ms: ${ok} passed ` +
        `(refilled at 1/s: at most ${refill} could; a reset budget would pass all ${n}); RateLimit-Policy ${policy}, RateLimit ${after[0].headers.ratelimit}`,
    );
    assert.ok(ok <= refill, `${ok} requests passed after ${elapsed} s: the budget was reset`);
    assert.ok(after.some((r) => r.status === 429));
    assert.equal(policy, '"token";q=100;w=100');
    assert.match(after[0].headers.ratelimit ?? '', /^"token";r=\d+;t=\d+$/);
  });
});

describe('statistics concurrency', () => {
  let svc;
  let tok;

  before(async () => {
    svc = await startService({
      env: { LDA_RATE_LIMIT_RPS: '0', LDA_DB_POOL: '3', LDA_STATS_CONCURRENCY: '1', LDA_STATEMENT_TIMEOUT_MS: '4000' },
    });
    tok = { admin: await svc.createToken('admin'), analyst: await svc.createToken('analyst') };
  });

  after(async () => {
    await svc?.stop();
  });

  test('statistics stuck on a lock cannot take the pool from case management', async (t) => {
    const locker = new pg.Client({ connectionString: svc.dbUrl });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE observatory_cell, observatory_link, observatory_link_month, siao_request IN ACCESS EXCLUSIVE MODE');
    const client = realClient(svc.port, {
      clients: 1,
      pauseMs: 100,
      pick: (i) => (i % 3 === 2 ? { method: 'POST', path: '/v1/referrals', token: tok.admin, body: recentReferralBody('artois') } : { path: '/v1/households?limit=5', token: tok.admin }),
    });
    let stats;
    try {
      stats = await flood(6, 6_000 * SLOWDOWN, () => request(svc.url, 'GET', '/v1/observatory/youth?from=2024-01-01&to=2024-12-31', { settle: true, token: tok.analyst, timeout: 60_000 }));
    } finally {
      await locker.query('ROLLBACK');
      await locker.end();
    }
    const real = await client.stop();
    const text = await metricsOf(svc, tok.admin);
    t.diagnostic(
      `tried: observatory tables locked; 6 loops of GET /v1/observatory/youth (LDA_STATS_CONCURRENCY=1, LDA_DB_POOL=3, lock timeout 2 s) while case management reads and writes\n` +
        `held: statistics ${JSON.stringify(stats)}, ${metric(text, 'lda_stats_refused_total')} refused at their limit; case management: ${describeClient(real)}`,
    );
    assert.equal(real.fiveXX, 0, `case management 5xx: ${real.samples.join(' | ')}`);
    assert.equal(real.errors, 0);
    assert.ok(real.count >= 3, 'case management kept being served');
    assert.deepEqual(Object.keys(stats).filter((k) => k !== '503' && k !== '200'), [], 'statistics: 200 or 503 only');
    const after = await request(svc.url, 'GET', '/v1/observatory/youth?from=2024-01-01&to=2024-12-31', { settle: true, token: tok.analyst });
    assert.equal(after.status, 200, 'statistics answer again once the lock is gone');
  });
});
