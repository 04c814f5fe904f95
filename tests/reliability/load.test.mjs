// Load suite: a bounded mixed read/write load for 60 s with zero 5xx, and memory
// back to baseline after it.
//
// 8 concurrent clients, each sending its next request as soon as the previous one is
// answered: reads of households, referrals (lists and single), platforms, the activity
// statistics and the youth observatory; writes of referrals (with an inline household),
// support measures and SIAO batches of 10 records. One of every 5 answers is checked against
// openapi.yaml (all of them cost the load generator more CPU than the service on 2 cores).
//
// Memory: a warm-up with the same mix (30 s and 5 000 requests, at most 60 s), a settle
// period, then RSS (VmRSS of /proc/PID/status); the 60 s load; the same settle; RSS again: it
// must be within 5 % of the RSS after the warm-up. The warm-up brings the heap (its
// fragmentation included: measured here, RSS grows by ~3 % in the 5 000 requests after a
// 3 000-request warm-up, then by well under 1 % a minute) and libpq's buffers to their
// working size, so that what is left is growth the load itself caused (a leak, a cache
// without bound). The settle period (12 s) is longer than the period at which the service
// hands freed memory back to the system (api/http/server.c, TRIM_EVERY_S).
//
// The per-token rate limit is off (LDA_RATE_LIMIT_RPS=0): a handful of tokens carry the whole
// load here, and 429s are tested in tests/integration/access.test.mjs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startService } from '../lib/service.mjs';
import { request } from '../lib/http.mjs';
import { SANITIZED, Tally, loadLoop, rssKb, sanitizerLines } from '../lib/load.mjs';
import { daysAgo, recentMeasureBody, recentReferralBody, recentSiaoRecords } from '../lib/data.mjs';
import { sleep } from '../lib/wait.mjs';

const CLIENTS = 8;
// The sanitizer build does not assert the RSS (see below): a short warm-up is enough there.
const WARMUP = SANITIZED ? { minMs: 15_000, minRequests: 1_000, maxMs: 20_000 } : { minMs: 30_000, minRequests: 5_000, maxMs: 60_000 };
const SETTLE_MS = 12_000;
// 60 s as the spec says. On the sanitizer build the same 60 s would only add ASan's
// quarantine to the RSS figures (which are not asserted there, see below) and minutes to CI:
// it runs 30 s, enough for the 5xx and sanitizer checks.
const LOAD_MS = SANITIZED ? 30_000 : 60_000;
const MAX_REQUESTS = 400_000; // a bound on the loop whatever the machine's speed
const RSS_TOLERANCE = 0.05;

let svc;
const tok = {};
const referrals = []; // ids the load may read and add measures to
const today = daysAgo(0);

before(async () => {
  svc = await startService({ env: { LDA_RATE_LIMIT_RPS: '0' } });
  tok.coord = await svc.createToken('coordinator', { platforms: ['artois', 'lens_henin'], name: 'load-coord' });
  tok.siao = await svc.createToken('siao', { platforms: ['artois', 'lens_henin'], source: 'load', name: 'load-siao' });
  tok.analyst = await svc.createToken('analyst', { name: 'load-analyst' });
  for (let i = 0; i < 40; i += 1) {
    const r = await request(svc.url, 'POST', '/v1/referrals', { settle: true, token: tok.coord, body: recentReferralBody(i % 2 ? 'artois' : 'lens_henin') });
    assert.equal(r.status, 201, r.text);
    referrals.push(r.json.id);
  }
});

after(async () => {
  await svc?.stop();
});

/** The operations of the mix, with their weights (reads 70 %, writes 30 %). */
const OPS = [
  [12, (i) => request(svc.url, 'GET', '/v1/households?limit=20', { settle: true, token: tok.coord, validate: i % 5 === 0 })],
  [12, (i) => request(svc.url, 'GET', `/v1/referrals?limit=20&platform=${i % 2 ? 'artois' : 'lens_henin'}`, { settle: true, token: tok.coord, validate: i % 5 === 0 })],
  [12, (i) => request(svc.url, 'GET', `/v1/referrals/${referrals[i % referrals.length]}`, { settle: true, token: tok.coord, op: 'GET /v1/referrals/{id}', validate: i % 5 === 0 })],
  [14, (i) => request(svc.url, 'GET', '/v1/platforms', { settle: true, validate: i % 5 === 0 })],
  [10, (i) => request(svc.url, 'GET', `/v1/stats/activity?from=2019-01-01&to=${today.slice(0, 4)}-12-31`, { settle: true, token: tok.analyst, validate: i % 5 === 0 })],
  [10, (i) => request(svc.url, 'GET', `/v1/observatory/youth?from=2020-01-01&to=${today.slice(0, 4)}-12-31`, { settle: true, token: tok.analyst, validate: i % 5 === 0 })],
  [
    12,
    async (i) => {
      const r = await request(svc.url, 'POST', '/v1/referrals', { settle: true, token: tok.coord, body: recentReferralBody(i % 2 ? 'artois' : 'lens_henin'), validate: i % 5 === 0 });
      if (r.status === 201 && referrals.length < 2_000) referrals.push(r.json.id);
      return r;
    },
  ],
  [
    10,
    (i) =>
      request(svc.url, 'POST', `/v1/referrals/${referrals[(i * 7) % referrals.length]}/measures`, { settle: true, token: tok.coord,
        body: recentMeasureBody(),
        op: 'POST /v1/referrals/{id}/measures',
        validate: i % 5 === 0,
      }),
  ],
  [8, (i, c) => request(svc.url, 'POST', '/v1/siao-requests/batch', { settle: true, token: tok.siao, body: recentSiaoRecords(`load-${c}-${i}`, 10), validate: i % 5 === 0 })],
];
const WHEEL = OPS.flatMap(([w, fn]) => Array(w).fill(fn));

/**
 * Runs the mix for `ms` (or, with `until`, until until(elapsedMs, requests) is true, at most
 * `ms`); returns { tally, iterations, ms, rss: [samples] }.
 */
async function runMix(ms, until = null) {
  const tally = new Tally();
  const rss = [];
  const sampler = setInterval(() => rss.push(rssKb(svc.child.pid)), 1_000);
  const t0 = Date.now();
  const load = loadLoop({
    clients: CLIENTS,
    maxMs: ms,
    maxIterations: MAX_REQUESTS,
    step: async (c, i) => {
      tally.add(await WHEEL[(i * 37 + c) % WHEEL.length](i, c));
      if (until && until(Date.now() - t0, tally.total)) load.stop();
    },
  });
  const iterations = await load.done;
  clearInterval(sampler);
  return { tally, iterations, ms: Date.now() - t0, rss };
}

const mib = (kb) => `${(kb / 1024).toFixed(1)} MiB`;

test(`${LOAD_MS / 1000} s of mixed reads and writes by ${CLIENTS} clients: zero 5xx, RSS back within 5 % of its post-warm-up size`, async (t) => {
  const pid = svc.child.pid;
  const rssStart = rssKb(pid);
  const warm = await runMix(WARMUP.maxMs, (ms, n) => ms >= WARMUP.minMs && n >= WARMUP.minRequests);
  await sleep(SETTLE_MS);
  const rssWarm = rssKb(pid);
  const load = await runMix(LOAD_MS);
  await sleep(SETTLE_MS);
  const rssAfter = rssKb(pid);
  const { rows } = await svc.sql(
    "SELECT (SELECT count(*) FROM referral)::int AS referrals, (SELECT count(*) FROM measure)::int AS measures, (SELECT count(*) FROM siao_request WHERE source = 'load')::int AS siao",
  );
  const growth = (rssAfter - rssWarm) / rssWarm;
  t.diagnostic(
    `tried: warm-up ${warm.iterations} requests in ${warm.ms} ms, then ${load.iterations} requests in ${load.ms} ms ` +
      `(${Math.round((load.iterations * 1000) / load.ms)} req/s, slowest ${load.tally.maxMs} ms) by ${CLIENTS} clients:\n${load.tally.toString()}\n` +
      `database after: ${rows[0].referrals} referrals, ${rows[0].measures} measures, ${rows[0].siao} SIAO requests\n` +
      `held: RSS ${mib(rssStart)} at start, ${mib(rssWarm)} after the warm-up, peak ${mib(Math.max(...load.rss))} during the load, ` +
      `${mib(rssAfter)} after it (${(growth * 100).toFixed(1)} %)` +
      (SANITIZED ? ' — sanitizer build: not asserted (ASan quarantine); leaks are checked by LeakSanitizer when the service exits' : ''),
  );
  for (const [name, run] of [
    ['warm-up', warm],
    ['load', load],
  ]) {
    assert.equal(run.tally.count((k) => k.startsWith('5')), 0, `${name}: 5xx answers\n${run.tally.samples.join('\n')}`);
    assert.equal(run.tally.count((k) => k.startsWith('error:')), 0, `${name}: requests without an answer or off-contract\n${run.tally.samples.join('\n')}`);
    assert.deepEqual(run.tally.samples, [], `${name}: every request of the mix is valid and answered 2xx`);
  }
  assert.ok(load.ms >= LOAD_MS - 1_000, `the load ran ${load.ms} ms only (request bound reached?)`);
  if (!SANITIZED) assert.ok(growth <= RSS_TOLERANCE, `RSS grew by ${(growth * 100).toFixed(1)} % (${mib(rssWarm)} → ${mib(rssAfter)})`);
  assert.equal(svc.exit, null, 'the service is running');

  // SIGTERM: exit 0 (with LeakSanitizer on the sanitizer build: a leak makes it non-zero)
  await svc.stop();
  const found = sanitizerLines(svc.logs);
  t.diagnostic(`stopped with exit 0; sanitizer report lines on stderr: ${found.length}`);
  assert.deepEqual(found, [], 'no sanitizer report');
});
