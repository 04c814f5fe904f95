// SPEC §6 acceptance 2 — "a BI tool recomputing them from the raw rows in SQL must get the
// same numbers": a property test over random queries of the three statistics endpoints
// (GET /v1/stats/activity, /v1/observatory/youth, /v1/observatory/youth/series) on the demo
// data. For each case every figure is recomputed by plain SQL over the raw rows
// (_helpers/stats-oracle.mjs, written from the SPEC's definitions), the disclosure rules of
// §6 are applied here (threshold 11, primary then secondary per breakdown, rates), and the
// API's JSON must be equal: counts exactly, shares and rates within 1e-12. Then a batch of
// new SIAO requests is pushed and 30 more random cases are checked right after it commits.
//
// The PRNG is seeded: the seed is printed; replay a run with STATS_PROP_SEED=<seed>
// (STATS_PROP_CASES=<n> for more cases).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startService } from '../lib/harness.mjs';
import {
  PLATFORMS,
  prng,
  dayNumber,
  fromDayNumber,
  addDays,
  lastDayOfMonth,
  queryString,
  rawActivity,
  rawYouth,
  rawSeries,
  expectedActivity,
  expectedYouth,
  expectedSeries,
  diff,
  pool,
} from './_helpers/stats-oracle.mjs';

// A fixed seed by default (the same cases on every run); STATS_PROP_SEED=<n> replays or
// explores another one, STATS_PROP_SEED=random draws one.
const SEED_ENV = process.env.STATS_PROP_SEED ?? '20190101';
const SEED = SEED_ENV === 'random' ? Math.floor(Math.random() * 2 ** 31) : Number(SEED_ENV);
const CASES = Number(process.env.STATS_PROP_CASES ?? 220);
const CASES_AFTER_BATCH = 30;
const CONCURRENCY = 4;
const THRESHOLD = 11;
const LO = '2018-06-01';
const HI = '2026-02-28';

const CHANNELS = ['call_115', 'siao_insertion', 'street_outreach', 'day_centre', 'other'];
const SEXES = ['female', 'male', 'other', 'unknown'];
const COMPOSITIONS = ['single_person', 'couple_no_child', 'couple_with_children', 'single_parent', 'other', 'unknown'];
const SITUATIONS = ['housed', 'street', 'squat', 'hosted_by_third_party', 'shelter_structure', 'hotel', 'institution', 'precarious_housing', 'other', 'unknown'];
const NEEDS = ['emergency_shelter', 'housing', 'food', 'health', 'employment_training', 'rights_access', 'mobility', 'other'];
const RESPONSES = ['sheltered', 'housing_orientation', 'no_place_available', 'declined_by_person', 'referred_elsewhere', 'pending', 'other'];

let svc;
let admin;
/** What the cases exercised: hidden cells expected (primary, secondary), non-empty activity answers. */
const tally = { primary: 0, secondary: 0, activityNonEmpty: 0 };
let vocab;
let sqlChain = Promise.resolve();
/** svc.sql, one query at a time (the harness has one client). */
const sql = (text, params) => {
  const r = sqlChain.then(() => svc.sql(text, params));
  sqlChain = r.catch(() => {});
  return r;
};

const show = (res) => `${res.status} ${res.text?.slice(0, 400)}`;
const todayParis = () => new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Paris' }).format(new Date());

// ------------------------------------------------------------------------------ random cases

function randomPeriod(rng) {
  const lo = dayNumber(LO);
  const hi = dayNumber(HI);
  const day = () => fromDayNumber(rng.int(lo, hi));
  const clip = (d) => (d > HI ? HI : d);
  const k = rng.next();
  if (k < 0.12) {
    const d = day(); // a single day
    return { from: d, to: d };
  }
  if (k < 0.24) {
    // edges that look inverted: the last day of a month / year to the first of the next
    const d = day();
    const y = Number(d.slice(0, 4));
    const m = Number(d.slice(5, 7));
    if (rng.chance(0.4)) {
      const from = `${Math.min(y, 2025)}-12-31`;
      return { from, to: clip(addDays(from, rng.int(1, 3))) };
    }
    const from = lastDayOfMonth(y, m);
    return { from, to: clip(addDays(from, rng.int(1, 2))) };
  }
  const from = day();
  let span;
  if (k < 0.5) span = rng.int(1, 45);
  else if (k < 0.78) span = rng.int(46, 500);
  else span = rng.int(501, 3000);
  return { from, to: clip(addDays(from, span)) };
}

function randomCase(rng) {
  const q = randomPeriod(rng);
  const pk = rng.next();
  if (pk < 0.3) q.platforms = [];
  else if (pk < 0.8) {
    const n = rng.int(1, 5);
    const shuffled = [...PLATFORMS].sort(() => rng.next() - 0.5);
    q.platforms = shuffled.slice(0, n);
    if (rng.chance(0.1)) q.platforms.push(q.platforms[0]); // a platform named twice
  } else {
    q.ami = rng.int(1, 2);
    q.platforms = rng.chance(0.5) ? [] : [...PLATFORMS].sort(() => rng.next() - 0.5).slice(0, rng.int(1, 3));
  }
  // half the cases keep the default ages (18-25): with a platform set that is a group (all,
  // one platform, one AMI) the persons come from the rollups' links, else from the raw rows
  if (rng.chance(0.5)) {
    q.age_min = rng.int(0, 40);
    q.age_max = rng.chance(0.12) ? q.age_min : rng.int(q.age_min, 40);
  }
  const g = rng.next();
  q.granularity = g < 0.08 ? undefined : g < 0.45 ? 'month' : g < 0.75 ? 'quarter' : 'year';
  // now and then, leave from (2019-01-01) or to (today in Paris) to their defaults
  const d = rng.next();
  if (d < 0.03 && q.to >= '2019-01-01') {
    q.from = '2019-01-01';
    q.omitFrom = true;
  } else if (d < 0.06) {
    q.to = todayParis();
    q.omitTo = true;
  }
  return q;
}

// ------------------------------------------------------------------------------ one case

/** Checks the three endpoints for q; returns a list of failures ({ request, problems }). */
async function checkCase(q, label) {
  const failures = [];
  const asked = { ...q, from: q.omitFrom ? undefined : q.from, to: q.omitTo ? undefined : q.to };
  const actPath = `/v1/stats/activity?${queryString({ ...asked, granularity: undefined }, { ages: false })}`;
  const youthPath = `/v1/observatory/youth?${queryString({ ...asked, granularity: undefined })}`;
  const seriesPath = `/v1/observatory/youth/series?${queryString(asked)}`;
  const [act, youth, series] = await Promise.all([
    svc.api('GET', actPath, { token: admin, timeout: 60_000 }),
    svc.api('GET', youthPath, { token: admin, timeout: 60_000 }),
    svc.api('GET', seriesPath, { token: admin, timeout: 60_000 }),
  ]);
  const [ra, ry, rs] = [await rawActivity(sql, q), await rawYouth(sql, q), await rawSeries(sql, q)];

  if (act.status !== 200) failures.push({ label, request: `GET ${actPath}`, problems: [`status ${show(act)}`] });
  else {
    const { doc, unexpectedStatuses } = expectedActivity(ra, q, vocab, THRESHOLD, act.json);
    tally.primary += doc.suppression.primary;
    tally.secondary += doc.suppression.secondary;
    if (doc.referrals_received > 0) tally.activityNonEmpty += 1;
    const problems = diff(doc, act.json);
    if (unexpectedStatuses.length) problems.push(`oracle: referral statuses outside the outcomes: ${unexpectedStatuses}`);
    if (problems.length) failures.push({ label, request: `GET ${actPath}`, problems });
  }
  if (youth.status !== 200) failures.push({ label, request: `GET ${youthPath}`, problems: [`status ${show(youth)}`] });
  else {
    const { doc } = expectedYouth(ry, q, vocab, THRESHOLD, youth.json);
    tally.primary += doc.suppression.primary;
    tally.secondary += doc.suppression.secondary;
    const problems = diff(doc, youth.json);
    if (problems.length) failures.push({ label, request: `GET ${youthPath}`, problems, raw: rawSummary(ry) });
  }
  if (series.status !== 200) failures.push({ label, request: `GET ${seriesPath}`, problems: [`status ${show(series)}`] });
  else {
    const { doc, extra } = expectedSeries(rs, q, THRESHOLD);
    const problems = diff(doc, series.json);
    if (extra.length) problems.push(`oracle: rows in periods outside [from, to]: ${extra}`);
    if (problems.length) failures.push({ label, request: `GET ${seriesPath}`, problems });
  }
  return failures;
}

/** The raw counts behind a youth answer that matter to a reader of a failure. */
function rawSummary(r) {
  return { headline: r.h, by_response: r.b.by_response ?? {} };
}

function report(failures, title) {
  const lines = [`${failures.length} request(s) differ from the SQL recomputation (${title}, seed ${SEED}):`];
  for (const f of failures.slice(0, 12)) {
    lines.push(`  case ${f.label}: ${f.request}`);
    for (const p of f.problems.slice(0, 10)) lines.push(`      ${p}`);
    if (f.problems.length > 10) lines.push(`      … ${f.problems.length - 10} more`);
    if (f.raw) lines.push(`      raw (SQL): ${JSON.stringify(f.raw)}`);
  }
  if (failures.length > 12) lines.push(`  … ${failures.length - 12} more failing requests`);
  return lines.join('\n');
}

// ------------------------------------------------------------------------------ the batch

function parisYear(ts) {
  return Number(new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Paris', year: 'numeric' }).format(new Date(ts)));
}

/** ~500 SIAO requests across platforms, ages and dates (many near Paris midnight). */
function batchRecords(rng, n) {
  const out = [];
  const lo = dayNumber(LO);
  const hi = dayNumber(HI);
  const offsets = ['Z', '+01:00', '+02:00', '-04:00', '+05:30'];
  for (let i = 0; i < n; i += 1) {
    // a third in 2018 (before the demo data) or 2026 (after it): small counts there
    const zone = rng.next();
    const dn =
      zone < 0.17 ? rng.int(lo, dayNumber('2018-12-31')) : zone < 0.34 ? rng.int(dayNumber('2026-01-01'), hi) : rng.int(lo, hi);
    const day = fromDayNumber(dn);
    let time;
    if (rng.chance(0.3)) time = `${rng.pick(['22', '23'])}:${rng.pick(['05', '30', '59'])}:00Z`; // next day in Paris (or not)
    else time = `${String(rng.int(0, 23)).padStart(2, '0')}:${String(rng.int(0, 59)).padStart(2, '0')}:00${rng.pick(offsets)}`;
    const rec = {
      external_id: `pc-${String(i).padStart(5, '0')}`,
      received_at: `${day}T${time}`,
      platform: rng.pick(PLATFORMS),
      channel: rng.pick(CHANNELS),
    };
    if (rng.chance(0.9)) rec.person_key = `pc-person-${rng.int(0, 120)}`;
    else if (rng.chance(0.5)) rec.person_key = null;
    const a = rng.next();
    if (a < 0.7) rec.age = rng.chance(0.6) ? rng.int(16, 30) : rng.int(0, 90);
    else if (a < 0.9) rec.birth_year = parisYear(rec.received_at) - rng.int(10, 45);
    else if (rng.chance(0.5)) rec.age = null; // age not collected: never a youth request
    if (rng.chance(0.85)) rec.sex = rng.pick(SEXES);
    else if (rng.chance(0.5)) rec.sex = null;
    if (rng.chance(0.8)) rec.composition = rng.pick(COMPOSITIONS);
    if (rng.chance(0.85)) rec.situation = rng.pick(SITUATIONS);
    const nn = rng.int(0, 3);
    if (nn > 0 || rng.chance(0.5)) rec.needs = [...NEEDS].sort(() => rng.next() - 0.5).slice(0, nn);
    else if (rng.chance(0.5)) rec.needs = rng.chance(0.5) ? null : ['unknown'];
    if (rng.chance(0.85)) rec.response = rng.pick(RESPONSES);
    const alt = rng.next();
    if (alt < 0.4) rec.alternatives_known = false;
    else if (alt < 0.7) rec.alternatives_known = true;
    else if (alt < 0.85) rec.alternatives_known = null;
    out.push(rec);
  }
  return out;
}

// ------------------------------------------------------------------------------ tests

before(async () => {
  console.log(`stats_property: seed ${SEED} (replay with STATS_PROP_SEED=${SEED})`);
  svc = await startService();
  const seeded = await svc.runCli(['seed-demo'], { timeout: 300_000 });
  assert.equal(seeded.code, 0, `seed-demo exited ${seeded.code}\n${seeded.stderr}`);
  admin = await svc.createToken('admin', { name: 'stats-property-admin' });
  const v = await svc.api('GET', '/v1/vocabularies');
  assert.equal(v.status, 200, show(v));
  vocab = v.json;
  for (const name of ['platform', 'partner_kind', 'housing_situation', 'sex', 'measure_kind', 'siao_need', 'siao_response', 'siao_channel']) {
    assert.ok(Array.isArray(vocab[name]), `vocabulary ${name} missing from GET /v1/vocabularies`);
  }
  // the oracle's data: the demo data as SPEC §7 describes it
  const { rows } = await svc.sql('SELECT (SELECT count(*) FROM siao_request)::int AS s, (SELECT count(*) FROM referral)::int AS r');
  assert.deepEqual(rows[0], { s: 40_000, r: 1266 });
});

after(async () => {
  await svc?.stop();
});

test(`${CASES} random queries: every figure of the three endpoints equals the SQL recomputation (seed ${SEED})`, { timeout: 600_000 }, async () => {
  const rng = prng(SEED);
  const cases = [];
  for (let i = 0; i < CASES; i += 1) cases.push(randomCase(rng));
  // some that the random draw may miss: the defaults, the whole range, an empty platform set
  cases.push({ from: '2019-01-01', to: todayParis(), platforms: [] });
  cases.push({ from: LO, to: HI, platforms: [], age_min: 0, age_max: 40, granularity: 'year' });
  cases.push({ from: '2020-03-01', to: '2020-06-30', platforms: ['audomarois'], ami: 2 }); // before it started
  cases.push({ from: '2024-01-01', to: '2024-12-31', platforms: ['artois'], ami: 2 }); // nothing chosen
  cases.push({ from: '2023-03-26', to: '2023-03-26', platforms: [], granularity: 'month' }); // DST day
  cases.push({ from: '2023-10-29', to: '2023-10-29', platforms: [], granularity: 'quarter' });
  const t0 = Date.now();
  const results = await pool(cases, CONCURRENCY, (q, i) => checkCase(q, `#${i}`));
  const failures = results.flat();
  console.log(`stats_property: ${cases.length} cases in ${Date.now() - t0} ms, ${failures.length} failing request(s); expected hidden cells: ${JSON.stringify(tally)}`);
  assert.equal(failures.length, 0, report(failures, 'demo data'));
  // the draw does exercise disclosure control (hidden cells expected) and the referrals
  assert.ok(
    tally.primary > CASES / 2 && tally.secondary > CASES / 20 && tally.activityNonEmpty > CASES / 10,
    `the cases hardly exercise disclosure control: ${JSON.stringify(tally)}`,
  );
});

test('a period whose from is after its to: 422 on the three endpoints', async () => {
  const rng = prng(SEED ^ 0x1a2b);
  for (let i = 0; i < 12; i += 1) {
    const q = randomCase(rng);
    const from = q.from === q.to ? addDays(q.to, rng.int(1, 40)) : q.to;
    const to = q.from === q.to ? q.from : q.from;
    const inverted = { ...q, omitFrom: false, omitTo: false, from, to };
    for (const path of [
      `/v1/stats/activity?${queryString({ ...inverted, granularity: undefined }, { ages: false })}`,
      `/v1/observatory/youth?${queryString({ ...inverted, granularity: undefined })}`,
      `/v1/observatory/youth/series?${queryString(inverted)}`,
    ]) {
      const res = await svc.api('GET', path, { token: admin });
      assert.equal(res.status, 422, `GET ${path}: ${show(res)}`);
    }
  }
});

test('after a batch of new SIAO requests is committed, 30 random queries still equal the SQL recomputation', { timeout: 600_000 }, async () => {
  const rng = prng(SEED ^ 0x5eed);
  const records = batchRecords(rng, 500);
  const res = await svc.api('POST', '/v1/siao-requests/batch?source=propcheck', { token: admin, body: records, timeout: 120_000 });
  assert.equal(res.status, 200, show(res));
  assert.deepEqual(
    { created: res.json.created, updated: res.json.updated, unchanged: res.json.unchanged, rejected: res.json.rejected },
    { created: records.length, updated: 0, unchanged: 0, rejected: [] },
    `batch report: ${res.text.slice(0, 800)}`,
  );
  // the age of a record given by birth_year is the year of received_at in Paris minus it
  const { rows } = await svc.sql(`SELECT external_id, age FROM siao_request WHERE source = 'propcheck'`);
  const stored = new Map(rows.map((r) => [r.external_id, r.age]));
  assert.equal(stored.size, records.length);
  for (const r of records) {
    const want = typeof r.age === 'number' ? r.age : r.birth_year !== undefined ? parisYear(r.received_at) - r.birth_year : null;
    assert.equal(stored.get(r.external_id), want, `age of ${JSON.stringify(r)}`);
  }
  // right after the commit: 30 random cases, half of them on the periods the batch fills most
  const cases = [];
  for (let i = 0; i < CASES_AFTER_BATCH; i += 1) {
    const q = randomCase(rng);
    if (i % 2 === 0) {
      const early = rng.chance(0.5);
      const a = early ? rng.int(dayNumber(LO), dayNumber('2018-12-31')) : rng.int(dayNumber('2026-01-01'), dayNumber(HI));
      const b = early ? rng.int(a, dayNumber('2019-01-31')) : rng.int(a, dayNumber(HI));
      q.from = fromDayNumber(a);
      q.to = fromDayNumber(b);
      q.omitFrom = false;
      q.omitTo = false;
    }
    cases.push(q);
  }
  const results = await pool(cases, CONCURRENCY, (q, i) => checkCase(q, `after-batch #${i}`));
  const failures = results.flat();
  assert.equal(failures.length, 0, report(failures, 'after the batch'));

  // a second batch changes 200 of those records (day, platform, age, person, codes): the
  // rollups subtract the old rows and add the new ones, and the persons' chains move
  const changed = records.slice(0, 200).map((r, i) => {
    const c = { ...batchRecords(rng, 1)[0], external_id: r.external_id };
    if (i % 3 === 0) { c.age = rng.int(18, 25); delete c.birth_year; } // into the youth band
    if (i % 4 === 0 && r.person_key) c.person_key = r.person_key; // same person, another day
    return c;
  });
  const res2 = await svc.api('POST', '/v1/siao-requests/batch?source=propcheck', { token: admin, body: changed, timeout: 120_000 });
  assert.equal(res2.status, 200, show(res2));
  assert.equal(res2.json.created, 0, res2.text.slice(0, 400));
  assert.deepEqual([res2.json.updated + res2.json.unchanged, res2.json.rejected], [200, []], `updated ${res2.json.updated}: ${res2.text.slice(0, 400)}`);
  const after2 = [];
  for (let i = 0; i < CASES_AFTER_BATCH; i += 1) {
    const q = randomCase(rng);
    delete q.age_min; // the default ages: the links' fast path whenever the set is a group
    delete q.age_max;
    const pick = rng.next();
    q.ami = undefined;
    q.platforms = pick < 0.3 ? [] : pick < 0.7 ? [rng.pick(PLATFORMS)] : rng.chance(0.5) ? ['artois', 'lens_henin'] : ['audomarois', 'boulonnais', 'montreuillois'];
    if (i % 2 === 0) {
      const a = rng.int(dayNumber(LO), dayNumber(HI));
      q.from = fromDayNumber(a);
      q.to = fromDayNumber(rng.int(a, dayNumber(HI)));
      q.omitFrom = false;
      q.omitTo = false;
    }
    after2.push(q);
  }
  const failures2 = (await pool(after2, CONCURRENCY, (q, i) => checkCase(q, `after-update #${i}`))).flat();
  assert.equal(failures2.length, 0, report(failures2, 'after the updating batch'));
  // and the rollups equal a rebuild from scratch (the owner's lda_observatory_rebuild)
  const snapshot = `SELECT (SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM observatory_cell t WHERE n <> 0) AS cells,
    (SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM (SELECT grp, request_id, person_key, day, p1, p2 FROM observatory_link) t) AS links,
    (SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM observatory_link_month t WHERE n <> 0) AS months`;
  const kept = (await svc.sql(snapshot)).rows[0];
  await svc.sql('SELECT lda_observatory_rebuild()');
  const rebuilt = (await svc.sql(snapshot)).rows[0];
  assert.deepEqual(kept, rebuilt, 'the rollups kept by the triggers differ from a rebuild');
});
