// Statistics (SPEC §6, with §4 roles and §7 demo data): GET /v1/stats/activity,
// GET /v1/observatory/youth and GET /v1/observatory/youth/series on the demo data —
// the activity report's figures (acceptance 1), the youth share growing year on year, who
// may read what (analyst, coordinator within its platforms, admin), parameter validation,
// CSV (RFC 4180, long format, numbers equal to the JSON), and statistical disclosure control
// (acceptance 3): small cells hidden (A), secondary suppression (D), rates hidden with their
// parts, `suppression` counting exactly the hidden cells, no hidden cell recoverable by
// subtraction over many narrow queries, and LDA_STATS_MIN_CELL changing the threshold.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startService, freePort } from '../lib/harness.mjs';
import {
  PLATFORMS,
  YOUTH_BREAKDOWNS,
  lastDayOfMonth,
  queryString,
  rawYouth,
  rawActivity,
  parseCsv,
  pool,
} from './_helpers/stats-oracle.mjs';

const T = 11; // the default threshold
const ACTIVITY = '/v1/stats/activity';
const YOUTH = '/v1/observatory/youth';
const SERIES = '/v1/observatory/youth/series';
const ENDPOINTS = [ACTIVITY, YOUTH, `${SERIES}?granularity=quarter`];
const CSV_HEADER = ['section', 'code', 'label_fr', 'count', 'share', 'status'];
const SERIES_FIGURES = ['requests_total', 'youth_requests', 'youth_share', 'youth_persons', 'repeat_persons', 'unmet_rate', 'no_alternative_share'];
const SERIES_COUNTS = ['requests_total', 'youth_requests', 'youth_persons', 'repeat_persons'];
const YOUTH_RATES = ['youth_share', 'unmet_rate', 'no_alternative_share'];
const ACTIVITY_BREAKDOWNS = ['by_housing_situation', 'by_referrer_kind', 'by_platform', 'by_year', 'measures_by_kind'];
const OUTCOMES = ['accompanied', 'reoriented', 'no_follow_up', 'in_progress'];

let svc;
const tok = {};
let sqlChain = Promise.resolve();
/** svc.sql, one query at a time (the harness has one client). */
const sql = (text, params) => {
  const r = sqlChain.then(() => svc.sql(text, params));
  sqlChain = r.catch(() => {});
  return r;
};

const show = (res) => `${res.status} ${res.text?.slice(0, 600)}`;
const withQuery = (path, qs) => (qs ? `${path}${path.includes('?') ? '&' : '?'}${qs}` : path);

async function get(path, token, extra = {}) {
  return svc.api('GET', path, { token, timeout: 60_000, ...extra });
}

async function getOk(path, token = tok.admin, extra = {}) {
  const res = await get(path, token, extra);
  assert.equal(res.status, 200, `GET ${path}: ${show(res)}`);
  return res;
}

function assertProblem(res, status, what) {
  assert.equal(res.status, status, `${what}: expected ${status}, got ${show(res)}`);
  assert.match(res.headers['content-type'] ?? '', /^application\/problem\+json/, `${what}: ${show(res)}`);
  assert.equal(res.json?.status, status, `${what}: ${show(res)}`);
}

const cell = (doc, section, code) => doc[section].find((c) => c.code === code);

// ------------------------------------------------------------------------------ disclosure invariants
// What must hold in any answer, whatever the data: used on many narrow queries below.

/** Checks one breakdown; returns the number of cells hidden by each rule. */
function checkBreakdown(cells, total, totalPublished, threshold, where, problems, { exact = true, shares = true } = {}) {
  let a = 0;
  let d = 0;
  let publishedSum = 0;
  for (const c of cells) {
    const w = `${where}[${c.code}]`;
    if (c.status === 'V') {
      if (!Number.isInteger(c.count)) problems.push(`${w}: status V without a count`);
      else if (c.count > 0 && c.count < threshold) problems.push(`${w}: ${c.count} published (under ${threshold})`);
      else publishedSum += c.count;
      if (!shares) {
        /* outcomes: counts only */
      } else if (totalPublished && total > 0) {
        if (c.share === null || Math.abs(c.share - c.count / total) > 1e-12) problems.push(`${w}: share ${c.share}, expected ${c.count}/${total}`);
      } else if (c.share !== null && totalPublished !== undefined) problems.push(`${w}: share ${c.share} with the total hidden or zero`);
    } else if (c.status === 'A' || c.status === 'D') {
      if (c.count !== null || c.share !== null) problems.push(`${w}: status ${c.status} but count ${c.count}, share ${c.share}`);
      if (c.status === 'A') a += 1;
      else d += 1;
    } else problems.push(`${w}: status ${JSON.stringify(c.status)}`);
  }
  const hidden = a + d;
  // a breakdown whose total is published: no hidden cell may be recovered by subtraction
  if (exact && totalPublished && total !== null) {
    if (hidden === 1) problems.push(`${where}: exactly one hidden cell (${cells.find((c) => c.status !== 'V').code}), recoverable as ${total} − ${publishedSum}`);
    if (hidden === 0 && publishedSum !== total) problems.push(`${where}: cells add up to ${publishedSum}, total ${total}`);
    if (hidden > 0 && total - publishedSum < hidden) problems.push(`${where}: ${hidden} hidden cells but only ${total - publishedSum} left by subtraction (zero is never hidden)`);
  }
  if (d > 0 && a !== 1) problems.push(`${where}: ${d} secondary cell(s) with ${a} primary (the secondary rule applies when exactly one is hidden)`);
  return { a, d };
}

/** The invariants of a youth answer (threshold: the service's). */
function checkYouthDoc(doc, threshold, where) {
  const problems = [];
  let primary = 0;
  let secondary = 0;
  for (const k of SERIES_COUNTS) {
    const v = doc[k];
    if (v === null) primary += 1;
    else if (!(Number.isInteger(v) && (v === 0 || v >= threshold))) problems.push(`${where} ${k}: ${v} published`);
  }
  const youth = doc.youth_requests;
  if ((youth === null || doc.requests_total === null) && doc.youth_share !== null) problems.push(`${where} youth_share ${doc.youth_share} with a hidden part`);
  if (youth !== null && doc.requests_total > 0 && Math.abs(doc.youth_share - youth / doc.requests_total) > 1e-12) problems.push(`${where} youth_share ${doc.youth_share} ≠ ${youth}/${doc.requests_total}`);
  const npa = cell(doc, 'by_response', 'no_place_available');
  if ((youth === null || npa.status !== 'V') && doc.unmet_rate !== null) {
    problems.push(`${where} unmet_rate ${doc.unmet_rate} published while its numerator (by_response no_place_available) is hidden (${npa.status}): it reveals ${Math.round(doc.unmet_rate * youth)}`);
  }
  if (npa.status === 'V' && youth > 0 && doc.unmet_rate !== null && Math.abs(doc.unmet_rate - npa.count / youth) > 1e-12) problems.push(`${where} unmet_rate ${doc.unmet_rate} ≠ ${npa.count}/${youth}`);
  for (const s of YOUTH_BREAKDOWNS) {
    const r = checkBreakdown(doc[s], youth, youth !== null, threshold, `${where} ${s}`, problems, { exact: s !== 'by_need' });
    primary += r.a;
    secondary += r.d;
  }
  if (doc.suppression?.threshold !== threshold || doc.suppression.primary !== primary || doc.suppression.secondary !== secondary) {
    problems.push(`${where} suppression ${JSON.stringify(doc.suppression)}, hidden cells: primary ${primary}, secondary ${secondary}`);
  }
  return problems;
}

/** The invariants of an activity answer; csvRows (parsed) give the outcomes' statuses. */
function checkActivityDoc(doc, csvRows, threshold, where) {
  const problems = [];
  const total = doc.referrals_received;
  const status = new Map(csvRows.slice(1).map((r) => [`${r[0]}/${r[1]}`, r[5]]));
  let primary = total === null ? 1 : 0;
  let secondary = 0;
  if (total !== null && total > 0 && total < threshold) problems.push(`${where} referrals_received ${total} published`);
  const oc = OUTCOMES.map((code) => ({
    code,
    count: doc.outcomes[code],
    share: null,
    status: status.get(`outcomes/${code}`),
  }));
  const r = checkBreakdown(oc, total, total !== null, threshold, `${where} outcomes`, problems, { shares: false });
  primary += r.a;
  secondary += r.d;
  const housed = doc.outcomes.housed_or_maintained;
  const hst = status.get('outcomes/housed_or_maintained');
  if (housed === null) {
    if (hst === 'A') primary += 1;
    else if (hst === 'D') {
      secondary += 1;
      if (doc.outcomes.accompanied !== null) problems.push(`${where} housed_or_maintained D while accompanied is published`);
    } else problems.push(`${where} housed_or_maintained null with status ${hst}`);
  } else if (housed > 0 && housed < threshold) problems.push(`${where} housed_or_maintained ${housed} published`);
  else if (housed > 0 && doc.outcomes.accompanied === null) problems.push(`${where} housed_or_maintained ${housed} published while accompanied is hidden`);
  for (const s of ACTIVITY_BREAKDOWNS) {
    let tot = total;
    let pub = total !== null;
    if (s === 'measures_by_kind') {
      // its total (all the measures) is published through the shares
      const withShare = doc[s].find((c) => c.share > 0);
      tot = withShare ? Math.round(withShare.count / withShare.share) : null;
      pub = tot !== null ? true : undefined;
    }
    const rr = checkBreakdown(doc[s], tot, pub, threshold, `${where} ${s}`, problems);
    primary += rr.a;
    secondary += rr.d;
  }
  if (doc.suppression?.threshold !== threshold || doc.suppression.primary !== primary || doc.suppression.secondary !== secondary) {
    problems.push(`${where} suppression ${JSON.stringify(doc.suppression)}, hidden cells: primary ${primary}, secondary ${secondary}`);
  }
  return problems;
}

/** The invariants of a series answer. */
function checkSeriesDoc(doc, threshold, where) {
  const problems = [];
  let primary = 0;
  for (const it of doc.items) {
    const w = `${where} ${it.period}`;
    for (const k of SERIES_COUNTS) {
      if (it[k] === null) primary += 1;
      else if (it[k] > 0 && it[k] < threshold) problems.push(`${w} ${k}: ${it[k]} published`);
    }
    if ((it.youth_requests === null || it.requests_total === null) && it.youth_share !== null) problems.push(`${w} youth_share with a hidden part`);
    if (it.youth_requests === null && it.unmet_rate !== null) problems.push(`${w} unmet_rate with youth_requests hidden`);
  }
  if (doc.suppression.primary !== primary || doc.suppression.secondary !== 0 || doc.suppression.threshold !== threshold) {
    problems.push(`${where} suppression ${JSON.stringify(doc.suppression)}, hidden counts ${primary}`);
  }
  return problems;
}

// ------------------------------------------------------------------------------ CSV ↔ JSON

/** The long-format CSV of a youth or activity answer must be its JSON, row for row. */
function assertCsvMatchesJson(text, doc, kind) {
  const rows = parseCsv(text);
  assert.deepEqual(rows[0], CSV_HEADER);
  for (const r of rows) assert.equal(r.length, 6, `CSV row ${JSON.stringify(r)}`);
  const expected = [];
  const num = (v) => (v === null || v === undefined ? '' : v);
  if (kind === 'activity') {
    expected.push(['headline', 'referrals_received', null, doc.referrals_received, null]);
    for (const k of [...OUTCOMES, 'housed_or_maintained']) expected.push(['outcomes', k, null, doc.outcomes[k], null]);
  } else {
    for (const k of SERIES_FIGURES) {
      const rate = YOUTH_RATES.includes(k);
      expected.push(['headline', k, null, rate ? null : doc[k], rate ? doc[k] : null]);
    }
  }
  const sections = kind === 'activity' ? ACTIVITY_BREAKDOWNS : YOUTH_BREAKDOWNS;
  for (const s of sections) for (const c of doc[s]) expected.push([s, c.code, c.label_fr, c.count, c.share, c.status]);
  const body = rows.slice(1);
  assert.equal(body.length, expected.length, `CSV has ${body.length} rows, JSON ${expected.length} figures`);
  body.forEach((r, i) => {
    const [section, code, label, count, share, status] = expected[i];
    const w = `CSV row ${i + 2} ${JSON.stringify(r)}`;
    assert.equal(r[0], section, w);
    assert.equal(r[1], code, w);
    if (label !== null) assert.equal(r[2], label, w);
    else assert.ok(r[2].length > 0, `${w}: a label`);
    assert.equal(r[3] === '' ? null : Number(r[3]), num(count) === '' ? null : count, `${w}: count`);
    if (r[3] !== '') assert.match(r[3], /^\d+$/, w);
    assert.equal(r[4] === '' ? null : Number(r[4]), num(share) === '' ? null : share, `${w}: share`);
    assert.match(r[5], /^[VAD]$/, w);
    if (status !== undefined) assert.equal(r[5], status, w);
    // a count row: empty exactly when hidden
    if (!(kind === 'youth' && YOUTH_RATES.includes(code))) assert.equal(r[3] === '', r[5] !== 'V', `${w}: empty ⇔ hidden`);
  });
  return rows;
}

// ------------------------------------------------------------------------------ setup

before(async () => {
  svc = await startService();
  const seeded = await svc.runCli(['seed-demo'], { timeout: 300_000 });
  assert.equal(seeded.code, 0, `seed-demo exited ${seeded.code}\n${seeded.stderr}`);
  const specs = {
    admin: ['admin', {}],
    analyst: ['analyst', {}],
    analystArtois: ['analyst', { platforms: ['artois'] }],
    coordArtois: ['coordinator', { platforms: ['artois'] }],
    partner: ['partner', { platforms: ['artois'] }],
    siao: ['siao', { platforms: ['artois'], source: 'siao62' }],
  };
  for (const [label, [role, opts]] of Object.entries(specs)) tok[label] = await svc.createToken(role, { ...opts, name: `stats-${label}` });
});

after(async () => {
  await svc?.stop();
});

// ------------------------------------------------------------------------------ acceptance 1

test('SPEC acceptance 1: the activity report 2019–2022 from the demo data', async () => {
  const { json: a } = await getOk(`${ACTIVITY}?from=2019-01-01&to=2022-12-31`);
  assert.equal(a.referrals_received, 1266);
  assert.deepEqual(a.outcomes, {
    accompanied: 634,
    housed_or_maintained: 445,
    reoriented: 275,
    no_follow_up: 79,
    in_progress: 278,
  });
  const o = a.outcomes;
  assert.equal(o.accompanied + o.reoriented + o.no_follow_up + o.in_progress, a.referrals_received);
  const share = (code) => {
    const c = cell(a, 'by_housing_situation', code);
    assert.ok(c && c.status === 'V' && typeof c.share === 'number', `by_housing_situation ${code}: ${JSON.stringify(c)}`);
    assert.ok(Math.abs(c.share - c.count / 1266) < 1e-12, `${code}: share ${c.share} ≠ ${c.count}/1266`);
    return c.share;
  };
  assert.ok(share('housed') > 0.3, `already housed: ${share('housed')}`);
  assert.ok(share('street') + share('squat') > 0.1, `street or squat: ${share('street') + share('squat')}`);
  const hosted = share('hosted_by_third_party') + share('shelter_structure');
  assert.ok(hosted >= 0.395 && hosted <= 0.405, `hosted by third parties or in a structure: ${hosted}`);
  // every breakdown of the referrals adds up to them
  for (const s of ['by_housing_situation', 'by_referrer_kind', 'by_platform', 'by_year']) {
    assert.equal(a[s].reduce((n, c) => n + c.count, 0), 1266, s);
  }
  assert.deepEqual(a.by_year.map((c) => c.code), ['2019', '2020', '2021', '2022']);
  assert.deepEqual(a.by_platform.map((c) => c.code), PLATFORMS);
  assert.deepEqual(a.filters, { from: '2019-01-01', to: '2022-12-31', platforms: PLATFORMS, ami: null });
  // SPEC §7: the AMI 1 platforms only in 2019–2020, all five from 2021
  const { json: early } = await getOk(`${ACTIVITY}?from=2019-01-01&to=2020-12-31`);
  for (const p of ['audomarois', 'boulonnais', 'montreuillois']) assert.equal(cell(early, 'by_platform', p).count, 0, p);
  const { json: ami1 } = await getOk(`${ACTIVITY}?from=2019-01-01&to=2022-12-31&ami=1`);
  assert.equal(ami1.referrals_received, cell(a, 'by_platform', 'artois').count + cell(a, 'by_platform', 'lens_henin').count);
  assert.deepEqual(ami1.filters.platforms, ['artois', 'lens_henin']);
});

test('the youth share of SIAO requests rises every year, 2019 → 2025', async () => {
  const shares = [];
  for (let y = 2019; y <= 2025; y += 1) {
    const { json } = await getOk(`${YOUTH}?from=${y}-01-01&to=${y}-12-31`);
    assert.equal(typeof json.youth_share, 'number', `${y}: ${JSON.stringify(json).slice(0, 300)}`);
    assert.ok(Math.abs(json.youth_share - json.youth_requests / json.requests_total) < 1e-12);
    shares.push([y, json.youth_share]);
  }
  for (let i = 1; i < shares.length; i += 1) {
    assert.ok(shares[i][1] > shares[i - 1][1], `youth share ${JSON.stringify(shares)}: ${shares[i][0]} not above ${shares[i - 1][0]}`);
  }
  // the yearly series says the same
  const { json: s } = await getOk(`${SERIES}?from=2019-01-01&to=2025-12-31&granularity=year`);
  assert.deepEqual(
    s.items.map((i) => [Number(i.period), i.youth_share]),
    shares,
  );
});

// ------------------------------------------------------------------------------ roles

describe('who may read the statistics', () => {
  const Q = 'from=2024-01-01&to=2024-06-30';

  test('analyst and admin: 200 on the three endpoints; partner and siao: 403; no token or a bad one: 401', async () => {
    for (const ep of ENDPOINTS) {
      const path = withQuery(ep, ep === ACTIVITY ? 'from=2019-01-01&to=2022-12-31' : Q);
      await getOk(path, tok.analyst);
      await getOk(path, tok.admin);
      for (const who of ['partner', 'siao']) assertProblem(await get(path, tok[who]), 403, `${who} ${path}`);
      assertProblem(await get(path, undefined), 401, `no token ${path}`);
      assertProblem(await get(path, 'not-a-token'), 401, `bad token ${path}`);
    }
  });

  test('a coordinator of artois sees artois only: the same figures as the admin asking platform=artois', async () => {
    for (const ep of ENDPOINTS) {
      const qs = ep === ACTIVITY ? 'from=2019-01-01&to=2022-12-31' : Q;
      const mine = await getOk(withQuery(ep, qs), tok.coordArtois);
      const adminArtois = await getOk(withQuery(ep, `${qs}&platform=artois`), tok.admin);
      assert.deepEqual(mine.json.filters.platforms, ['artois'], ep);
      assert.deepEqual(mine.json, adminArtois.json, `${ep}: coordinator ≠ admin with platform=artois`);
      const named = await getOk(withQuery(ep, `${qs}&platform=artois`), tok.coordArtois);
      assert.deepEqual(named.json, adminArtois.json, ep);
      // its figures are not everyone's
      const all = await getOk(withQuery(ep, qs), tok.admin);
      assert.notDeepEqual(all.json, mine.json, ep);
    }
    const { json: act } = await getOk(`${ACTIVITY}?from=2019-01-01&to=2022-12-31`, tok.coordArtois);
    for (const c of act.by_platform) if (c.code !== 'artois') assert.equal(c.count, 0, c.code);
  });

  test('a coordinator naming another platform: 403', async () => {
    for (const ep of ENDPOINTS) {
      for (const qs of [`${Q}&platform=lens_henin`, `${Q}&platform=artois&platform=lens_henin`, `${Q}&platform=montreuillois&ami=2`]) {
        assertProblem(await get(withQuery(ep, qs), tok.coordArtois), 403, `coordinator(artois) ${ep}?${qs}`);
      }
    }
  });

  test('naming a platform outside the scope is 403 even when `ami` would leave it out', async () => {
    // SPEC §4/§6 (openapi: "naming a platform outside it answers 403")
    for (const ep of ENDPOINTS) {
      const qs = `${Q}&platform=lens_henin&ami=2`;
      assertProblem(await get(withQuery(ep, qs), tok.coordArtois), 403, `coordinator(artois) ${ep}?${qs}`);
    }
  });

  test('an analyst scoped to artois gets artois only without `platform`, 403 on another', async () => {
    for (const ep of ENDPOINTS) {
      const qs = ep === ACTIVITY ? 'from=2019-01-01&to=2022-12-31' : Q;
      const mine = await getOk(withQuery(ep, qs), tok.analystArtois);
      const adminArtois = await getOk(withQuery(ep, `${qs}&platform=artois`), tok.admin);
      assert.deepEqual(mine.json, adminArtois.json, ep);
      assertProblem(await get(withQuery(ep, `${qs}&platform=boulonnais`), tok.analystArtois), 403, `analyst(artois) ${ep} boulonnais`);
    }
  });
});

// ------------------------------------------------------------------------------ validation

test('parameters are validated: 422, never silently ignored', async () => {
  const bad = [
    [ACTIVITY, 'from=2024-02-01&to=2024-01-31', 'from > to'],
    [YOUTH, 'from=2024-02-01&to=2024-01-31', 'from > to'],
    [SERIES, 'from=2024-02-01&to=2024-01-31', 'from > to'],
    [ACTIVITY, 'from=2024-02-30', 'impossible date'],
    [YOUTH, 'to=2024-13-01', 'bad month'],
    [SERIES, 'from=yesterday', 'not a date'],
    [YOUTH, 'from=2024-1-5', 'not ISO'],
    [ACTIVITY, 'platform=paris', 'unknown platform'],
    [YOUTH, 'platform=artois&platform=paris', 'unknown platform'],
    [SERIES, 'platform=ARTOIS', 'unknown platform'],
    [YOUTH, 'age_min=30&age_max=20', 'age_min > age_max'],
    [SERIES, 'age_min=26', 'age_min above the default age_max'],
    [YOUTH, 'age_min=-1', 'age out of range'],
    [YOUTH, 'age_max=121', 'age out of range'],
    [SERIES, 'granularity=week', 'bad granularity'],
    [ACTIVITY, 'format=xml', 'bad format'],
    [YOUTH, 'format=xml', 'bad format'],
    [SERIES, 'format=xml', 'bad format'],
    [ACTIVITY, 'ami=3', 'bad ami'],
    [YOUTH, 'ami=0', 'bad ami'],
  ];
  for (const [ep, qs, what] of bad) {
    const res = await get(`${ep}?${qs}`, tok.admin);
    assertProblem(res, 422, `${what}: ${ep}?${qs}`);
  }
  // the defaults: from 2019-01-01, to today (Paris), ages 18..25
  const { json } = await getOk(YOUTH);
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Paris' }).format(new Date());
  assert.deepEqual(json.filters, { from: '2019-01-01', to: today, platforms: PLATFORMS, ami: null, age_min: 18, age_max: 25 });
});

test('by_age has one cell per age of age_min..age_max, however wide (0..120)', async () => {
  // a narrow query with every age: 121 cells, each present age counted. The demo data has
  // ages up to 80: take the first day and platform with few distinct ages and an old person.
  const { rows } = await sql(
    `SELECT day::text AS day, platform FROM (
       SELECT (received_at AT TIME ZONE 'Europe/Paris')::date AS day, platform, age FROM siao_request WHERE age IS NOT NULL) x
      GROUP BY day, platform HAVING max(age) >= count(DISTINCT age) + 64 ORDER BY day, platform LIMIT 1`,
  );
  const q = rows.length
    ? { from: rows[0].day, to: rows[0].day, platforms: [rows[0].platform], age_min: 0, age_max: 120 }
    : { from: '2024-03-01', to: '2024-03-31', platforms: ['boulonnais'], age_min: 0, age_max: 120 };
  const { json: y } = await getOk(`${YOUTH}?${queryString(q)}`);
  const raw = await rawYouth(sql, q);
  const lost = Object.entries(raw.b.by_age).filter(([age]) => !cell(y, 'by_age', age));
  assert.deepEqual(
    y.by_age.map((c) => c.code),
    Array.from({ length: 121 }, (_, i) => String(i)),
    `GET ${YOUTH}?${queryString(q)}: by_age has ${y.by_age.length} cells (${y.by_age[0]?.code}..${y.by_age.at(-1)?.code}), expected 121 (0..120); ages with requests left out: ${JSON.stringify(Object.fromEntries(lost))}`,
  );
  for (const [age, n] of Object.entries(raw.b.by_age)) {
    const c = cell(y, 'by_age', age);
    if (c.status === 'V') assert.equal(c.count, n, `by_age ${age}`);
  }
  // the headline count is published unless it is under the threshold
  if (raw.h.youth_requests > 0 && raw.h.youth_requests < 11) assert.equal(y.youth_requests, null);
  else assert.equal(y.youth_requests, raw.h.youth_requests);
});

test('by_year has one cell per year of the period, however wide (1950..2022)', async () => {
  const { json: a } = await getOk(`${ACTIVITY}?from=1950-01-01&to=2022-12-31`);
  assert.deepEqual(
    a.by_year.map((c) => c.code),
    Array.from({ length: 73 }, (_, i) => String(1950 + i)),
    `by_year codes 1950..2022 (got ${a.by_year.map((c) => c.code).join(',')})`,
  );
  assert.equal(a.referrals_received, 1266);
});

// ------------------------------------------------------------------------------ CSV

describe('CSV', () => {
  test('activity: format=csv and Accept: text/csv give the same RFC 4180 long format as the JSON', async () => {
    const qs = 'from=2019-01-01&to=2022-12-31';
    const json = (await getOk(`${ACTIVITY}?${qs}`)).json;
    const byParam = await getOk(`${ACTIVITY}?${qs}&format=csv`);
    const byAccept = await getOk(`${ACTIVITY}?${qs}`, tok.admin, { headers: { Accept: 'text/csv' } });
    for (const r of [byParam, byAccept]) {
      assert.match(r.headers['content-type'], /^text\/csv/);
      assert.match(r.headers['content-disposition'] ?? '', /^attachment;.*filename="?activite\.csv"?/);
    }
    assert.equal(byAccept.text, byParam.text);
    assert.ok(byParam.text.startsWith('section,code,label_fr,count,share,status\r\n'));
    // a label with a comma is quoted
    assert.ok(byParam.text.includes('by_housing_situation,street,"À la rue, en errance",'), byParam.text.slice(0, 600));
    const rows = assertCsvMatchesJson(byParam.text, json, 'activity');
    assert.equal(rows.length, 1 + 1 + 5 + ACTIVITY_BREAKDOWNS.reduce((n, s) => n + json[s].length, 0));
    // format=json wins over Accept
    const j = await getOk(`${ACTIVITY}?${qs}&format=json`, tok.admin, { headers: { Accept: 'text/csv' } });
    assert.match(j.headers['content-type'], /^application\/json/);
    assert.deepEqual(j.json, json);
  });

  test('youth: the headline rows (rates in `share`), then one row per cell, numbers equal to the JSON', async () => {
    for (const qs of ['from=2024-01-01&to=2024-12-31', 'from=2024-01-01&to=2024-01-31&platform=montreuillois']) {
      const json = (await getOk(`${YOUTH}?${qs}`)).json;
      const csv = await getOk(`${YOUTH}?${qs}`, tok.admin, { headers: { Accept: 'text/csv' } });
      assert.match(csv.headers['content-type'], /^text\/csv/);
      assert.match(csv.headers['content-disposition'] ?? '', /filename="?observatoire-jeunes\.csv"?/);
      assert.equal((await getOk(`${YOUTH}?${qs}&format=csv`)).text, csv.text);
      assertCsvMatchesJson(csv.text, json, 'youth');
    }
  });

  test('series: one row per period, value and status columns equal to the JSON', async () => {
    for (const g of ['month', 'quarter', 'year']) {
      const qs = `from=2023-11-15&to=2025-02-10&platform=audomarois&granularity=${g}`;
      const json = (await getOk(`${SERIES}?${qs}`)).json;
      const csv = await getOk(`${SERIES}?${qs}&format=csv`);
      assert.match(csv.headers['content-type'], /^text\/csv/);
      assert.match(csv.headers['content-disposition'] ?? '', /filename="?observatoire-jeunes-series\.csv"?/);
      const accept = await getOk(`${SERIES}?${qs}`, tok.admin, { headers: { Accept: 'text/csv' } });
      assert.equal(accept.text, csv.text);
      const rows = parseCsv(csv.text);
      assert.deepEqual(rows[0], ['period', 'period_start', ...SERIES_FIGURES.flatMap((f) => [f, `${f}_status`])]);
      assert.equal(rows.length - 1, json.items.length, `${g}: one row per period`);
      json.items.forEach((it, i) => {
        const r = rows[i + 1];
        assert.equal(r.length, 2 + 2 * SERIES_FIGURES.length);
        assert.equal(r[0], it.period);
        assert.equal(r[1], it.period_start);
        SERIES_FIGURES.forEach((f, k) => {
          const v = r[2 + 2 * k];
          const st = r[3 + 2 * k];
          assert.equal(v === '' ? null : Number(v), it[f], `${g} ${it.period} ${f}`);
          assert.equal(st, it[f] === null ? 'A' : 'V', `${g} ${it.period} ${f}_status`);
        });
      });
      const expectedPeriods = { month: 16, quarter: 6, year: 3 }[g];
      assert.equal(json.items.length, expectedPeriods, `${g}: periods of 2023-11-15..2025-02-10`);
    }
  });
});

// ------------------------------------------------------------------------------ acceptance 3: disclosure control

describe('SPEC acceptance 3: disclosure control', () => {
  test('a narrow query hides its small cells (null, status A), counts them in `suppression`, and CSV leaves them empty', async () => {
    const qs = 'from=2024-01-01&to=2024-01-31&platform=montreuillois';
    const { json } = await getOk(`${YOUTH}?${qs}`);
    assert.equal(json.suppression.threshold, 11);
    const hidden = YOUTH_BREAKDOWNS.flatMap((s) => json[s].filter((c) => c.status !== 'V'));
    assert.ok(hidden.length > 0 && json.suppression.primary > 0, `nothing hidden in ${JSON.stringify(json).slice(0, 400)}`);
    for (const c of hidden) assert.deepEqual([c.count, c.share], [null, null], JSON.stringify(c));
    assert.deepEqual(checkYouthDoc(json, T, qs), []);
    // the raw counts: hidden = 1..10, published = exact, zero published
    const raw = await rawYouth(sql, { from: '2024-01-01', to: '2024-01-31', platforms: ['montreuillois'] });
    for (const s of YOUTH_BREAKDOWNS) {
      for (const c of json[s]) {
        const n = raw.b[s]?.[c.code] ?? 0;
        if (c.status === 'A') assert.ok(n >= 1 && n < T, `${s} ${c.code}: A with ${n}`);
        else if (c.status === 'V') assert.equal(c.count, n, `${s} ${c.code}`);
        if (n === 0) assert.equal(c.status, 'V', `${s} ${c.code}: zero hidden`);
      }
    }
    const csv = parseCsv((await getOk(`${YOUTH}?${qs}&format=csv`)).text);
    for (const r of csv.slice(1)) {
      const c = json[r[0]]?.find((x) => x.code === r[1]);
      if (!c) continue;
      assert.equal(r[5], c.status, JSON.stringify(r));
      if (c.status !== 'V') assert.deepEqual([r[3], r[4]], ['', ''], JSON.stringify(r));
    }
    // one age only
    const { json: one } = await getOk(`${YOUTH}?from=2024-05-01&to=2024-05-31&platform=audomarois&age_min=18&age_max=18`);
    assert.deepEqual(one.by_age.map((c) => c.code), ['18']);
    assert.deepEqual(checkYouthDoc(one, T, 'age 18..18'), []);
    if (one.youth_requests === null) {
      assert.equal(one.youth_share, null);
      assert.equal(one.unmet_rate, null);
      for (const s of YOUTH_BREAKDOWNS) for (const c of one[s]) assert.equal(c.share, null, `${s} ${c.code}: share with the total hidden`);
    }
  });

  test('many narrow queries (platforms × months of 2024, age ranges; activity by platform and month): no hidden cell can be recomputed', { timeout: 600_000 }, async () => {
    const youthCases = [];
    for (const p of PLATFORMS) {
      for (let m = 1; m <= 12; m += 1) youthCases.push({ from: `2024-${String(m).padStart(2, '0')}-01`, to: lastDayOfMonth(2024, m), platforms: [p] });
    }
    const ranges = [[18, 18], [18, 20], [21, 25], [16, 17], [26, 30], [30, 40], [0, 120]];
    for (const [age_min, age_max] of ranges) {
      for (const p of PLATFORMS) {
        for (const qq of [1, 2, 3, 4]) {
          youthCases.push({ from: `2024-${String(qq * 3 - 2).padStart(2, '0')}-01`, to: lastDayOfMonth(2024, qq * 3), platforms: [p], age_min, age_max });
        }
      }
    }
    for (const d of ['2024-03-31', '2024-10-27', '2024-12-25']) youthCases.push({ from: d, to: d, platforms: [] }); // single days
    const activityCases = [];
    for (const p of PLATFORMS) {
      for (let m = 1; m <= 12; m += 1) activityCases.push({ from: `2022-${String(m).padStart(2, '0')}-01`, to: lastDayOfMonth(2022, m), platforms: [p] });
      for (let y = 2019; y <= 2022; y += 1) activityCases.push({ from: `${y}-01-01`, to: `${y}-06-30`, platforms: [p] });
    }
    const problems = [];
    const seen = { A: 0, D: 0, secondaryChecked: 0 };
    await pool(youthCases, 4, async (q) => {
      const path = `${YOUTH}?${queryString(q)}`;
      const { json } = await getOk(path);
      problems.push(...checkYouthDoc(json, T, path));
      // against the raw rows: A = 1..10, D on the smallest non-zero cell left, published exact
      const raw = await rawYouth(sql, q);
      for (const s of YOUTH_BREAKDOWNS) {
        const cells = json[s].map((c) => ({ ...c, n: raw.b[s]?.[c.code] ?? 0 }));
        for (const c of cells) {
          if (c.status === 'A') seen.A += 1;
          if (c.status === 'A' && !(c.n >= 1 && c.n < T)) problems.push(`${path} ${s} ${c.code}: A with ${c.n} requests`);
          if (c.status === 'V' && c.count !== c.n) problems.push(`${path} ${s} ${c.code}: ${c.count} published, ${c.n} in the rows`);
          if (c.n >= T && c.status === 'A') problems.push(`${path} ${s} ${c.code}: ${c.n} hidden as primary`);
        }
        const d = cells.filter((c) => c.status === 'D');
        if (d.length) {
          seen.D += 1;
          const others = cells.filter((c) => c.status !== 'A' && c.n > 0);
          const min = Math.min(...others.map((c) => c.n));
          if (d.length !== 1 || d[0].n !== min) problems.push(`${path} ${s}: D on ${d.map((c) => `${c.code}=${c.n}`)}, smallest non-zero cell left is ${min}`);
          seen.secondaryChecked += 1;
        } else if (s !== 'by_need') {
          const a = cells.filter((c) => c.status === 'A');
          const left = cells.filter((c) => c.status === 'V' && c.n > 0);
          if (a.length === 1 && left.length > 0) problems.push(`${path} ${s}: one primary cell (${a[0].code}) and no secondary`);
        }
      }
    });
    await pool(activityCases, 4, async (q) => {
      const path = `${ACTIVITY}?${queryString(q)}`;
      const { json } = await getOk(path);
      const csv = parseCsv((await getOk(`${path}&format=csv`)).text);
      problems.push(...checkActivityDoc(json, csv, T, path));
      const raw = await rawActivity(sql, q);
      for (const s of ACTIVITY_BREAKDOWNS) {
        for (const c of json[s]) {
          const n = raw.b[s]?.[c.code] ?? 0;
          if (c.status === 'V' && c.count !== n) problems.push(`${path} ${s} ${c.code}: ${c.count} published, ${n} in the rows`);
          if (c.status === 'A' && !(n >= 1 && n < T)) problems.push(`${path} ${s} ${c.code}: A with ${n}`);
          if (c.status === 'D') seen.D += 1;
        }
      }
    });
    const seriesCases = PLATFORMS.map((p) => ({ from: '2024-01-01', to: '2024-12-31', platforms: [p], granularity: 'month' }));
    await pool(seriesCases, 4, async (q) => {
      const path = `${SERIES}?${queryString(q)}`;
      const { json } = await getOk(path);
      problems.push(...checkSeriesDoc(json, T, path));
    });
    assert.ok(seen.A > 50, `few primary cells in the narrow queries: ${JSON.stringify(seen)}`);
    assert.ok(seen.secondaryChecked > 0, `no secondary suppression met: ${JSON.stringify(seen)}`);
    assert.deepEqual(problems.slice(0, 30), [], `${problems.length} problem(s)`);
  });
});

// ------------------------------------------------------------------------------ another threshold, constructed data

describe('LDA_STATS_MIN_CELL and a constructed case', () => {
  let small;
  let admin;
  const DAY = '2024-05-10';
  const Q = `from=${DAY}&to=${DAY}&platform=artois`;

  /** 29 youth requests (18..25) and 4 older ones, on one day, on artois. */
  function records() {
    const out = [];
    const responses = [...Array(20).fill('sheltered'), ...Array(6).fill('no_place_available'), ...Array(3).fill('pending')];
    for (let i = 0; i < 29; i += 1) {
      out.push({
        external_id: `y-${i}`,
        received_at: `${DAY}T${String(8 + (i % 10)).padStart(2, '0')}:${String(i).padStart(2, '0')}:00+02:00`,
        platform: 'artois',
        channel: i < 23 ? 'call_115' : 'day_centre',
        person_key: `p-${i % 25}`, // 4 persons ask twice
        age: i < 8 ? 19 : 22,
        sex: i < 7 ? 'female' : 'male',
        situation: 'street',
        needs: ['emergency_shelter'],
        response: responses[i],
        alternatives_known: i < 10 ? false : i < 20 ? true : null,
      });
    }
    for (let i = 0; i < 4; i += 1) {
      out.push({ external_id: `o-${i}`, received_at: `${DAY}T12:0${i}:00+02:00`, platform: 'artois', channel: 'call_115', age: 40 });
    }
    // next day in Paris, same UTC date: not counted
    out.push({ external_id: 'late', received_at: `${DAY}T22:30:00Z`, platform: 'artois', channel: 'call_115', age: 20 });
    return out;
  }

  before(async () => {
    small = await startService({ env: { LDA_STATS_MIN_CELL: '5' } });
    admin = await small.createToken('admin', { name: 'stats-small-admin' });
    const res = await small.api('POST', '/v1/siao-requests/batch?source=sdc', { token: admin, body: records() });
    assert.equal(res.status, 200, show(res));
    assert.equal(res.json.created, 34, show(res));
  });

  after(async () => {
    await small?.stop();
  });

  test('LDA_STATS_MIN_CELL=5: counts from 5 are published, 1..4 hidden, `suppression.threshold` 5', async () => {
    const res = await small.api('GET', `${YOUTH}?${Q}`, { token: admin });
    assert.equal(res.status, 200, show(res));
    const y = res.json;
    assert.equal(y.suppression.threshold, 5);
    assert.equal(y.requests_total, 33);
    assert.equal(y.youth_requests, 29);
    assert.equal(y.youth_persons, 25);
    assert.equal(y.repeat_persons, null, 'repeat_persons 4 < 5');
    assert.deepEqual([cell(y, 'by_sex', 'female').count, cell(y, 'by_sex', 'male').count], [7, 22], 'female 7 ≥ 5 published');
    assert.deepEqual([cell(y, 'by_age', '19').count, cell(y, 'by_age', '22').count], [8, 21]);
    assert.deepEqual([cell(y, 'by_channel', 'call_115').count, cell(y, 'by_channel', 'day_centre').count], [23, 6]);
    assert.equal(cell(y, 'by_response', 'pending').status, 'A');
    assert.equal(cell(y, 'by_response', 'no_place_available').status, 'D', 'the next smallest non-zero cell: 6');
    assert.equal(cell(y, 'by_response', 'sheltered').count, 20);
    assert.equal(y.no_alternative_share, 10 / 20);
    assert.deepEqual(checkYouthDoc(y, 5, `threshold 5 ${YOUTH}?${Q}`).filter((p) => !p.includes('unmet_rate')), []);
    const act = await small.api('GET', `${ACTIVITY}?from=2024-01-01&to=2024-12-31`, { token: admin });
    assert.equal(act.json.suppression.threshold, 5);
    const ser = await small.api('GET', `${SERIES}?${Q}&granularity=month`, { token: admin });
    assert.equal(ser.json.suppression.threshold, 5);
    assert.equal(ser.json.items[0].youth_requests, 29);
    assert.equal(ser.json.items[0].repeat_persons, null);
  });

  test('a rate whose numerator is hidden by the secondary rule is null (unmet_rate with no_place_available D)', async () => {
    const res = await small.api('GET', `${YOUTH}?${Q}`, { token: admin });
    const y = res.json;
    const npa = cell(y, 'by_response', 'no_place_available');
    assert.equal(npa.status, 'D');
    assert.equal(
      y.unmet_rate,
      null,
      `GET ${YOUTH}?${Q} (LDA_STATS_MIN_CELL=5): by_response.no_place_available is hidden (D, 6 requests), but unmet_rate = ${y.unmet_rate} (× youth_requests ${y.youth_requests} = ${y.unmet_rate * y.youth_requests}) reveals it, and then pending = 29 − 20 − 6`,
    );
    const csv = parseCsv((await small.api('GET', `${YOUTH}?${Q}&format=csv`, { token: admin })).text);
    const row = csv.find((r) => r[0] === 'headline' && r[1] === 'unmet_rate');
    assert.equal(row[4], '', `CSV ${row}`);
  });

  test('the same data with the default threshold: 11', async () => {
    await small.restart({ env: { LDA_STATS_MIN_CELL: undefined } });
    const res = await small.api('GET', `${YOUTH}?${Q}`, { token: admin });
    assert.equal(res.status, 200, show(res));
    const y = res.json;
    assert.equal(y.suppression.threshold, 11);
    assert.equal(y.youth_requests, 29);
    assert.equal(cell(y, 'by_sex', 'female').status, 'A', 'female 7 < 11');
    assert.equal(cell(y, 'by_sex', 'male').status, 'D', 'male: the only other non-zero cell');
    assert.equal(cell(y, 'by_age', '19').status, 'A');
    assert.equal(cell(y, 'by_age', '22').status, 'D');
    assert.equal(y.unmet_rate, null, 'no_place_available 6 < 11');
    assert.deepEqual(checkYouthDoc(y, T, `${YOUTH}?${Q}`), []);
  });

  test('a bad LDA_STATS_MIN_CELL stops start-up with a message naming it', async () => {
    for (const bad of ['abc', '-3', '0']) {
      const port = await freePort();
      const r = await small.runCli(['serve'], { env: { LDA_STATS_MIN_CELL: bad, LDA_LISTEN: `127.0.0.1:${port}` }, timeout: 30_000 });
      assert.notEqual(r.code, 0, `LDA_STATS_MIN_CELL=${bad}: exit ${r.code}`);
      assert.match(r.stderr + r.stdout, /LDA_STATS_MIN_CELL/, `LDA_STATS_MIN_CELL=${bad}`);
    }
  });
});
