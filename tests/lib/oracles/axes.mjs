// An independent implementation of GET /v1/stats/prevention and GET /v1/stats/housing
// (docs/statistics.md), in JavaScript over the raw rows (cases, stage events, actions,
// follow-ups, offers, placements, referrals, measures, meetings and their presentations),
// beside disclosure.mjs whose rules it reuses (cell-key method, platform tree,
// breakdowns that split their total, ranges of years) and extends with the two-way tables and
// the figures that are not counts. It never reads the service's views or functions.
//
//   const t = await loadAxes(sql);
//   const rows = expectedPrevention(t, { period, platform | ami });   // [{section, code, count, share, status, truth}]
//
// The rows are those of the CSV answer, in its order; the property test compares the JSON and
// the CSV with them.
import {
  protect, protectedCell, protectedCodes, treeHide, breakdownHide, unitsOf, scopeOf, secondary,
  scopeTally, small, nscopes, monthIndex,
} from './disclosure.mjs';

const ACTION_KINDS = ['vej', 'pex_mobile_team', 'social_support', 'fsl_aid', 'other'];
const HORIZONS = [6, 12, 24];

// ---- dates ------------------------------------------------------------------------------------

const dayNum = (iso) => Math.round(Date.parse(`${iso}T00:00:00Z`) / 86_400_000);
const isoOf = (n) => new Date(n * 86_400_000).toISOString().slice(0, 10);

/** date + months as PostgreSQL adds them: the same day, or the last day of a shorter month. */
export function addMonths(iso, months) {
  const y = Number(iso.slice(0, 4)), m = Number(iso.slice(5, 7)) - 1 + months, d = Number(iso.slice(8, 10));
  const yy = y + Math.floor(m / 12), mm = ((m % 12) + 12) % 12;
  const last = new Date(Date.UTC(yy, mm + 1, 0)).getUTCDate();
  return new Date(Date.UTC(yy, mm, Math.min(d, last))).toISOString().slice(0, 10);
}

/** Today in Europe/Paris, YYYY-MM-DD. */
export function parisToday(now = new Date()) {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Paris', year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
}

const monthFirst = (m) => `${String(Math.floor(m / 12)).padStart(4, '0')}-${String((m % 12) + 1).padStart(2, '0')}-01`;
const periodBounds = (p) => ({ from: monthFirst(p.first), end: isoOf(dayNum(monthFirst(p.last + 1)) - 1), next: monthFirst(p.last + 1) });

// ---- loading ----------------------------------------------------------------------------------

/** The raw rows, the perturbation table, the settings and the platform tree. */
export async function loadAxes(sql) {
  const q = async (text) => (await sql(text)).rows;
  const t = {
    cases: await q(`SELECT id::text, platform, rk, debt_eur, stage FROM prevention_case`),
    stages: await q(`SELECT case_id::text, id::bigint AS id, to_stage FROM prevention_stage_event ORDER BY id`),
    actions: await q(`SELECT id::text, case_id::text, kind, done_on::text AS done_on, rk FROM prevention_action`),
    follows: await q(`SELECT case_id::text, at_months, situation, rk FROM prevention_follow_up`),
    offers: await q(`SELECT id::text, platform, kind, typology, capacity, available_from::text AS af,
                            available_to::text AS at, rk FROM housing_offer`),
    placements: await q(`SELECT id::text, referral_id::text, offer_id::text, platform, entered_on::text AS entered,
                                left_on::text AS left_on, rk FROM placement`),
    referrals: await q(`SELECT r.id::text, r.platform, r.rk, r.received_on::text AS received, r.status_dates,
                               h.composition FROM referral r JOIN household h ON h.id = r.household_id`),
    measures: await q(`SELECT referral_id::text, housing_outcome, housing_on::text AS housing_on,
                              started_on::text AS started_on FROM measure`),
    meetings: await q(`SELECT id::text, platform, held_on::text AS held_on, rk, proposals_made, proposals_accepted FROM fluidity_meeting`),
    presentations: await q(`SELECT meeting_id::text, rk FROM fluidity_presentation`),
    ptable: await q('SELECT max_noise, excess, noise, key_from, key_to FROM disclosure_ptable'),
  };
  const setting = (await q('SELECT threshold, max_noise FROM disclosure_setting'))[0];
  t.settings = { threshold: Number(setting.threshold), maxNoise: Number(setting.max_noise) };
  const plats = await q(`SELECT code, ami FROM platform ORDER BY ami, code COLLATE "C"`);
  t.tree = { codes: plats.map((p) => p.code), family: plats.map((p) => Number(p.ami) - 1) };
  for (const r of t.ptable) for (const k of Object.keys(r)) r[k] = Number(r[k]);
  for (const c of t.cases) c.rk = Number(c.rk);
  for (const a of t.actions) a.rk = Number(a.rk);
  for (const f of t.follows) { f.rk = Number(f.rk); f.at_months = Number(f.at_months); }
  for (const o of t.offers) { o.rk = Number(o.rk); o.capacity = Number(o.capacity); }
  for (const p of t.placements) p.rk = Number(p.rk);
  for (const r of t.referrals) r.rk = Number(r.rk);
  for (const m of t.meetings) { m.rk = Number(m.rk); m.proposals_made = Number(m.proposals_made); m.proposals_accepted = Number(m.proposals_accepted); }
  for (const x of t.presentations) x.rk = Number(x.rk);
  return t;
}

// ---- tallies ----------------------------------------------------------------------------------

/** A store of tallies by (dim, code): [unit][platform] of {n, ks}. */
function store(t, nunits) {
  const map = new Map();
  const idx = new Map(t.tree.codes.map((c, i) => [c, i]));
  return {
    add(dim, code, unit, platform, n, ks) {
      const key = `${dim}|${code}`;
      if (!map.has(key)) map.set(key, Array.from({ length: nunits }, () => t.tree.codes.map(() => ({ n: 0, ks: 0 }))));
      const x = map.get(key)[unit][idx.get(platform)];
      x.n += n;
      x.ks += ks;
    },
    get(dim, code) {
      return map.get(`${dim}|${code}`) ?? Array.from({ length: nunits }, () => t.tree.codes.map(() => ({ n: 0, ks: 0 })));
    },
    has(dim, code) { return map.has(`${dim}|${code}`); },
  };
}

/** The unit of a date among the units of a period, or -1. */
function unitOf(units, iso) {
  const m = monthIndex(iso);
  return units.findIndex(([a, b]) => m >= a && m <= b);
}

const rate = (a, b) => (a.value === null || b.value === null || b.value <= 0 ? { value: null, status: 'A' }
  : { value: a.value / b.value, status: 'P' });

/** CSV-like rows of a published figure. */
const countRow = (section, code, f) => ({ section, code, count: f.value, share: null, status: f.status, truth: f.truth });
const cellRow = (section, code, f, total) => ({ section, code, count: f.value, share: rate(f, total).value, status: f.status, truth: f.truth });
const rateRow = (section, code, r) => ({ section, code, count: null, share: r.value, status: r.status });
const valueRow = (section, code, v) => ({ section, code, count: v, share: null, status: v === null ? 'A' : 'P' });

// ---- two-way tables -----------------------------------------------------------------------------

/** Hidden flags [cell][scope] of a two-way table, as sdc_table_hide says. cells[r * nc + c]:
 * tallies [unit][platform]. */
export function tableHide(t, cells, rcodes, ccodes, nunits) {
  const ns = nscopes(t), nr = rcodes.length, nc = ccodes.length;
  const zero = () => t.tree.codes.map(() => ({ n: 0, ks: 0 }));
  const at = (i, u) => cells[i]?.[u] ?? zero();
  const sumOf = (list, u) => { const z = zero(); for (const i of list) at(i, u).forEach((x, p) => { z[p].n += x.n; z[p].ks += x.ks; }); return z; };
  const rowCells = (r) => [...Array(nc).keys()].map((c) => r * nc + c);
  const colCells = (c) => [...Array(nr).keys()].map((r) => r * nc + c);
  const rsum = rcodes.map((_, r) => [...Array(nunits).keys()].map((u) => sumOf(rowCells(r), u)));
  const csum = ccodes.map((_, c) => [...Array(nunits).keys()].map((u) => sumOf(colCells(c), u)));
  const hidden = cells.map(() => new Array(ns).fill(false));

  const settle = (sums, rm, cm, flags) => {
    const line = (idx, codes, margin, s) => {
      let nh = margin ? 1 : 0;
      for (const i of idx) nh += flags[i][s] ? 1 : 0;
      if (nh !== 1) return false;
      let best = -1;
      idx.forEach((i, k) => {
        const v = sums[i][s].n;
        if (flags[i][s] || v <= 0) return;
        const b = best < 0 ? 0 : sums[idx[best]][s].n;
        if (best < 0 || v < b || (v === b && codes[k] < codes[best])) best = k;
      });
      if (best < 0) return false;
      flags[idx[best]][s] = true;
      return true;
    };
    let changed;
    do {
      changed = false;
      for (let s = 0; s < ns; s++) {
        for (let r = 0; r < nr; r++) if (line(rowCells(r), ccodes, rm[r][s], s)) changed = true;
        for (let c = 0; c < nc; c++) if (line(colCells(c), rcodes, cm[c][s], s)) changed = true;
      }
      for (let i = 0; i < nr * nc; i++) {
        const before = flags[i].join();
        secondary(t, sums[i], flags[i]);
        if (flags[i].join() !== before) changed = true;
      }
    } while (changed);
  };

  for (let u = 0; u < nunits; u++) {
    const rm = breakdownHide(t, rsum.map((x) => [x[u]]), rcodes, true);
    const cm = breakdownHide(t, csum.map((x) => [x[u]]), ccodes, true);
    const flags = cells.map((_, i) => treeHide(t, [at(i, u)]));
    const sums = cells.map((_, i) => [...Array(ns).keys()].map((s) => scopeTally(t, at(i, u), s)));
    settle(sums, rm, cm, flags);
    flags.forEach((f, i) => f.forEach((h, s) => { hidden[i][s] = hidden[i][s] || h; }));
  }
  if (nunits > 1) {
    const rm = breakdownHide(t, rsum, rcodes, true);
    const cm = breakdownHide(t, csum, ccodes, true);
    const sums = cells.map((_, i) => {
      const total = zero();
      for (let u = 0; u < nunits; u++) at(i, u).forEach((x, p) => { total[p].n += x.n; total[p].ks += x.ks; });
      return [...Array(ns).keys()].map((s) => scopeTally(t, total, s));
    });
    sums.forEach((sm, i) => {
      sm.forEach((x, s) => { hidden[i][s] = hidden[i][s] || small(t.settings, x.n); });
      secondary(t, sm, hidden[i]);
    });
    settle(sums, rm, cm, hidden);
  }
  return hidden;
}

const sumScope = (t, tallies, scope) => tallies.reduce((a, u) => { const x = scopeTally(t, u, scope); return { n: a.n + x.n, ks: a.ks + x.ks }; }, { n: 0, ks: 0 });

// ---- the figures that are not counts ------------------------------------------------------------

/** percentile_cont(p) over values (sorted here), as PostgreSQL computes it. */
export function percentileCont(values, p) {
  if (!values.length) return null;
  const v = [...values].sort((a, b) => a - b);
  const row = p * (v.length - 1);
  const lo = Math.floor(row), hi = Math.ceil(row);
  return v[lo] + (v[hi] - v[lo]) * (row - lo);
}
const roundTo = (v, step) => Math.trunc(v / step + (v >= 0 ? 0.5 : -0.5)) * step;
const roundRate = (v) => Math.trunc(v * 100 + 0.5) / 100;
const quartiles = (t, values, step) => {
  const shown = values.length >= 2 * t.settings.threshold;
  return [0.25, 0.5, 0.75].map((p) => (shown ? roundTo(percentileCont(values, p), step) : null));
};

// ---- eviction prevention ----------------------------------------------------------------------------

const KIND_RANK = (k) => { const i = ACTION_KINDS.indexOf(k); return i < 0 ? 100 : i + 1; };

/** Each case with an action: its first action, stage at entry, debt band. */
export function cohorts(t) {
  const byCase = new Map();
  for (const a of t.actions) {
    const cur = byCase.get(a.case_id);
    const key = (x) => [x.done_on, KIND_RANK(x.kind), x.id];
    if (!cur) { byCase.set(a.case_id, a); continue; }
    const [p, q] = [key(a), key(cur)];
    if (p[0] < q[0] || (p[0] === q[0] && (p[1] < q[1] || (p[1] === q[1] && p[2] < q[2])))) byCase.set(a.case_id, a);
  }
  const entry = new Map();
  for (const e of t.stages) if (!entry.has(e.case_id)) entry.set(e.case_id, e.to_stage);
  const follows = new Map(t.follows.map((f) => [`${f.case_id}|${f.at_months}`, f]));
  const today = parisToday();
  const out = [];
  for (const c of t.cases) {
    const first = byCase.get(c.id);
    if (!first) continue;
    const debt = c.debt_eur === null ? null : Number(c.debt_eur);
    const band = debt === null ? 'unknown' : debt < 1500 ? 'below_1500' : debt <= 4000 ? 'from_1500_to_4000' : 'above_4000';
    const situations = {};
    for (const h of HORIZONS) {
      const f = follows.get(`${c.id}|${h}`);
      situations[h] = f ? { code: f.situation, rk: f.rk } : { code: addMonths(first.done_on, h) <= today ? 'not_recorded' : 'not_due', rk: c.rk };
    }
    out.push({ id: c.id, platform: c.platform, rk: c.rk, debt, first_on: first.done_on, first_kind: first.kind,
      entry_stage: entry.get(c.id) ?? c.stage, debt_band: band, situations });
  }
  return out;
}

const CROSSES = [
  ['by_first_action', 'first_action', '_fa', 'first_kind', 'prevention_action_kind'],
  ['by_entry_stage', 'entry_stage', '_es', 'entry_stage', 'procedure_stage'],
  ['by_debt_band', 'debt_band', '_db', 'debt_band', 'debt_band'],
];

/** The rows of the prevention answer to q = { period, platform | ami, vocab }. */
export function expectedPrevention(t, q) {
  const units = unitsOf(q.period), nu = units.length;
  const { scope, plats } = scopeOf(t, q);
  const pidx = (p) => t.tree.codes.indexOf(p);
  const sit = [...q.vocab.follow_up_situation, 'not_recorded', 'not_due'];
  const st = store(t, nu), whole = store(t, 1);
  const cohort = cohorts(t).filter((c) => unitOf(units, c.first_on) >= 0);
  for (const c of cohort) {
    const u = unitOf(units, c.first_on);
    st.add('cases', '', u, c.platform, 1, c.rk);
    st.add('first_action', c.first_kind, u, c.platform, 1, c.rk);
    st.add('entry_stage', c.entry_stage, u, c.platform, 1, c.rk);
    st.add('debt_band', c.debt_band, u, c.platform, 1, c.rk);
    for (const h of HORIZONS) {
      const s = c.situations[h];
      st.add(`fu${h}`, s.code, u, c.platform, 1, s.rk);
      for (const [, , suffix, field] of CROSSES) st.add(`fu${h}${suffix}`, `${c[field]}:${s.code}`, u, c.platform, 1, s.rk);
    }
  }
  const caseById = new Map(t.cases.map((c) => [c.id, c]));
  const seen = new Map();
  for (const a of t.actions) {
    const u = unitOf(units, a.done_on);
    if (u < 0) continue;
    const c = caseById.get(a.case_id);
    st.add('actions', '', u, c.platform, 1, a.rk);
    st.add('action_kind', a.kind, u, c.platform, 1, a.rk);
    for (const [key, dim, code, unit, s] of [[`u${u}|${a.kind}|${c.id}`, 'case_action', a.kind, u, st], [`u${u}||${c.id}`, 'case_acted', '', u, st],
      [`w|${a.kind}|${c.id}`, 'case_action', a.kind, 0, whole], [`w||${c.id}`, 'case_acted', '', 0, whole]]) {
      if (seen.has(key)) continue;
      seen.set(key, true);
      s.add(dim, code, unit, c.platform, 1, c.rk);
    }
  }
  const rows = [];
  const cases = protectedCell(t, st.get('cases', ''), scope);
  rows.push(countRow('headline', 'cases', cases));
  const debts = cohort.filter((c) => plats.includes(c.platform) && c.debt !== null).map((c) => c.debt);
  const [q1, med, q3] = quartiles(t, debts, 100);
  rows.push(valueRow('debt_eur', 'q1', q1), valueRow('debt_eur', 'median', med), valueRow('debt_eur', 'q3', q3));
  units.forEach((un, u) => rows.push(cellRow('by_year', monthFirst(un[0]).slice(0, 4), protectedCell(t, [st.get('cases', '')[u]], scope), cases)));
  const breakdown = (section, dim, codes, total) => {
    const f = protectedCodes(t, codes.map((c) => st.get(dim, c)), codes, scope, true);
    for (const c of codes) rows.push(cellRow(section, c, f[c], total));
  };
  breakdown('by_first_action', 'first_action', q.vocab.prevention_action_kind, cases);
  for (const p of plats) rows.push(cellRow('by_platform', p, protectedCell(t, st.get('cases', ''), pidx(p)), cases));
  breakdown('by_entry_stage', 'entry_stage', q.vocab.procedure_stage, cases);
  breakdown('by_debt_band', 'debt_band', q.vocab.debt_band, cases);
  for (const h of HORIZONS) {
    const f = protectedCodes(t, sit.map((s) => st.get(`fu${h}`, s)), sit, scope, true);
    for (const s of sit) rows.push(cellRow(`follow_up_${h}`, s, f[s], cases));
    const crossed = (x) => {
      const [section, dim, suffix, , vocab] = CROSSES[x];
      const rc = q.vocab[vocab];
      const cells = [];
      for (const r of rc) for (const s of sit) cells.push(st.has(`fu${h}${suffix}`, `${r}:${s}`) ? st.get(`fu${h}${suffix}`, `${r}:${s}`) : null);
      const hidden = tableHide(t, cells, rc, sit, nu);
      const margin = protectedCodes(t, rc.map((r) => st.get(dim, r)), rc, scope, true);
      rc.forEach((r, ri) => sit.forEach((s, si) => {
        const i = ri * sit.length + si;
        const sum = cells[i] ? sumScope(t, cells[i], scope) : { n: 0, ks: 0 };
        rows.push(cellRow(`follow_up_${h}:${section}:${r}`, s, { ...protect(t, sum, hidden[i][scope]), truth: sum.n }, margin[r]));
      }));
    };
    crossed(0);
    for (const p of plats) {
      const i = pidx(p);
      const total = protectedCell(t, st.get('cases', ''), i);
      const g = protectedCodes(t, sit.map((s) => st.get(`fu${h}`, s)), sit, i, true);
      for (const s of sit) rows.push(cellRow(`follow_up_${h}:by_platform:${p}`, s, g[s], total));
    }
    crossed(1);
    crossed(2);
  }
  const actions = protectedCell(t, st.get('actions', ''), scope);
  rows.push(countRow('headline', 'actions', actions));
  const distinct = (dim, codes) => {
    const out = protectedCodes(t, codes.map((c) => whole.get(dim, c)), codes, scope, false);
    if (nu > 1) for (let u = 0; u < nu; u++) {
      const f = protectedCodes(t, codes.map((c) => [st.get(dim, c)[u]]), codes, scope, false);
      for (const c of codes) if (f[c].status === 'A') out[c] = { ...out[c], value: null, status: 'A' };
    }
    return out;
  };
  const acted = distinct('case_acted', [''])[''];
  rows.push(countRow('headline', 'cases_with_action', acted));
  breakdown('actions_by_kind', 'action_kind', q.vocab.prevention_action_kind, actions);
  const byKind = distinct('case_action', q.vocab.prevention_action_kind);
  for (const k of q.vocab.prevention_action_kind) rows.push(cellRow('cases_by_action_kind', k, byKind[k], acted));
  return rows;
}

// ---- the housing offer --------------------------------------------------------------------------------

/** The referrals waiting for housing on day d (YYYY-MM-DD). */
export function waitingOn(t, d) {
  const closed = new Set(['reoriented', 'no_follow_up', 'accompaniment_ended']);
  const housed = new Set(t.measures.filter((m) => ['accessed', 'maintained'].includes(m.housing_outcome)
    && (m.housing_on ?? m.started_on) <= d).map((m) => m.referral_id));
  const placed = new Set(t.placements.filter((p) => p.entered <= d && (p.left_on === null || p.left_on > d)).map((p) => p.referral_id));
  return t.referrals.filter((r) => r.received <= d && !Object.entries(r.status_dates ?? {}).some(([k, v]) => closed.has(k) && v <= d)
    && !housed.has(r.id) && !placed.has(r.id));
}

/** The homes available on day d with their free places. */
export function freeOn(t, d) {
  return t.offers.filter((o) => ['social_housing', 'private_intermediation'].includes(o.kind) && o.af <= d && (o.at === null || o.at >= d))
    .map((o) => ({ ...o, free: o.capacity - t.placements.filter((p) => p.offer_id === o.id && p.entered <= d && (p.left_on === null || p.left_on > d)).length }));
}

/** The rows of the housing answer to q = { period, platform | ami, vocab }. */
export function expectedHousing(t, q) {
  const units = unitsOf(q.period), nu = units.length;
  const { scope, plats } = scopeOf(t, q);
  const pidx = (p) => t.tree.codes.indexOf(p);
  const { from, end, next } = periodBounds(q.period);
  const offers = new Map(t.offers.map((o) => [o.id, o]));
  const refs = new Map(t.referrals.map((r) => [r.id, r]));
  const st = store(t, nu), whole = store(t, 1);
  for (const p of t.placements) {
    const u = unitOf(units, p.entered);
    if (u < 0) continue;
    const o = offers.get(p.offer_id);
    st.add('placements', '', u, p.platform, 1, p.rk);
    st.add('offer_kind', o.kind, u, p.platform, 1, p.rk);
    st.add('typology', o.typology, u, p.platform, 1, p.rk);
  }
  const shared = ['sas_flat', 'youth_shared_flat'];
  const occ = t.offers.filter((o) => shared.includes(o.kind) && o.af < next && (o.at === null || o.at >= from));
  for (const o of occ) {
    whole.add('occ_offers', o.kind, 0, o.platform, 1, o.rk);
    for (const p of t.placements) if (p.offer_id === o.id && p.entered < next && (p.left_on === null || p.left_on > from)) whole.add('occ_stays', o.kind, 0, o.platform, 1, p.rk);
  }
  for (const w of waitingOn(t, end)) {
    whole.add('waiting', w.composition, 0, w.platform, 1, w.rk);
    whole.add('waiting_all', '', 0, w.platform, 1, w.rk);
    if (['single_person', 'couple_no_child'].includes(w.composition)) whole.add('waiting_small', '', 0, w.platform, 1, w.rk);
  }
  for (const o of freeOn(t, end)) {
    if (o.free <= 0) continue;
    whole.add('free_places', o.typology, 0, o.platform, o.free, o.rk * o.free);
    whole.add('free_all', '', 0, o.platform, o.free, o.rk * o.free);
    if (['t1', 't2'].includes(o.typology)) whole.add('free_small', '', 0, o.platform, o.free, o.rk * o.free);
  }
  const meetings = new Map();
  for (const m of t.meetings) {
    const u = unitOf(units, m.held_on);
    if (u < 0) continue;
    meetings.set(m.id, { m, u });
    st.add('meetings', '', u, m.platform, 1, m.rk);
    st.add('proposals', '', u, m.platform, m.proposals_made, m.rk * m.proposals_made);
    st.add('accepted', '', u, m.platform, m.proposals_accepted, m.rk * m.proposals_accepted);
  }
  for (const x of t.presentations) {
    const hit = meetings.get(x.meeting_id);
    if (hit) st.add('presented', '', hit.u, hit.m.platform, 1, x.rk);
  }

  const rows = [];
  const placements = protectedCell(t, st.get('placements', ''), scope);
  rows.push(countRow('headline', 'placements', placements));
  const breakdown = (section, dim, codes, total, s = st) => {
    const f = protectedCodes(t, codes.map((c) => s.get(dim, c)), codes, scope, true);
    for (const c of codes) rows.push(cellRow(section, c, f[c], total));
    return f;
  };
  breakdown('by_offer_kind', 'offer_kind', q.vocab.housing_offer_kind, placements);
  breakdown('by_typology', 'typology', q.vocab.typology, placements);
  for (const p of plats) rows.push(cellRow('by_platform', p, protectedCell(t, st.get('placements', ''), pidx(p)), placements));
  units.forEach((un, u) => rows.push(cellRow('by_year', monthFirst(un[0]).slice(0, 4), protectedCell(t, [st.get('placements', '')[u]], scope), placements)));
  for (const kind of shared) {
    const section = `occupancy:${kind}`;
    rows.push(countRow(section, 'offers', protectedCell(t, whole.get('occ_offers', kind), scope)));
    rows.push(countRow(section, 'placements', protectedCell(t, whole.get('occ_stays', kind), scope)));
    let stays = 0, occupied = 0, available = 0;
    for (const o of occ) {
      if (o.kind !== kind || !plats.includes(o.platform)) continue;
      const a = dayNum(o.af > from ? o.af : from), b = dayNum(o.at !== null && o.at < end ? o.at : end);
      available += o.capacity * Math.max(0, b - a + 1);
      for (const p of t.placements) {
        if (p.offer_id !== o.id) continue;
        if (p.entered < next && (p.left_on === null || p.left_on > from)) stays += 1;
        const stop = Math.min(p.left_on === null ? b + 1 : dayNum(p.left_on), b + 1);
        occupied += Math.max(0, stop - Math.max(dayNum(p.entered), a));
      }
    }
    const shown = stays >= t.settings.threshold && available > 0;
    rows.push(rateRow(section, 'occupancy_rate', shown ? { value: roundRate(occupied / available), status: 'P' } : { value: null, status: 'A' }));
  }
  const inPeriod = t.placements.filter((p) => unitOf(units, p.entered) >= 0 && plats.includes(p.platform));
  for (const code of ['all', ...q.vocab.housing_offer_kind]) {
    const delays = inPeriod.filter((p) => code === 'all' || offers.get(p.offer_id).kind === code)
      .map((p) => dayNum(p.entered) - dayNum(refs.get(p.referral_id).received));
    const [a, b, c] = quartiles(t, delays, 7);
    const section = `time_to_placement:${code}`;
    rows.push(valueRow(section, 'q1_days', a), valueRow(section, 'median_days', b), valueRow(section, 'q3_days', c));
  }
  const waiting = protectedCell(t, whole.get('waiting_all', ''), scope);
  const places = protectedCell(t, whole.get('free_all', ''), scope);
  rows.push(countRow('tension', 'waiting', waiting), countRow('tension', 'free_places', places));
  const wf = protectedCodes(t, q.vocab.composition.map((c) => whole.get('waiting', c)), q.vocab.composition, scope, true);
  const pf = protectedCodes(t, q.vocab.typology.map((c) => whole.get('free_places', c)), q.vocab.typology, scope, true);
  const pair = (dim, f, a, b) => {
    const x = protectedCell(t, whole.get(dim, ''), scope);
    return (f[a].status === 'A') !== (f[b].status === 'A') ? { ...x, value: null, status: 'A' } : x;
  };
  const need = pair('waiting_small', wf, 'single_person', 'couple_no_child');
  const smallUnits = pair('free_small', pf, 't1', 't2');
  rows.push(countRow('tension', 'waiting_small_units', need), countRow('tension', 'free_small_units', smallUnits));
  rows.push(rateRow('tension', 'small_units_tension', rate(need, smallUnits)));
  for (const c of q.vocab.composition) rows.push(cellRow('tension:waiting_by_composition', c, wf[c], waiting));
  for (const c of q.vocab.typology) rows.push(cellRow('tension:free_places_by_typology', c, pf[c], places));
  const m = protectedCell(t, st.get('meetings', ''), scope);
  const presented = protectedCell(t, st.get('presented', ''), scope);
  const made = protectedCell(t, st.get('proposals', ''), scope);
  const accepted = protectedCell(t, st.get('accepted', ''), scope);
  rows.push(countRow('fluidity', 'meetings', m), countRow('fluidity', 'households_presented', presented),
    countRow('fluidity', 'proposals_made', made), countRow('fluidity', 'proposals_accepted', accepted),
    rateRow('fluidity', 'proposal_rate', rate(made, presented)), rateRow('fluidity', 'acceptance_rate', rate(accepted, made)));
  return rows;
}

// ---- answers as rows ------------------------------------------------------------------------------------

const cells = (section, arr) => arr.map((c) => ({ section, code: c.code, count: c.count, share: c.share, status: c.status }));
const plain = (section, obj, keys, rates = []) => keys.map((k) => (rates.includes(k)
  ? { section, code: k, count: null, share: obj[k], status: obj[k] === null ? 'A' : 'P' }
  : { section, code: k, count: obj[k], share: null, status: obj[k] === null ? 'A' : 'P' }));

/** The JSON answer of GET /v1/stats/prevention as rows, in the CSV's order. */
export function preventionRows(doc) {
  const rows = [...plain('headline', doc, ['cases']), ...plain('debt_eur', doc.debt_eur, ['q1', 'median', 'q3'])];
  for (const k of ['by_year', 'by_first_action', 'by_platform', 'by_entry_stage', 'by_debt_band']) rows.push(...cells(k, doc[k]));
  for (const h of doc.follow_up) {
    rows.push(...cells(`follow_up_${h.at_months}`, h.situations));
    for (const k of ['by_first_action', 'by_platform', 'by_entry_stage', 'by_debt_band']) {
      for (const r of h[k]) rows.push(...cells(`follow_up_${h.at_months}:${k}:${r.code}`, r.situations));
    }
  }
  rows.push(...plain('headline', doc, ['actions', 'cases_with_action']));
  rows.push(...cells('actions_by_kind', doc.actions_by_kind), ...cells('cases_by_action_kind', doc.cases_by_action_kind));
  return rows;
}

/** The JSON answer of GET /v1/stats/housing as rows, in the CSV's order. */
export function housingRows(doc) {
  const rows = [...plain('headline', doc, ['placements'])];
  for (const k of ['by_offer_kind', 'by_typology', 'by_platform', 'by_year']) rows.push(...cells(k, doc[k]));
  for (const o of doc.occupancy) rows.push(...plain(`occupancy:${o.code}`, o, ['offers', 'placements', 'occupancy_rate'], ['occupancy_rate']));
  for (const d of doc.time_to_placement) rows.push(...plain(`time_to_placement:${d.code}`, d, ['q1_days', 'median_days', 'q3_days']));
  rows.push(...plain('tension', doc.tension, ['waiting', 'free_places', 'waiting_small_units', 'free_small_units', 'small_units_tension'], ['small_units_tension']));
  rows.push(...cells('tension:waiting_by_composition', doc.tension.waiting_by_composition));
  rows.push(...cells('tension:free_places_by_typology', doc.tension.free_places_by_typology));
  rows.push(...plain('fluidity', doc.fluidity, ['meetings', 'households_presented', 'proposals_made', 'proposals_accepted', 'proposal_rate', 'acceptance_rate'], ['proposal_rate', 'acceptance_rate']));
  return rows;
}
