// The statistics against their definitions (docs/statistics.md), on the demo data: random
// questions on the grid (months, quarters, years, ranges of years; one platform, one AMI or
// all; the age bands) to the five endpoints, each figure compared with an independent
// implementation over the raw rows (tests/lib/oracles/disclosure.mjs: true counts, record keys,
// perturbation table, exact and cell-key rules; tests/lib/oracles/axes.mjs for eviction
// prevention and the housing offer: cohorts, two-way tables, quartiles). For every figure:
//   - exact figures equal their SQL definition, or are hidden as the rules say;
//   - protected figures are exactly what the cell-key method gives, hence within
//     ±max_noise of the truth, never below the threshold, 0 only for 0;
//   - nothing from 1 to the threshold − 1 is published;
//   - the CSV carries the same values and statuses as the JSON, and asking again gives the
//     same answer.
// Then the same after a batch of new SIAO requests and after a batch changing 200 of them,
// and the rollups kept by the triggers (with their key sums) equal a rebuild; and the
// prevention and housing figures after batches of cases, actions, follow-ups, offers and
// placements.
//
// The PRNG is seeded (printed); replay with STATS_PROP_SEED=<seed>, STATS_PROP_CASES=<n>.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startService } from '../lib/service.mjs';
import { PLATFORMS, prng, dayNumber, fromDayNumber, parseCsv } from '../lib/stats.mjs';
import { pool } from '../lib/load.mjs';
import {
  BANDS, loadTruth, period, periodQuery, expectedYouth, expectedActivity, youthHeadline,
  seriesPoints, YOUTH_DIMS, ACTIVITY_DIMS,
} from '../lib/oracles/disclosure.mjs';
import { loadAxes, expectedPrevention, expectedHousing, preventionRows, housingRows } from '../lib/oracles/axes.mjs';
import { show } from '../lib/http.mjs';

const SEED_ENV = process.env.STATS_PROP_SEED ?? '20190101';
const SEED = SEED_ENV === 'random' ? Math.floor(Math.random() * 2 ** 31) : Number(SEED_ENV);
const CASES = Number(process.env.STATS_PROP_CASES ?? 120);
const CASES_AFTER = 25;
const AXES_CASES = Number(process.env.STATS_PROP_AXES_CASES ?? 60);
const CONCURRENCY = 4;

let svc, admin, vocab;
const codes = {};
let sqlChain = Promise.resolve();
const sql = (text, params) => {
  const r = sqlChain.then(() => svc.sql(text, params));
  sqlChain = r.catch(() => {});
  return r;
};
const tally = { exact: 0, perturbed: 0, hidden: 0, noisy: 0 };

/** A random question. */
function randomQuestion(rng, endpoint) {
  const k = rng.next();
  const years = endpoint === 'activity' ? [2019, 2022] : [2019, 2025];
  const y = rng.int(years[0], years[1]);
  const p = k < 0.3 ? period('month', y, rng.int(0, 11)) : k < 0.55 ? period('quarter', y, rng.int(0, 3))
    : k < 0.8 ? period('year', y) : period('years', rng.int(years[0], years[1] - 1), 0, 0);
  if (p.kind === 'years') p.last = rng.int(Math.floor(p.first / 12) + 1, years[1]) * 12 + 11;
  const s = rng.next();
  const q = { endpoint, period: p, vocab: codes };
  if (s < 0.35) q.platform = rng.pick(PLATFORMS);
  else if (s < 0.65) q.ami = rng.int(1, 2);
  if (endpoint !== 'activity' && rng.chance(0.25)) q.age_band = rng.pick(Object.keys(BANDS));
  if (endpoint === 'series') q.granularity = rng.pick(['month', 'quarter', 'year']);
  return q;
}

function queryOf(q, csv = false) {
  const parts = [periodQuery(q.period)];
  if (q.platform) parts.push(`platform=${q.platform}`);
  if (q.ami) parts.push(`ami=${q.ami}`);
  if (q.age_band) parts.push(`age_band=${q.age_band}`);
  if (q.granularity) parts.push(`granularity=${q.granularity}`);
  if (csv) parts.push('format=csv');
  const path = { activity: '/v1/stats/activity', youth: '/v1/observatory/youth', series: '/v1/observatory/youth/series' }[q.endpoint];
  return `${path}?${parts.join('&')}`;
}

/** Compares one published figure with its expectation; pushes problems. */
function checkFigure(where, got, exp, problems, T, D) {
  const value = got === undefined ? undefined : got;
  if (exp.status === 'A') {
    if (value !== null) problems.push(`${where}: published ${value}, expected hidden (truth ${exp.truth})`);
    tally.hidden += 1;
    return;
  }
  if (typeof exp.value === 'number' && !Number.isInteger(exp.value)) {
    if (typeof value !== 'number' || Math.abs(value - exp.value) > 1e-12) problems.push(`${where}: ${value}, expected ${exp.value}`);
    return;
  }
  if (value !== exp.value) problems.push(`${where}: ${value}, expected ${exp.value} (${exp.status}, truth ${exp.truth})`);
  if (exp.truth === undefined) return;
  if (exp.status === 'E') {
    tally.exact += 1;
    if (value !== exp.truth) problems.push(`${where}: exact ${value} ≠ truth ${exp.truth}`);
  } else {
    tally.perturbed += 1;
    if (value !== exp.truth) tally.noisy += 1;
    if (Math.abs(value - exp.truth) > D) problems.push(`${where}: ${value} more than ${D} from ${exp.truth}`);
    if ((value === 0) !== (exp.truth === 0)) problems.push(`${where}: ${value} for a truth of ${exp.truth}`);
  }
  if (value > 0 && value < T) problems.push(`${where}: ${value} published below the threshold`);
  if (exp.truth > 0 && exp.truth < T) problems.push(`${where}: a truth of ${exp.truth} published`);
}

const cellStatus = (c) => c.status;

async function checkCase(t, q, label) {
  const problems = [];
  const T = t.settings.threshold, D = t.settings.maxNoise;
  const path = queryOf(q);
  const res = await svc.api('GET', path, { token: admin, timeout: 60_000 });
  if (res.status !== 200) return [`${label} ${path}: ${show(res)}`];
  const again = await svc.api('GET', path, { token: admin, timeout: 60_000 });
  if (again.text !== res.text) problems.push(`${label} ${path}: a second request answered differently`);
  const csv = await svc.api('GET', queryOf(q, true), { token: admin, timeout: 60_000 });
  if (csv.status !== 200) return [`${label} csv: ${show(csv)}`];
  const rows = parseCsv(csv.text);
  const doc = res.json;
  const where = (k) => `${label} ${path} ${k}`;
  const exactNames = new Set(doc.disclosure?.exact ?? []);
  if (doc.disclosure?.method !== 'cell_key' || doc.disclosure.threshold !== T || doc.disclosure.max_noise !== D) {
    problems.push(`${where('disclosure')}: ${JSON.stringify(doc.disclosure)}`);
  }
  if (q.endpoint === 'series') {
    const points = seriesPoints(q.period, q.granularity);
    if (doc.items.length !== points.length) return [`${where('items')}: ${doc.items.length} points, expected ${points.length}`];
    points.forEach((pt, i) => {
      const item = doc.items[i];
      if (item.period !== pt.label || item.period_start !== pt.start) problems.push(`${where(`items[${i}]`)}: ${item.period} ${item.period_start}, expected ${pt.label} ${pt.start}`);
      const exp = youthHeadline(t, q, pt.units, pt.kind);
      for (const [k, e] of Object.entries(exp)) {
        checkFigure(where(`items[${i}].${k}`), item[k], e, problems, T, D);
        if ((e.status === 'E') !== item.exact.includes(k)) problems.push(`${where(`items[${i}].exact`)}: ${item.exact} for ${k} ${e.status}`);
      }
      const r = rows[i + 1];
      const header = rows[0];
      for (const k of Object.keys(exp)) {
        const col = header.indexOf(k);
        const v = r[col] === '' ? null : Number(r[col]);
        const st = r[col + 1];
        if ((item[k] === null ? null : Number(item[k])) !== v && Math.abs((v ?? 0) - (item[k] ?? 0)) > 1e-12) problems.push(`${where(`csv ${pt.label} ${k}`)}: ${r[col]} ≠ ${item[k]}`);
        if (st !== exp[k].status) problems.push(`${where(`csv ${pt.label} ${k}_status`)}: ${st}, expected ${exp[k].status}`);
      }
    });
    return problems;
  }
  const exp = q.endpoint === 'youth' ? expectedYouth(t, q) : expectedActivity(t, q);
  const csvCell = new Map(rows.slice(1).map((r) => [`${r[0]}/${r[1]}`, r]));
  const checkCsv = (section, code, value, status) => {
    const r = csvCell.get(`${section}/${code}`);
    if (!r) return problems.push(`${where(`csv ${section}/${code}`)}: no row`);
    const text = r[3] !== '' ? r[3] : r[4];
    const v = text === '' ? null : Number(text);
    if (v !== value && !(v !== null && value !== null && Math.abs(v - value) < 1e-12)) problems.push(`${where(`csv ${section}/${code}`)}: ${text} ≠ ${value}`);
    if (r[5] !== status) problems.push(`${where(`csv ${section}/${code}`)}: status ${r[5]} ≠ ${status}`);
  };
  const headline = q.endpoint === 'youth'
    ? ['requests_total', 'youth_requests', 'youth_share', 'youth_persons', 'repeat_persons', 'unmet_rate', 'no_alternative_share']
    : ['referrals_received'];
  for (const k of headline) {
    checkFigure(where(k), doc[k], exp[k], problems, T, D);
    if ((exp[k].status === 'E') !== exactNames.has(k)) problems.push(`${where('disclosure.exact')}: ${[...exactNames]} for ${k} ${exp[k].status}`);
    checkCsv('headline', k, doc[k], exp[k].status);
  }
  if (q.endpoint === 'activity') {
    for (const [k, e] of Object.entries(exp.outcomes)) {
      checkFigure(where(`outcomes.${k}`), doc.outcomes[k], e, problems, T, D);
      checkCsv('outcomes', k, doc.outcomes[k], e.status);
    }
  }
  const sections = q.endpoint === 'youth' ? [...Object.keys(YOUTH_DIMS), 'by_age', 'by_platform']
    : [...Object.keys(ACTIVITY_DIMS), 'by_platform', 'by_year', 'measures_by_kind'];
  const totals = q.endpoint === 'youth' ? exp.youth_requests : exp.referrals_received;
  for (const section of sections) {
    const got = doc[section];
    const want = exp[section];
    if (got.map((c) => c.code).join() !== Object.keys(want).join()) problems.push(`${where(section)}: codes ${got.map((c) => c.code)} ≠ ${Object.keys(want)}`);
    const denom = section === 'measures_by_kind' ? exp.measures_total : totals;
    for (const c of got) {
      const e = want[c.code];
      if (!e) continue;
      checkFigure(where(`${section}.${c.code}`), c.count, e, problems, T, D);
      if (cellStatus(c) !== e.status) problems.push(`${where(`${section}.${c.code}`)}: status ${c.status} ≠ ${e.status}`);
      const share = e.value === null || denom.value === null || denom.value <= 0 ? null : e.value / denom.value;
      if (share === null ? c.share !== null : Math.abs(c.share - share) > 1e-12) problems.push(`${where(`${section}.${c.code}.share`)}: ${c.share} ≠ ${share}`);
      checkCsv(section, c.code, c.count, c.status);
    }
  }
  return problems;
}

function report(failures, what) {
  return `${failures.length} problem(s) ${what} (seed ${SEED}):\n${failures.slice(0, 40).join('\n')}`;
}

// ------------------------------------------------------------------------------ the batch

const CHANNELS = ['call_115', 'siao_insertion', 'street_outreach', 'day_centre', 'other'];
const SEXES = ['female', 'male', 'other', 'unknown'];
const SITUATIONS = ['housed', 'street', 'squat', 'hosted_by_third_party', 'shelter_structure', 'hotel', 'institution', 'other', 'unknown'];
const NEEDS = ['emergency_shelter', 'housing', 'food', 'health', 'employment_training', 'rights_access', 'mobility', 'other'];
const RESPONSES = ['sheltered', 'housing_orientation', 'no_place_available', 'declined_by_person', 'referred_elsewhere', 'pending', 'other'];

function batchRecords(rng, n, prefix = 'pc') {
  const out = [];
  for (let i = 0; i < n; i += 1) {
    const dn = rng.int(dayNumber('2023-01-01'), dayNumber('2025-12-31'));
    const time = rng.chance(0.3) ? `${rng.pick(['22', '23'])}:30:00Z` : `${String(rng.int(0, 23)).padStart(2, '0')}:10:00+01:00`;
    const rec = {
      external_id: `${prefix}-${String(i).padStart(5, '0')}`,
      received_at: `${fromDayNumber(dn)}T${time}`,
      platform: rng.pick(PLATFORMS),
      channel: rng.pick(CHANNELS),
      person_key: rng.chance(0.9) ? `pc-person-${rng.int(0, 150)}` : null,
      age: rng.chance(0.8) ? rng.int(16, 30) : rng.int(31, 80),
    };
    if (rng.chance(0.85)) rec.sex = rng.pick(SEXES);
    if (rng.chance(0.85)) rec.situation = rng.pick(SITUATIONS);
    rec.needs = [...NEEDS].sort(() => rng.next() - 0.5).slice(0, rng.int(0, 3));
    if (rng.chance(0.85)) rec.response = rng.pick(RESPONSES);
    const alt = rng.next();
    if (alt < 0.4) rec.alternatives_known = false;
    else if (alt < 0.7) rec.alternatives_known = true;
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
  for (const name of ['housing_situation', 'sex', 'measure_kind', 'siao_need', 'siao_response', 'siao_channel', 'partner_kind',
    'follow_up_situation', 'prevention_action_kind', 'procedure_stage', 'debt_band', 'housing_offer_kind', 'typology', 'composition']) {
    codes[name] = vocab[name].map((c) => c.code);
  }
});

after(async () => {
  await svc?.stop();
});

test('the demo data reproduces the activity report 2019–2022, exact', async () => {
  const res = await svc.api('GET', '/v1/stats/activity?from=2019-01-01&to=2022-12-31', { token: admin });
  assert.equal(res.status, 200, show(res));
  const a = res.json;
  assert.deepEqual(
    [a.referrals_received, a.outcomes.accompanied, a.outcomes.housed_or_maintained, a.outcomes.reoriented, a.outcomes.no_follow_up, a.outcomes.in_progress],
    [1266, 634, 445, 275, 79, 278],
  );
  assert.deepEqual(a.disclosure.exact.sort(), ['accompanied', 'housed_or_maintained', 'in_progress', 'no_follow_up', 'referrals_received', 'reoriented']);
});

test(`${CASES} random questions: every figure is what its definition and the disclosure rules give (seed ${SEED})`, { timeout: 900_000 }, async () => {
  const truth = await loadTruth(sql);
  const rng = prng(SEED);
  const cases = [];
  for (let i = 0; i < CASES; i++) cases.push(randomQuestion(rng, ['activity', 'youth', 'youth', 'series'][i % 4]));
  const failures = (await pool(cases, CONCURRENCY, (q, i) => checkCase(truth, q, `#${i}`))).flat();
  console.log(`figures: ${tally.exact} exact, ${tally.perturbed} protected (${tally.noisy} of them off their truth), ${tally.hidden} hidden`);
  assert.equal(failures.length, 0, report(failures, 'on the demo data'));
  assert.ok(tally.exact > 50 && tally.perturbed > 500 && tally.hidden > 50 && tally.noisy > 100, JSON.stringify(tally));
});

test('after a batch of new SIAO requests, and after a batch changing 200 of them, the figures still follow; the rollups equal a rebuild', { timeout: 900_000 }, async () => {
  const rng = prng(SEED + 1);
  const records = batchRecords(rng, 500);
  const res = await svc.api('POST', '/v1/siao-requests/batch?source=propcheck', { token: admin, body: records, timeout: 120_000 });
  assert.equal(res.status, 200, show(res));
  assert.deepEqual([res.json.created, res.json.rejected], [500, []], res.text.slice(0, 400));
  // the person keys were stored re-keyed, never as sent
  const sent = (await sql(`SELECT count(*)::int AS n FROM siao_request WHERE source = 'propcheck' AND person_key LIKE 'pc-person-%'`)).rows[0].n;
  assert.equal(sent, 0, 'a pushed person_key was stored as sent');
  let truth = await loadTruth(sql);
  const cases = [];
  for (let i = 0; i < CASES_AFTER; i++) cases.push(randomQuestion(rng, ['youth', 'series'][i % 2]));
  let failures = (await pool(cases, CONCURRENCY, (q, i) => checkCase(truth, q, `after #${i}`))).flat();
  assert.equal(failures.length, 0, report(failures, 'after the batch'));

  const changed = records.slice(0, 200).map((r, i) => {
    const c = { ...batchRecords(rng, 1)[0], external_id: r.external_id };
    if (i % 4 === 0 && r.person_key) c.person_key = r.person_key;
    return c;
  });
  const res2 = await svc.api('POST', '/v1/siao-requests/batch?source=propcheck', { token: admin, body: changed, timeout: 120_000 });
  assert.equal(res2.status, 200, show(res2));
  assert.equal(res2.json.created, 0, res2.text.slice(0, 400));
  truth = await loadTruth(sql);
  const cases2 = [];
  for (let i = 0; i < CASES_AFTER; i++) cases2.push(randomQuestion(rng, ['youth', 'series'][i % 2]));
  failures = (await pool(cases2, CONCURRENCY, (q, i) => checkCase(truth, q, `after-update #${i}`))).flat();
  assert.equal(failures.length, 0, report(failures, 'after the updating batch'));

  const snapshot = `SELECT (SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM observatory_cell t WHERE n <> 0 OR ks <> 0) AS cells,
    (SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM (SELECT grp, request_id, person_key, day, p1, p2 FROM observatory_link) t) AS links,
    (SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM observatory_link_month t WHERE n <> 0 OR ks <> 0) AS months`;
  const kept = (await sql(snapshot)).rows[0];
  await sql('SELECT lda_observatory_rebuild()');
  const rebuilt = (await sql(snapshot)).rows[0];
  assert.deepEqual(kept, rebuilt, 'the rollups kept by the triggers differ from a rebuild');
});

// ------------------------------------------------------------------------------ prevention and housing

/** A random question to the prevention or housing endpoint (the demo's years and one more). */
function randomAxesQuestion(rng, endpoint) {
  const k = rng.next();
  const y = rng.int(2019, 2023);
  const p = k < 0.3 ? period('month', y, rng.int(0, 11)) : k < 0.55 ? period('quarter', y, rng.int(0, 3))
    : k < 0.8 ? period('year', y) : period('years', rng.int(2019, 2022), 0, 0);
  if (p.kind === 'years') p.last = rng.int(Math.floor(p.first / 12) + 1, 2023) * 12 + 11;
  const q = { endpoint, period: p, vocab: codes };
  const s = rng.next();
  if (s < 0.4) q.platform = rng.pick(PLATFORMS);
  else if (s < 0.7) q.ami = rng.int(1, 2);
  return q;
}

function axesPath(q, csv = false) {
  const parts = [periodQuery(q.period)];
  if (q.platform) parts.push(`platform=${q.platform}`);
  if (q.ami) parts.push(`ami=${q.ami}`);
  if (csv) parts.push('format=csv');
  return `/v1/stats/${q.endpoint}?${parts.join('&')}`;
}

const axesTally = { perturbed: 0, noisy: 0, hidden: 0, values: 0 };

async function checkAxesCase(t, q, label) {
  const problems = [];
  const T = t.settings.threshold, D = t.settings.maxNoise;
  const path = axesPath(q);
  const res = await svc.api('GET', path, { token: admin, timeout: 60_000 });
  if (res.status !== 200) return [`${label} ${path}: ${show(res)}`];
  const again = await svc.api('GET', path, { token: admin, timeout: 60_000 });
  if (again.text !== res.text) problems.push(`${label} ${path}: a second request answered differently`);
  const csv = await svc.api('GET', axesPath(q, true), { token: admin, timeout: 60_000 });
  if (csv.status !== 200) return [`${label} csv: ${show(csv)}`];
  const doc = res.json;
  if (doc.disclosure.exact.length || doc.disclosure.threshold !== T || doc.disclosure.max_noise !== D) problems.push(`${label} ${path}: disclosure ${JSON.stringify(doc.disclosure)}`);
  const got = q.endpoint === 'prevention' ? preventionRows(doc) : housingRows(doc);
  const exp = q.endpoint === 'prevention' ? expectedPrevention(t, q) : expectedHousing(t, q);
  const rows = parseCsv(csv.text).slice(1);
  if (got.length !== exp.length || rows.length !== exp.length) return [`${label} ${path}: ${got.length} JSON rows, ${rows.length} CSV rows, ${exp.length} expected`];
  const close = (a, b) => a === b || (a !== null && b !== null && Math.abs(a - b) < 1e-12);
  exp.forEach((e, i) => {
    const g = got[i], r = rows[i];
    const where = `${label} ${path} ${e.section}/${e.code}`;
    const num = (x) => (x === '' ? null : Number(x));
    if (g.section !== e.section || g.code !== e.code) return problems.push(`${where}: JSON row ${g.section}/${g.code}`);
    if (!close(g.count, e.count) || !close(g.share, e.share) || g.status !== e.status) problems.push(`${where}: JSON ${g.count}/${g.share}/${g.status}, expected ${e.count}/${e.share}/${e.status} (truth ${e.truth})`);
    if (r[0] !== e.section || r[1] !== e.code || !close(num(r[3]), e.count) || !close(num(r[4]), e.share) || r[5] !== e.status) problems.push(`${where}: CSV ${r.join()}`);
    if (e.truth === undefined) {
      if (e.status === 'P') axesTally.values += 1;
      return;
    }
    if (e.status === 'A') {
      axesTally.hidden += 1;
      return;
    }
    axesTally.perturbed += 1;
    if (e.count !== e.truth) axesTally.noisy += 1;
    if (Math.abs(e.count - e.truth) > D) problems.push(`${where}: ${e.count} more than ${D} from ${e.truth}`);
    if ((e.count === 0) !== (e.truth === 0) || (e.count > 0 && e.count < T) || (e.truth > 0 && e.truth < T)) problems.push(`${where}: ${e.count} for a truth of ${e.truth}`);
  });
  return problems;
}

test(`${AXES_CASES} random questions to prevention and housing: every figure is its definition and the rules' (seed ${SEED})`, { timeout: 900_000 }, async () => {
  const t = await loadAxes(sql);
  const rng = prng(SEED + 7);
  const cases = [];
  for (let i = 0; i < AXES_CASES; i++) cases.push(randomAxesQuestion(rng, i % 2 ? 'housing' : 'prevention'));
  cases.push({ endpoint: 'prevention', period: period('year', 2021), ami: 1, vocab: codes }); // the demo's VEJ cohort
  const failures = (await pool(cases, CONCURRENCY, (q, i) => checkAxesCase(t, q, `#${i}`))).flat();
  console.log(`prevention and housing: ${axesTally.perturbed} protected counts (${axesTally.noisy} off their truth), ${axesTally.hidden} hidden, ${axesTally.values} quartiles and rates`);
  assert.equal(failures.length, 0, report(failures, 'on prevention and housing'));
  assert.ok(axesTally.perturbed > 1000 && axesTally.hidden > 200 && axesTally.noisy > 200 && axesTally.values > 20, JSON.stringify(axesTally));
});

test('after batches of cases, actions, follow-ups, offers and placements, the prevention and housing figures still follow', { timeout: 900_000 }, async () => {
  const rng = prng(SEED + 11);
  const day = (y, m, d) => `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
  const households = [], cases = [], actions = [], follows = [];
  for (let i = 0; i < 60; i += 1) {
    const platform = rng.pick(PLATFORMS);
    const y = rng.int(2021, 2023), m = rng.int(1, 12), d = rng.int(1, 28);
    households.push({ external_id: `PH-${i}`, platform, composition: rng.pick(['single_person', 'single_parent', 'couple_with_children']), adults: 1, children: 0,
      head: { last_name: `Prop${i}`, first_name: 'Test', birth_date: '1980-01-01', sex: 'female' }, housing_situation: 'housed' });
    const debt = rng.chance(0.8) ? { debt_eur: rng.int(200, 9000), debt_on: day(y, m, d) } : {};
    cases.push({ external_id: `PC-${i}`, household_external_id: `PH-${i}`, platform, landlord_kind: rng.pick(['social', 'private']),
      stage: rng.pick(['payment_order', 'summons', 'judgment']), stage_on: day(y, m, d), ...debt });
    const kinds = ['vej', 'pex_mobile_team', 'social_support', 'fsl_aid', 'other'];
    const first = rng.pick(kinds);
    actions.push({ external_id: `PA-${i}-1`, case_external_id: `PC-${i}`, kind: first, done_on: day(y, m, d) });
    if (rng.chance(0.5)) actions.push({ external_id: `PA-${i}-2`, case_external_id: `PC-${i}`, kind: rng.pick(kinds), done_on: day(y, m, d) });
    if (y < 2023 && rng.chance(0.7)) follows.push({ case_external_id: `PC-${i}`, at_months: 6, situation: rng.pick(['maintained', 'rehoused', 'procedure_pending', 'unknown']) });
  }
  const push = async (route, body) => {
    const res = await svc.api('POST', `${route}?source=propaxes`, { token: admin, body, timeout: 120_000 });
    assert.equal(res.status, 200, show(res));
    assert.deepEqual(res.json.rejected, [], `${route}: ${res.text.slice(0, 600)}`);
  };
  await push('/v1/households/batch', households);
  await push('/v1/prevention-cases/batch', cases);
  await push('/v1/prevention-actions/batch', actions);
  await push('/v1/prevention-follow-ups/batch', follows);
  // placements of referrals housed in the demo but never placed, in new SAS flats and homes
  const housed = (await sql(`SELECT r.id::text, r.platform, greatest(r.received_on, coalesce(m.housing_on, m.started_on))::text AS d
    FROM referral r JOIN measure m ON m.referral_id = r.id AND m.housing_outcome IN ('accessed', 'maintained')
    WHERE NOT EXISTS (SELECT 1 FROM placement p WHERE p.referral_id = r.id) ORDER BY r.id LIMIT 40`)).rows;
  const offers = housed.map((r, i) => ({ external_id: `PO-${i}`, platform: r.platform, kind: rng.pick(['sas_flat', 'social_housing', 'youth_shared_flat']),
    landlord_kind: 'social', typology: rng.pick(['t1', 't2', 't3']), capacity: 1, available_from: '2018-01-01' }));
  for (const o of offers) if (o.kind === 'youth_shared_flat') o.typology = 'room';
  await push('/v1/housing-offers/batch', offers);
  await push('/v1/placements/batch', housed.map((r, i) => ({ external_id: `PP-${i}`, referral: r.id, offer_external_id: `PO-${i}`, entered_on: r.d })));
  const t = await loadAxes(sql);
  const qs = [];
  for (let i = 0; i < 20; i++) qs.push(randomAxesQuestion(rng, i % 2 ? 'housing' : 'prevention'));
  const failures = (await pool(qs, CONCURRENCY, (q, i) => checkAxesCase(t, q, `after #${i}`))).flat();
  assert.equal(failures.length, 0, report(failures, 'after the batches'));
});
