// An independent implementation of the published statistics (docs/statistics.md), in
// JavaScript over the raw rows, for the property and privacy tests: it reads the SIAO
// requests, referrals and measures themselves (never the rollups), the perturbation table and
// the settings, and computes every published figure of a question — the true counts, the
// record-key sums, the exact and cell-key rules, the platform tree, the ranges of years.
// The service must publish exactly what it computes.
import crypto from 'node:crypto';

export const KEY_SPACE = 1 << 20;
export const YOUTH_DIMS = {
  by_sex: ['sex', 'sex', true],
  by_situation: ['situation', 'housing_situation', true],
  by_need: ['need', 'siao_need', true],
  by_response: ['response', 'siao_response', true],
  by_channel: ['channel', 'siao_channel', false],
};
export const ACTIVITY_DIMS = {
  by_housing_situation: ['situation', 'housing_situation', false],
  by_referrer_kind: ['referrer', 'partner_kind', true],
};
export const OFFICIAL = ['referrals_received', 'accompanied', 'reoriented', 'no_follow_up', 'in_progress', 'housed_or_maintained', 'requests_total', 'youth_requests'];
const PARTS = ['accompanied', 'in_progress', 'no_follow_up', 'reoriented']; // code order
export const BANDS = {
  under_18: [0, 17], age_18_25: [18, 25], age_26_34: [26, 34], age_35_44: [35, 44],
  age_45_54: [45, 54], age_55_64: [55, 64], age_65_plus: [65, 120],
};

/** The record key of a person, from its person_key (as lda_person_record_key does). */
export function personRecordKey(key) {
  const hex = crypto.createHash('sha256').update(`lda-person-record-key:${key}`, 'utf8').digest('hex');
  return parseInt(hex.slice(0, 5), 16);
}

export const monthIndex = (isoDate) => Number(isoDate.slice(0, 4)) * 12 + Number(isoDate.slice(5, 7)) - 1;
export const monthDate = (m) => `${String(Math.floor(m / 12)).padStart(4, '0')}-${String((m % 12) + 1).padStart(2, '0')}-01`;
const lastDay = (m) => {
  const y = Math.floor(m / 12), mo = (m % 12) + 1;
  const d = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  return `${String(y).padStart(4, '0')}-${String(mo).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
};

/** A question on the grid: { kind: month|quarter|year|years, first, last (month indexes) }. */
export function period(kind, year, index = 0, lastYear = year) {
  if (kind === 'month') return { kind, first: year * 12 + index, last: year * 12 + index };
  if (kind === 'quarter') return { kind, first: year * 12 + 3 * index, last: year * 12 + 3 * index + 2 };
  if (kind === 'year') return { kind, first: year * 12, last: year * 12 + 11 };
  return { kind: 'years', first: year * 12, last: lastYear * 12 + 11 };
}
export const periodQuery = (p) => `from=${monthDate(p.first)}&to=${lastDay(p.last)}`;

/** Everything the figures are computed from. `sql(text)` resolves { rows }. */
export async function loadTruth(sql) {
  const siao = (await sql(`SELECT to_char(received_at AT TIME ZONE 'Europe/Paris', 'YYYY-MM-DD') AS d,
      platform, age, sex, situation, response, channel, alternatives_known::text AS alt, needs, rk,
      person_key FROM siao_request`)).rows.map((r) => ({
    m: monthIndex(r.d), platform: r.platform, age: r.age ?? -1, sex: r.sex ?? 'not_collected',
    situation: r.situation ?? 'not_collected', response: r.response ?? 'not_collected',
    channel: r.channel, alt: r.alt ?? 'not_collected',
    needs: r.needs.length ? r.needs : ['not_collected'], rk: Number(r.rk),
    person: r.person_key, prk: r.person_key === null ? 0 : personRecordKey(r.person_key),
  }));
  const refs = (await sql(`SELECT r.id, r.received_on::text AS d, r.platform, r.rk, r.status,
      h.housing_situation, coalesce(p.kind, r.referrer_kind, 'not_collected') AS referrer,
      coalesce((SELECT json_agg(json_build_object('kind', m.kind, 'rk', m.rk, 'outcome', m.housing_outcome))
                FROM measure m WHERE m.referral_id = r.id), '[]') AS measures
    FROM referral r JOIN household h ON h.id = r.household_id LEFT JOIN partner p ON p.id = r.partner_id`)).rows
    .map((r) => ({
      m: monthIndex(r.d), platform: r.platform, rk: Number(r.rk),
      outcome: ['accompanied', 'accompaniment_ended'].includes(r.status) ? 'accompanied'
        : ['reoriented', 'no_follow_up'].includes(r.status) ? r.status : 'in_progress',
      situation: r.housing_situation, referrer: r.referrer,
      housed: r.measures.some((x) => ['accessed', 'maintained'].includes(x.outcome)),
      measures: r.measures.map((x) => ({ kind: x.kind, rk: Number(x.rk) })),
    }));
  const ptable = (await sql('SELECT max_noise, excess, noise, key_from, key_to FROM disclosure_ptable')).rows;
  const plats = (await sql(`SELECT code, ami FROM platform ORDER BY ami, code COLLATE "C"`)).rows;
  const setting = (await sql('SELECT threshold, max_noise FROM disclosure_setting')).rows[0];
  const byMonth = (rows) => {
    const m = new Map();
    for (const r of rows) {
      if (!m.has(r.m)) m.set(r.m, []);
      m.get(r.m).push(r);
    }
    return m;
  };
  return {
    siao, refs, siaoByMonth: byMonth(siao), refsByMonth: byMonth(refs), ptable,
    settings: { threshold: Number(setting.threshold), maxNoise: Number(setting.max_noise) },
    tree: { codes: plats.map((p) => p.code), family: plats.map((p) => Number(p.ami) - 1) },
  };
}

// ---- the cells -------------------------------------------------------------------------

/** Does a youth row count in (dim, code) for ages [lo, hi]? */
function youthHas(r, dim, code, [lo, hi]) {
  if (dim === 'all') return true;
  if (r.age < lo || r.age > hi) return false;
  if (dim === 'total') return true;
  if (dim === 'age') return String(r.age) === code;
  if (dim === 'need') return r.needs.includes(code);
  return r[dim] === code;
}

/** The rows of months [a, b] (inclusive) from an index by month. */
function* rowsOf(byMonth, a, b) {
  for (let m = a; m <= b; m++) yield* byMonth.get(m) ?? [];
}

/** Tallies [unit][platform] of a youth cell over units (arrays of [first, last] months). */
export function youthTallies(t, units, dim, code, band) {
  const out = units.map(() => t.tree.codes.map(() => ({ n: 0, ks: 0 })));
  const idx = new Map(t.tree.codes.map((c, i) => [c, i]));
  units.forEach(([a, b], u) => {
    for (const r of rowsOf(t.siaoByMonth, a, b)) {
      if (!youthHas(r, dim, code, band)) continue;
      const x = out[u][idx.get(r.platform)];
      x.n += 1;
      x.ks += r.rk;
    }
  });
  return out;
}

/** Tallies of an activity cell: dims total, outcome, housed, situation, referrer, measure
 * (code '' for every measure). */
export function activityTallies(t, units, dim, code) {
  const out = units.map(() => t.tree.codes.map(() => ({ n: 0, ks: 0 })));
  const idx = new Map(t.tree.codes.map((c, i) => [c, i]));
  for (const [u, [a, b]] of units.entries()) for (const r of rowsOf(t.refsByMonth, a, b)) {
    const x = out[u][idx.get(r.platform)];
    if (dim === 'measure') {
      for (const m of r.measures) if (code === '' || m.kind === code) { x.n += 1; x.ks += m.rk; }
      continue;
    }
    const has = dim === 'total' || (dim === 'housed' ? r.housed : r[dim] === code);
    if (has) { x.n += 1; x.ks += r.rk; }
  }
  return out;
}

/** Distinct youth persons over [first, last] on a set of platforms, ages [lo, hi]. */
export function persons(t, [first, last], plats, [lo, hi]) {
  const per = new Map();
  for (const r of rowsOf(t.siaoByMonth, first, last)) {
    if (!plats.includes(r.platform) || r.person === null) continue;
    if (r.age < lo || r.age > hi) continue;
    const x = per.get(r.person) ?? { c: 0, k: r.prk };
    x.c += 1;
    per.set(r.person, x);
  }
  let p = 0, pk = 0, rp = 0, rk = 0;
  for (const x of per.values()) {
    p += 1; pk += x.k;
    if (x.c >= 2) { rp += 1; rk += x.k; }
  }
  return { persons: { n: p, ks: pk }, repeats: { n: rp, ks: rk } };
}

// ---- the rules -------------------------------------------------------------------------

export const small = (s, n) => n > 0 && n < s.threshold;

export function noise(t, n, ks) {
  const s = t.settings;
  const excess = Math.min(n - s.threshold, s.maxNoise), key = ((ks % KEY_SPACE) + KEY_SPACE) % KEY_SPACE;
  const row = t.ptable.find((r) => r.max_noise === s.maxNoise && r.excess === excess && key >= r.key_from && key < r.key_to);
  if (!row) throw new Error(`no perturbation for n=${n} key=${key}`);
  return row.noise;
}

/** { value, status } of a protected count. */
export function protect(t, { n, ks }, hidden) {
  if (hidden || small(t.settings, n)) return { value: null, status: 'A' };
  if (n === 0) return { value: 0, status: 'P' };
  return { value: n + noise(t, n, ks), status: 'P' };
}

export const nscopes = (t) => t.tree.codes.length + 3;
export const scopeAll = (t) => t.tree.codes.length + 2;

export function scopeTally(t, plat, scope) {
  const np = t.tree.codes.length;
  if (scope < np) return plat[scope];
  const s = { n: 0, ks: 0 };
  plat.forEach((x, i) => {
    if (scope === np + 2 || t.tree.family[i] === scope - np) { s.n += x.n; s.ks += x.ks; }
  });
  return s;
}

function hideSecond(members, sums, hidden) {
  if (members.filter((m) => hidden[m]).length !== 1) return;
  let best = -1;
  for (const m of members) if (!hidden[m] && sums[m].n > 0 && (best < 0 || sums[m].n < sums[best].n)) best = m;
  if (best >= 0) hidden[best] = true;
}

export function secondary(t, sums, hidden) {
  const np = t.tree.codes.length;
  for (const f of [0, 1]) {
    const members = [...Array(np).keys()].filter((i) => t.tree.family[i] === f)
      .sort((a, b) => (t.tree.codes[a] < t.tree.codes[b] ? -1 : 1));
    hideSecond(members, sums, hidden);
  }
  hideSecond([np, np + 1], sums, hidden);
}

/** Hidden scopes of a cell over its units (tallies[unit][platform]). */
export function treeHide(t, tallies) {
  const ns = nscopes(t);
  const hidden = new Array(ns).fill(false);
  if (tallies.length > 1) {
    for (const u of tallies) treeHide(t, [u]).forEach((h, s) => { hidden[s] = hidden[s] || h; });
  }
  const total = t.tree.codes.map((_, p) => tallies.reduce((a, u) => ({ n: a.n + u[p].n, ks: a.ks + u[p].ks }), { n: 0, ks: 0 }));
  const sums = [...Array(ns).keys()].map((s) => scopeTally(t, total, s));
  sums.forEach((x, s) => { hidden[s] = hidden[s] || small(t.settings, x.n); });
  secondary(t, sums, hidden);
  return hidden;
}

/** Flags [code][scope] of the codes of a breakdown (talliesList[code][unit][platform]); with
 * `partition`, when exactly one code is hidden in a scope the smallest non-zero other is
 * too (ties: byte order of the codes) — in each unit, then over the range. */
export function breakdownHide(t, talliesList, codes, partition) {
  const ns = nscopes(t);
  const unitFlags = (u) => {
    const flags = talliesList.map((tl) => treeHide(t, [tl[u]]));
    const sums = talliesList.map((tl) => [...Array(ns).keys()].map((s) => scopeTally(t, tl[u], s)));
    if (partition) for (let s = 0; s < ns; s++) hideSecondCode(codes, sums, flags, s);
    return { flags, sums };
  };
  const nunits = talliesList[0].length;
  if (nunits === 1) return unitFlags(0).flags;
  const flags = codes.map(() => new Array(ns).fill(false));
  const sums = codes.map(() => [...Array(ns).keys()].map(() => ({ n: 0, ks: 0 })));
  for (let u = 0; u < nunits; u++) {
    const x = unitFlags(u);
    x.flags.forEach((f, c) => f.forEach((h, s) => { flags[c][s] = flags[c][s] || h; sums[c][s].n += x.sums[c][s].n; sums[c][s].ks += x.sums[c][s].ks; }));
  }
  codes.forEach((_, c) => {
    for (let s = 0; s < ns; s++) flags[c][s] = flags[c][s] || small(t.settings, sums[c][s].n);
    secondary(t, sums[c], flags[c]);
  });
  if (partition) for (let s = 0; s < ns; s++) hideSecondCode(codes, sums, flags, s);
  return flags;
}

function hideSecondCode(codes, sums, flags, s) {
  if (codes.filter((_, c) => flags[c][s]).length !== 1) return;
  let best = -1;
  codes.forEach((code, c) => {
    if (flags[c][s] || sums[c][s].n <= 0) return;
    if (best < 0 || sums[c][s].n < sums[best][s].n || (sums[c][s].n === sums[best][s].n && code < codes[best])) best = c;
  });
  if (best >= 0) flags[best][s] = true;
}

/** The protected cells {code: {value, status, truth}} of a breakdown for a scope. */
export function protectedCodes(t, talliesList, codes, scope, partition) {
  const flags = breakdownHide(t, talliesList, codes, partition);
  const out = {};
  codes.forEach((code, c) => {
    const sum = talliesList[c].reduce((a, u) => { const x = scopeTally(t, u, scope); return { n: a.n + x.n, ks: a.ks + x.ks }; }, { n: 0, ks: 0 });
    out[code] = { ...protect(t, sum, flags[c][scope]), truth: sum.n };
  });
  return out;
}

/** A protected cell for a scope over its units. */
export function protectedCell(t, tallies, scope) {
  const hidden = treeHide(t, tallies);
  const sum = tallies.reduce((a, u) => { const x = scopeTally(t, u, scope); return { n: a.n + x.n, ks: a.ks + x.ks }; }, { n: 0, ks: 0 });
  return { ...protect(t, sum, hidden[scope]), truth: sum.n };
}

/** hidden[figure] = [all, ami] of one year, from v[figure] = [ami1, ami2]. */
export function officialHide(t, v) {
  const s = t.settings, all = {}, smallAll = {}, smallAmi = {};
  for (const f of OFFICIAL) {
    all[f] = v[f][0] + v[f][1];
    smallAll[f] = small(s, all[f]);
    smallAmi[f] = smallAll[f] || small(s, v[f][0]) || small(s, v[f][1]);
  }
  const second = (flag) => {
    if (PARTS.filter((f) => flag[f]).length !== 1) return;
    let best = null;
    for (const f of PARTS) if (!flag[f] && all[f] > 0 && (best === null || all[f] < all[best])) best = f;
    if (best) flag[best] = true;
  };
  const partAll = Object.fromEntries(PARTS.map((f) => [f, smallAll[f]]));
  second(partAll);
  const partAmi = Object.fromEntries(PARTS.map((f) => [f, partAll[f] || smallAmi[f]]));
  second(partAmi);
  const hidden = {};
  for (const f of OFFICIAL) hidden[f] = [smallAll[f] || !!partAll[f], smallAmi[f] || !!partAmi[f]];
  hidden.housed_or_maintained[0] ||= partAll.accompanied;
  hidden.housed_or_maintained[1] ||= partAmi.accompanied;
  const o1 = v.requests_total[0] - v.youth_requests[0], o2 = v.requests_total[1] - v.youth_requests[1];
  hidden.youth_requests[0] ||= small(s, o1 + o2);
  hidden.youth_requests[1] ||= small(s, o1 + o2) || small(s, o1) || small(s, o2);
  return hidden;
}

/** An exact official figure over its units (years) for a scope (all or an AMI); tallies by
 * figure name. */
export function exactCell(t, talliesByFigure, figure, scope) {
  const np = t.tree.codes.length, side = scope === scopeAll(t) ? 0 : 1;
  const nunits = talliesByFigure[figure].length;
  let hidden = false, total = 0;
  for (let u = 0; u < nunits; u++) {
    const v = {};
    for (const f of OFFICIAL) {
      v[f] = [0, 0];
      (talliesByFigure[f]?.[u] ?? []).forEach((x, p) => { v[f][t.tree.family[p]] += x.n; });
    }
    hidden = hidden || officialHide(t, v)[figure][side];
    total += side === 0 ? v[figure][0] + v[figure][1] : v[figure][scope - np];
  }
  if (hidden || small(t.settings, total)) return { value: null, status: 'A', truth: total };
  return { value: total, status: 'E', truth: total };
}

/** The units of a period: its years for a range of years, else the period. */
export function unitsOf(p) {
  if (p.kind !== 'years') return [[p.first, p.last]];
  const out = [];
  for (let m = p.first; m <= p.last; m += 12) out.push([m, m + 11]);
  return out;
}

/** The scope index and platform list of a question ({ platform } | { ami } | {}). */
export function scopeOf(t, q) {
  const np = t.tree.codes.length;
  if (q.platform) return { scope: t.tree.codes.indexOf(q.platform), plats: [q.platform] };
  if (q.ami) return { scope: np + q.ami - 1, plats: t.tree.codes.filter((_, i) => t.tree.family[i] === q.ami - 1) };
  return { scope: np + 2, plats: [...t.tree.codes] };
}

const rate = (a, b) => (a.value === null || b.value === null || b.value <= 0 ? { value: null, status: 'A' }
  : { value: a.value / b.value, status: a.status === 'E' && b.status === 'E' ? 'E' : 'P' });

/** The expected youth headline over `units` for a question (period kind of those units). */
export function youthHeadline(t, q, units, kind) {
  const { scope, plats } = scopeOf(t, q);
  const band = BANDS[q.age_band ?? 'age_18_25'];
  const official = (kind === 'year' || kind === 'years') && scope >= t.tree.codes.length;
  const tal = {
    requests_total: youthTallies(t, units, 'all', '', band),
    youth_requests: youthTallies(t, units, 'total', '', band),
  };
  const cell = (f, isOfficial) => (isOfficial ? exactCell(t, tal, f, scope) : protectedCell(t, tal[f], scope));
  const total = cell('requests_total', official);
  const youth = cell('youth_requests', official && (q.age_band ?? 'age_18_25') === 'age_18_25');
  const whole = persons(t, [units[0][0], units[units.length - 1][1]], plats, band);
  const perUnit = units.length > 1 ? units.map((u) => persons(t, u, plats, band)) : [];
  const pers = (k) => protect(t, whole[k], perUnit.some((x) => small(t.settings, x[k].n)));
  const responses = [...q.vocab.siao_response, 'not_collected'];
  const unmet = protectedCodes(t, responses.map((c) => youthTallies(t, units, 'response', c, band)), responses, scope, true).no_place_available;
  const alts = ['false', 'not_collected', 'true'];
  const alt = protectedCodes(t, alts.map((c) => youthTallies(t, units, 'alt', c, band)), alts, scope, true);
  const no = alt.false, yes = alt.true;
  const known = no.value === null || yes.value === null ? { value: null, status: 'A' } : { value: no.value + yes.value, status: 'P' };
  return {
    requests_total: total, youth_requests: youth, youth_share: rate(youth, total),
    youth_persons: { ...pers('persons'), truth: whole.persons.n },
    repeat_persons: { ...pers('repeats'), truth: whole.repeats.n },
    unmet_rate: rate(unmet, youth), no_alternative_share: rate(no, known),
  };
}

/** The expected youth answer: headline and breakdowns ({code: {value, status, truth}}). */
export function expectedYouth(t, q) {
  const units = unitsOf(q.period), { scope, plats } = scopeOf(t, q);
  const band = BANDS[q.age_band ?? 'age_18_25'];
  const out = youthHeadline(t, q, units, q.period.kind);
  for (const [section, [dim, vocabName, missing]] of Object.entries(YOUTH_DIMS)) {
    const codes = [...q.vocab[vocabName], ...(missing ? ['not_collected'] : [])];
    out[section] = protectedCodes(t, codes.map((c) => youthTallies(t, units, dim, c, band)), codes, scope, dim !== 'need');
  }
  const ages = [];
  for (let a = band[0]; a <= band[1]; a++) ages.push(String(a));
  out.by_age = protectedCodes(t, ages.map((a) => youthTallies(t, units, 'age', a, band)), ages, scope, true);
  const yt = youthTallies(t, units, 'total', '', band);
  out.by_platform = Object.fromEntries(plats.map((p) => [p, protectedCell(t, yt, t.tree.codes.indexOf(p))]));
  return out;
}

/** The expected activity answer. */
export function expectedActivity(t, q) {
  const units = unitsOf(q.period), { scope, plats } = scopeOf(t, q);
  const official = (q.period.kind === 'year' || q.period.kind === 'years') && scope >= t.tree.codes.length;
  const tal = {
    referrals_received: activityTallies(t, units, 'total', ''),
    housed_or_maintained: activityTallies(t, units, 'housed', ''),
  };
  for (const f of PARTS) tal[f] = activityTallies(t, units, 'outcome', f);
  const cell = (f, tl = tal, isOfficial = official) => (isOfficial ? exactCell(t, tl, f, scope) : protectedCell(t, tl[f], scope));
  const out = { referrals_received: cell('referrals_received'), outcomes: {} };
  const parts = official ? null : protectedCodes(t, PARTS.map((f) => tal[f]), PARTS, scope, true);
  for (const f of PARTS) out.outcomes[f] = official ? cell(f) : parts[f];
  out.outcomes.housed_or_maintained = cell('housed_or_maintained');
  for (const [section, [dim, vocab, missing]] of Object.entries(ACTIVITY_DIMS)) {
    const codes = [...q.vocab[vocab], ...(missing ? ['not_collected'] : [])];
    out[section] = protectedCodes(t, codes.map((c) => activityTallies(t, units, dim, c)), codes, scope, true);
  }
  out.by_platform = Object.fromEntries(plats.map((p) => [p, protectedCell(t, tal.referrals_received, t.tree.codes.indexOf(p))]));
  out.by_year = {};
  units.forEach((u, i) => {
    const one = Object.fromEntries(Object.entries(tal).map(([f, x]) => [f, [x[i]]]));
    const kind = units.length > 1 ? 'year' : q.period.kind;
    const isOfficial = (kind === 'year' || kind === 'years') && scope >= t.tree.codes.length;
    out.by_year[monthDate(u[0]).slice(0, 4)] = isOfficial ? exactCell(t, one, 'referrals_received', scope)
      : protectedCell(t, one.referrals_received, scope);
  });
  out.measures_by_kind = protectedCodes(t, q.vocab.measure_kind.map((c) => activityTallies(t, units, 'measure', c)), q.vocab.measure_kind, scope, true);
  out.measures_total = protectedCell(t, activityTallies(t, units, 'measure', ''), scope);
  return out;
}

/** The points of a series: [{ label, start, units, kind }]. */
export function seriesPoints(p, granularity) {
  const span = { month: 1, quarter: 3, year: 12 }[granularity];
  const out = [];
  for (let m = p.first - (granularity === 'year' ? p.first % 12 : granularity === 'quarter' ? p.first % 3 : 0); m <= p.last; m += span) {
    const a = Math.max(m, p.first), b = Math.min(m + span - 1, p.last);
    const kind = a === b ? 'month' : b - a === 2 ? 'quarter' : 'year';
    const y = Math.floor(m / 12);
    const label = granularity === 'year' ? String(y) : granularity === 'quarter' ? `${y}-Q${Math.floor((m % 12) / 3) + 1}` : monthDate(m).slice(0, 7);
    out.push({ label, start: monthDate(m), units: [[a, b]], kind });
  }
  return out;
}
