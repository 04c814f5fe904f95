// An independent implementation of GET /v1/stats/outcomes (docs/outcomes.md) over the raw
// rows of the case tables: each referral's dates computed here from referral, measure and
// household (not from the service's facts table), the observation date, the cases of a
// question, the cell-key counts with their hidden flags closed under every family, and the
// Kaplan–Meier estimates with their publication rule. The property test compares every
// figure of the endpoint with it.
import {
  protect, breakdownHide, exactCell, scopeOf, unitsOf, seriesPoints, monthIndex,
} from './disclosure.mjs';

export const MEASURES = ['time_to_support', 'time_to_housing', 'retention', 'returns'];
export const BREAKDOWNS = [
  ['by_measure_kind', 'kind'], ['by_composition', 'composition'], ['by_age_band', 'age_band'], ['by_history', 'history'],
];
const FIGS = ['cases', 'sup_ev', 'sup_ce', 'hou_ev', 'hou_ce', 'ret_ev', 'ret_ce', 'rtn_n', 'rtn_ev', 'rtn_ce'];
// per measure: its cohort, events, censored
const MEASURE_FIGS = [['cases', 'sup_ev', 'sup_ce'], ['cases', 'hou_ev', 'hou_ce'], ['hou_ev', 'ret_ev', 'ret_ce'], ['rtn_n', 'rtn_ev', 'rtn_ce']];
const SHARE_MONTHS = [[3, 6, 12], [3, 6, 12], [6, 12, 24], [6, 12, 24]];
const AGE_BANDS = [['under_18', 0, 17], ['age_18_25', 18, 25], ['age_26_34', 26, 34], ['age_35_44', 35, 44],
  ['age_45_54', 45, 54], ['age_55_64', 55, 64], ['age_65_plus', 65, 999]];

const day = (iso) => Math.round(Date.parse(`${iso}T00:00:00Z`) / 86_400_000);
const maxIso = (xs) => xs.filter(Boolean).reduce((a, b) => (b > a ? b : a));
const minIso = (xs) => { const v = xs.filter(Boolean); return v.length ? v.reduce((a, b) => (b < a ? b : a)) : null; };

/** Full years between two ISO dates, as PostgreSQL's age(). */
function yearsBetween(birth, on) {
  const [y1, m1, d1] = birth.split('-').map(Number), [y2, m2, d2] = on.split('-').map(Number);
  return y2 - y1 - (m2 < m1 || (m2 === m1 && d2 < d1) ? 1 : 0);
}

/** Everything the outcome figures are computed from. `sql(text)` resolves { rows }. */
export async function loadOutcomeTruth(sql, vocab) {
  const refs = (await sql(`SELECT r.id::text AS id, r.platform, r.received_on::text AS received_on, r.rk,
      r.status, r.status_dates, h.id::text AS hid, h.person_key, h.composition,
      h.head_birth_date::text AS birth FROM referral r JOIN household h ON h.id = r.household_id`)).rows;
  const meas = (await sql(`SELECT referral_id::text AS rid, id::text AS id, kind, started_on::text AS s,
      ended_on::text AS e, housing_outcome AS o, housing_on::text AS h FROM measure`)).rows;
  const today = (await sql(`SELECT (now() AT TIME ZONE 'Europe/Paris')::date::text AS d`)).rows[0].d;
  const ptable = (await sql('SELECT max_noise, excess, noise, key_from, key_to FROM disclosure_ptable')).rows;
  const plats = (await sql(`SELECT code, ami FROM platform ORDER BY ami, code COLLATE "C"`)).rows;
  const setting = (await sql('SELECT threshold, max_noise FROM disclosure_setting')).rows[0];

  const byRef = new Map();
  for (const m of meas) {
    if (!byRef.has(m.rid)) byRef.set(m.rid, []);
    byRef.get(m.rid).push(m);
  }
  const byPerson = new Map();
  for (const r of refs) {
    r.person = r.person_key ?? `household:${r.hid}`;
    if (!byPerson.has(r.person)) byPerson.set(r.person, []);
    byPerson.get(r.person).push(r);
  }
  const kindCodes = vocab.measure_kind;
  for (const r of refs) {
    const ms = byRef.get(r.id) ?? [];
    const latest = [...ms].sort((a, b) => (a.s !== b.s ? (a.s < b.s ? 1 : -1) : (a.id < b.id ? 1 : -1)))[0];
    r.kind = latest ? latest.kind : 'none';
    if (!kindCodes.includes(r.kind) && r.kind !== 'none') r.kind = `?${r.kind}`;
    r.age_band = r.birth === null ? 'not_collected'
      : AGE_BANDS.find(([, lo, hi]) => { const a = yearsBetween(r.birth, r.received_on); return a >= lo && a <= hi; })[0];
    r.support_on = minIso(ms.map((m) => m.s));
    r.housing_on = minIso(ms.filter((m) => m.o === 'accessed' || m.o === 'maintained').map((m) => m.h ?? m.e ?? m.s));
    r.support_closed = r.support_on === null && ['reoriented', 'no_follow_up'].includes(r.status);
    r.housing_closed = r.housing_on === null && ['reoriented', 'no_follow_up', 'accompaniment_ended'].includes(r.status);
    r.ended_housed_on = r.status === 'accompaniment_ended' && r.housing_on !== null
      ? (r.status_dates.accompaniment_ended ?? maxIso([...ms.map((m) => m.e), r.housing_on])) : null;
    r.last_on = maxIso([r.received_on, ...Object.values(r.status_dates), ...ms.flatMap((m) => [m.s, m.e, m.h])]);
  }
  for (const r of refs) {
    const others = byPerson.get(r.person).filter((x) => x.id !== r.id);
    r.history = others.some((x) => x.received_on < r.received_on || (x.received_on === r.received_on && x.id < r.id))
      ? 'returning' : 'first_time';
    r.loss_on = r.housing_on === null ? null : minIso(others.filter((x) => x.received_on > r.housing_on).map((x) => x.received_on));
    r.return_on = r.ended_housed_on === null ? null
      : minIso(others.filter((x) => x.received_on > r.ended_housed_on).map((x) => x.received_on));
    r.m = monthIndex(r.received_on);
    r.rk = Number(r.rk);
  }
  let asOf = today;
  if (refs.length) {
    const last = maxIso(refs.map((r) => r.last_on));
    const [y, mo] = last.split('-').map(Number);
    const end = new Date(Date.UTC(y, mo, 0)).toISOString().slice(0, 10);
    if (end < asOf) asOf = end;
  }
  // each referral's time (days) and state per measure: E event, X closed, C open, null
  const A = day(asOf);
  for (const r of refs) {
    const R = day(r.received_on);
    const timeTo = (on, closed) => (on !== null && on <= asOf ? [Math.max(0, day(on) - R), 'E'] : [Math.max(0, A - R), closed ? 'X' : 'C']);
    const after = (from, on) => (from === null || from > asOf ? [null, null]
      : on !== null && on <= asOf ? [Math.max(0, day(on) - day(from)), 'E'] : [Math.max(0, A - day(from)), 'C']);
    r.obs = [timeTo(r.support_on, r.support_closed), timeTo(r.housing_on, r.housing_closed),
      after(r.housing_on, r.loss_on), after(r.ended_housed_on, r.return_on)];
  }
  return {
    refs, asOf, ptable,
    settings: { threshold: Number(setting.threshold), maxNoise: Number(setting.max_noise) },
    tree: { codes: plats.map((p) => p.code), family: plats.map((p) => Number(p.ami) - 1) },
    codes: {
      kind: [...kindCodes, 'none'], composition: vocab.composition,
      age_band: [...vocab.age_band, 'not_collected'], history: ['first_time', 'returning'],
    },
  };
}

// ---- counts ---------------------------------------------------------------------------

function counts(t, r, fig) {
  const [s, h, ret, rtn] = r.obs.map((o) => o[1]);
  switch (fig) {
    case 'cases': return true;
    case 'sup_ev': return s === 'E';
    case 'sup_ce': return s === 'C';
    case 'hou_ev': return h === 'E';
    case 'hou_ce': return h === 'C';
    case 'ret_ev': return ret === 'E';
    case 'ret_ce': return ret === 'C';
    case 'rtn_n': return rtn !== null;
    case 'rtn_ev': return rtn === 'E';
    default: return rtn === 'C';
  }
}

/** tallies[unit][platform] of figure `fig` for the cases of group (dim, code) ('' dim: all). */
function tallies(t, units, dim, code, fig) {
  const out = units.map(() => t.tree.codes.map(() => ({ n: 0, ks: 0 })));
  const idx = new Map(t.tree.codes.map((c, i) => [c, i]));
  for (const r of t.refs) {
    const u = units.findIndex(([a, b]) => r.m >= a && r.m <= b);
    if (u < 0 || !idx.has(r.platform) || (dim && r[dim] !== code) || !counts(t, r, fig)) continue;
    const x = out[u][idx.get(r.platform)];
    x.n += 1;
    x.ks += r.rk;
  }
  return out;
}

const scopeN = (t, plat, s) => {
  const np = t.tree.codes.length;
  return plat.reduce((a, x, i) => a + ((s < np ? i === s : s === np + 2 || t.tree.family[i] === s - np) ? x.n : 0), 0);
};

/** In each family where exactly one cell is hidden, hide the smallest non-zero other (ties:
 * the first of the family), until nothing changes. */
function close(n, hidden, families) {
  for (let changed = true; changed;) {
    changed = false;
    for (const f of families) {
      if (f.filter((i) => hidden[i]).length !== 1) continue;
      let best = -1;
      for (const i of f) if (!hidden[i] && n[i] > 0 && (best < 0 || n[i] < n[best])) best = i;
      if (best >= 0) { hidden[best] = true; changed = true; }
    }
  }
}

/** flags[fig][k][scope] of a table (one group with partition false, or a breakdown's codes). */
function tableFlags(t, tal, codes, partition, kind) {
  const np = t.tree.codes.length, ns = np + 3, nunits = tal.cases[0].length;
  const flags = {}, n = {};
  let unitFlags = null;
  if (nunits > 1) {
    unitFlags = [];
    for (let u = 0; u < nunits; u++) {
      const one = Object.fromEntries(FIGS.map((f) => [f, tal[f].map((x) => [x[u]])]));
      unitFlags.push(tableFlags(t, one, codes, partition, 'year'));
    }
  }
  for (const f of FIGS) {
    flags[f] = breakdownHide(t, tal[f], codes, partition).map((row, k) => row.map((h, s) => h || (unitFlags ?? []).some((uf) => uf[f][k][s])));
    n[f] = codes.map((_, k) => [...Array(ns).keys()].map((s) => tal[f][k].reduce((a, x) => a + scopeN(t, x, s), 0)));
  }
  if (!partition && (kind === 'year' || kind === 'years')) {
    for (let s = np; s < ns; s++) flags.cases[0][s] = exactCell(t, { referrals_received: tal.cases[0] }, 'referrals_received', s).status === 'A';
  }
  // flat cells and families
  const id = (f, k, s) => (FIGS.indexOf(f) * codes.length + k) * ns + s;
  const H = [], N = [];
  for (const f of FIGS) codes.forEach((_, k) => { for (let s = 0; s < ns; s++) { H[id(f, k, s)] = flags[f][k][s]; N[id(f, k, s)] = n[f][k][s]; } });
  const fams = [];
  const order = [...codes.keys()].sort((a, b) => (codes[a] < codes[b] ? -1 : codes[a] > codes[b] ? 1 : 0));
  for (const f of FIGS.slice(1)) {
    codes.forEach((_, k) => {
      for (const fam of [0, 1]) {
        fams.push([...Array(np).keys()].filter((p) => t.tree.family[p] === fam)
          .sort((a, b) => (t.tree.codes[a] < t.tree.codes[b] ? -1 : 1)).map((p) => id(f, k, p)));
      }
      fams.push([id(f, k, np), id(f, k, np + 1)]);
    });
    if (partition) for (let s = 0; s < ns; s++) fams.push(order.map((k) => id(f, k, s)));
  }
  codes.forEach((_, k) => {
    for (let s = 0; s < ns; s++) {
      fams.push([id('ret_ev', k, s), id('ret_ce', k, s)]);
      fams.push([id('rtn_ev', k, s), id('rtn_ce', k, s)]);
    }
  });
  const splits = [['cases', FIGS.slice(1)], ['hou_ev', ['ret_ev', 'ret_ce']], ['rtn_n', ['rtn_ev', 'rtn_ce']]];
  for (let again = true; again;) {
    again = false;
    codes.forEach((_, k) => {
      for (let s = 0; s < ns; s++) {
        for (const [parent, parts] of splits) {
          if (!H[id(parent, k, s)]) continue;
          for (const p of parts) if (!H[id(p, k, s)]) { H[id(p, k, s)] = true; again = true; }
        }
      }
    });
    const before = H.filter(Boolean).length;
    close(N, H, fams);
    if (H.filter(Boolean).length !== before) again = true;
  }
  for (const f of FIGS) codes.forEach((_, k) => { for (let s = 0; s < ns; s++) flags[f][k][s] = H[id(f, k, s)]; });
  return flags;
}

// ---- estimates ---------------------------------------------------------------------------

/** Kaplan–Meier steps of [time, event] pairs: [{ t, n, d, s }]. */
export function kaplanMeier(obs) {
  const times = obs.map(([x]) => x).sort((a, b) => a - b);
  const evs = [...new Set(obs.filter(([, e]) => e).map(([x]) => x))].sort((a, b) => a - b);
  const steps = [];
  let s = 1;
  for (const x of evs) {
    const n = times.filter((y) => y >= x).length, d = obs.filter(([y, e]) => e && y === x).length;
    s *= 1 - d / n;
    steps.push({ t: x, n, d, s });
  }
  return steps;
}

const horizon = (m) => Math.floor((m * 304375 + 5000) / 10000);
const round2 = (x) => (x <= 0 ? 0 : Math.trunc(x * 100 + 0.5) / 100);
const round7 = (d) => Math.trunc((d + 3) / 7) * 7;

function estimates(t, obs, m, counted, curve) {
  const T = t.settings.threshold, n = obs.length, steps = kaplanMeier(obs);
  const ok = (at, ev) => counted && n >= 2 * T && at >= T && (ev === 0 || ev >= T);
  const at = (h) => {
    let s = 1, nAt = n, ev = 0;
    for (const st of steps) if (st.t <= h) { s = st.s; nAt = st.n; ev += st.d; }
    return { s, nAt, ev };
  };
  const out = {};
  if (m <= 1) {
    for (const [key, q] of [['q1_days', 0.25], ['median_days', 0.5], ['q3_days', 0.75]]) {
      let ev = 0;
      const st = steps.find((x) => { ev += x.d; return 1 - x.s >= q - 1e-9; });
      if (st) out[key] = ok(st.n, ev) ? { value: round7(st.t), status: 'P' } : { value: null, status: 'A' };
      else out[key] = { value: null, status: ok(T, 0) ? 'P' : 'A' };
    }
  }
  const share = (mo) => {
    const x = at(horizon(mo));
    return ok(x.nAt, x.ev) ? { value: round2(m === 2 ? x.s : 1 - x.s), status: 'P' } : { value: null, status: 'A' };
  };
  out.shares = SHARE_MONTHS[m].map((mo) => ({ months: mo, ...share(mo) }));
  if (curve && m <= 1) out.curve = [...Array(24).keys()].map((i) => ({ month: i + 1, share: share(i + 1).value }));
  return out;
}

// ---- a question ---------------------------------------------------------------------------

/** The expected groups of one table over `units` (period kind `kind`): [{ code, figures }]. */
function expectTable(t, q, units, kind, dim, codes, curve) {
  const { scope } = scopeOf(t, q);
  const np = t.tree.codes.length;
  const tal = Object.fromEntries(FIGS.map((f) => [f, codes.map((c) => tallies(t, units, dim, c, f))]));
  const flags = tableFlags(t, tal, codes, Boolean(dim), kind);
  return codes.map((code, k) => {
    const value = (f) => {
      if (f === 'cases' && !dim && scope >= np && (kind === 'year' || kind === 'years')) {
        const e = exactCell(t, { referrals_received: tal.cases[0] }, 'referrals_received', scope);
        return { value: e.value, status: e.status, truth: e.truth };
      }
      const sum = tal[f][k].reduce((a, x) => {
        const plats = x.filter((_, p) => (scope < np ? p === scope : scope === np + 2 || t.tree.family[p] === scope - np));
        return { n: a.n + plats.reduce((b, y) => b + y.n, 0), ks: a.ks + plats.reduce((b, y) => b + y.ks, 0) };
      }, { n: 0, ks: 0 });
      return { ...protect(t, sum, flags[f][k][scope]), truth: sum.n };
    };
    const { plats } = scopeOf(t, q);
    const mine = t.refs.filter((r) => plats.includes(r.platform) && units.some(([a, b]) => r.m >= a && r.m <= b)
      && (!dim || r[dim] === code));
    const group = { code, referrals: value('cases') };
    MEASURES.forEach((name, m) => {
      const [c, e, ce] = MEASURE_FIGS[m].map(value);
      const obs = mine.filter((r) => r.obs[m][1] !== null).map((r) => [r.obs[m][0], r.obs[m][1] === 'E']);
      group[name] = { cases: c, events: e, censored: ce, ...estimates(t, obs, m, c.status !== 'A', curve) };
    });
    return group;
  });
}

/** Everything a question should answer. */
export function expectedOutcomes(t, q) {
  const units = unitsOf(q.period);
  const out = { as_of: t.asOf };
  out.cohort = expectTable(t, q, units, q.period.kind, '', [''], true)[0];
  for (const [section, dim] of BREAKDOWNS) out[section] = expectTable(t, q, units, q.period.kind, dim, t.codes[dim], false);
  out.youth = {
    envaul: out.by_measure_kind.find((g) => g.code === 'envaul'),
    age_18_25: out.by_age_band.find((g) => g.code === 'age_18_25'),
  };
  out.by_cohort = seriesPoints(q.period, q.granularity ?? 'year').map((pt) => ({
    period: pt.label, period_start: pt.start, ...expectTable(t, q, pt.units, pt.kind, '', [''], true)[0],
  }));
  return out;
}

/** The true count of figure (`referrals`, or a measure's `cases`, `events`, `censored`) of a
 * group (dim '' for the whole cohort) over a question's period and scope. */
export function trueCount(t, q, dim, code, measure, figure) {
  const fig = measure === 'cohort' ? 'cases' : MEASURE_FIGS[MEASURES.indexOf(measure)][['cases', 'events', 'censored'].indexOf(figure)];
  const tal = tallies(t, unitsOf(q.period), dim, code, fig);
  const { scope } = scopeOf(t, q);
  return tal.reduce((a, x) => a + scopeN(t, x, scope), 0);
}
