// Eviction prevention over HTTP (docs/prevention-and-housing.md): the PEX eligibility rules as
// data (public reading, admin writes, no overlap, every case evaluated again), prevention cases
// (household inline or by id, the PEX flag in the answer, the partner's view, scope), the
// procedure's stage history (forward only), actions, follow-ups at 6/12/24 months (due dates,
// consistency, the first action kept), erasure of their free text, batch push of cases,
// actions and follow-ups, audit, record keys never shown, and the demo data.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startService } from '../lib/service.mjs';
import { getContract, sourceDir } from '../lib/contract.mjs';
import { show } from '../lib/http.mjs';
import { assertProblem } from '../lib/problems.mjs';

let svc;
const tok = {};
const tokId = {};

// ---------------------------------------------------------------------------------------------
// helpers

function todayParis() {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Paris' }).format(new Date());
}
function addDays(date, n) {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}
/** PostgreSQL's date + interval 'n months': the same day, or the last day of a shorter month. */
function addMonths(date, n) {
  const [y, m, d] = date.split('-').map(Number);
  const t = new Date(Date.UTC(y, m - 1 + n, 1));
  const last = new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth() + 1, 0)).getUTCDate();
  t.setUTCDate(Math.min(d, last));
  return t.toISOString().slice(0, 10);
}
const TODAY = todayParis();
const daysAgo = (n) => addDays(TODAY, -n);
const monthsAgo = (n) => addMonths(TODAY, -n);

function letters(prefix) {
  const a = 'abcdefghijklmnopqrstuvwxyz';
  let s = '';
  for (const b of randomBytes(10)) s += a[b % 26];
  return `${prefix}${s}`;
}

function household(platform = 'artois', over = {}) {
  return {
    platform,
    composition: 'single_parent',
    adults: 1,
    children: 2,
    head: { last_name: letters('Nom'), first_name: 'Nadia', birth_date: '1984-06-02', sex: 'female' },
    resources: ['salary'],
    housing_situation: 'housed',
    vulnerabilities: ['eviction'],
    ...over,
  };
}

function caseBody(over = {}) {
  const platform = over.platform ?? 'artois';
  return {
    household: household(platform),
    platform,
    landlord_kind: 'social',
    debt_eur: 2500,
    debt_on: daysAgo(40),
    stage: 'payment_order',
    stage_on: daysAgo(60),
    ...over,
  };
}


const call = (method, path, token, body, headers) => svc.api(method, path, { token, body, headers });

async function created(path, body, token = tok.coord) {
  const res = await call('POST', path, token, body);
  assert.equal(res.status, 201, `${path}: ${show(res)}`);
  return res.json;
}

const TABLES = ['household', 'prevention_case', 'prevention_stage_event', 'prevention_action', 'prevention_follow_up', 'prevention_rule'];
async function counts() {
  const r = await svc.sql(`SELECT ${TABLES.map((t) => `(SELECT count(*)::int FROM ${t}) AS ${t}`).join(', ')}`);
  return r.rows[0];
}
async function storesNothing(fn) {
  const before = await counts();
  const res = await fn();
  assert.deepEqual(await counts(), before, `rows changed after ${show(res)}`);
  return res;
}

async function auditOf(resourceId) {
  const res = await call('GET', `/v1/audit-events?resource_id=${resourceId}&limit=500`, tok.admin);
  assert.equal(res.status, 200, show(res));
  return res.json.items;
}

const AMI1_RULE = '5f0c2a1e-7b3d-4e6a-9c2f-1a0b3c4d5e61';

before(async () => {
  svc = await startService();
  const specs = {
    admin: ['admin', {}],
    coord: ['coordinator', { platforms: ['artois'] }],
    coordLens: ['coordinator', { platforms: ['lens_henin'] }],
    coordAmi2: ['coordinator', { platforms: ['audomarois'] }],
    partner: ['partner', { platforms: ['artois'] }],
    partner2: ['partner', { platforms: ['artois'] }],
    siao: ['siao', { platforms: ['artois'], source: 'exploc' }],
    siaoLens: ['siao', { platforms: ['lens_henin'], source: 'exploc' }],
    analyst: ['analyst', {}],
  };
  for (const [label, [role, opts]] of Object.entries(specs)) {
    tok[label] = await svc.createToken(role, { ...opts, name: `prev-${label}` });
  }
  const res = await call('GET', '/v1/tokens?limit=500', tok.admin);
  for (const label of Object.keys(specs)) tokId[label] = res.json.items.find((i) => i.name === `prev-${label}`).id;
});

after(async () => {
  await svc?.stop();
});

// ---------------------------------------------------------------------------------------------
// vocabularies

test('the prevention and housing vocabularies have French labels, and openapi.yaml lists the same codes', async () => {
  const res = await svc.api('GET', '/v1/vocabularies');
  assert.equal(res.status, 200);
  const want = {
    landlord_kind: ['social', 'private'],
    procedure_stage: ['payment_order', 'summons', 'judgment', 'order_to_leave', 'police_assistance_requested',
      'police_assistance_granted', 'eviction_carried_out'],
    prevention_action_kind: ['vej', 'pex_mobile_team', 'social_support', 'fsl_aid', 'other'],
    follow_up_situation: ['maintained', 'rehoused', 'evicted', 'left_without_solution', 'procedure_pending', 'unknown'],
    pex_eligibility: ['within_criteria', 'below_criteria', 'above_criteria', 'no_rule', 'debt_unknown'],
    debt_band: ['below_1500', 'from_1500_to_4000', 'above_4000', 'unknown'],
    housing_offer_kind: ['social_housing', 'private_intermediation', 'sas_flat', 'youth_shared_flat', 'other'],
    typology: ['t1', 't2', 't3', 't4', 't5_plus', 'room'],
    placement_exit_reason: ['permanent_housing', 'lease_transferred', 'moved_elsewhere', 'evicted', 'left_without_solution',
      'death', 'other'],
  };
  for (const [name, codes] of Object.entries(want)) {
    assert.deepEqual(res.json[name].map((e) => e.code), codes, name);
    for (const e of res.json[name]) assert.ok(e.label_fr && e.label_fr !== e.code, `${name}.${e.code}`);
  }
  assert.equal(res.json.procedure_stage.find((e) => e.code === 'payment_order').label_fr, 'Commandement de payer');
  assert.match(res.json.prevention_action_kind.find((e) => e.code === 'vej').label_fr, /visite explicative de jugement/i);
  // every enumeration schema of openapi.yaml that names a vocabulary lists exactly its codes
  const schemas = getContract().doc.components.schemas;
  let checked = 0;
  for (const s of Object.values(schemas)) {
    const m = /Vocabulary `([a-z_]+)`/.exec(s.description ?? '');
    if (!m || !s.enum) continue;
    assert.deepEqual(s.enum, res.json[m[1]].map((e) => e.code), `openapi enum of ${m[1]}`);
    checked += 1;
  }
  assert.ok(checked >= 25, `${checked} enumerations checked`);
});

// ---------------------------------------------------------------------------------------------
// rules

test('the PEX rules are public reference data: AMI 1 from 2022 and AMI 2 from 2023, debts 1 500 to 4 000 euros', async () => {
  const res = await svc.api('GET', '/v1/prevention-rules');
  assert.equal(res.status, 200, show(res));
  const byAmi = Object.fromEntries(res.json.items.map((r) => [r.ami, r]));
  assert.equal(byAmi[1].id, AMI1_RULE);
  assert.deepEqual([byAmi[1].valid_from, byAmi[1].valid_to, byAmi[1].debt_min_eur, byAmi[1].debt_max_eur], ['2022-01-01', null, 1500, 4000]);
  assert.deepEqual([byAmi[2].valid_from, byAmi[2].debt_min_eur, byAmi[2].debt_max_eur], ['2023-01-01', 1500, 4000]);
  const one = await svc.api('GET', `/v1/prevention-rules/${AMI1_RULE}`);
  assert.equal(one.status, 200);
  assert.ok(one.headers.etag);
  assert.deepEqual(one.json, byAmi[1]);
  assert.equal((await svc.api('GET', '/v1/prevention-rules?ami=2')).json.items.length, 1);
  assertProblem(await svc.api('GET', '/v1/prevention-rules?ami=3'), 422, { fields: ['ami'] });
  assertProblem(await svc.api('GET', `/v1/prevention-rules/${randomBytes(16).toString('hex').replace(/(.{8})(.{4})(.{4})(.{4})(.{12})/, '$1-$2-$3-$4-$5')}`), 404);
});

test('rules: admin only, periods of one AMI never overlap, bounds in order; a rule written evaluates every case again', async () => {
  // a case of the AMI 2 (audomarois), debt 5 000 euros: above the criteria
  const k = await created('/v1/prevention-cases', caseBody({ platform: 'audomarois', debt_eur: 5000, debt_on: daysAgo(10) }), tok.coordAmi2);
  assert.equal(k.pex_eligibility.status, 'above_criteria');
  const rule2 = (await svc.api('GET', '/v1/prevention-rules?ami=2')).json.items[0];
  assert.equal(k.pex_eligibility.rule, rule2.id);

  const body = { ami: 2, valid_from: '2030-01-01', debt_min_eur: 1000, debt_max_eur: 6000 };
  assertProblem(await storesNothing(() => call('POST', '/v1/prevention-rules', tok.coord, body)), 403);
  assertProblem(await storesNothing(() => call('POST', '/v1/prevention-rules', undefined, body)), 401);
  assertProblem(await storesNothing(() => call('POST', '/v1/prevention-rules', tok.admin, body)), 409); // meets the open 2023 rule
  assertProblem(await storesNothing(() => call('POST', '/v1/prevention-rules', tok.admin, { ami: 3, valid_from: '2030-02-30', debt_min_eur: -1, debt_max_eur: 'x', extra: 1 })), 422, { fields: ['/ami', '/valid_from', '/debt_min_eur', '/debt_max_eur', '/extra'] });
  assertProblem(await storesNothing(() => call('POST', '/v1/prevention-rules', tok.admin, { ami: 2, valid_from: '2030-01-01', valid_to: '2029-01-01', debt_min_eur: 500, debt_max_eur: 100 })), 422, { fields: ['/valid_to', '/debt_max_eur'] });

  // widen the AMI 2 criteria: PATCH the rule in force; the case is now within
  const r1 = await svc.api('GET', `/v1/prevention-rules/${rule2.id}`);
  assertProblem(await call('PATCH', `/v1/prevention-rules/${rule2.id}`, tok.admin, { debt_max_eur: 6000 }, { 'If-Match': '"999"' }), 412);
  const p = await call('PATCH', `/v1/prevention-rules/${rule2.id}`, tok.admin, { debt_max_eur: 6000 }, { 'If-Match': r1.headers.etag });
  assert.equal(p.status, 200, show(p));
  assert.equal(p.json.debt_max_eur, 6000);
  let g = await call('GET', `/v1/prevention-cases/${k.id}`, tok.coordAmi2);
  assert.deepEqual(g.json.pex_eligibility, { status: 'within_criteria', rule: rule2.id, debt_min_eur: 1500, debt_max_eur: 6000 });
  assertProblem(await call('PATCH', `/v1/prevention-rules/${rule2.id}`, tok.admin, { ami: 1 }), 422, { fields: ['/ami'] });

  // close it before the debt's date and open a new one from the next day: the case follows
  const close = await call('PATCH', `/v1/prevention-rules/${rule2.id}`, tok.admin, { valid_to: daysAgo(20), debt_max_eur: 4000 });
  assert.equal(close.status, 200, show(close));
  g = await call('GET', `/v1/prevention-cases/${k.id}`, tok.coordAmi2);
  assert.deepEqual(g.json.pex_eligibility, { status: 'no_rule', rule: null, debt_min_eur: null, debt_max_eur: null });
  const r2 = await call('POST', '/v1/prevention-rules', tok.admin, { ami: 2, valid_from: daysAgo(19), debt_min_eur: 2000, debt_max_eur: null, note: 'Arbitrage 2023' });
  assert.equal(r2.status, 201, show(r2));
  assert.equal(r2.headers.location, `/v1/prevention-rules/${r2.json.id}`);
  g = await call('GET', `/v1/prevention-cases/${k.id}`, tok.coordAmi2);
  assert.deepEqual(g.json.pex_eligibility, { status: 'within_criteria', rule: r2.json.id, debt_min_eur: 2000, debt_max_eur: null });
  // a rule of the AMI 2 does not touch the cases of the AMI 1
  const k1 = await created('/v1/prevention-cases', caseBody({ debt_eur: 5000 }));
  assert.equal(k1.pex_eligibility.status, 'above_criteria');
  assert.equal(k1.pex_eligibility.rule, AMI1_RULE);
});

// ---------------------------------------------------------------------------------------------
// cases

test('a case is stored and flagged whatever its debt: within, below, above the criteria, no rule, debt unknown', async () => {
  const within = await call('POST', '/v1/prevention-cases', tok.coord, caseBody({ debt_eur: 1500 }));
  assert.equal(within.status, 201, show(within));
  assert.equal(within.headers.location, `/v1/prevention-cases/${within.json.id}`);
  assert.ok(within.headers.etag);
  assert.deepEqual(within.json.pex_eligibility, { status: 'within_criteria', rule: AMI1_RULE, debt_min_eur: 1500, debt_max_eur: 4000 });
  assert.equal(within.json.stage, 'payment_order');
  assert.equal(within.json.stage_on, daysAgo(60));
  assert.deepEqual(within.json.stage_dates, { payment_order: daysAgo(60) });
  assert.equal(within.json.first_action_on, null);
  assert.match(within.json.household, /^[0-9a-f-]{36}$/);
  const cases = [
    [{ debt_eur: 4000 }, 'within_criteria'],
    [{ debt_eur: 1499 }, 'below_criteria'],
    [{ debt_eur: 4001 }, 'above_criteria'],
    [{ debt_eur: 9000, debt_on: '2021-06-30' }, 'no_rule'],
    [{ debt_eur: null, debt_on: null }, 'debt_unknown'],
  ];
  for (const [over, status] of cases) {
    const body = caseBody(over);
    if (over.debt_eur === null) {
      delete body.debt_eur;
      delete body.debt_on;
    }
    const res = await call('POST', '/v1/prevention-cases', tok.coord, body);
    assert.equal(res.status, 201, show(res));
    assert.equal(res.json.pex_eligibility.status, status, JSON.stringify(over));
    assert.equal(res.json.pex_eligibility.rule, ['no_rule', 'debt_unknown'].includes(status) ? null : AMI1_RULE);
  }
  // the household created inline, with its identity, for the coordinator
  const hh = await call('GET', `/v1/households/${within.json.household}`, tok.coord);
  assert.equal(hh.status, 200);
  assert.equal(hh.json.housing_situation, 'housed');
  // audit: the household and the case created
  const audit = await auditOf(within.json.id);
  assert.deepEqual(audit.map((e) => [e.action, e.resource_type, e.token_id]), [['create', 'prevention_case', tokId.coord]]);
  assert.equal((await auditOf(within.json.household))[0].action, 'create');
});

test('a case for a known household; the same person given inline is attached to its household', async () => {
  const first = await created('/v1/prevention-cases', caseBody());
  const byId = await created('/v1/prevention-cases', { ...caseBody(), household: first.household, landlord_kind: 'private' });
  assert.equal(byId.household, first.household);
  const hh = await call('GET', `/v1/households/${first.household}`, tok.coord);
  const again = caseBody();
  again.household.head = { ...hh.json.head };
  delete again.household.head.age_band;
  const attached = await created('/v1/prevention-cases', again);
  assert.equal(attached.household, first.household);
  const list = await call('GET', `/v1/prevention-cases?household=${first.household}&limit=500`, tok.coord);
  assert.deepEqual(list.json.items.map((c) => c.id).sort(), [first.id, byId.id, attached.id].sort());
});

test('an invalid case answers 422 with every error and stores nothing; another platform 403 or 422', async () => {
  const bad = caseBody({
    landlord_kind: 'association',
    debt_eur: -5,
    stage: 'eviction',
    stage_on: addDays(TODAY, 2),
    colour: 'red',
  });
  bad.household.head.birth_date = '2999-01-01';
  let res = await storesNothing(() => call('POST', '/v1/prevention-cases', tok.coord, bad));
  assertProblem(res, 422, { fields: ['/landlord_kind', '/debt_eur', '/stage', '/stage_on', '/colour', '/household/head/birth_date'] });
  const noDate = caseBody();
  delete noDate.debt_on;
  assertProblem(await storesNothing(() => call('POST', '/v1/prevention-cases', tok.coord, noDate)), 422, { fields: ['/debt_on'] });
  const missing = { platform: 'artois' };
  assertProblem(await storesNothing(() => call('POST', '/v1/prevention-cases', tok.coord, missing)), 422, { fields: ['/household', '/landlord_kind', '/stage', '/stage_on'] });
  const otherPlatform = caseBody();
  otherPlatform.household.platform = 'lens_henin';
  assertProblem(await storesNothing(() => call('POST', '/v1/prevention-cases', tok.coord, otherPlatform)), 422, { fields: ['/household/platform'] });
  assertProblem(await storesNothing(() => call('POST', '/v1/prevention-cases', tok.coord, caseBody({ platform: 'lens_henin' }))), 403);
  // a household of lens_henin, by id: as if it did not exist
  const lens = await created('/v1/prevention-cases', caseBody({ platform: 'lens_henin' }), tok.coordLens);
  assertProblem(await storesNothing(() => call('POST', '/v1/prevention-cases', tok.coord, { ...caseBody(), household: lens.household })), 422, { fields: ['/household'] });
  res = await storesNothing(() => svc.api('POST', '/v1/prevention-cases', { token: tok.coord, body: '{"platform":', raw: true, headers: { 'Content-Type': 'application/json' } }));
  assertProblem(res, 400);
  assertProblem(await call('POST', '/v1/prevention-cases', tok.analyst, caseBody()), 403);
  assertProblem(await call('GET', '/v1/prevention-cases', tok.analyst), 403);
});

test('partners create cases with the household inline and read only theirs, without the household id', async () => {
  const res = await call('POST', '/v1/prevention-cases', tok.partner, caseBody({ landlord_kind: 'private', debt_eur: 4200 }));
  assert.equal(res.status, 201, show(res));
  assert.equal(res.json.household, null);
  assert.equal(res.json.pex_eligibility.status, 'above_criteria');
  const id = res.json.id;
  const mine = await call('GET', `/v1/prevention-cases/${id}`, tok.partner);
  assert.equal(mine.status, 200);
  assert.equal(mine.json.household, null);
  const list = await call('GET', '/v1/prevention-cases?limit=500', tok.partner);
  assert.ok(list.json.items.every((c) => c.household === null));
  assert.ok(list.json.items.some((c) => c.id === id));
  const coordList = await call('GET', '/v1/prevention-cases?limit=500', tok.coord);
  assert.ok(list.json.items.length < coordList.json.items.length, 'a partner lists only the cases it created');
  assertProblem(await call('GET', `/v1/prevention-cases/${id}`, tok.partner2), 404);
  assert.ok(!(await call('GET', '/v1/prevention-cases?limit=500', tok.partner2)).json.items.some((c) => c.id === id));
  // the coordinator sees the household
  assert.match((await call('GET', `/v1/prevention-cases/${id}`, tok.coord)).json.household, /^[0-9a-f-]{36}$/);
  // a partner gives the household inline, and does nothing else on a case
  const coordCase = (await call('GET', `/v1/prevention-cases/${id}`, tok.coord)).json;
  assertProblem(await storesNothing(() => call('POST', '/v1/prevention-cases', tok.partner, { ...caseBody(), household: coordCase.household })), 422, { fields: ['/household'] });
  for (const [m, p, b] of [
    ['PATCH', `/v1/prevention-cases/${id}`, { debt_eur: 10 }],
    ['GET', `/v1/prevention-cases/${id}/stages`],
    ['POST', `/v1/prevention-cases/${id}/stages`, { stage: 'summons', on: TODAY }],
    ['POST', `/v1/prevention-cases/${id}/actions`, { kind: 'vej', done_on: TODAY }],
    ['POST', `/v1/prevention-cases/${id}/follow-ups`, { at_months: 6, situation: 'maintained' }],
  ]) {
    assertProblem(await call(m, p, tok.partner, b), 403);
  }
});

test('another platform is out of reach: 404, never listed', async () => {
  const lens = await created('/v1/prevention-cases', caseBody({ platform: 'lens_henin' }), tok.coordLens);
  for (const p of ['', '/stages', '/actions', '/follow-ups']) {
    assertProblem(await call('GET', `/v1/prevention-cases/${lens.id}${p}`, tok.coord), 404);
  }
  assertProblem(await storesNothing(() => call('PATCH', `/v1/prevention-cases/${lens.id}`, tok.coord, { debt_eur: 100 })), 404);
  assertProblem(await storesNothing(() => call('POST', `/v1/prevention-cases/${lens.id}/stages`, tok.coord, { stage: 'summons', on: TODAY })), 404);
  assertProblem(await storesNothing(() => call('POST', `/v1/prevention-cases/${lens.id}/actions`, tok.coord, { kind: 'vej', done_on: TODAY })), 404);
  assertProblem(await storesNothing(() => call('POST', `/v1/prevention-cases/${lens.id}/follow-ups`, tok.coord, { at_months: 6, situation: 'unknown' })), 404);
  const list = await call('GET', '/v1/prevention-cases?limit=500', tok.coord);
  assert.ok(list.json.items.every((c) => c.platform === 'artois'));
  assert.equal((await call('GET', '/v1/prevention-cases?platform=lens_henin', tok.coord)).json.items.length, 0);
  assertProblem(await call('GET', '/v1/prevention-cases/not-a-uuid', tok.coord), 404);
});

test('PATCH a case: ETag and If-Match, the debt evaluated again, stage and household never changed here', async () => {
  const k = await created('/v1/prevention-cases', caseBody({ debt_eur: 1000 }));
  assert.equal(k.pex_eligibility.status, 'below_criteria');
  const g = await call('GET', `/v1/prevention-cases/${k.id}`, tok.coord);
  assertProblem(await call('PATCH', `/v1/prevention-cases/${k.id}`, tok.coord, { debt_eur: 2000 }, { 'If-Match': '"0"' }), 412);
  const p = await call('PATCH', `/v1/prevention-cases/${k.id}`, tok.coord, { debt_eur: 2000, landlord_kind: 'private' }, { 'If-Match': g.headers.etag });
  assert.equal(p.status, 200, show(p));
  assert.equal(p.json.pex_eligibility.status, 'within_criteria');
  assert.equal(p.json.landlord_kind, 'private');
  assert.notEqual(p.headers.etag, g.headers.etag);
  assertProblem(await call('PATCH', `/v1/prevention-cases/${k.id}`, tok.coord, { stage: 'judgment', stage_on: TODAY, household: k.household, platform: 'artois' }), 422, { fields: ['/stage', '/stage_on', '/household', '/platform'] });
  assertProblem(await call('PATCH', `/v1/prevention-cases/${k.id}`, tok.coord, { debt_on: null }), 422, { fields: ['/debt_on'] });
  const cleared = await call('PATCH', `/v1/prevention-cases/${k.id}`, tok.coord, { debt_on: null, debt_eur: null });
  assert.equal(cleared.status, 200, show(cleared));
  assert.equal(cleared.json.pex_eligibility.status, 'debt_unknown');
  assert.equal((await auditOf(k.id)).filter((e) => e.action === 'update').length, 2);
});

// ---------------------------------------------------------------------------------------------
// stages

test('the procedure moves forward only, possibly skipping stages, each stage dated on or after the last', async () => {
  const k = await created('/v1/prevention-cases', caseBody({ stage: 'summons', stage_on: daysAgo(100) }));
  let res = await call('POST', `/v1/prevention-cases/${k.id}/stages`, tok.coord, { stage: 'judgment', on: daysAgo(70), note: 'Résiliation du bail.' });
  assert.equal(res.status, 200, show(res));
  assert.equal(res.json.stage, 'judgment');
  assert.deepEqual(res.json.stage_dates, { summons: daysAgo(100), judgment: daysAgo(70) });
  for (const [stage, on] of [['judgment', daysAgo(60)], ['summons', daysAgo(60)], ['payment_order', daysAgo(60)]]) {
    assertProblem(await storesNothing(() => call('POST', `/v1/prevention-cases/${k.id}/stages`, tok.coord, { stage, on })), 409);
  }
  assertProblem(await storesNothing(() => call('POST', `/v1/prevention-cases/${k.id}/stages`, tok.coord, { stage: 'order_to_leave', on: daysAgo(71) })), 422, { fields: ['/on'] });
  assertProblem(await storesNothing(() => call('POST', `/v1/prevention-cases/${k.id}/stages`, tok.coord, { stage: 'order_to_leave', on: addDays(TODAY, 1) })), 422, { fields: ['/on'] });
  assertProblem(await storesNothing(() => call('POST', `/v1/prevention-cases/${k.id}/stages`, tok.coord, { stage: 'cfp', on: TODAY, extra: true })), 422, { fields: ['/stage', '/extra'] });
  // skip straight to the request for the police's assistance, the same day
  res = await call('POST', `/v1/prevention-cases/${k.id}/stages`, tok.coord, { stage: 'police_assistance_requested', on: daysAgo(70) });
  assert.equal(res.status, 200, show(res));
  res = await call('POST', `/v1/prevention-cases/${k.id}/stages`, tok.admin, { stage: 'eviction_carried_out', on: daysAgo(10) });
  assert.equal(res.status, 200, show(res));
  assertProblem(await call('POST', `/v1/prevention-cases/${k.id}/stages`, tok.coord, { stage: 'eviction_carried_out', on: TODAY }), 409);
  const hist = await call('GET', `/v1/prevention-cases/${k.id}/stages`, tok.coord);
  assert.equal(hist.status, 200);
  assert.deepEqual(hist.json.items.map((e) => [e.from, e.to, e.on, e.role]), [
    [null, 'summons', daysAgo(100), 'coordinator'],
    ['summons', 'judgment', daysAgo(70), 'coordinator'],
    ['judgment', 'police_assistance_requested', daysAgo(70), 'coordinator'],
    ['police_assistance_requested', 'eviction_carried_out', daysAgo(10), 'admin'],
  ]);
  assert.equal(hist.json.items[1].note, 'Résiliation du bail.');
  assert.equal(hist.json.items[0].token_id, tokId.coord);
  const page = await call('GET', `/v1/prevention-cases/${k.id}/stages?limit=3`, tok.coord);
  assert.equal(page.json.items.length, 3);
  const rest = await call('GET', `/v1/prevention-cases/${k.id}/stages?limit=3&cursor=${encodeURIComponent(page.json.next_cursor)}`, tok.coord);
  assert.deepEqual(rest.json.items.map((e) => e.to), ['eviction_carried_out']);
  assert.equal(rest.json.next_cursor, null);
  const audit = await auditOf(k.id);
  assert.equal(audit.filter((e) => e.action === 'transition').length, 3);
  assert.ok(audit.some((e) => e.action === 'read'));
  const list = await call('GET', '/v1/prevention-cases?stage=eviction_carried_out&limit=500', tok.coord);
  assert.ok(list.json.items.some((c) => c.id === k.id) && list.json.items.every((c) => c.stage === 'eviction_carried_out'));
});

// ---------------------------------------------------------------------------------------------
// actions and follow-ups

test('actions: kinds, dates, a partner of the platform, outcome notes; listed by date, read and changed', async () => {
  const k = await created('/v1/prevention-cases', caseBody());
  const partner = await created('/v1/partners', { name: `Équipe mobile PEX ${letters('x')}`, kind: 'association', platform: 'artois' });
  const lensPartner = await created('/v1/partners', { name: `CCAS ${letters('x')}`, kind: 'ccas', platform: 'lens_henin' }, tok.coordLens);
  const a1 = await call('POST', `/v1/prevention-cases/${k.id}/actions`, tok.coord, { kind: 'pex_mobile_team', done_on: daysAgo(30), partner: partner.id, outcome_notes: 'Plan d\'apurement proposé.' });
  assert.equal(a1.status, 201, show(a1));
  assert.equal(a1.headers.location, `/v1/prevention-actions/${a1.json.id}`);
  assert.deepEqual([a1.json.case, a1.json.kind, a1.json.partner, a1.json.outcome_notes], [k.id, 'pex_mobile_team', partner.id, 'Plan d\'apurement proposé.']);
  const a2 = await created(`/v1/prevention-cases/${k.id}/actions`, { kind: 'fsl_aid', done_on: daysAgo(35) });
  assertProblem(await storesNothing(() => call('POST', `/v1/prevention-cases/${k.id}/actions`, tok.coord, { kind: 'vej', done_on: daysAgo(1), partner: lensPartner.id })), 422, { fields: ['/partner'] });
  assertProblem(await storesNothing(() => call('POST', `/v1/prevention-cases/${k.id}/actions`, tok.coord, { kind: 'visit', done_on: addDays(TODAY, 3), outcome_notes: 7 })), 422, { fields: ['/kind', '/done_on', '/outcome_notes'] });
  const list = await call('GET', `/v1/prevention-cases/${k.id}/actions`, tok.coord);
  assert.deepEqual(list.json.items.map((a) => a.id), [a2.id, a1.json.id]);
  const g = await call('GET', `/v1/prevention-actions/${a1.json.id}`, tok.coord);
  assert.equal(g.status, 200);
  assert.equal((await call('GET', `/v1/prevention-cases/${k.id}`, tok.coord)).json.first_action_on, daysAgo(35));
  const p = await call('PATCH', `/v1/prevention-actions/${a1.json.id}`, tok.coord, { outcome_notes: null, kind: 'social_support' }, { 'If-Match': g.headers.etag });
  assert.equal(p.status, 200, show(p));
  assert.deepEqual([p.json.kind, p.json.outcome_notes], ['social_support', null]);
  assertProblem(await call('PATCH', `/v1/prevention-actions/${a1.json.id}`, tok.coord, { partner: lensPartner.id }), 422, { fields: ['/partner'] });
  assertProblem(await call('PATCH', `/v1/prevention-actions/${a1.json.id}`, tok.coord, { case: k.id }), 422, { fields: ['/case'] });
  assertProblem(await call('GET', `/v1/prevention-actions/${a1.json.id}`, tok.coordLens), 404);
  const audit = await auditOf(a1.json.id);
  assert.deepEqual(audit.map((e) => e.action), ['create', 'list', 'read', 'update']);
});

test('follow-ups: due 6, 12, 24 months after the first action, never before, consistent, one per horizon', async () => {
  const k = await created('/v1/prevention-cases', caseBody({ stage: 'judgment', stage_on: monthsAgo(14) }));
  // no action yet: nothing to count from
  assertProblem(await storesNothing(() => call('POST', `/v1/prevention-cases/${k.id}/follow-ups`, tok.coord, { at_months: 6, situation: 'maintained' })), 409);
  const first = monthsAgo(13);
  await created(`/v1/prevention-cases/${k.id}/actions`, { kind: 'vej', done_on: first });
  assertProblem(await storesNothing(() => call('POST', `/v1/prevention-cases/${k.id}/follow-ups`, tok.coord, { at_months: 24, situation: 'maintained' })), 422, { fields: ['/at_months'] });
  assertProblem(await storesNothing(() => call('POST', `/v1/prevention-cases/${k.id}/follow-ups`, tok.coord, { at_months: 9, situation: 'maintained' })), 422, { fields: ['/at_months'] });
  assertProblem(await storesNothing(() => call('POST', `/v1/prevention-cases/${k.id}/follow-ups`, tok.coord, { at_months: 6, situation: 'fine' })), 422, { fields: ['/situation'] });
  let res = await call('POST', `/v1/prevention-cases/${k.id}/follow-ups`, tok.coord, { at_months: 6, situation: 'procedure_pending' });
  assert.equal(res.status, 201, show(res));
  assert.deepEqual([res.json.case, res.json.at_months, res.json.due_on, res.json.situation], [k.id, 6, addMonths(first, 6), 'procedure_pending']);
  const sixId = res.json.id;
  res = await call('POST', `/v1/prevention-cases/${k.id}/follow-ups`, tok.coord, { at_months: 12, situation: 'rehoused' });
  assert.equal(res.status, 201, show(res));
  assert.equal(res.json.due_on, addMonths(first, 12));
  // consistency: rehoused at 12 months, so not maintained at 12 nor... and an earlier horizon
  // cannot say evicted when the later one says maintained
  res = await call('POST', `/v1/prevention-cases/${k.id}/follow-ups`, tok.coord, { at_months: 6, situation: 'evicted' });
  assert.equal(res.status, 200, show(res)); // replaces the 6-month one
  assert.equal(res.json.id, sixId);
  assertProblem(await storesNothing(() => call('POST', `/v1/prevention-cases/${k.id}/follow-ups`, tok.coord, { at_months: 12, situation: 'maintained' })), 422, { fields: ['/situation'] });
  assertProblem(await storesNothing(() => call('POST', `/v1/prevention-cases/${k.id}/follow-ups`, tok.coord, { at_months: 12, situation: 'procedure_pending' })), 422, { fields: ['/situation'] });
  const list = await call('GET', `/v1/prevention-cases/${k.id}/follow-ups`, tok.coord);
  assert.deepEqual(list.json.items.map((f) => [f.at_months, f.situation]), [[6, 'evicted'], [12, 'rehoused']]);
  // the first action now dates the follow-ups: it cannot move
  assertProblem(await storesNothing(() => call('POST', `/v1/prevention-cases/${k.id}/actions`, tok.coord, { kind: 'fsl_aid', done_on: monthsAgo(14) })), 409);
  const later = await call('POST', `/v1/prevention-cases/${k.id}/actions`, tok.coord, { kind: 'fsl_aid', done_on: monthsAgo(2) });
  assert.equal(later.status, 201, show(later));
  const vej = (await call('GET', `/v1/prevention-cases/${k.id}/actions`, tok.coord)).json.items[0];
  assertProblem(await call('PATCH', `/v1/prevention-actions/${vej.id}`, tok.coord, { done_on: addDays(first, 1) }), 409);
  assert.equal((await call('PATCH', `/v1/prevention-actions/${later.json.id}`, tok.coord, { done_on: monthsAgo(1) })).status, 200);
  assert.equal((await call('PATCH', `/v1/prevention-actions/${vej.id}`, tok.coord, { outcome_notes: 'ok' })).status, 200);
  // an eviction carried out before a horizon's due date: not maintained, not pending
  const e = await created('/v1/prevention-cases', caseBody({ stage: 'police_assistance_granted', stage_on: monthsAgo(9) }));
  await created(`/v1/prevention-cases/${e.id}/actions`, { kind: 'social_support', done_on: monthsAgo(8) });
  assert.equal((await call('POST', `/v1/prevention-cases/${e.id}/stages`, tok.coord, { stage: 'eviction_carried_out', on: monthsAgo(7) })).status, 200);
  assertProblem(await call('POST', `/v1/prevention-cases/${e.id}/follow-ups`, tok.coord, { at_months: 6, situation: 'maintained' }), 422, { fields: ['/situation'] });
  assert.equal((await call('POST', `/v1/prevention-cases/${e.id}/follow-ups`, tok.coord, { at_months: 6, situation: 'left_without_solution' })).status, 201);
  const audit = await auditOf(sixId);
  assert.deepEqual(audit.map((x) => x.action), ['create', 'update', 'list']);
});

test('erasure of the household redacts the free text of its prevention cases and keeps the rest', async () => {
  const k = await created('/v1/prevention-cases', caseBody());
  const canary = `CANARY-${letters('c')}`;
  await created(`/v1/prevention-cases/${k.id}/actions`, { kind: 'vej', done_on: daysAgo(5), outcome_notes: `Notes ${canary}` });
  assert.equal((await call('POST', `/v1/prevention-cases/${k.id}/stages`, tok.coord, { stage: 'summons', on: daysAgo(4), note: `Note ${canary}` })).status, 200);
  const other = await created('/v1/prevention-cases', caseBody());
  const kept = await created(`/v1/prevention-cases/${other.id}/actions`, { kind: 'vej', done_on: daysAgo(5), outcome_notes: 'Autre ménage' });
  const del = await call('DELETE', `/v1/households/${k.household}`, tok.admin);
  assert.equal(del.status, 204, show(del));
  const actions = await call('GET', `/v1/prevention-cases/${k.id}/actions`, tok.coord);
  assert.deepEqual(actions.json.items.map((a) => [a.kind, a.outcome_notes]), [['vej', null]]);
  const stages = await call('GET', `/v1/prevention-cases/${k.id}/stages`, tok.coord);
  assert.deepEqual(stages.json.items.map((s) => [s.to, s.note]), [['payment_order', null], ['summons', null]]);
  const { rows } = await svc.sql(
    `SELECT (SELECT count(*)::int FROM prevention_action WHERE outcome_notes LIKE $1)
          + (SELECT count(*)::int FROM prevention_stage_event WHERE note LIKE $1) AS n`,
    [`%${canary}%`],
  );
  assert.equal(rows[0].n, 0);
  assert.equal((await call('GET', `/v1/prevention-cases/${k.id}`, tok.coord)).json.stage, 'summons');
  assert.equal((await call('GET', `/v1/prevention-actions/${kept.id}`, tok.coord)).json.outcome_notes, 'Autre ménage');
});

test('record keys: drawn once in [0, 2^20), never changed by an update, never in an answer or the audit log', async () => {
  const k = await created('/v1/prevention-cases', caseBody());
  const a = await created(`/v1/prevention-cases/${k.id}/actions`, { kind: 'vej', done_on: daysAgo(3) });
  const before = await svc.sql('SELECT (SELECT rk FROM prevention_case WHERE id = $1) AS c, (SELECT rk FROM prevention_action WHERE id = $2) AS a', [k.id, a.id]);
  for (const v of Object.values(before.rows[0])) assert.ok(Number.isInteger(v) && v >= 0 && v < 1048576);
  await call('PATCH', `/v1/prevention-cases/${k.id}`, tok.coord, { debt_eur: 3000 });
  await call('POST', `/v1/prevention-cases/${k.id}/stages`, tok.coord, { stage: 'summons', on: daysAgo(2) });
  await call('PATCH', `/v1/prevention-actions/${a.id}`, tok.coord, { kind: 'fsl_aid' });
  await svc.sql('UPDATE prevention_case SET rk = 7 WHERE id = $1', [k.id]); // even a direct update keeps it
  const after = await svc.sql('SELECT (SELECT rk FROM prevention_case WHERE id = $1) AS c, (SELECT rk FROM prevention_action WHERE id = $2) AS a', [k.id, a.id]);
  assert.deepEqual(after.rows[0], before.rows[0]);
  const seen = [
    await call('GET', `/v1/prevention-cases/${k.id}`, tok.coord),
    await call('GET', `/v1/prevention-cases/${k.id}/actions`, tok.coord),
    await call('GET', '/v1/audit-events?limit=500', tok.admin),
  ];
  for (const res of seen) assert.ok(!/"rk"/.test(res.text), `rk in ${res.text.slice(0, 200)}`);
});

// ---------------------------------------------------------------------------------------------
// batch push

test('cases in batch: created, unchanged, the stage moving forward with its event, never back; household by external id', async () => {
  const hb = await call('POST', '/v1/households/batch', tok.siao, [
    { external_id: 'H-EXP-1', ...household('artois'), platform: 'artois' },
    { external_id: 'H-EXP-2', ...household('artois'), platform: 'artois' },
  ]);
  assert.equal(hb.json?.created, 2, show(hb));
  const rec = (ext, hext, over = {}) => ({ external_id: ext, household_external_id: hext, platform: 'artois', landlord_kind: 'private', debt_eur: 3200, debt_on: daysAgo(50), stage: 'summons', stage_on: daysAgo(45), ...over });
  let res = await call('POST', '/v1/prevention-cases/batch', tok.siao, [rec('C-1', 'H-EXP-1'), rec('C-2', 'H-EXP-2', { debt_eur: 8000 }), rec('C-3', 'H-NOPE'), rec('C-4', 'H-EXP-1', { stage: 'jugement', debt_on: null })]);
  assert.equal(res.status, 200, show(res));
  assert.deepEqual([res.json.created, res.json.updated, res.json.unchanged], [2, 0, 0]);
  assert.deepEqual(res.json.rejected.map((r) => [r.index, r.external_id, r.errors.map((e) => e.field).sort()]), [
    [2, 'C-3', ['/household']],
    [3, 'C-4', ['/debt_on', '/stage']],
  ]);
  const stored = (await svc.sql("SELECT id::text, pex_status FROM prevention_case WHERE source = 'exploc' ORDER BY external_id")).rows;
  assert.deepEqual(stored.map((r) => r.pex_status), ['within_criteria', 'above_criteria']);
  // replay: unchanged
  res = await call('POST', '/v1/prevention-cases/batch', tok.siao, [rec('C-1', 'H-EXP-1'), rec('C-2', 'H-EXP-2', { debt_eur: 8000 })]);
  assert.deepEqual([res.json.created, res.json.updated, res.json.unchanged, res.json.rejected.length], [0, 0, 2, 0]);
  // forward: a new stage event; back, or the same stage with another date: rejected
  res = await call('POST', '/v1/prevention-cases/batch', tok.siao, [
    rec('C-1', 'H-EXP-1', { stage: 'judgment', stage_on: daysAgo(20) }),
    rec('C-2', 'H-EXP-2', { debt_eur: 8000, stage: 'payment_order' }),
  ]);
  assert.deepEqual([res.json.updated, res.json.rejected.map((r) => [r.external_id, r.errors[0].field])], [1, [['C-2', '/stage']]]);
  res = await call('POST', '/v1/prevention-cases/batch', tok.siao, [rec('C-1', 'H-EXP-1', { stage: 'judgment', stage_on: daysAgo(19) })]);
  assert.deepEqual(res.json.rejected.map((r) => r.errors[0].field), ['/stage_on']);
  const c1 = stored[0].id;
  const hist = await call('GET', `/v1/prevention-cases/${c1}/stages`, tok.coord);
  assert.deepEqual(hist.json.items.map((e) => [e.from, e.to, e.on, e.role]), [[null, 'summons', daysAgo(45), 'siao'], ['summons', 'judgment', daysAgo(20), 'siao']]);
  // the siao token reads back its cases, not the coordinators'
  const mine = await call('GET', '/v1/prevention-cases?limit=500', tok.siao);
  assert.deepEqual(mine.json.items.map((c) => c.id).sort(), stored.map((r) => r.id).sort());
  assert.equal((await call('GET', `/v1/prevention-cases/${c1}`, tok.siao)).status, 200);
  // atomic: one bad record, nothing stored
  const fp = await counts();
  res = await call('POST', '/v1/prevention-cases/batch?atomic=true', tok.siao, [rec('C-9', 'H-EXP-1'), rec('C-10', 'H-EXP-1', { landlord_kind: 'x' })]);
  assertProblem(res, 422, { fields: ['/1/landlord_kind'] });
  assert.deepEqual(await counts(), fp);
  // the same source on another platform cannot move a case there
  res = await call('POST', '/v1/prevention-cases/batch', tok.siaoLens, [rec('C-1', 'H-EXP-1', { platform: 'lens_henin' })]);
  assert.deepEqual(res.json.rejected.map((r) => r.errors[0].field), ['/household']);
  // an idempotency key replays the answer
  const key = `k-${letters('i')}`;
  const first = await call('POST', '/v1/prevention-cases/batch', tok.siao, [rec('C-11', 'H-EXP-2')], { 'Idempotency-Key': key });
  const again = await call('POST', '/v1/prevention-cases/batch', tok.siao, [rec('C-11', 'H-EXP-2')], { 'Idempotency-Key': key });
  assert.equal(again.headers['idempotent-replayed'], 'true');
  assert.equal(again.text, first.text);
  assert.equal(first.json.created, 1);
  const audit = await call('GET', `/v1/audit-events?token_id=${tokId.siao}&resource_type=prevention_case&limit=500`, tok.admin);
  assert.ok(audit.json.items.some((e) => e.action === 'batch'));
});

test('actions and follow-ups in batch: case by external id, the first action kept, due dates, duplicates, scope', async () => {
  const hb = await call('POST', '/v1/households/batch', tok.siao, [{ external_id: 'H-EXP-FU', ...household('artois'), platform: 'artois' }]);
  assert.equal(hb.json.created, 1, show(hb));
  const cb = await call('POST', '/v1/prevention-cases/batch', tok.siao, [
    { external_id: 'C-FU', household_external_id: 'H-EXP-FU', platform: 'artois', landlord_kind: 'social', debt_eur: 2000, debt_on: monthsAgo(15), stage: 'judgment', stage_on: monthsAgo(14) },
  ]);
  assert.equal(cb.json.created, 1, show(cb));
  const caseId = (await svc.sql("SELECT id::text FROM prevention_case WHERE external_id = 'C-FU'")).rows[0].id;
  const lens = await created('/v1/prevention-cases', caseBody({ platform: 'lens_henin' }), tok.coordLens);
  let res = await call('POST', '/v1/prevention-actions/batch', tok.siao, [
    { external_id: 'A-1', case_external_id: 'C-FU', kind: 'vej', done_on: monthsAgo(13) },
    { external_id: 'A-2', case: caseId, kind: 'fsl_aid', done_on: monthsAgo(11) },
    { external_id: 'A-3', case_external_id: 'C-NOPE', kind: 'vej', done_on: monthsAgo(1) },
    { external_id: 'A-4', case: lens.id, kind: 'vej', done_on: monthsAgo(1) },
    { external_id: 'A-5', case: caseId, case_external_id: 'C-FU', kind: 'vej', done_on: monthsAgo(1) },
  ]);
  assert.equal(res.status, 200, show(res));
  assert.equal(res.json.created, 2);
  assert.deepEqual(res.json.rejected.map((r) => [r.external_id, r.errors[0].field]), [['A-3', '/case_external_id'], ['A-4', '/case'], ['A-5', '/case_external_id']]);
  res = await call('POST', '/v1/prevention-follow-ups/batch', tok.siao, [
    { case_external_id: 'C-FU', at_months: 6, situation: 'procedure_pending' },
    { case: caseId, at_months: 6, situation: 'maintained' },
    { case_external_id: 'C-FU', at_months: 12, situation: 'maintained' },
    { case_external_id: 'C-FU', at_months: 24, situation: 'maintained' },
    { case: lens.id, at_months: 6, situation: 'unknown' },
    { case_external_id: 'C-FU', at_months: 12, situation: 'rehoused', external_id: 'x' },
  ]);
  assert.equal(res.status, 200, show(res));
  assert.deepEqual([res.json.created, res.json.updated, res.json.unchanged], [2, 0, 0]);
  assert.deepEqual(res.json.rejected.map((r) => [r.index, r.external_id, r.errors[0].field]), [
    [1, null, '/at_months'],
    [3, null, '/at_months'],
    [4, null, '/case'],
    [5, 'x', '/external_id'],
  ]);
  const fus = await call('GET', `/v1/prevention-cases/${caseId}/follow-ups`, tok.coord);
  assert.deepEqual(fus.json.items.map((f) => [f.at_months, f.situation, f.due_on]), [
    [6, 'procedure_pending', addMonths(monthsAgo(13), 6)],
    [12, 'maintained', addMonths(monthsAgo(13), 12)],
  ]);
  res = await call('POST', '/v1/prevention-follow-ups/batch', tok.siao, [
    { case_external_id: 'C-FU', at_months: 6, situation: 'procedure_pending' },
    { case_external_id: 'C-FU', at_months: 6, situation: 'evicted' },
  ]);
  assert.deepEqual([res.json.unchanged, res.json.rejected.map((r) => r.errors[0].field)], [1, ['/at_months']]);
  res = await call('POST', '/v1/prevention-follow-ups/batch', tok.siao, [{ case_external_id: 'C-FU', at_months: 6, situation: 'evicted' }]);
  assert.deepEqual(res.json.rejected.map((r) => r.errors[0].field), ['/situation']); // maintained at 12 months after
  // now that the case has follow-ups, its first action cannot move
  res = await call('POST', '/v1/prevention-actions/batch', tok.siao, [
    { external_id: 'A-6', case_external_id: 'C-FU', kind: 'other', done_on: monthsAgo(14) },
    { external_id: 'A-1', case_external_id: 'C-FU', kind: 'vej', done_on: monthsAgo(12) },
    { external_id: 'A-2', case: caseId, kind: 'social_support', done_on: monthsAgo(11) },
  ]);
  assert.deepEqual([res.json.updated, res.json.rejected.map((r) => [r.external_id, r.errors[0].field])], [1, [['A-6', '/done_on'], ['A-1', '/done_on']]]);
  assertProblem(await call('POST', '/v1/prevention-follow-ups/batch', tok.coord, []), 403);
  assertProblem(await call('POST', '/v1/prevention-actions/batch?source=x', tok.siao, []), 403);
});

// ---------------------------------------------------------------------------------------------
// the demo data

test('the demo data: the 2021 AMI 1 VEJ cohort of 185 households, the 2022 PEX cases, every rule of check.sql holds', async () => {
  const demo = await startService();
  try {
    const seeded = await demo.runCli(['seed-demo'], { timeout: 300_000 });
    assert.equal(seeded.code, 0, seeded.stderr);
    const sql = readFileSync(join(sourceDir(), 'db', 'seed', 'check.sql'), 'utf8');
    const part = sql.slice(sql.indexOf('-- 8. Eviction prevention'));
    const statements = part.split(/;\s*\n/).map((s) => s.trim()).filter((s) => s && !/^(--[^\n]*\n?)*$/.test(s));
    assert.equal(statements.length, 2);
    const figures = (await demo.sql(statements[0])).rows;
    assert.equal(figures.length, 5);
    for (const f of figures) assert.equal(f.check, 'ok', JSON.stringify(f));
    const rules = (await demo.sql(statements[1])).rows;
    assert.equal(rules.length, 13);
    for (const r of rules) assert.equal(Number(r.violations), 0, r.rule);
    // through the API: the cohort's cases and their visits
    const admin = await demo.createToken('admin');
    let cursor = null;
    let vej = 0;
    let pages = 0;
    do {
      const res = await demo.api('GET', `/v1/prevention-cases?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token: admin });
      assert.equal(res.status, 200);
      vej += res.json.items.filter((c) => c.first_action_on?.startsWith('2021-') && ['artois', 'lens_henin'].includes(c.platform)).length;
      cursor = res.json.next_cursor;
      pages += 1;
    } while (cursor && pages < 10);
    assert.equal(vej, 185);
    const one = (await demo.api('GET', '/v1/prevention-cases?limit=1&stage=police_assistance_requested', { token: admin })).json.items[0];
    const actions = await demo.api('GET', `/v1/prevention-cases/${one.id}/actions`, { token: admin });
    assert.equal(actions.json.items[0].kind, 'vej');
    const fus = await demo.api('GET', `/v1/prevention-cases/${one.id}/follow-ups`, { token: admin });
    assert.deepEqual(fus.json.items.map((f) => f.at_months), [6, 12]);
  } finally {
    await demo.stop();
  }
});
