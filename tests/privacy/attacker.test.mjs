// An automated attacker against the published statistics (docs/statistics.md), on the demo
// data (the youth observatory, the activity report, and the crossed tables of eviction
// prevention). It holds an analyst token (JSON and CSV) and an lda_bi login, and for each family of
// attack tries several hundred targets — counts from 1 to the threshold − 1, which the
// service must never let anyone recover — taking its best guess (the estimate the family
// gives, rounded, kept within 1..threshold−1) and comparing it with the truth computed from
// the raw rows. It prints, per family, the targets tried, those the published figures let it
// attack at all, and the exact-recovery rate; and the same attacks against a simulation of
// the former publication rules (exact counts, small cells and one neighbour hidden per
// breakdown). It fails if any family recovers more than one target in three, or if a
// question ever gets two different answers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { startService, NO_RATE_LIMIT_ENV } from '../lib/service.mjs';
import { PLATFORMS, AMI, prng, parseCsv } from '../lib/stats.mjs';
import {
  BANDS, loadTruth, period, periodQuery, youthTallies, activityTallies, protectedCell, scopeOf,
  monthDate,
} from '../lib/oracles/disclosure.mjs';
import { loadAxes, expectedPrevention, preventionRows } from '../lib/oracles/axes.mjs';
import { loadOutcomeTruth, trueCount, BREAKDOWNS as OUTCOME_BREAKDOWNS } from '../lib/oracles/outcomes.mjs';

const SEED = Number(process.env.PRIVACY_SEED ?? 62);
const TARGETS = Number(process.env.PRIVACY_TARGETS ?? 300);
const MAX_TARGETS = Number(process.env.PRIVACY_MAX_TARGETS ?? 800);
const ATTACKABLE = 60;
const MAX_RATE = 1 / 3;

let svc, token, truth, biUrl, outcomeTruth;
const cache = new Map();
const results = [];

// ---- reading the published figures -------------------------------------------------------

/** A cell: endpoint youth|activity, section (a breakdown or 'headline'), code, period,
 * scope {platform}|{ami}|{}, band. */
function url(c, csv = false) {
  const parts = [periodQuery(c.period)];
  if (c.scope.platform) parts.push(`platform=${c.scope.platform}`);
  if (c.scope.ami) parts.push(`ami=${c.scope.ami}`);
  if (c.endpoint === 'youth' && c.band && c.band !== 'age_18_25') parts.push(`age_band=${c.band}`);
  if (csv) parts.push('format=csv');
  if (c.endpoint === 'outcomes') return `/v1/stats/outcomes?${parts.join('&')}`;
  return `${c.endpoint === 'youth' ? '/v1/observatory/youth' : '/v1/stats/activity'}?${parts.join('&')}`;
}

async function fetchDoc(path) {
  if (!cache.has(path)) {
    cache.set(path, (async () => {
      // a kept-alive connection the service closed while idle (the attacker computes between
      // requests) is retried once on a new one
      const res = await svc.api('GET', path, { token, timeout: 60_000 })
        .catch(() => svc.api('GET', path, { token, timeout: 60_000 }));
      assert.equal(res.status, 200, `${path}: ${res.status} ${res.text?.slice(0, 300)}`);
      return path.includes('format=csv') ? res.text : res.json;
    })());
  }
  return cache.get(path);
}

/** The value the API publishes for a cell (null when hidden). */
async function apiValue(c, { csv = false } = {}) {
  if (csv) {
    const rows = parseCsv(await fetchDoc(url(c, true)));
    const r = rows.find((x) => x[0] === c.section && x[1] === c.code);
    assert.ok(r, `no CSV row ${c.section}/${c.code} in ${url(c, true)}`);
    return r[3] === '' ? null : Number(r[3]);
  }
  const doc = await fetchDoc(url(c));
  if (c.endpoint === 'outcomes') {
    const g = c.section === 'cohort' ? doc.cohort : doc[c.section].find((x) => x.code === c.code);
    return c.measure === 'cohort' ? g.referrals : g[c.measure][c.figure];
  }
  if (c.section === 'headline') return doc[c.code];
  const cell = doc[c.section].find((x) => x.code === c.code);
  return cell ? cell.count : 0; // a platform outside the scope asked counts nothing
}

const truths = new Map();
/** The true count of a cell, from the raw rows. */
function truthOf(c) {
  const key = JSON.stringify([c.endpoint, c.section, c.code, c.period, c.scope, c.band ?? null]);
  if (!truths.has(key)) truths.set(key, computeTruth(c));
  return truths.get(key);
}

function computeTruth(c) {
  if (c.endpoint === 'outcomes') {
    const dim = c.section === 'cohort' ? '' : OUTCOME_BREAKDOWNS.find(([sec]) => sec === c.section)[1];
    return trueCount(outcomeTruth, { period: c.period, ...c.scope }, dim, c.code, c.measure, c.figure);
  }
  const units = [[c.period.first, c.period.last]];
  const { scope } = scopeOf(truth, c.scope);
  const band = BANDS[c.band ?? 'age_18_25'];
  let tallies;
  if (c.endpoint === 'youth') {
    const [dim, code] = c.section === 'headline'
      ? [{ youth_requests: 'total', requests_total: 'all' }[c.code], '']
      : [{ by_sex: 'sex', by_situation: 'situation', by_need: 'need', by_response: 'response', by_channel: 'channel', by_age: 'age', by_platform: 'total' }[c.section], c.code];
    tallies = youthTallies(truth, units, dim, c.section === 'by_platform' ? '' : code, band);
  } else {
    const [dim, code] = c.section === 'headline' ? ['total', '']
      : [{ by_housing_situation: 'situation', by_referrer_kind: 'referrer', measures_by_kind: 'measure', by_platform: 'total' }[c.section], c.code];
    tallies = activityTallies(truth, units, dim, c.section === 'by_platform' ? '' : code);
  }
  const s = c.section === 'by_platform' ? truth.tree.codes.indexOf(c.code) : scope;
  return protectedCell(truth, tallies, s).truth;
}

/** The former rules, simulated from the truth: exact counts, 1..T-1 hidden, and in a
 * breakdown with exactly one hidden cell the smallest other non-zero one. */
function legacyValue(c, siblings) {
  const T = truth.settings.threshold;
  const n = truthOf(c);
  if (n > 0 && n < T) return null;
  if (!siblings) return n;
  const vals = siblings.map((s) => ({ s, n: truthOf(s) }));
  const hidden = vals.filter((v) => v.n > 0 && v.n < T);
  if (hidden.length === 1) {
    const best = vals.filter((v) => !(v.n > 0 && v.n < T) && v.n > 0).sort((a, b) => a.n - b.n)[0];
    if (best && best.s.code === c.code) return null;
  }
  return n;
}

// ---- the families ------------------------------------------------------------------------

const YOUTH_SECTIONS = ['by_sex', 'by_situation', 'by_response', 'by_channel', 'by_need'];
const ACTIVITY_SECTIONS = ['by_housing_situation', 'by_referrer_kind'];
let CODES = {};
const SECTION_VOCAB = { by_sex: 'sex', by_situation: 'housing_situation', by_response: 'siao_response', by_channel: 'siao_channel', by_need: 'siao_need', by_housing_situation: 'housing_situation', by_referrer_kind: 'partner_kind' };
const codesOf = (section) => [...CODES[SECTION_VOCAB[section]], ...(['by_channel', 'by_housing_situation'].includes(section) ? [] : ['not_collected'])];
const SCOPES = [...PLATFORMS.map((p) => ({ platform: p })), { ami: 1 }, { ami: 2 }, {}];
const years = (endpoint) => (endpoint === 'youth' ? [2019, 2025] : [2019, 2022]);

/** A published-figure reader: 'api' (the service) or 'legacy' (the former rules). */
function reader(kind) {
  return async (c, opts = {}) => {
    if (kind === 'api') return apiValue(c, opts);
    if (c.endpoint === 'outcomes') {
      const n = truthOf(c);
      return n > 0 && n < truth.settings.threshold ? null : n;
    }
    const sib = c.section !== 'headline' && c.section !== 'by_platform'
      ? codesOf(c.section).map((code) => ({ ...c, code })) : null;
    return legacyValue(c, sib);
  };
}

const sum = (xs) => (xs.some((x) => x === null) ? null : xs.reduce((a, b) => a + b, 0));
const sub = (a, b) => (a === null || b === null ? null : a - b);

function randomBreakdownCell(rng, endpoint, kinds) {
  const section = rng.pick(endpoint === 'youth' ? YOUTH_SECTIONS : ACTIVITY_SECTIONS);
  const [y0, y1] = years(endpoint);
  const y = rng.int(y0, y1);
  const k = rng.pick(kinds);
  const p = k === 'month' ? period('month', y, rng.int(0, 11)) : k === 'quarter' ? period('quarter', y, rng.int(0, 3)) : period('year', y);
  return { endpoint, section, code: rng.pick(codesOf(section)), period: p, scope: rng.pick(SCOPES) };
}

// outcome counts (GET /v1/stats/outcomes): a cohort's breakdown cell, or a measure's events
// or censored cases, from a period, a platform or an AMI
const OUTCOME_SECTIONS = ['by_measure_kind', 'by_composition', 'by_age_band', 'by_history'];
const OUTCOME_MEASURES = ['time_to_support', 'time_to_housing', 'retention', 'returns'];
const outcomeCodes = (section) => ({
  by_measure_kind: [...CODES.measure_kind, 'none'], by_composition: CODES.composition,
  by_age_band: [...CODES.age_band, 'not_collected'], by_history: ['first_time', 'returning'],
})[section];
function randomOutcomeCell(rng) {
  const y = rng.int(2019, 2022), k = rng.pick(['quarter', 'year', 'year']);
  const p = k === 'quarter' ? period('quarter', y, rng.int(0, 3)) : period('year', y);
  const section = rng.pick(['cohort', ...OUTCOME_SECTIONS]);
  const measure = rng.pick(['cohort', ...OUTCOME_MEASURES]);
  return {
    endpoint: 'outcomes', section, code: section === 'cohort' ? '' : rng.pick(outcomeCodes(section)), period: p,
    scope: rng.pick(SCOPES), measure, figure: measure === 'cohort' ? 'referrals' : rng.pick(['events', 'censored']),
  };
}

const FAMILIES = {
  // an outcome count as the rest of its cohort subtracted: its breakdown's total minus the
  // other codes; a measure's cases minus its other part (retention, returns); all platforms
  // minus the others; an AMI minus its other platforms
  outcomes: {
    target: randomOutcomeCell,
    estimate: async (c, read) => {
      const routes = [];
      if (c.section !== 'cohort') {
        routes.push(async () => sub(await read({ ...c, section: 'cohort', code: '' }),
          sum(await Promise.all(outcomeCodes(c.section).filter((x) => x !== c.code).map((code) => read({ ...c, code }))))));
      }
      if (['retention', 'returns'].includes(c.measure)) {
        routes.push(async () => sub(await read({ ...c, figure: 'cases' }), await read({ ...c, figure: c.figure === 'events' ? 'censored' : 'events' })));
      }
      if (c.scope.platform) {
        const ami = AMI[c.scope.platform];
        routes.push(async () => sub(await read({ ...c, scope: {} }),
          sum(await Promise.all(PLATFORMS.filter((p) => p !== c.scope.platform).map((p) => read({ ...c, scope: { platform: p } }))))));
        routes.push(async () => sub(await read({ ...c, scope: { ami } }),
          sum(await Promise.all(PLATFORMS.filter((p) => p !== c.scope.platform && AMI[p] === ami).map((p) => read({ ...c, scope: { platform: p } }))))));
      }
      const est = [];
      for (const r of routes) {
        const d = await r();
        if (d !== null && Number.isFinite(d)) est.push(d);
      }
      return est.length ? est.reduce((a, b) => a + b, 0) / est.length : null;
    },
  },
  // a year and the same year plus the next (or the previous) one
  adjacent_periods: {
    target: (rng) => randomBreakdownCell(rng, rng.pick(['youth', 'activity']), ['year']),
    estimate: async (c, read) => {
      const y = c.period.first / 12, [y0, y1] = years(c.endpoint);
      if (y < y1) {
        const d = sub(await read({ ...c, period: period('years', y, 0, y + 1) }), await read({ ...c, period: period('year', y + 1) }));
        if (d !== null) return d;
      }
      if (y > y0) return sub(await read({ ...c, period: period('years', y - 1, 0, y) }), await read({ ...c, period: period('year', y - 1) }));
      return null;
    },
  },
  // a quarter minus its two other months; a year minus its eleven other months
  nested_periods: {
    target: (rng) => randomBreakdownCell(rng, rng.pick(['youth', 'activity']), ['month']),
    estimate: async (c, read) => {
      const m = c.period.first, q0 = m - (m % 3), y0 = m - (m % 12);
      const others = (from, n) => [...Array(n).keys()].map((i) => from + i).filter((x) => x !== m)
        .map((x) => read({ ...c, period: { kind: 'month', first: x, last: x } }));
      const d = sub(await read({ ...c, period: { kind: 'quarter', first: q0, last: q0 + 2 } }), sum(await Promise.all(others(q0, 3))));
      if (d !== null) return d;
      return sub(await read({ ...c, period: period('year', y0 / 12) }), sum(await Promise.all(others(y0, 12))));
    },
  },
  // every age minus the other age bands
  age_bands: {
    target: (rng) => {
      const y = rng.int(2019, 2025), k = rng.pick(['month', 'quarter', 'year']);
      const p = k === 'month' ? period('month', y, rng.int(0, 11)) : k === 'quarter' ? period('quarter', y, rng.int(0, 3)) : period('year', y);
      return { endpoint: 'youth', section: 'headline', code: 'youth_requests', period: p, scope: rng.pick(SCOPES), band: rng.pick(Object.keys(BANDS)) };
    },
    estimate: async (c, read) => {
      const all = await read({ ...c, code: 'requests_total', band: 'age_18_25' });
      const others = await Promise.all(Object.keys(BANDS).filter((b) => b !== c.band).map((b) => read({ ...c, band: b })));
      return sub(all, sum(others));
    },
  },
  // all platforms minus the four others
  platform_sets: {
    target: (rng) => ({ ...randomBreakdownCell(rng, rng.pick(['youth', 'activity']), ['month', 'quarter', 'year']), scope: { platform: rng.pick(PLATFORMS) } }),
    estimate: async (c, read) => sub(await read({ ...c, scope: {} }),
      sum(await Promise.all(PLATFORMS.filter((p) => p !== c.scope.platform).map((p) => read({ ...c, scope: { platform: p } }))))),
  },
  // an AMI minus its other platforms
  ami_vs_platforms: {
    target: (rng) => ({ ...randomBreakdownCell(rng, rng.pick(['youth', 'activity']), ['month', 'quarter', 'year']), scope: { platform: rng.pick(PLATFORMS) } }),
    estimate: async (c, read) => {
      const ami = AMI[c.scope.platform];
      return sub(await read({ ...c, scope: { ami } }),
        sum(await Promise.all(PLATFORMS.filter((p) => p !== c.scope.platform && AMI[p] === ami).map((p) => read({ ...c, scope: { platform: p } })))));
    },
  },
  // a year's headline minus its eleven other months
  series_vs_headline: {
    target: (rng) => ({ endpoint: 'youth', section: 'headline', code: 'youth_requests', period: period('month', rng.int(2019, 2025), rng.int(0, 11)), scope: rng.pick(SCOPES), band: rng.pick(['age_18_25', 'age_18_25', 'under_18', 'age_65_plus']) }),
    estimate: async (c, read) => {
      const y0 = c.period.first - (c.period.first % 12);
      const others = [...Array(12).keys()].map((i) => y0 + i).filter((x) => x !== c.period.first)
        .map((x) => read({ ...c, period: { kind: 'month', first: x, last: x } }));
      return sub(await read({ ...c, period: period('year', y0 / 12) }), sum(await Promise.all(others)));
    },
  },
  // a breakdown's total minus its other cells
  breakdown_vs_total: {
    target: (rng) => {
      const c = randomBreakdownCell(rng, rng.pick(['youth', 'activity']), ['month', 'quarter', 'year']);
      if (c.section === 'by_need') c.section = 'by_sex';
      if (!codesOf(c.section).includes(c.code)) c.code = codesOf(c.section)[0];
      return c;
    },
    estimate: async (c, read) => {
      const total = await read({ ...c, section: 'headline', code: c.endpoint === 'youth' ? 'youth_requests' : 'referrals_received' });
      const others = await Promise.all(codesOf(c.section).filter((x) => x !== c.code).map((code) => read({ ...c, code })));
      return sub(total, sum(others));
    },
  },
  // the adjacent-period difference with one figure from the JSON and one from the CSV
  json_vs_csv: {
    target: (rng) => randomBreakdownCell(rng, rng.pick(['youth', 'activity']), ['year']),
    estimate: async (c, read, kind) => {
      const y = c.period.first / 12, [, y1] = years(c.endpoint);
      if (y >= y1) return null;
      const wide = { ...c, period: period('years', y, 0, y + 1) };
      if (kind === 'api') assert.equal(await read(wide, { csv: true }), await read(wide), `JSON and CSV differ for ${url(wide)} ${c.section}/${c.code}`);
      return sub(await read(wide, { csv: kind === 'api' }), await read({ ...c, period: period('year', y + 1) }));
    },
  },
  // the adjacent-period difference asked five times, averaged
  repeated_queries: {
    target: (rng) => randomBreakdownCell(rng, rng.pick(['youth', 'activity']), ['year']),
    estimate: async (c, read, kind) => {
      const y = c.period.first / 12, [, y1] = years(c.endpoint);
      if (y >= y1) return null;
      const wide = { ...c, period: period('years', y, 0, y + 1) };
      const seen = [];
      for (let i = 0; i < 5; i++) {
        if (kind === 'api') cache.delete(url(wide));
        seen.push(await read(wide));
      }
      assert.ok(seen.every((v) => v === seen[0]), `the same question answered ${seen.join(', ')}`);
      return sub(seen.reduce((a, b) => a + (b ?? 0), 0) / 5, await read({ ...c, period: period('year', y + 1) }));
    },
  },
  // every difference that isolates the same records, averaged: ranges of years around the
  // year, its months and quarters, and the platform routes
  averaging: {
    target: (rng) => randomBreakdownCell(rng, rng.pick(['youth', 'activity']), ['year']),
    estimate: async (c, read) => {
      const y = c.period.first / 12, [y0, y1] = years(c.endpoint);
      const est = [];
      for (let a = y0; a <= y; a++) {
        for (let b = y; b <= y1; b++) {
          if (a === y && b === y) continue;
          const parts = [await read({ ...c, period: a === b ? period('year', a) : period('years', a, 0, b) })];
          if (a < y) parts.push(-(await read({ ...c, period: a === y - 1 ? period('year', a) : period('years', a, 0, y - 1) }) ?? NaN));
          if (b > y) parts.push(-(await read({ ...c, period: b === y + 1 ? period('year', b) : period('years', y + 1, 0, b) }) ?? NaN));
          if (parts[0] !== null && parts.every((x) => Number.isFinite(x))) est.push(parts.reduce((s, x) => s + x, 0));
        }
      }
      const months = await Promise.all([...Array(12).keys()].map((i) => read({ ...c, period: { kind: 'month', first: c.period.first + i, last: c.period.first + i } })));
      if (months.every((v) => v !== null)) est.push(sum(months));
      const quarters = await Promise.all([0, 1, 2, 3].map((i) => read({ ...c, period: period('quarter', y, i) })));
      if (quarters.every((v) => v !== null)) est.push(sum(quarters));
      if (c.scope.platform) {
        for (const route of [FAMILIES.platform_sets, FAMILIES.ami_vs_platforms]) {
          const d = await route.estimate(c, read);
          if (d !== null) est.push(d);
        }
      }
      return est.length ? est.reduce((a, b) => a + b, 0) / est.length : null;
    },
  },
};

/** The BI views: the month of all platforms minus the other platforms' months, read as lda_bi. */
async function biFamily(rng) {
  const bi = new pg.Client({ connectionString: biUrl });
  await bi.connect();
  try {
    const denied = await bi.query('SELECT 1 FROM siao_request LIMIT 1').then(() => false, () => true);
    assert.ok(denied, 'lda_bi read siao_request');
    await bi.query("SET lda.scope = '*'");
    const stillDenied = await bi.query('SELECT 1 FROM referral LIMIT 1').then(() => false, () => true);
    assert.ok(stillDenied, 'lda_bi read referral after setting lda.scope');
    let tried = 0, attempted = 0, exact = 0;
    const T = truth.settings.threshold;
    for (let i = 0; i < TARGETS * 20 && tried < TARGETS; i++) {
      const c = randomBreakdownCell(rng, 'youth', ['month']);
      c.scope = { platform: rng.pick(PLATFORMS) };
      const n = truthOf(c);
      if (!(n > 0 && n < T)) continue;
      tried += 1;
      const dim = { by_sex: 'sex', by_situation: 'situation', by_need: 'need', by_response: 'response', by_channel: 'channel' }[c.section];
      const { rows } = await bi.query('SELECT scope, count FROM reporting.youth_monthly WHERE month = $1 AND dimension = $2 AND code = $3',
        [monthDate(c.period.first), dim, c.code]);
      const v = new Map(rows.map((r) => [r.scope, r.count === null ? null : Number(r.count)]));
      // the cube says what the API says
      assert.equal(v.has(c.scope.platform) ? v.get(c.scope.platform) : 0, await apiValue(c), `cube ≠ API for ${url(c)} ${c.section}/${c.code}`);
      const others = PLATFORMS.filter((p) => p !== c.scope.platform).map((p) => (v.has(p) ? v.get(p) : 0));
      const est = sub(v.has('all') ? v.get('all') : 0, sum(others));
      if (est === null) continue;
      attempted += 1;
      if (Math.min(T - 1, Math.max(1, Math.round(est))) === n) exact += 1;
    }
    return { tried, attempted, exact };
  } finally {
    await bi.end();
  }
}

/** The crossed tables of GET /v1/stats/prevention (the cohort's situation at 6, 12 or 24
 * months by first action, platform, stage at entry or debt band): a small cell is estimated
 * from its row's total minus the row's other cells and from its column's total (the whole
 * cohort's situation) minus the other rows, averaged when both are readable. `kind`: 'api'
 * or 'legacy' (exact counts, only the small cells hidden). */
async function crossFamily(rng, kind, axes) {
  const T = axes.settings.threshold;
  const docs = new Map();
  const answer = async (q) => {
    const parts = [periodQuery(q.period)];
    if (q.platform) parts.push(`platform=${q.platform}`);
    if (q.ami) parts.push(`ami=${q.ami}`);
    const path = `/v1/stats/prevention?${parts.join('&')}`;
    if (!docs.has(path)) {
      const expected = new Map(expectedPrevention(axes, q).map((r) => [`${r.section}/${r.code}`, r]));
      const published = kind === 'api' ? new Map(preventionRows(await fetchDoc(path)).map((r) => [`${r.section}/${r.code}`, r.count])) : null;
      docs.set(path, { expected, published });
    }
    return docs.get(path);
  };
  let tried = 0, attempted = 0, exact = 0;
  for (let i = 0; i < TARGETS * 40 && tried < TARGETS; i++) {
    const y = rng.int(2021, 2022), k = rng.pick(['month', 'quarter', 'year']);
    const q = { period: k === 'month' ? period('month', y, rng.int(0, 11)) : k === 'quarter' ? period('quarter', y, rng.int(0, 3)) : period('year', y),
      ...rng.pick(SCOPES), vocab: CODES };
    const { expected, published } = await answer(q);
    const targets = [...expected.values()].filter((r) => /^follow_up_\d+:/.test(r.section) && r.truth > 0 && r.truth < T);
    if (!targets.length) continue;
    const c = rng.pick(targets);
    tried += 1;
    const value = (key) => {
      const e = expected.get(key);
      if (!e) return 0;
      if (kind === 'api') return published.get(key) ?? null;
      return e.truth > 0 && e.truth < T ? null : e.truth;
    };
    const [h, breakdown, row] = c.section.split(':');
    const rowCodes = [...expected.values()].filter((r) => r.section === c.section).map((r) => r.code);
    const rowTotal = value(breakdown === 'by_platform' ? `by_platform/${row}` : `${breakdown}/${row}`);
    const byRow = sub(rowTotal, sum(rowCodes.filter((s) => s !== c.code).map((s) => value(`${c.section}/${s}`))));
    const others = [...new Set([...expected.values()].filter((r) => r.section.startsWith(`${h}:${breakdown}:`) && r.section !== c.section).map((r) => r.section))];
    const byCol = sub(value(`${h}/${c.code}`), sum(others.map((sec) => value(`${sec}/${c.code}`))));
    const est = [byRow, byCol].filter((x) => x !== null);
    if (!est.length) continue;
    attempted += 1;
    if (Math.min(T - 1, Math.max(1, Math.round(est.reduce((a, b) => a + b, 0) / est.length))) === c.truth) exact += 1;
  }
  return { tried, attempted, exact };
}

async function runFamily(name, fam, kind, rng) {
  const T = truth.settings.threshold;
  const read = reader(kind);
  let tried = 0, attempted = 0, exact = 0;
  // at least TARGETS targets; more (up to MAX_TARGETS) until ATTACKABLE of them can be attacked
  for (let i = 0; i < MAX_TARGETS * 30 && (tried < TARGETS || (attempted < ATTACKABLE && tried < MAX_TARGETS)); i++) {
    if (i % 100 === 0) await new Promise((resolve) => setImmediate(resolve)); // let sockets close
    const c = fam.target(rng);
    const n = truthOf(c);
    if (!(n > 0 && n < T)) continue;
    tried += 1;
    const est = await fam.estimate(c, read, kind);
    if (est === null || !Number.isFinite(est)) continue;
    attempted += 1;
    if (Math.min(T - 1, Math.max(1, Math.round(est))) === n) exact += 1;
  }
  return { tried, attempted, exact };
}

// ------------------------------------------------------------------------------ tests

before(async () => {
  // the attacker computes between its requests: idle connections stay open meanwhile
  // the figures are under test, not the pace: the attacker's hundreds of questions in parallel
  // are not rate limited (a patient attacker would get the same answers, later)
  svc = await startService({ env: { ...NO_RATE_LIMIT_ENV, LDA_CONNECTION_TIMEOUT_S: '3600' } });
  const seeded = await svc.runCli(['seed-demo'], { timeout: 300_000 });
  assert.equal(seeded.code, 0, `seed-demo exited ${seeded.code}\n${seeded.stderr}`);
  token = await svc.createToken('analyst', { name: 'attacker' });
  const v = await svc.api('GET', '/v1/vocabularies');
  CODES = Object.fromEntries(Object.entries(v.json).map(([k, list]) => [k, list.map((c) => c.code)]));
  truth = await loadTruth((text) => svc.sql(text));
  outcomeTruth = await loadOutcomeTruth((text) => svc.sql(text), CODES);
  // an lda_bi login, as an operator would give a BI tool
  const role = `bi_attacker_${process.pid}`;
  await svc.sql(`DROP ROLE IF EXISTS ${role}`).catch(() => {});
  await svc.sql(`CREATE ROLE ${role} LOGIN PASSWORD 'attacker-pw' IN ROLE lda_bi`);
  const u = new URL(svc.dbUrl);
  u.username = role;
  u.password = 'attacker-pw';
  biUrl = u.toString();
});

after(async () => {
  if (process.env.PRIVACY_DEBUG) console.log(`service: ${JSON.stringify(svc?.exit)}\n${svc?.logs.filter((l) => !l.includes('"status":200')).slice(-40).join('\n')}`);
  if (biUrl) await svc?.sql(`DROP OWNED BY ${new URL(biUrl).username}`).catch(() => {});
  if (biUrl) await svc?.sql(`DROP ROLE IF EXISTS ${new URL(biUrl).username}`).catch(() => {});
  await svc?.stop();
});

test('no family of attack recovers more than one small count in three', { timeout: 1_800_000 }, async () => {
  for (const [name, fam] of Object.entries(FAMILIES)) {
    const api = await runFamily(name, fam, 'api', prng(SEED));
    const legacy = await runFamily(name, fam, 'legacy', prng(SEED));
    results.push({ name, api, legacy });
  }
  const bi = await biFamily(prng(SEED));
  results.push({ name: 'bi_views', api: bi, legacy: { tried: bi.tried, attempted: bi.tried, exact: bi.tried, note: 'rows were readable' } });
  const axes = await loadAxes((text) => svc.sql(text));
  results.push({ name: 'crossed_tables', api: await crossFamily(prng(SEED), 'api', axes), legacy: await crossFamily(prng(SEED), 'legacy', axes) });
  const pct = (r) => (r.attempted ? `${((100 * r.exact) / r.attempted).toFixed(1)} %` : '—');
  const lines = ['family                 | targets | attackable | recovered | rate    || former rules: attackable, rate'];
  for (const r of results) {
    lines.push(`${r.name.padEnd(22)} | ${String(r.api.tried).padStart(7)} | ${String(r.api.attempted).padStart(10)} | ${String(r.api.exact).padStart(9)} | ${pct(r.api).padStart(7)} || ${r.legacy.attempted}, ${pct(r.legacy)}`);
  }
  console.log(lines.join('\n'));
  for (const r of results) {
    assert.ok(r.api.tried >= Math.min(100, TARGETS / 3), `${r.name}: only ${r.api.tried} targets found`);
    const rate = r.api.attempted ? r.api.exact / r.api.attempted : 0;
    assert.ok(rate <= MAX_RATE, `${r.name}: ${r.api.exact} of ${r.api.attempted} attackable targets recovered exactly`);
  }
});
