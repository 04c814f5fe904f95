// GET /v1/stats/outcomes against its definitions (docs/outcomes.md), on the demo data:
//   - random questions on the grid (months, quarters, years, ranges of years; one platform,
//     one AMI or all; cohorts by year or quarter), every figure compared with an independent
//     implementation over the raw rows (tests/lib/oracles/outcomes.mjs): the counts exactly what
//     the cell-key method gives with their hidden flags, hence within ±max_noise of the truth
//     and never from 1 to the threshold − 1; the estimates (quartiles, Kaplan–Meier shares)
//     exactly the oracle's, published only by their rule; the CSV carrying the same values;
//   - the demo data's story (1 266 referrals, returning households, returns after housing);
//   - the grid's 422s, roles and scopes;
//   - after writes through the API (new referrals, transitions, measures, a returning
//     household, an edited birth date), the facts the triggers keep equal a recomputation and
//     the figures still follow;
//   - lda_bi's view of the cohort sizes equals the API.
// The PRNG is seeded (printed); replay with OUTCOMES_PROP_SEED=<seed>, OUTCOMES_PROP_CASES=<n>.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import pg from 'pg';
import { startService } from '../lib/service.mjs';
import { PLATFORMS, prng, parseCsv } from '../lib/stats.mjs';
import { pool } from '../lib/load.mjs';
import { period, periodQuery } from '../lib/oracles/disclosure.mjs';
import { loadOutcomeTruth, expectedOutcomes, MEASURES, BREAKDOWNS } from '../lib/oracles/outcomes.mjs';
import { show } from '../lib/http.mjs';

const SEED_ENV = process.env.OUTCOMES_PROP_SEED ?? '20210101';
const SEED = SEED_ENV === 'random' ? Math.floor(Math.random() * 2 ** 31) : Number(SEED_ENV);
const CASES = Number(process.env.OUTCOMES_PROP_CASES ?? 40);
const OUTCOMES = '/v1/stats/outcomes';

let svc, vocab;
const tok = {};
let sqlChain = Promise.resolve();
const sql = (text, params) => {
  const r = sqlChain.then(() => svc.sql(text, params));
  sqlChain = r.catch(() => {});
  return r;
};
const tally = { counts: 0, hidden: 0, noisy: 0, estimates: 0, withheld: 0 };

function randomQuestion(rng) {
  const k = rng.next();
  const y = rng.int(2019, 2022);
  const p = k < 0.2 ? period('month', y, rng.int(0, 11)) : k < 0.45 ? period('quarter', y, rng.int(0, 3))
    : k < 0.8 ? period('year', y) : period('years', rng.int(2019, 2021), 0, 0);
  if (p.kind === 'years') p.last = rng.int(Math.floor(p.first / 12) + 1, 2022) * 12 + 11;
  const s = rng.next();
  const q = { period: p, granularity: rng.pick(['year', 'quarter']) };
  if (s < 0.3) q.platform = rng.pick(PLATFORMS);
  else if (s < 0.6) q.ami = rng.int(1, 2);
  return q;
}

function queryOf(q, csv = false) {
  const parts = [periodQuery(q.period), `granularity=${q.granularity}`];
  if (q.platform) parts.push(`platform=${q.platform}`);
  if (q.ami) parts.push(`ami=${q.ami}`);
  if (csv) parts.push('format=csv');
  return `${OUTCOMES}?${parts.join('&')}`;
}

/** A count: its value and status as expected, within the noise, never small. */
function checkCount(where, got, status, exp, problems, T, D) {
  tally.counts += 1;
  if (status !== exp.status) problems.push(`${where}: status ${status}, expected ${exp.status} (truth ${exp.truth})`);
  if (got !== exp.value) problems.push(`${where}: ${got}, expected ${exp.value} (${exp.status}, truth ${exp.truth})`);
  if (exp.status === 'A') { tally.hidden += 1; return; }
  if (got !== exp.truth) tally.noisy += 1;
  if (exp.status === 'E' && got !== exp.truth) problems.push(`${where}: exact ${got} ≠ truth ${exp.truth}`);
  if (Math.abs(got - exp.truth) > D) problems.push(`${where}: ${got} more than ${D} from ${exp.truth}`);
  if (got > 0 && got < T) problems.push(`${where}: ${got} published below the threshold`);
  if (exp.truth > 0 && exp.truth < T) problems.push(`${where}: a truth of ${exp.truth} published`);
}

function checkEstimate(where, got, status, exp, problems) {
  tally.estimates += 1;
  if (exp.value === null) tally.withheld += 1;
  if (got !== exp.value || status !== exp.status) problems.push(`${where}: ${got} (${status}), expected ${exp.value} (${exp.status})`);
}

function checkGroup(where, g, e, problems, T, D) {
  if (!g) return problems.push(`${where}: missing`);
  checkCount(`${where}.referrals`, g.referrals, g.status, e.referrals, problems, T, D);
  MEASURES.forEach((name, m) => {
    const b = g[name], x = e[name];
    for (const k of ['cases', 'events', 'censored']) checkCount(`${where}.${name}.${k}`, b[k], b.status[k], x[k], problems, T, D);
    if (m <= 1) for (const k of ['q1_days', 'median_days', 'q3_days']) checkEstimate(`${where}.${name}.${k}`, b[k], b.status[k], x[k], problems);
    const shares = m === 2 ? b.still_housed : b.within;
    x.shares.forEach((s, i) => {
      if (shares?.[i]?.months !== s.months) return problems.push(`${where}.${name}: horizons ${JSON.stringify(shares)}`);
      checkEstimate(`${where}.${name}.${s.months}m`, shares[i].share, shares[i].status, s, problems);
    });
    if (x.curve) {
      if (JSON.stringify(b.curve) !== JSON.stringify(x.curve)) problems.push(`${where}.${name}.curve: ${JSON.stringify(b.curve)} ≠ ${JSON.stringify(x.curve)}`);
    } else if (b.curve !== undefined) problems.push(`${where}.${name}: a curve where none is expected`);
  });
}

async function checkCase(t, q, label) {
  const problems = [];
  const T = t.settings.threshold, D = t.settings.maxNoise;
  const path = queryOf(q);
  const res = await svc.api('GET', path, { token: tok.admin, timeout: 60_000 });
  if (res.status !== 200) return [`${label} ${path}: ${show(res)}`];
  const again = await svc.api('GET', path, { token: tok.admin, timeout: 60_000 });
  if (again.text !== res.text) problems.push(`${label} ${path}: a second request answered differently`);
  const doc = res.json, exp = expectedOutcomes(t, q);
  const where = (k) => `${label} ${path} ${k}`;
  if (doc.as_of !== exp.as_of) problems.push(`${where('as_of')}: ${doc.as_of} ≠ ${exp.as_of}`);
  if (doc.granularity !== q.granularity) problems.push(`${where('granularity')}: ${doc.granularity}`);
  checkGroup(where('cohort'), doc.cohort, exp.cohort, problems, T, D);
  for (const [section] of BREAKDOWNS) {
    const got = doc[section], want = exp[section];
    if (got.map((c) => c.code).join() !== want.map((c) => c.code).join()) problems.push(`${where(section)}: codes ${got.map((c) => c.code)}`);
    want.forEach((e) => checkGroup(where(`${section}.${e.code}`), got.find((c) => c.code === e.code), e, problems, T, D));
  }
  for (const k of ['envaul', 'age_18_25']) checkGroup(where(`youth.${k}`), doc.youth[k], exp.youth[k], problems, T, D);
  if (doc.by_cohort.length !== exp.by_cohort.length) problems.push(`${where('by_cohort')}: ${doc.by_cohort.length} cohorts, expected ${exp.by_cohort.length}`);
  exp.by_cohort.forEach((e, i) => {
    const g = doc.by_cohort[i];
    if (g?.period !== e.period || g?.period_start !== e.period_start) problems.push(`${where(`by_cohort[${i}]`)}: ${g?.period} ${g?.period_start}, expected ${e.period} ${e.period_start}`);
    checkGroup(where(`by_cohort[${i}]`), g, e, problems, T, D);
  });
  const exact = doc.cohort.status === 'E';
  if (exact !== doc.disclosure.exact.includes('referrals')) problems.push(`${where('disclosure.exact')}: ${doc.disclosure.exact}`);

  // the CSV: the same values and statuses
  const csv = await svc.api('GET', queryOf(q, true), { token: tok.admin, timeout: 60_000 });
  if (csv.status !== 200) return [...problems, `${label} csv: ${show(csv)}`];
  const rows = parseCsv(csv.text);
  if (rows[0].join() !== 'cohort,section,code,measure,figure,value,status') problems.push(`${where('csv header')}: ${rows[0]}`);
  const row = new Map(rows.slice(1).map((r) => [r.slice(0, 5).join('|'), r]));
  const cohortLabel = csv.text.split('\r\n')[1].split(',')[0];
  const csvCheck = (cohort, section, code, g) => {
    const get = (measure, figure) => row.get([cohort, section, code, measure, figure].join('|'));
    const same = (r, value, status, what) => {
      if (!r) return problems.push(`${where(`csv ${section}/${code}/${what}`)}: no row`);
      const v = r[5] === '' ? null : Number(r[5]);
      if (v !== value || r[6] !== status) problems.push(`${where(`csv ${section}/${code}/${what}`)}: ${r[5]} ${r[6]} ≠ ${value} ${status}`);
    };
    same(get('cohort', 'referrals'), g.referrals, g.status, 'referrals');
    MEASURES.forEach((name, m) => {
      const b = g[name];
      for (const k of ['cases', 'events', 'censored', ...(m <= 1 ? ['q1_days', 'median_days', 'q3_days'] : [])]) same(get(name, k), b[k], b.status[k], `${name}.${k}`);
      for (const s of (m === 2 ? b.still_housed : b.within)) same(get(name, `share_${s.months}_months`), s.share, s.status, `${name}.${s.months}m`);
    });
  };
  csvCheck(cohortLabel, 'cohort', '', doc.cohort);
  for (const [section] of BREAKDOWNS) for (const c of doc[section]) csvCheck(cohortLabel, section, c.code, c);
  for (const c of doc.by_cohort) csvCheck(c.period, 'by_cohort', '', c);
  return problems;
}

function report(failures, what) {
  return `${failures.length} problem(s) ${what} (seed ${SEED}):\n${failures.slice(0, 40).join('\n')}`;
}

before(async () => {
  console.log(`stats_outcomes: seed ${SEED} (replay with OUTCOMES_PROP_SEED=${SEED})`);
  svc = await startService();
  const seeded = await svc.runCli(['seed-demo'], { timeout: 300_000 });
  assert.equal(seeded.code, 0, `seed-demo exited ${seeded.code}\n${seeded.stderr}`);
  tok.admin = await svc.createToken('admin', { name: 'outcomes-admin' });
  tok.analyst = await svc.createToken('analyst', { name: 'outcomes-analyst' });
  tok.analystArtois = await svc.createToken('analyst', { platforms: ['artois'], name: 'outcomes-artois' });
  tok.coord = await svc.createToken('coordinator', { platforms: ['artois', 'lens_henin'], name: 'outcomes-coord' });
  tok.partner = await svc.createToken('partner', { platforms: ['artois'], name: 'outcomes-partner' });
  const v = await svc.api('GET', '/v1/vocabularies');
  assert.equal(v.status, 200, show(v));
  vocab = Object.fromEntries(['measure_kind', 'composition', 'age_band'].map((k) => [k, v.json[k].map((c) => c.code)]));
});

after(async () => {
  await svc?.stop();
});

test('the demo cohorts: 1 266 referrals over 2019–2022, exact; households that come back; returns after housing; observed to 2022-12-31', async () => {
  const res = await svc.api('GET', `${OUTCOMES}?from=2019-01-01&to=2022-12-31`, { token: tok.analyst });
  assert.equal(res.status, 200, show(res));
  const d = res.json;
  assert.equal(d.as_of, '2022-12-31');
  assert.equal(d.cohort.referrals, 1266);
  assert.equal(d.cohort.status, 'E');
  assert.deepEqual(d.disclosure.exact, ['referrals']);
  assert.deepEqual(d.by_cohort.map((c) => [c.period, c.referrals, c.status]),
    [['2019', 190, 'E'], ['2020', 260, 'E'], ['2021', 390, 'E'], ['2022', 426, 'E']]);
  const { rows: [f] } = await sql(`SELECT count(*) FILTER (WHERE history = 'returning')::int AS returning,
      count(return_on)::int AS returns, count(ended_housed_on)::int AS ended_housed,
      count(*) FILTER (WHERE support_on IS NOT NULL)::int AS supported FROM outcome_fact`);
  assert.ok(f.returning >= 30 && f.returns >= 5 && f.ended_housed >= 200 && f.supported === 634, JSON.stringify(f));
  // the earlier cohorts are observed longer: more of them housed within 12 months
  const h = d.by_cohort.map((c) => c.time_to_housing.within.find((w) => w.months === 12).share);
  assert.ok(h.every((x) => x === null || (x > 0 && x < 1)), JSON.stringify(h));
  assert.ok(d.cohort.time_to_support.median_days > 0 && d.cohort.time_to_support.median_days % 7 === 0);
  // the 2022 cohort is still largely waiting at the observation date: censored, not failed
  const c22 = d.by_cohort[3].time_to_housing;
  assert.ok(c22.censored > 100, JSON.stringify(c22));
});

test(`${CASES} random questions: every figure is what its definition and the disclosure rules give (seed ${SEED})`, { timeout: 900_000 }, async () => {
  const truth = await loadOutcomeTruth(sql, vocab);
  const rng = prng(SEED);
  const cases = [];
  for (let i = 0; i < CASES; i++) cases.push(randomQuestion(rng));
  const failures = (await pool(cases, 2, (q, i) => checkCase(truth, q, `#${i}`))).flat();
  console.log(`figures: ${tally.counts} counts (${tally.hidden} hidden, ${tally.noisy} off their truth), ${tally.estimates} estimates (${tally.withheld} withheld)`);
  assert.equal(failures.length, 0, report(failures, 'on the demo data'));
  assert.ok(tally.hidden > 100 && tally.noisy > 100 && tally.estimates - tally.withheld > 100 && tally.withheld > 100, JSON.stringify(tally));
});

test('the grid: a month, a quarter, a year, a range of years; cohorts by year or quarter; anything else 422', async () => {
  for (const qs of ['from=2021-03-01&to=2021-03-31', 'from=2021-04-01&to=2021-06-30&granularity=quarter', 'from=2020-01-01&to=2022-12-31&ami=2']) {
    const res = await svc.api('GET', `${OUTCOMES}?${qs}`, { token: tok.analyst });
    assert.equal(res.status, 200, `${qs}: ${show(res)}`);
  }
  const q = await svc.api('GET', `${OUTCOMES}?from=2021-01-01&to=2021-12-31&granularity=quarter`, { token: tok.analyst });
  assert.deepEqual(q.json.by_cohort.map((c) => c.period), ['2021-Q1', '2021-Q2', '2021-Q3', '2021-Q4']);
  for (const [qs, field] of [['from=2021-01-02&to=2021-12-31', 'from'], ['from=2021-01-01&to=2021-12-30', 'to'],
    ['from=2021-01-01&to=2021-12-31&granularity=month', 'granularity'], ['from=2021-01-01&to=2021-12-31&platform=artois&ami=1', 'ami'],
    ['from=2021-01-01&to=2021-12-31&age_band=age_18_25', 'age_band'], ['from=2021-01-01&to=2021-12-31&platform=paris', 'platform']]) {
    const res = await svc.api('GET', `${OUTCOMES}?${qs}`, { token: tok.analyst });
    assert.equal(res.status, 422, `${qs}: ${show(res)}`);
    assert.ok(res.json.errors?.some((e) => e.field === field), `${qs}: ${show(res)}`);
  }
});

test('who may ask: analysts, coordinators, admins; a scoped token about its platforms only; the same figures whoever asks', async () => {
  const path = `${OUTCOMES}?from=2021-01-01&to=2021-12-31&platform=artois`;
  const a = await svc.api('GET', path, { token: tok.analyst });
  const s = await svc.api('GET', path, { token: tok.analystArtois });
  const c = await svc.api('GET', path, { token: tok.coord });
  assert.equal(a.status, 200, show(a));
  assert.equal(s.text, a.text);
  assert.equal(c.text, a.text);
  const own = await svc.api('GET', `${OUTCOMES}?from=2021-01-01&to=2021-12-31`, { token: tok.analystArtois });
  assert.equal(own.status, 200, show(own));
  assert.deepEqual(own.json.filters.platforms, ['artois']);
  assert.equal((await svc.api('GET', `${OUTCOMES}?from=2021-01-01&to=2021-12-31&platform=lens_henin`, { token: tok.analystArtois })).status, 403);
  assert.equal((await svc.api('GET', `${OUTCOMES}?from=2021-01-01&to=2021-12-31`, { token: tok.partner })).status, 403);
  assert.equal((await svc.api('GET', `${OUTCOMES}?from=2021-01-01&to=2021-12-31`)).status, 401);
  const csv = await svc.api('GET', `${OUTCOMES}?from=2021-01-01&to=2021-12-31`, { token: tok.analyst, headers: { Accept: 'text/csv' } });
  assert.equal(csv.status, 200);
  assert.match(csv.headers['content-type'], /^text\/csv/);
  assert.match(csv.headers['content-disposition'], /resultats-cohortes\.csv/);
});

async function asRole(role, fn) {
  const name = `${role}_${crypto.randomBytes(4).toString('hex')}`;
  await svc.sql(`CREATE ROLE ${name} LOGIN PASSWORD 'pw-${name}' IN ROLE ${role}`);
  const u = new URL(svc.dbUrl);
  u.username = name;
  u.password = `pw-${name}`;
  const client = new pg.Client({ connectionString: u.toString() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
    await svc.sql(`DROP OWNED BY ${name}`);
    await svc.sql(`DROP ROLE ${name}`);
  }
}

test('lda_bi reads the cohort sizes as the API publishes them, and none of the rows behind them', async () => {
  for (const scope of ['all', 'ami2', 'lens_henin']) {
    const q = scope === 'all' ? '' : scope.startsWith('ami') ? `&ami=${scope.slice(3)}` : `&platform=${scope}`;
    const api = (await svc.api('GET', `${OUTCOMES}?from=2022-01-01&to=2022-12-31${q}`, { token: tok.analyst })).json;
    await asRole('lda_bi', async (bi) => {
      const rows = (await bi.query(`SELECT dimension, code, referrals, status FROM reporting.outcome_cohorts_yearly
        WHERE year = 2022 AND scope = $1`, [scope])).rows;
      const dims = { by_measure_kind: 'measure_kind', by_composition: 'composition', by_age_band: 'age_band', by_history: 'history' };
      for (const [section, dim] of Object.entries(dims)) {
        for (const c of api[section]) {
          const r = rows.find((x) => x.dimension === dim && x.code === c.code);
          assert.deepEqual(r ? [r.referrals === null ? null : Number(r.referrals), r.status] : [0, 'P'], [c.referrals, c.status], `${scope} ${dim} ${c.code}`);
        }
      }
      await assert.rejects(bi.query('SELECT 1 FROM outcome_fact LIMIT 1'), /permission denied/);
      await assert.rejects(bi.query("SELECT * FROM lda_outcome_cases('2022-01-01', '2023-01-01')"), /permission denied/);
      await assert.rejects(bi.query('SELECT lda_outcome_as_of()'), /permission denied/);
    });
  }
});

test('after writes through the API, the facts kept by the triggers equal a recomputation and every figure still follows', { timeout: 600_000 }, async () => {
  const coord = tok.coord;
  const post = (path, body) => svc.api('POST', path, { token: coord, body });
  const hh = (birth) => ({
    platform: 'artois', composition: 'single_person', adults: 1, children: 0,
    head: { last_name: `Outcome${crypto.randomBytes(4).toString('hex')}`, first_name: 'Alex', birth_date: birth, sex: 'male' },
    resources: ['rsa'], housing_situation: 'street', vulnerabilities: [],
  });
  const ref = (household, on) => ({ household, platform: 'artois', referrer_kind: 'ccas', referrer_name: 'CCAS', received_on: on, has_social_note: false, reasons: ['homelessness'] });
  const ids = [];
  for (let i = 0; i < 14; i += 1) {
    const r = await post('/v1/referrals', ref(hh(i % 3 === 0 ? '2002-06-01' : '1980-02-02'), `2023-0${1 + (i % 3)}-1${i % 10}`));
    assert.equal(r.status, 201, show(r));
    ids.push({ id: r.json.id, household: r.json.household });
  }
  // supported, then housed, then ended: one comes back later (a return after housing)
  for (const [i, x] of ids.entries()) {
    if (i % 2) continue;
    for (const [to, on] of [['assessing', '2023-04-03'], ['orientation_proposed', '2023-04-10']]) {
      const t = await post(`/v1/referrals/${x.id}/transitions`, { to, on });
      assert.equal(t.status, 200, show(t));
    }
    const m = await post(`/v1/referrals/${x.id}/measures`, { kind: 'adsl', operator: 'Op', started_on: '2023-04-20' });
    assert.equal(m.status, 201, show(m));
    const t = await post(`/v1/referrals/${x.id}/transitions`, { to: 'accompanied', on: '2023-04-20' });
    assert.equal(t.status, 200, show(t));
    if (i % 4 === 0) {
      const p = await svc.api('PATCH', `/v1/measures/${m.json.id}`, {
        token: coord, headers: { 'If-Match': m.headers.etag },
        body: { housing_outcome: 'accessed', housing_type: 'social_housing', housing_on: '2023-06-01', ended_on: '2023-08-31', end_reason: 'goals_met' },
      });
      assert.equal(p.status, 200, show(p));
      const e = await post(`/v1/referrals/${x.id}/transitions`, { to: 'accompaniment_ended', on: '2023-08-31' });
      assert.equal(e.status, 200, show(e));
    }
  }
  const back = await post('/v1/referrals', ref(ids[0].household, '2023-11-06'));
  assert.equal(back.status, 201, show(back));
  const closed = await post(`/v1/referrals/${ids[1].id}/transitions`, { to: 'reoriented', on: '2023-05-02' });
  assert.equal(closed.status, 200, show(closed));
  // a birth date corrected (the household's trigger): the age band of its referrals follows
  await sql(`UPDATE household SET head_birth_date = '2003-01-01' WHERE id = $1`, [ids[3].household]);
  const { rows: [a] } = await sql(`SELECT age_band FROM outcome_fact WHERE referral_id = $1`, [ids[3].id]);
  assert.equal(a.age_band, 'age_18_25');

  const { rows: [f] } = await sql(`SELECT history, return_on::text, loss_on::text FROM outcome_fact WHERE referral_id = $1`, [ids[0].id]);
  assert.deepEqual(f, { history: 'first_time', return_on: '2023-11-06', loss_on: '2023-11-06' });
  const { rows: [b] } = await sql(`SELECT history FROM outcome_fact WHERE referral_id = $1`, [back.json.id]);
  assert.equal(b.history, 'returning');
  const facts = `SELECT md5(string_agg(x::text, ',' ORDER BY x.referral_id)) AS h FROM (SELECT referral_id, platform, received_on, rk,
    person, composition, age_band, kind, history, outcome, support_on, support_closed, housing_on, housing_closed,
    ended_housed_on, loss_on, return_on, last_on FROM %s) x`;
  const kept = (await sql(facts.replace('%s', 'outcome_fact'))).rows[0].h;
  const fresh = (await sql(facts.replace('%s', 'lda_outcome_referral'))).rows[0].h;
  assert.equal(kept, fresh, 'the facts kept by the triggers differ from a recomputation');

  const truth = await loadOutcomeTruth(sql, vocab);
  assert.equal(truth.asOf, '2023-11-30');
  const rng = prng(SEED + 7);
  const qs = [{ period: period('year', 2023), granularity: 'quarter' }, { period: period('year', 2023), granularity: 'year', platform: 'artois' },
    { period: period('years', 2022, 0, 0), granularity: 'year', ami: 1 }];
  qs[2].period.last = 2023 * 12 + 11;
  for (let i = 0; i < 6; i++) qs.push(randomQuestion(rng));
  const failures = (await pool(qs, 2, (q, i) => checkCase(truth, q, `after #${i}`))).flat();
  assert.equal(failures.length, 0, report(failures, 'after the writes'));
});
