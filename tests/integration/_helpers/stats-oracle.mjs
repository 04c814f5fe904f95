// An independent oracle for the statistics of SPEC §6, used by stats.test.mjs and
// stats_property.test.mjs: the raw figures recomputed in plain SQL over the raw rows
// (written from the SPEC's definitions, not from api/store/stats.c), the disclosure rules
// applied here in JavaScript, the expected JSON documents of the three endpoints, a
// comparison that reports every difference, an RFC 4180 CSV parser and a seeded PRNG.
import assert from 'node:assert/strict';

export const PLATFORMS = ['artois', 'lens_henin', 'audomarois', 'boulonnais', 'montreuillois'];
export const AMI = { artois: 1, lens_henin: 1, audomarois: 2, boulonnais: 2, montreuillois: 2 };
export const NOT_COLLECTED_LABEL = 'Non renseigné';
export const FLOAT_TOLERANCE = 1e-12;

// ------------------------------------------------------------------------------ PRNG

/** mulberry32: a small seeded PRNG, so that a failing case can be replayed from its seed. */
export function prng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)), // inclusive
    pick: (arr) => arr[Math.floor(next() * arr.length)],
    chance: (p) => next() < p,
  };
}

// ------------------------------------------------------------------------------ dates

export function addDays(date, n) {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}
export function dayNumber(date) {
  return Math.round(Date.parse(`${date}T00:00:00Z`) / 86_400_000);
}
export function fromDayNumber(n) {
  return new Date(n * 86_400_000).toISOString().slice(0, 10);
}
export function lastDayOfMonth(y, m) {
  return new Date(Date.UTC(y, m, 0)).toISOString().slice(0, 10); // m: 1..12
}
const pad2 = (n) => String(n).padStart(2, '0');

/** The periods of granularity g meeting [from, to]: [{period, period_start}], oldest first. */
export function periodsOf(g, from, to) {
  let y = Number(from.slice(0, 4));
  let m = Number(from.slice(5, 7));
  if (g === 'quarter') m = Math.floor((m - 1) / 3) * 3 + 1;
  if (g === 'year') m = 1;
  const step = g === 'month' ? 1 : g === 'quarter' ? 3 : 12;
  const out = [];
  for (let guard = 0; guard < 2000; guard += 1) {
    const start = `${y}-${pad2(m)}-01`;
    if (start > to) return out;
    const period = g === 'year' ? `${y}` : g === 'quarter' ? `${y}-Q${(m - 1) / 3 + 1}` : `${y}-${pad2(m)}`;
    out.push({ period, period_start: start });
    m += step;
    while (m > 12) {
      m -= 12;
      y += 1;
    }
  }
  throw new Error('periodsOf: too many periods');
}

// ------------------------------------------------------------------------------ queries

/** The platforms the figures cover: those asked (all when none) within the AMI asked. */
export function chosenPlatforms({ platforms = [], ami = null } = {}) {
  const asked = platforms.length ? new Set(platforms) : new Set(PLATFORMS);
  return PLATFORMS.filter((p) => asked.has(p) && (!ami || AMI[p] === ami));
}

/** The query string of a statistics request (q: from, to, platforms, ami, age_min, age_max, granularity, format). */
export function queryString(q, { ages = true } = {}) {
  const parts = [];
  if (q.from !== undefined) parts.push(`from=${q.from}`);
  if (q.to !== undefined) parts.push(`to=${q.to}`);
  for (const p of q.platforms ?? []) parts.push(`platform=${p}`);
  if (q.ami) parts.push(`ami=${q.ami}`);
  if (ages && q.age_min !== undefined) parts.push(`age_min=${q.age_min}`);
  if (ages && q.age_max !== undefined) parts.push(`age_max=${q.age_max}`);
  if (q.granularity) parts.push(`granularity=${q.granularity}`);
  if (q.format) parts.push(`format=${q.format}`);
  return parts.join('&');
}

// ------------------------------------------------------------------------------ raw figures (SQL)
// Each function takes sql(text, params) (e.g. svc.sql.bind(svc)) and returns plain counts.

// A request's day is its date in Europe/Paris; [from, to] inclusive. The bounds on
// received_at itself (two days wider than the period whatever the session's time zone) only
// let PostgreSQL use the (platform, received_at) index: the Paris date decides.
const SIAO_IN_PERIOD = `
  SELECT s.id, s.person_key, s.age, s.sex, s.situation, s.needs, s.response, s.channel,
         s.platform, s.alternatives_known, (s.received_at AT TIME ZONE 'Europe/Paris')::date AS day
    FROM siao_request s
   WHERE s.platform = ANY($3::text[])
     AND s.received_at >= ($1::date - 2)::timestamptz AND s.received_at < ($2::date + 3)::timestamptz
     AND (s.received_at AT TIME ZONE 'Europe/Paris')::date BETWEEN $1::date AND $2::date`;

const YOUTH_SQL = `
WITH req AS MATERIALIZED (${SIAO_IN_PERIOD}),
     yr AS MATERIALIZED (SELECT * FROM req WHERE age IS NOT NULL AND age BETWEEN $4::int AND $5::int)
SELECT 'h' AS kind, x.dim, NULL::text AS key, x.n
  FROM (SELECT count(*)::int AS requests_total FROM req) t
 CROSS JOIN (SELECT count(*)::int AS youth_requests,
                    count(DISTINCT person_key)::int AS youth_persons,
                    (count(*) FILTER (WHERE response = 'no_place_available'))::int AS unmet,
                    (count(*) FILTER (WHERE alternatives_known IS FALSE))::int AS alternatives_false,
                    count(alternatives_known)::int AS alternatives_known
               FROM yr) y
 CROSS JOIN (SELECT count(*)::int AS repeat_persons
               FROM (SELECT person_key FROM yr WHERE person_key IS NOT NULL
                      GROUP BY person_key HAVING count(*) >= 2) rp) r
 CROSS JOIN LATERAL (VALUES ('requests_total', t.requests_total), ('youth_requests', y.youth_requests),
                            ('youth_persons', y.youth_persons), ('repeat_persons', r.repeat_persons),
                            ('unmet', y.unmet), ('alternatives_false', y.alternatives_false),
                            ('alternatives_known', y.alternatives_known)) AS x(dim, n)
UNION ALL
SELECT 'b',
       CASE WHEN GROUPING(sex) = 0 THEN 'by_sex' WHEN GROUPING(age) = 0 THEN 'by_age'
            WHEN GROUPING(situation) = 0 THEN 'by_situation' WHEN GROUPING(response) = 0 THEN 'by_response'
            WHEN GROUPING(channel) = 0 THEN 'by_channel' ELSE 'by_platform' END,
       coalesce(sex, age, situation, response, channel, platform), count(*)::int
  FROM (SELECT coalesce(sex, 'not_collected') AS sex, age::text AS age,
               coalesce(situation, 'not_collected') AS situation,
               coalesce(response, 'not_collected') AS response,
               coalesce(channel, 'not_collected') AS channel, platform
          FROM yr) g
 GROUP BY GROUPING SETS ((sex), (age), (situation), (response), (channel), (platform))
UNION ALL
SELECT 'b', 'by_need', nd.need, count(DISTINCT yr.id)::int
  FROM yr CROSS JOIN LATERAL unnest(CASE WHEN coalesce(cardinality(yr.needs), 0) = 0
                                         THEN ARRAY['not_collected']::text[] ELSE yr.needs END) AS nd(need)
 GROUP BY nd.need`;

const PERIOD_EXPR = {
  month: `to_char(day, 'YYYY-MM')`,
  quarter: `to_char(day, 'YYYY') || '-Q' || to_char(day, 'Q')`,
  year: `to_char(day, 'YYYY')`,
};

function seriesSql(g) {
  return `
WITH req AS MATERIALIZED (
       SELECT ${PERIOD_EXPR[g]} AS p, person_key, response, alternatives_known,
              (age IS NOT NULL AND age BETWEEN $4::int AND $5::int) AS youth
         FROM (${SIAO_IN_PERIOD}) x),
     per AS (SELECT p, count(*)::int AS requests_total,
                    (count(*) FILTER (WHERE youth))::int AS youth_requests,
                    (count(DISTINCT person_key) FILTER (WHERE youth))::int AS youth_persons,
                    (count(*) FILTER (WHERE youth AND response = 'no_place_available'))::int AS unmet,
                    (count(*) FILTER (WHERE youth AND alternatives_known IS FALSE))::int AS alternatives_false,
                    (count(alternatives_known) FILTER (WHERE youth))::int AS alternatives_known
               FROM req GROUP BY p),
     rep AS (SELECT p, count(*)::int AS repeat_persons
               FROM (SELECT p, person_key FROM req WHERE youth AND person_key IS NOT NULL
                      GROUP BY p, person_key HAVING count(*) >= 2) rp GROUP BY p)
SELECT per.*, coalesce(rep.repeat_persons, 0) AS repeat_persons FROM per LEFT JOIN rep USING (p)`;
}

const ACTIVITY_SQL = `
WITH rf AS (
  SELECT r.id, r.platform, r.status,
         to_char(r.received_on, 'YYYY') AS year,
         coalesce(h.housing_situation, 'not_collected') AS housing_situation,
         CASE WHEN r.partner_id IS NOT NULL THEN pa.kind
              WHEN r.referrer_kind IS NOT NULL THEN r.referrer_kind
              ELSE 'not_collected' END AS referrer_kind
    FROM referral r
    JOIN household h ON h.id = r.household_id
    LEFT JOIN partner pa ON pa.id = r.partner_id
   WHERE r.platform = ANY($3::text[]) AND r.received_on >= $1::date AND r.received_on <= $2::date)
SELECT 'h' AS kind, 'referrals_received' AS dim, NULL::text AS key, count(*)::int AS n FROM rf
UNION ALL
SELECT 'o', CASE WHEN status IN ('accompanied', 'accompaniment_ended') THEN 'accompanied'
                 WHEN status IN ('received', 'assessing', 'orientation_proposed') THEN 'in_progress'
                 ELSE status END, NULL, count(*)::int
  FROM rf GROUP BY 2
UNION ALL
SELECT 'h', 'housed_or_maintained', NULL, count(*)::int
  FROM rf WHERE rf.id IN (SELECT m.referral_id FROM measure m WHERE m.housing_outcome IN ('accessed', 'maintained'))
UNION ALL
SELECT 'b', c.dim, c.key, count(*)::int
  FROM rf CROSS JOIN LATERAL (VALUES
    ('by_housing_situation', rf.housing_situation),
    ('by_referrer_kind', rf.referrer_kind),
    ('by_platform', rf.platform),
    ('by_year', rf.year)) AS c(dim, key)
 GROUP BY c.dim, c.key
UNION ALL
SELECT 'b', 'measures_by_kind', m.kind, count(*)::int
  FROM measure m WHERE m.referral_id IN (SELECT id FROM rf) GROUP BY m.kind`;

function collect(rows) {
  const out = { h: {}, o: {}, b: {} };
  for (const r of rows) {
    if (r.kind === 'b') {
      out.b[r.dim] ??= {};
      out.b[r.dim][r.key] = r.n;
    } else out[r.kind][r.dim] = r.n;
  }
  return out;
}

/** Raw youth figures: { h: {requests_total, youth_requests, ...}, b: {by_sex: {code: n}, ...} }. */
export async function rawYouth(sql, q) {
  const plats = chosenPlatforms(q);
  const { rows } = await sql(YOUTH_SQL, [q.from, q.to, plats, q.age_min ?? 18, q.age_max ?? 25]);
  return collect(rows);
}

/** Raw activity figures: { h: {referrals_received, housed_or_maintained}, o: {status group: n}, b: {...} }. */
export async function rawActivity(sql, q) {
  const plats = chosenPlatforms(q);
  const { rows } = await sql(ACTIVITY_SQL, [q.from, q.to, plats]);
  return collect(rows);
}

/** Raw series figures: { period: {requests_total, ...} } (periods without rows absent). */
export async function rawSeries(sql, q) {
  const plats = chosenPlatforms(q);
  const { rows } = await sql(seriesSql(q.granularity ?? 'month'), [q.from, q.to, plats, q.age_min ?? 18, q.age_max ?? 25]);
  const out = {};
  for (const { p, ...figures } of rows) out[p] = figures;
  return out;
}

// ------------------------------------------------------------------------------ disclosure rules

/** Primary rule: a count from 1 to threshold − 1 is hidden; zero never is. */
export const primaryHidden = (n, T) => n > 0 && n < T;

/**
 * The rules of SPEC §6 on one breakdown: primary on each cell; when exactly one cell is
 * hidden, the smallest non-zero published cell is hidden too (D). cells: [{code, count}] in
 * order; sets cell.status. When several cells tie for the secondary, pickD(candidates) says
 * which one (the service's choice, checked to be one of them); default the first.
 */
export function protectCells(cells, T, pickD) {
  for (const c of cells) c.status = primaryHidden(c.count, T) ? 'A' : 'V';
  const hidden = cells.filter((c) => c.status !== 'V');
  if (hidden.length !== 1) return cells;
  const pub = cells.filter((c) => c.status === 'V' && c.count > 0);
  if (!pub.length) return cells;
  const min = Math.min(...pub.map((c) => c.count));
  const cands = pub.filter((c) => c.count === min).map((c) => c.code);
  let code = cands[0];
  if (cands.length > 1 && pickD) {
    const chosen = pickD(cands);
    if (cands.includes(chosen)) code = chosen;
  }
  cells.find((c) => c.code === code).status = 'D';
  return cells;
}

/** A rate: null when a count it is made of is hidden, or its denominator is zero. */
function rate(num, numVisible, den, denVisible) {
  if (!numVisible || !denVisible || den === 0) return null;
  return num / den;
}

// ------------------------------------------------------------------------------ expected documents

/** Vocabularies from GET /v1/vocabularies: { name: [{code, label_fr}] }. */
export function vocabMaps(vocabularies) {
  const out = {};
  for (const [name, list] of Object.entries(vocabularies)) out[name] = list;
  return out;
}

/**
 * The cells of a breakdown: every code of the vocabulary (or `ordered`), then the other codes
 * present (not_collected…), in the order the service put them when it has them (else sorted).
 */
function breakdownCells(raw, { vocab, ordered, gotCells }) {
  const base = ordered ? ordered.map((c) => ({ code: c, label_fr: c })) : vocab.map((v) => ({ code: v.code, label_fr: v.label_fr }));
  const known = new Set(base.map((c) => c.code));
  const extras = Object.keys(raw ?? {}).filter((k) => !known.has(k) && raw[k] > 0);
  const gotOrder = (gotCells ?? []).map((c) => c.code);
  extras.sort((a, b) => {
    const ia = gotOrder.indexOf(a);
    const ib = gotOrder.indexOf(b);
    if (ia >= 0 && ib >= 0) return ia - ib;
    if (ia >= 0) return -1;
    if (ib >= 0) return 1;
    return a < b ? -1 : 1;
  });
  const cells = [
    ...base,
    ...extras.map((code) => ({ code, label_fr: code === 'not_collected' ? NOT_COLLECTED_LABEL : code })),
  ];
  for (const c of cells) c.count = raw?.[c.code] ?? 0;
  return cells;
}

function pickFromGot(gotCells) {
  return (cands) => (Array.isArray(gotCells) ? gotCells.find((c) => c && c.status === 'D' && cands.includes(c.code))?.code : undefined);
}

/** Protects a breakdown and renders its cells; returns { cells, primary, secondary }. */
function renderBreakdown(raw, opts, total, totalVisible, T) {
  const cells = breakdownCells(raw, opts);
  protectCells(cells, T, pickFromGot(opts.gotCells));
  let primary = 0;
  let secondary = 0;
  const out = cells.map((c) => {
    if (c.status === 'A') primary += 1;
    if (c.status === 'D') secondary += 1;
    const pub = c.status === 'V';
    return {
      code: c.code,
      label_fr: c.label_fr,
      count: pub ? c.count : null,
      share: pub && totalVisible && total > 0 ? c.count / total : null,
      status: c.status,
    };
  });
  return { cells: out, primary, secondary, raw: cells };
}

function range(a, b) {
  const out = [];
  for (let i = a; i <= b; i += 1) out.push(String(i));
  return out;
}

/** The expected JSON of GET /v1/stats/activity for q, from raw figures. got: the answer (ties). */
export function expectedActivity(raw, q, vocab, T, got = {}) {
  let primary = 0;
  let secondary = 0;
  const total = raw.h.referrals_received ?? 0;
  const totalVisible = !primaryHidden(total, T);
  if (!totalVisible) primary += 1;
  const oc = ['accompanied', 'reoriented', 'no_follow_up', 'in_progress'].map((code) => ({ code, count: raw.o[code] ?? 0 }));
  protectCells(oc, T, (cands) => cands.find((c) => got.outcomes && got.outcomes[c] === null));
  const outcomes = {};
  for (const c of oc) {
    outcomes[c.code] = c.status === 'V' ? c.count : null;
    if (c.status === 'A') primary += 1;
    if (c.status === 'D') secondary += 1;
  }
  // housed_or_maintained: primary; also hidden when accompanied is hidden and it is not zero
  const housed = raw.h.housed_or_maintained ?? 0;
  let hst = primaryHidden(housed, T) ? 'A' : 'V';
  if (hst === 'V' && oc[0].status !== 'V' && housed > 0) hst = 'D';
  outcomes.housed_or_maintained = hst === 'V' ? housed : null;
  if (hst === 'A') primary += 1;
  if (hst === 'D') secondary += 1;
  const unexpectedStatuses = Object.keys(raw.o).filter((k) => !(k in outcomes));

  const doc = {
    filters: { from: q.from, to: q.to, platforms: chosenPlatforms(q), ami: q.ami ?? null },
    referrals_received: totalVisible ? total : null,
    outcomes,
  };
  const add = (section, opts, tot, totVisible) => {
    const r = renderBreakdown(raw.b[section], { ...opts, gotCells: got[section] }, tot, totVisible, T);
    doc[section] = r.cells;
    primary += r.primary;
    secondary += r.secondary;
  };
  add('by_housing_situation', { vocab: vocab.housing_situation }, total, totalVisible);
  add('by_referrer_kind', { vocab: vocab.partner_kind }, total, totalVisible);
  add('by_platform', { vocab: vocab.platform }, total, totalVisible);
  add('by_year', { ordered: range(Number(q.from.slice(0, 4)), Number(q.to.slice(0, 4))) }, total, totalVisible);
  const measures = Object.values(raw.b.measures_by_kind ?? {}).reduce((a, b) => a + b, 0);
  add('measures_by_kind', { vocab: vocab.measure_kind }, measures, !primaryHidden(measures, T));
  doc.suppression = { threshold: T, primary, secondary };
  return { doc, unexpectedStatuses };
}

/** The headline figures of the observatory (youth endpoint or one series period). */
function youthHeadline(h, T, unmetVisible) {
  const total = h.requests_total ?? 0;
  const youth = h.youth_requests ?? 0;
  const persons = h.youth_persons ?? 0;
  const repeat = h.repeat_persons ?? 0;
  const unmet = h.unmet ?? 0;
  const altFalse = h.alternatives_false ?? 0;
  const altKnown = h.alternatives_known ?? 0;
  const vis = (n) => !primaryHidden(n, T);
  const fig = {
    requests_total: vis(total) ? total : null,
    youth_requests: vis(youth) ? youth : null,
    youth_share: rate(youth, vis(youth), total, vis(total)),
    youth_persons: vis(persons) ? persons : null,
    repeat_persons: vis(repeat) ? repeat : null,
    unmet_rate: rate(unmet, unmetVisible ?? vis(unmet), youth, vis(youth)),
    no_alternative_share: rate(altFalse, vis(altFalse), altKnown, vis(altKnown)),
  };
  const primary = [total, youth, persons, repeat].filter((n) => !vis(n)).length;
  return { fig, primary };
}

export const YOUTH_BREAKDOWNS = ['by_sex', 'by_age', 'by_situation', 'by_need', 'by_response', 'by_channel', 'by_platform'];

/** The expected JSON of GET /v1/observatory/youth for q, from raw figures. */
export function expectedYouth(raw, q, vocab, T, got = {}) {
  const ageMin = q.age_min ?? 18;
  const ageMax = q.age_max ?? 25;
  const youth = raw.h.youth_requests ?? 0;
  const youthVisible = !primaryHidden(youth, T);
  let primary = 0;
  let secondary = 0;
  const sections = {};
  const opts = {
    by_sex: { vocab: vocab.sex },
    by_age: { ordered: range(ageMin, ageMax) },
    by_situation: { vocab: vocab.housing_situation },
    by_need: { vocab: vocab.siao_need },
    by_response: { vocab: vocab.siao_response },
    by_channel: { vocab: vocab.siao_channel },
    by_platform: { vocab: vocab.platform },
  };
  for (const s of YOUTH_BREAKDOWNS) {
    const r = renderBreakdown(raw.b[s], { ...opts[s], gotCells: got[s] }, youth, youthVisible, T);
    sections[s] = r.cells;
    primary += r.primary;
    secondary += r.secondary;
  }
  // unmet_rate's numerator is the by_response cell no_place_available: hidden with it
  const npa = sections.by_response.find((c) => c.code === 'no_place_available');
  const { fig, primary: hp } = youthHeadline(raw.h, T, npa.status === 'V');
  primary += hp;
  const doc = {
    filters: {
      from: q.from,
      to: q.to,
      platforms: chosenPlatforms(q),
      ami: q.ami ?? null,
      age_min: ageMin,
      age_max: ageMax,
    },
    ...fig,
    ...sections,
    suppression: { threshold: T, primary, secondary },
  };
  return { doc };
}

/** The expected JSON of GET /v1/observatory/youth/series for q, from raw figures. */
export function expectedSeries(raw, q, T) {
  const g = q.granularity ?? 'month';
  let primary = 0;
  const items = periodsOf(g, q.from, q.to).map(({ period, period_start }) => {
    const { fig, primary: p } = youthHeadline(raw[period] ?? {}, T);
    primary += p;
    return { period, period_start, ...fig };
  });
  const extra = Object.keys(raw).filter((p) => !items.some((i) => i.period === p));
  const doc = {
    filters: {
      from: q.from,
      to: q.to,
      platforms: chosenPlatforms(q),
      ami: q.ami ?? null,
      age_min: q.age_min ?? 18,
      age_max: q.age_max ?? 25,
    },
    granularity: g,
    items,
    suppression: { threshold: T, primary, secondary: 0 },
  };
  return { doc, extra };
}

// ------------------------------------------------------------------------------ comparison

/** Every difference between expected and got (numbers: integers exact, others within 1e-12). */
export function diff(expected, got, path = '', out = []) {
  if (out.length > 40) return out;
  if (expected === null || typeof expected !== 'object') {
    if (typeof expected === 'number' && typeof got === 'number') {
      const ok = Number.isInteger(expected) && Number.isInteger(got) ? expected === got : Math.abs(expected - got) <= FLOAT_TOLERANCE;
      if (!ok) out.push(`${path}: expected ${expected}, got ${got}`);
    } else if (expected !== got) out.push(`${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(got)}`);
    return out;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(got)) {
      out.push(`${path}: expected an array, got ${JSON.stringify(got)?.slice(0, 200)}`);
      return out;
    }
    // breakdown cells: compare by code, so that a missing cell is reported once
    if (expected.length && expected[0] && typeof expected[0] === 'object' && 'code' in expected[0]) {
      const ec = expected.map((c) => c.code);
      const gc = got.map((c) => c?.code);
      if (ec.join(',') !== gc.join(',')) out.push(`${path}: cells [${ec.join(',')}], got [${gc.join(',')}]`);
      for (const e of expected) {
        const g = got.find((c) => c?.code === e.code);
        if (g) diff(e, g, `${path}[${e.code}]`, out);
      }
      return out;
    }
    if (expected.length !== got.length) out.push(`${path}: expected ${expected.length} items, got ${got.length}`);
    for (let i = 0; i < Math.min(expected.length, got.length); i += 1) diff(expected[i], got[i], `${path}[${i}]`, out);
    return out;
  }
  if (got === null || typeof got !== 'object' || Array.isArray(got)) {
    out.push(`${path}: expected an object, got ${JSON.stringify(got)?.slice(0, 200)}`);
    return out;
  }
  for (const k of Object.keys(expected)) diff(expected[k], got[k], path ? `${path}.${k}` : k, out);
  for (const k of Object.keys(got)) if (!(k in expected)) out.push(`${path}.${k}: unexpected member`);
  return out;
}

// ------------------------------------------------------------------------------ CSV

/**
 * Parses RFC 4180 text: records end with CRLF (a bare LF or CR outside quotes is an error),
 * fields may be quoted ("" for a quote). Returns an array of records (arrays of strings).
 */
export function parseCsv(text) {
  const records = [];
  let rec = [];
  let field = '';
  let i = 0;
  let quoted = false;
  let wasQuoted = false;
  while (i < text.length) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i += 1;
        continue;
      }
      field += ch;
      i += 1;
      continue;
    }
    if (ch === '"') {
      assert.equal(field, '', `CSV: a quote inside an unquoted field at offset ${i}`);
      quoted = true;
      wasQuoted = true;
      i += 1;
    } else if (ch === ',') {
      rec.push(field);
      field = '';
      wasQuoted = false;
      i += 1;
    } else if (ch === '\r') {
      assert.equal(text[i + 1], '\n', `CSV: a CR without LF at offset ${i}`);
      rec.push(field);
      records.push(rec);
      rec = [];
      field = '';
      wasQuoted = false;
      i += 2;
    } else if (ch === '\n') {
      assert.fail(`CSV: a bare LF (not CRLF) at offset ${i}`);
    } else {
      assert.ok(!wasQuoted, `CSV: text after a closing quote at offset ${i}`);
      field += ch;
      i += 1;
    }
  }
  assert.ok(!quoted, 'CSV: unterminated quoted field');
  assert.ok(field === '' && rec.length === 0, 'CSV: the last record does not end with CRLF');
  return records;
}

/** Runs fn over items with at most `limit` in flight; resolves the results in order. */
export async function pool(items, limit, fn) {
  const results = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next;
      next += 1;
      results[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
