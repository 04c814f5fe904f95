// Case management over HTTP (partners, households, referrals, support measures; conventions; access):
// a referral's whole life, validation (422/400/413/415 and nothing stored), optimistic
// concurrency, duplicate persons, erasure, partners, and identity never reaching a partner.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startService } from '../lib/service.mjs';
import { show } from '../lib/http.mjs';
import { assertProblem } from '../lib/problems.mjs';

const MAX_BODY = 4096;

let svc;
const tok = {}; // role label → token
const tokId = {}; // role label → token id (from GET /v1/tokens)

// ---------------------------------------------------------------------------- helpers

/** Today's date in Europe/Paris (what the service calls "today"). */
function todayParis() {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Paris' }).format(new Date());
}
function addDays(date, n) {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}
const TODAY = todayParis();
const daysAgo = (n) => addDays(TODAY, -n);

/** Letters only: a name part no other test uses (person_key folds case, accents, punctuation). */
function uniqueName(prefix) {
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  let s = '';
  for (const b of randomBytes(10)) s += letters[b % 26];
  return `${prefix}${s}`;
}

function newHousehold({ platform = 'artois', head = {}, ...rest } = {}) {
  return {
    platform,
    composition: 'single_person',
    adults: 1,
    children: 0,
    head: {
      last_name: uniqueName('Nom'),
      first_name: 'Camille',
      birth_date: '1990-05-17',
      sex: 'female',
      ...head,
    },
    resources: ['rsa'],
    housing_situation: 'hosted_by_third_party',
    vulnerabilities: [],
    ...rest,
  };
}

function newReferral({ household, platform = 'artois', ...rest } = {}) {
  return {
    household: household ?? newHousehold({ platform }),
    platform,
    referrer_kind: 'ccas',
    referrer_name: 'CCAS de Béthune',
    received_on: daysAgo(30),
    has_social_note: false,
    reasons: ['homelessness'],
    ...rest,
  };
}

/** Row counts of every case-management table (to prove a failed request stored nothing). */
async function counts() {
  const { rows } = await svc.sql(
    `SELECT (SELECT count(*) FROM household)::int AS household,
            (SELECT count(*) FROM referral)::int AS referral,
            (SELECT count(*) FROM referral_event)::int AS referral_event,
            (SELECT count(*) FROM measure)::int AS measure,
            (SELECT count(*) FROM partner)::int AS partner`,
  );
  return rows[0];
}

/** Runs fn (a request expected to fail) and asserts that no table gained or lost a row. */
async function storesNothing(fn) {
  const before = await counts();
  const res = await fn();
  assert.deepEqual(await counts(), before, `rows changed after ${show(res)}`);
  return res;
}

async function post(path, body, token, extra = {}) {
  return svc.api('POST', path, { body, token, ...extra });
}

async function createHousehold(body, token = tok.coord) {
  const res = await post('/v1/households', body, token);
  assert.equal(res.status, 201, show(res));
  return res;
}

async function createReferral(body, token = tok.coord) {
  const res = await post('/v1/referrals', body, token);
  assert.equal(res.status, 201, show(res));
  return res;
}

async function transition(id, to, on, note, token = tok.coord) {
  return post(`/v1/referrals/${id}/transitions`, note === undefined ? { to, on } : { to, on, note }, token);
}

/** Every audit event on a resource, oldest first (follows next_cursor, bounded). */
async function auditOf(resourceId) {
  const items = [];
  let cursor = null;
  for (let page = 0; page < 20; page += 1) {
    const q = `/v1/audit-events?resource_id=${resourceId}&limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const res = await svc.api('GET', q, { token: tok.admin });
    assert.equal(res.status, 200, show(res));
    items.push(...res.json.items);
    cursor = res.json.next_cursor;
    if (!cursor) return items;
  }
  throw new Error('audit events: more than 20 pages');
}

const STATUS_VIEW_KEYS = ['created_at', 'id', 'platform', 'received_on', 'status', 'status_dates', 'updated_at'];

// ---------------------------------------------------------------------------- setup

before(async () => {
  svc = await startService({ env: { LDA_MAX_BODY_BYTES: String(MAX_BODY) } });
  const specs = {
    admin: ['admin', {}],
    coord: ['coordinator', { platforms: ['artois'] }],
    coordLens: ['coordinator', { platforms: ['lens_henin'] }],
    partner: ['partner', { platforms: ['artois'] }],
    partner2: ['partner', { platforms: ['artois'] }],
  };
  for (const [label, [role, opts]] of Object.entries(specs)) {
    tok[label] = await svc.createToken(role, { ...opts, name: `casefile-${label}` });
  }
  const res = await svc.api('GET', '/v1/tokens?limit=500', { token: tok.admin });
  assert.equal(res.status, 200, show(res));
  for (const label of Object.keys(specs)) {
    const t = res.json.items.find((i) => i.name === `casefile-${label}`);
    assert.ok(t, `token casefile-${label} not listed`);
    tokId[label] = t.id;
  }
});

after(async () => {
  await svc?.stop();
});

// ---------------------------------------------------------------------------- (a) whole life

test('a referral lives its whole life over HTTP, every step in /events and the audit log', async () => {
  const D = {
    received: daysAgo(60),
    assessing: daysAgo(50),
    orientation_proposed: daysAgo(40),
    accompanied: daysAgo(30),
    housing: daysAgo(20),
    ended: daysAgo(10),
  };
  // A registered partner of the platform, by the coordinator.
  const p = await post('/v1/partners', { name: 'CCAS de Béthune', kind: 'ccas', platform: 'artois' }, tok.coord);
  assert.equal(p.status, 201, show(p));
  const partnerId = p.json.id;

  // 1. The partner sends the referral with a new household inline: 201, the status view.
  const household = newHousehold({ head: { first_name: 'Léa', birth_date: '1992-03-14' } });
  const created = await post(
    '/v1/referrals',
    {
      household,
      platform: 'artois',
      partner: partnerId,
      received_on: D.received,
      has_social_note: true,
      reasons: ['domestic_violence', 'homelessness'],
    },
    tok.partner,
    { headers: { 'X-Request-Id': 'casefile-life-create' } },
  );
  assert.equal(created.status, 201, show(created));
  const id = created.json.id;
  assert.equal(created.headers.location, `/v1/referrals/${id}`);
  assert.ok(created.headers.etag, 'no ETag on 201');
  assert.deepEqual(Object.keys(created.json).sort(), STATUS_VIEW_KEYS, 'partner gets the status view');
  assert.equal(created.json.status, 'received');
  assert.equal(created.json.platform, 'artois');
  assert.equal(created.json.received_on, D.received);
  assert.deepEqual(created.json.status_dates, { received: D.received });

  // 2. The coordinator reads it in full, and the household with identity.
  const full = await svc.api('GET', `/v1/referrals/${id}`, { token: tok.coord });
  assert.equal(full.status, 200, show(full));
  assert.ok(full.headers.etag);
  assert.equal(full.json.id, id);
  assert.equal(full.json.partner, partnerId);
  assert.equal(full.json.referrer_kind, null);
  assert.equal(full.json.referrer_name, null);
  assert.equal(full.json.has_social_note, true);
  assert.deepEqual([...full.json.reasons].sort(), ['domestic_violence', 'homelessness']);
  assert.equal(full.json.status, 'received');
  assert.equal(full.json.concertation, null);
  assert.match(full.json.household, /^[0-9a-f-]{36}$/);
  const hh = await svc.api('GET', `/v1/households/${full.json.household}`, { token: tok.coord });
  assert.equal(hh.status, 200, show(hh));
  assert.equal(hh.json.head.last_name, household.head.last_name);
  assert.equal(hh.json.head.first_name, 'Léa');
  assert.equal(hh.json.head.birth_date, '1992-03-14');
  assert.equal(hh.json.platform, 'artois');
  assert.match(hh.json.person_key ?? '', /^[0-9a-f]{64}$/);

  // 3. received → assessing → orientation_proposed.
  let t = await transition(id, 'assessing', D.assessing, 'Étayage avec la MDS.');
  assert.equal(t.status, 200, show(t));
  assert.equal(t.json.status, 'assessing');
  t = await transition(id, 'orientation_proposed', D.orientation_proposed, 'Orientation VIAL proposée.');
  assert.equal(t.status, 200, show(t));
  assert.equal(t.json.status, 'orientation_proposed');

  // 4. A VIAL measure is started.
  const m = await post(
    `/v1/referrals/${id}/measures`,
    { kind: 'vial', operator: 'Association Vers le Logement', started_on: D.accompanied },
    tok.coord,
  );
  assert.equal(m.status, 201, show(m));
  const measureId = m.json.id;
  assert.equal(m.headers.location, `/v1/measures/${measureId}`);
  assert.ok(m.headers.etag);
  assert.equal(m.json.referral, id);
  assert.equal(m.json.kind, 'vial');
  assert.equal(m.json.started_on, D.accompanied);
  for (const f of ['ended_on', 'end_reason', 'housing_outcome', 'housing_type', 'housing_on']) {
    assert.equal(m.json[f], null, f);
  }
  const listed = await svc.api('GET', `/v1/referrals/${id}/measures`, { token: tok.coord });
  assert.equal(listed.status, 200, show(listed));
  assert.deepEqual(listed.json.items.map((i) => i.id), [measureId]);

  // 5. accompanied.
  t = await transition(id, 'accompanied', D.accompanied);
  assert.equal(t.status, 200, show(t));
  assert.equal(t.json.status, 'accompanied');

  // 6. The measure is closed with its housing outcome (PATCH with If-Match).
  const mget = await svc.api('GET', `/v1/measures/${measureId}`, { token: tok.coord });
  assert.equal(mget.status, 200, show(mget));
  const closing = {
    housing_outcome: 'accessed',
    housing_type: 'social_housing',
    housing_on: D.housing,
    ended_on: D.ended,
    end_reason: 'goals_met',
  };
  const mp = await svc.api('PATCH', `/v1/measures/${measureId}`, {
    body: closing,
    token: tok.coord,
    headers: { 'If-Match': mget.headers.etag },
  });
  assert.equal(mp.status, 200, show(mp));
  for (const [k, v] of Object.entries(closing)) assert.equal(mp.json[k], v, k);
  assert.equal(mp.json.kind, 'vial', 'PATCH keeps the fields it does not name');
  assert.equal(mp.json.started_on, D.accompanied);
  assert.notEqual(mp.headers.etag, mget.headers.etag, 'ETag changes with the measure');
  const mget2 = await svc.api('GET', `/v1/measures/${measureId}`, { token: tok.coord });
  assert.deepEqual(mget2.json, mp.json);

  // 7. accompaniment_ended.
  t = await transition(id, 'accompaniment_ended', D.ended, 'Objectifs atteints.');
  assert.equal(t.status, 200, show(t));
  assert.equal(t.json.status, 'accompaniment_ended');
  const expectedDates = {
    received: D.received,
    assessing: D.assessing,
    orientation_proposed: D.orientation_proposed,
    accompanied: D.accompanied,
    accompaniment_ended: D.ended,
  };
  assert.deepEqual(t.json.status_dates, expectedDates);

  // The partner still reads the status (and only the status).
  const pv = await svc.api('GET', `/v1/referrals/${id}`, { token: tok.partner });
  assert.equal(pv.status, 200, show(pv));
  assert.deepEqual(Object.keys(pv.json).sort(), STATUS_VIEW_KEYS);
  assert.equal(pv.json.status, 'accompaniment_ended');
  assert.deepEqual(pv.json.status_dates, expectedDates);

  // 8. Every step in /events, in order, with who did it.
  const ev = await svc.api('GET', `/v1/referrals/${id}/events`, { token: tok.coord });
  assert.equal(ev.status, 200, show(ev));
  assert.equal(ev.json.next_cursor, null);
  assert.deepEqual(
    ev.json.items.map((e) => [e.from, e.to, e.on]),
    [
      [null, 'received', D.received],
      ['received', 'assessing', D.assessing],
      ['assessing', 'orientation_proposed', D.orientation_proposed],
      ['orientation_proposed', 'accompanied', D.accompanied],
      ['accompanied', 'accompaniment_ended', D.ended],
    ],
  );
  assert.deepEqual(
    ev.json.items.map((e) => e.note),
    [null, 'Étayage avec la MDS.', 'Orientation VIAL proposée.', null, 'Objectifs atteints.'],
  );
  assert.deepEqual(
    ev.json.items.map((e) => [e.role, e.token_id]),
    [
      ['partner', tokId.partner],
      ['coordinator', tokId.coord],
      ['coordinator', tokId.coord],
      ['coordinator', tokId.coord],
      ['coordinator', tokId.coord],
    ],
  );
  const ids = ev.json.items.map((e) => e.id);
  assert.deepEqual([...ids].sort((a, b) => a - b), ids, 'events oldest first');

  // 9. The audit log of the referral: create, the 4 transitions (and the reads), in order.
  const audit = await auditOf(id);
  for (const a of audit) {
    assert.equal(a.resource_id, id);
    assert.equal(a.resource_type, 'referral');
  }
  const writes = audit.filter((a) => a.action === 'create' || a.action === 'transition');
  assert.deepEqual(
    writes.map((a) => a.action),
    ['create', 'transition', 'transition', 'transition', 'transition'],
  );
  assert.equal(writes[0].token_id, tokId.partner);
  assert.equal(writes[0].role, 'partner');
  assert.equal(writes[0].status, 201);
  assert.equal(writes[0].request_id, 'casefile-life-create');
  for (const w of writes.slice(1)) {
    assert.equal(w.token_id, tokId.coord);
    assert.equal(w.role, 'coordinator');
    assert.equal(w.status, 200);
  }
  assert.ok(
    audit.some((a) => a.action === 'read' && a.token_id === tokId.coord),
    'the coordinator read of the referral is audited',
  );
  // and of the measure: create then update.
  const maudit = await auditOf(measureId);
  const mwrites = maudit.filter((a) => a.action !== 'read' && a.action !== 'list');
  assert.deepEqual(mwrites.map((a) => [a.action, a.resource_type]), [
    ['create', 'measure'],
    ['update', 'measure'],
  ]);
});

test('the household created inline with a referral is audited under its own id', async () => {
  const created = await createReferral(newReferral(), tok.partner);
  const full = await svc.api('GET', `/v1/referrals/${created.json.id}`, { token: tok.coord });
  assert.equal(full.status, 200, show(full));
  const audit = await auditOf(full.json.household);
  assert.ok(
    audit.some((a) => a.action === 'create' && a.resource_type === 'household' && a.token_id === tokId.partner),
    `every write of personal data (the inline household) leaves an audit event; got ${JSON.stringify(audit)}`,
  );
});

test('an audit event keeps the whole request id (128 characters)', async () => {
  const rid = `rid-${'x'.repeat(124)}`;
  assert.equal(rid.length, 128);
  const res = await post('/v1/households', newHousehold(), tok.coord, { headers: { 'X-Request-Id': rid } });
  assert.equal(res.status, 201, show(res));
  assert.equal(res.headers['x-request-id'], rid);
  const audit = await auditOf(res.json.id);
  const create = audit.find((a) => a.action === 'create');
  assert.ok(create, 'household creation audited');
  assert.equal(create.request_id, rid);
});

// ---------------------------------------------------------------------------- (b) validation

test('ENVAUL is only for a head under 25 on started_on (422 naming /kind)', async () => {
  const started = daysAgo(10);
  // 30 years old on started_on.
  const old = await createReferral(
    newReferral({ household: newHousehold({ head: { birth_date: addDays(started, -(30 * 365 + 8)) } }) }),
  );
  const res = await storesNothing(() =>
    post(`/v1/referrals/${old.json.id}/measures`, { kind: 'envaul', operator: 'ASRL', started_on: started }, tok.coord),
  );
  assertProblem(res, 422, { fields: ['/kind'] });
  assert.equal(res.json.type, '/problems/validation');

  // 25 exactly on started_on: no longer under 25.
  const [y, mo, d] = started.split('-');
  const birth25 = `${Number(y) - 25}-${mo}-${d === '29' && mo === '02' ? '28' : d}`;
  const just25 = await createReferral(newReferral({ household: newHousehold({ head: { birth_date: birth25 } }) }));
  const r25 = await storesNothing(() =>
    post(`/v1/referrals/${just25.json.id}/measures`, { kind: 'envaul', operator: 'ASRL', started_on: started }, tok.coord),
  );
  assertProblem(r25, 422, { fields: ['/kind'] });

  // 24 on started_on: allowed.
  const young = await createReferral(
    newReferral({ household: newHousehold({ head: { birth_date: addDays(birth25, 1) } }) }),
  );
  const ok = await post(
    `/v1/referrals/${young.json.id}/measures`,
    { kind: 'envaul', operator: 'ASRL', started_on: started },
    tok.coord,
  );
  assert.equal(ok.status, 201, show(ok));
  assert.equal(ok.json.kind, 'envaul');

  // PATCHing a VIAL measure of the 30-year-old to envaul: the same rule (422).
  const vial = await post(
    `/v1/referrals/${old.json.id}/measures`,
    { kind: 'vial', operator: 'ASRL', started_on: started },
    tok.coord,
  );
  assert.equal(vial.status, 201, show(vial));
  const pr = await svc.api('PATCH', `/v1/measures/${vial.json.id}`, { body: { kind: 'envaul' }, token: tok.coord });
  assertProblem(pr, 422, { fields: ['/kind'] });
  const after = await svc.api('GET', `/v1/measures/${vial.json.id}`, { token: tok.coord });
  assert.equal(after.json.kind, 'vial');
});

test('measure dates: ended_on not before started_on, end_reason needs ended_on', async () => {
  const ref = await createReferral(newReferral());
  const path = `/v1/referrals/${ref.json.id}/measures`;
  let res = await storesNothing(() =>
    post(path, { kind: 'adsl', operator: 'X', started_on: daysAgo(5), ended_on: daysAgo(6) }, tok.coord),
  );
  assertProblem(res, 422, { fields: ['/ended_on'] });
  res = await storesNothing(() =>
    post(path, { kind: 'adsl', operator: 'X', started_on: daysAgo(5), end_reason: 'goals_met' }, tok.coord),
  );
  assertProblem(res, 422, { fields: ['/end_reason'] });
  res = await storesNothing(() =>
    post(path, { kind: 'adsl', operator: 'X', started_on: daysAgo(5), ended_on: addDays(TODAY, 2) }, tok.coord),
  );
  assertProblem(res, 422, { fields: ['/ended_on'] });
  // On a PATCH the merged result is checked: ended_on before the stored started_on.
  const m = await post(path, { kind: 'adsl', operator: 'X', started_on: daysAgo(5) }, tok.coord);
  assert.equal(m.status, 201, show(m));
  res = await svc.api('PATCH', `/v1/measures/${m.json.id}`, { body: { ended_on: daysAgo(9) }, token: tok.coord });
  assertProblem(res, 422, { fields: ['/ended_on'] });
  res = await svc.api('PATCH', `/v1/measures/${m.json.id}`, { body: { end_reason: 'broken_off' }, token: tok.coord });
  assertProblem(res, 422, { fields: ['/end_reason'] });
  const same = await svc.api('GET', `/v1/measures/${m.json.id}`, { token: tok.coord });
  assert.deepEqual(same.json, m.json, 'a 422 PATCH changes nothing');
});

test('a future received_on answers 422 "/received_on" and stores nothing (not even the inline household)', async () => {
  const res = await storesNothing(() =>
    post('/v1/referrals', newReferral({ received_on: addDays(TODAY, 2) }), tok.coord),
  );
  assertProblem(res, 422, { fields: ['/received_on'] });
  assert.equal(res.json.type, '/problems/validation');
  const byPartner = await storesNothing(() =>
    post('/v1/referrals', newReferral({ received_on: addDays(TODAY, 2) }), tok.partner),
  );
  assertProblem(byPartner, 422, { fields: ['/received_on'] });
});

test('an unknown field answers 422 naming it (top level and nested)', async () => {
  let res = await storesNothing(() => post('/v1/referrals', { ...newReferral(), nickname: 'Lulu' }, tok.coord));
  assertProblem(res, 422, { fields: ['/nickname'] });
  const h = newHousehold();
  h.head.nickname = 'Lulu';
  res = await storesNothing(() => post('/v1/referrals', newReferral({ household: h }), tok.coord));
  assertProblem(res, 422, { fields: ['/household/head/nickname'] });
  res = await storesNothing(() => post('/v1/households', { ...newHousehold(), colour: 'blue' }, tok.coord));
  assertProblem(res, 422, { fields: ['/colour'] });
  res = await storesNothing(() =>
    post('/v1/partners', { name: 'X', kind: 'ccas', platform: 'artois', siret: '123' }, tok.coord),
  );
  assertProblem(res, 422, { fields: ['/siret'] });
});

test('several errors at once are all listed, with JSON pointers', async () => {
  const body = {
    platform: 'artois',
    composition: 'alone', // unknown code
    adults: 50, // out of range
    children: 0,
    head: { last_name: '', first_name: 'Léa', birth_date: addDays(TODAY, 3), sex: 'x' },
    housing_situation: 'street',
    resources: ['rsa', 'lottery'],
    nickname: 'Lulu',
  };
  const res = await storesNothing(() => post('/v1/households', body, tok.coord));
  assertProblem(res, 422, { fields: [
    '/composition',
    '/adults',
    '/head/last_name',
    '/head/birth_date',
    '/head/sex',
    '/nickname',
  ] });
  assert.ok(
    res.json.errors.some((e) => e.field === '/resources/1' || e.field === '/resources'),
    `no error for the unknown resource code: ${show(res)}`,
  );
  for (const e of res.json.errors) assert.ok(e.message.length > 0);

  // The same on a referral with its inline household: errors of both levels.
  const ref = {
    ...newReferral({ received_on: 'yesterday' }),
    reasons: ['homelessness', 'boredom'],
    household: { ...newHousehold(), composition: 'alone' },
  };
  const r2 = await storesNothing(() => post('/v1/referrals', ref, tok.coord));
  assertProblem(r2, 422, { fields: ['/received_on', '/household/composition'] });
  assert.ok(r2.json.errors.some((e) => e.field.startsWith('/reasons')), show(r2));
});

test('malformed JSON answers 400, stores nothing', async () => {
  const res = await storesNothing(() =>
    svc.api('POST', '/v1/referrals', {
      body: '{"platform": "artois", "received_on": ',
      raw: true,
      token: tok.coord,
      headers: { 'Content-Type': 'application/json' },
    }),
  );
  assertProblem(res, 400);
  assert.equal(res.json.type, '/problems/bad-request');
  const res2 = await storesNothing(() =>
    svc.api('POST', '/v1/households', {
      body: "{'platform': 'artois'}",
      raw: true,
      token: tok.coord,
      headers: { 'Content-Type': 'application/json' },
    }),
  );
  assertProblem(res2, 400);
});

test('a text/plain body answers 415, stores nothing', async () => {
  const res = await storesNothing(() =>
    svc.api('POST', '/v1/referrals', {
      body: JSON.stringify(newReferral()),
      raw: true,
      token: tok.coord,
      headers: { 'Content-Type': 'text/plain' },
    }),
  );
  assertProblem(res, 415);
  assert.equal(res.json.type, '/problems/unsupported-media-type');
  const noType = await storesNothing(() =>
    svc.api('POST', '/v1/households', { body: JSON.stringify(newHousehold()), raw: true, token: tok.coord }),
  );
  assertProblem(noType, 415);
});

test(`a body over LDA_MAX_BODY_BYTES (${MAX_BODY}) answers 413, stores nothing`, async () => {
  const body = newReferral({ decision_note: 'é'.repeat(2500) }); // valid JSON, ~5 kB
  assert.ok(Buffer.byteLength(JSON.stringify(body)) > MAX_BODY);
  const res = await storesNothing(() => post('/v1/referrals', body, tok.coord));
  assertProblem(res, 413);
  assert.equal(res.json.type, '/problems/payload-too-large');
  // Just under the limit is parsed (and here valid).
  const small = newReferral({ decision_note: 'n'.repeat(3000) });
  assert.ok(Buffer.byteLength(JSON.stringify(small)) < MAX_BODY);
  const ok = await post('/v1/referrals', small, tok.coord);
  assert.equal(ok.status, 201, show(ok));
});

// ---------------------------------------------------------------------------- (c) If-Match

test('two PATCHes with the same If-Match: one 200, one 412; the ETag changes', async () => {
  const h = await createHousehold(newHousehold());
  const id = h.json.id;
  const etag0 = h.headers.etag;
  assert.ok(etag0);
  const got = await svc.api('GET', `/v1/households/${id}`, { token: tok.coord });
  assert.equal(got.headers.etag, etag0, 'GET right after POST: same ETag');

  const [a, b] = await Promise.all([
    svc.api('PATCH', `/v1/households/${id}`, {
      body: { housing_situation: 'street' },
      token: tok.coord,
      headers: { 'If-Match': etag0 },
    }),
    svc.api('PATCH', `/v1/households/${id}`, {
      body: { housing_situation: 'squat' },
      token: tok.coord,
      headers: { 'If-Match': etag0 },
    }),
  ]);
  const statuses = [a.status, b.status].sort();
  assert.deepEqual(statuses, [200, 412], `got ${show(a)} and ${show(b)}`);
  const winner = a.status === 200 ? a : b;
  const loser = a.status === 200 ? b : a;
  assertProblem(loser, 412);
  assert.equal(loser.json.type, '/problems/precondition-failed');
  assert.ok(winner.headers.etag);
  assert.notEqual(winner.headers.etag, etag0, 'ETag changes after PATCH');

  const now = await svc.api('GET', `/v1/households/${id}`, { token: tok.coord });
  assert.equal(now.json.housing_situation, winner.json.housing_situation, 'the 412 changed nothing');
  assert.equal(now.headers.etag, winner.headers.etag);

  // A stale ETag, sequentially: 412 and nothing changes.
  const stale = await svc.api('PATCH', `/v1/households/${id}`, {
    body: { children: 2, composition: 'single_parent' },
    token: tok.coord,
    headers: { 'If-Match': etag0 },
  });
  assertProblem(stale, 412);
  const still = await svc.api('GET', `/v1/households/${id}`, { token: tok.coord });
  assert.equal(still.json.children, 0);
  assert.equal(still.headers.etag, winner.headers.etag);

  // Without If-Match: applied.
  const free = await svc.api('PATCH', `/v1/households/${id}`, {
    body: { children: 2, composition: 'single_parent' },
    token: tok.coord,
  });
  assert.equal(free.status, 200, show(free));
  assert.equal(free.json.children, 2);
  assert.equal(free.json.composition, 'single_parent');
  assert.notEqual(free.headers.etag, winner.headers.etag);
  assert.equal(free.json.head.last_name, h.json.head.last_name, 'untouched fields kept');

  // With the current ETag: applied.
  const fresh = await svc.api('PATCH', `/v1/households/${id}`, {
    body: { vulnerabilities: ['eviction'] },
    token: tok.coord,
    headers: { 'If-Match': free.headers.etag },
  });
  assert.equal(fresh.status, 200, show(fresh));
  assert.deepEqual(fresh.json.vulnerabilities, ['eviction']);

  // If-Match: * matches any version.
  const star = await svc.api('PATCH', `/v1/households/${id}`, {
    body: { resources: ['rsa', 'salary'] },
    token: tok.coord,
    headers: { 'If-Match': '*' },
  });
  assert.equal(star.status, 200, show(star));
  assert.deepEqual([...star.json.resources].sort(), ['rsa', 'salary']);

  // head sub-fields merge: the others are kept; the person_key follows the new name.
  const renamed = await svc.api('PATCH', `/v1/households/${id}`, {
    body: { head: { first_name: 'Camilla' } },
    token: tok.coord,
  });
  assert.equal(renamed.status, 200, show(renamed));
  assert.equal(renamed.json.head.first_name, 'Camilla');
  assert.equal(renamed.json.head.last_name, h.json.head.last_name);
  assert.equal(renamed.json.head.birth_date, h.json.head.birth_date);
  assert.equal(renamed.json.head.sex, h.json.head.sex);
  assert.notEqual(renamed.json.person_key, h.json.person_key);

  // A 422 PATCH (null for a required field, an unknown field) changes nothing.
  for (const body of [{ composition: null }, { adults: 1, shoe_size: 42 }, { head: { birth_date: null } }]) {
    const bad = await svc.api('PATCH', `/v1/households/${id}`, { body, token: tok.coord });
    assertProblem(bad, 422);
  }
  const last = await svc.api('GET', `/v1/households/${id}`, { token: tok.coord });
  assert.deepEqual(last.json, renamed.json);
  assert.equal(last.headers.etag, renamed.headers.etag);
});

test('If-Match on referrals too: stale answers 412, a transition makes an ETag stale', async () => {
  const r = await createReferral(newReferral());
  const p1 = await svc.api('PATCH', `/v1/referrals/${r.json.id}`, {
    body: { decision_note: 'Première note.' },
    token: tok.coord,
    headers: { 'If-Match': r.headers.etag },
  });
  assert.equal(p1.status, 200, show(p1));
  assert.notEqual(p1.headers.etag, r.headers.etag);
  const p2 = await svc.api('PATCH', `/v1/referrals/${r.json.id}`, {
    body: { decision_note: 'Seconde note.' },
    token: tok.coord,
    headers: { 'If-Match': r.headers.etag },
  });
  assertProblem(p2, 412);
  const g = await svc.api('GET', `/v1/referrals/${r.json.id}`, { token: tok.coord });
  assert.equal(g.json.decision_note, 'Première note.');

  // A transition changes the referral: an ETag read before it is stale.
  const t = await transition(r.json.id, 'assessing', daysAgo(1));
  assert.equal(t.status, 200, show(t));
  assert.notEqual(t.headers.etag, p1.headers.etag);
  const p3 = await svc.api('PATCH', `/v1/referrals/${r.json.id}`, {
    body: { decision_note: 'Trop tard.' },
    token: tok.coord,
    headers: { 'If-Match': p1.headers.etag },
  });
  assertProblem(p3, 412);
});

// ---------------------------------------------------------------------------- (d) duplicates

test('the same person (case, accents, spaces, hyphens, apostrophes folded) answers 409 with existing_id on the same platform', async () => {
  const birth = '1988-02-03';
  const first = await createHousehold(
    newHousehold({ head: { first_name: 'Léa-Marie', last_name: "D'Hôtel", birth_date: birth } }),
  );
  const firstId = first.json.id;
  for (const [first_name, last_name] of [
    ['LEA MARIE', 'DHOTEL'],
    ['lea marie', "d'hotel"],
    ['  Léa  Marie ', 'D Hôtel'],
    ['LÉA-MARIE', 'D’HÔTEL'],
  ]) {
    const dup = await storesNothing(() =>
      post('/v1/households', newHousehold({ head: { first_name, last_name, birth_date: birth } }), tok.coord),
    );
    assertProblem(dup, 409);
    assert.equal(dup.json.type, '/problems/conflict');
    assert.equal(dup.json.existing_id, firstId, `${first_name} ${last_name}`);
  }
  // Another birth date: another person.
  const other = await post(
    '/v1/households',
    newHousehold({ head: { first_name: 'Lea Marie', last_name: 'Dhotel', birth_date: '1988-02-04' } }),
    tok.coord,
  );
  assert.equal(other.status, 201, show(other));
  // Another platform: 201.
  const lens = await post(
    '/v1/households',
    newHousehold({ platform: 'lens_henin', head: { first_name: 'LEA MARIE', last_name: 'DHOTEL', birth_date: birth } }),
    tok.coordLens,
  );
  assert.equal(lens.status, 201, show(lens));
  assert.notEqual(lens.json.id, firstId);
  assert.equal(lens.json.person_key, first.json.person_key, 'same person, same person_key');

  // A PATCH that makes another household the same person: 409 with existing_id.
  const clash = await svc.api('PATCH', `/v1/households/${other.json.id}`, {
    body: { head: { birth_date: birth } },
    token: tok.coord,
  });
  assertProblem(clash, 409);
  assert.equal(clash.json.existing_id, firstId);

  // A referral with an inline household for the known person is attached to it (no 409).
  const before = await counts();
  const ref = await createReferral(
    newReferral({
      household: newHousehold({ head: { first_name: 'lea-marie', last_name: 'D HOTEL', birth_date: birth } }),
    }),
    tok.partner,
  );
  const after = await counts();
  assert.equal(after.household, before.household, 'no new household');
  assert.equal(after.referral, before.referral + 1);
  const full = await svc.api('GET', `/v1/referrals/${ref.json.id}`, { token: tok.coord });
  assert.equal(full.json.household, firstId);
  const kept = await svc.api('GET', `/v1/households/${firstId}`, { token: tok.coord });
  assert.equal(kept.json.head.first_name, 'Léa-Marie', 'the inline data are not applied');
});

// ---------------------------------------------------------------------------- (e) erasure

test('erasure: admin DELETE 204 nulls identity and keeps the row; coordinator 403; the person can come again', async () => {
  const body = newHousehold({
    external_ref: 'SIAO-2025-000123',
    head: { first_name: 'Gaspard', last_name: uniqueName('Efface'), birth_date: '1975-09-30', sex: 'male' },
  });
  const h = await createHousehold(body);
  const id = h.json.id;
  const ref = await createReferral(newReferral({ household: id }));

  const denied = await svc.api('DELETE', `/v1/households/${id}`, { token: tok.coord });
  assertProblem(denied, 403);
  const partnerDenied = await svc.api('DELETE', `/v1/households/${id}`, { token: tok.partner });
  assertProblem(partnerDenied, 403);
  const intact = await svc.api('GET', `/v1/households/${id}`, { token: tok.coord });
  assert.equal(intact.json.head.last_name, body.head.last_name, '403 changed nothing');
  assert.equal(intact.json.erased_at, null);

  const del = await svc.api('DELETE', `/v1/households/${id}`, { token: tok.admin });
  assert.equal(del.status, 204, show(del));
  assert.equal(del.text, '');

  const g = await svc.api('GET', `/v1/households/${id}`, { token: tok.admin });
  assert.equal(g.status, 200, show(g));
  assert.equal(g.json.head.last_name, null);
  assert.equal(g.json.head.first_name, null);
  assert.equal(g.json.head.birth_date, null);
  assert.equal(g.json.external_ref, null);
  assert.equal(g.json.person_key, null);
  assert.ok(g.json.erased_at, 'erased_at is set');
  assert.ok(!Number.isNaN(Date.parse(g.json.erased_at)));
  assert.equal(g.json.head.sex, 'male', 'de-identified data kept');
  assert.equal(g.json.housing_situation, body.housing_situation);
  assert.ok(!g.text.includes(body.head.last_name) && !g.text.includes('1975-09-30'));
  // In the database too, not only in the answer.
  const { rows } = await svc.sql(
    `SELECT head_last_name, head_first_name, head_birth_date, external_ref, person_key, erased_at
       FROM household WHERE id = $1`,
    [id],
  );
  assert.equal(rows.length, 1, 'the row is kept');
  assert.deepEqual(
    { ...rows[0], erased_at: rows[0].erased_at !== null },
    {
      head_last_name: null,
      head_first_name: null,
      head_birth_date: null,
      external_ref: null,
      person_key: null,
      erased_at: true,
    },
  );
  // Its referral is kept.
  const r = await svc.api('GET', `/v1/referrals/${ref.json.id}`, { token: tok.coord });
  assert.equal(r.status, 200, show(r));
  assert.equal(r.json.household, id);

  // Erasing again: 204, the first erased_at kept.
  const again = await svc.api('DELETE', `/v1/households/${id}`, { token: tok.admin });
  assert.equal(again.status, 204, show(again));
  const g2 = await svc.api('GET', `/v1/households/${id}`, { token: tok.admin });
  assert.equal(g2.json.erased_at, g.json.erased_at);
  // An erased household can no longer change.
  const patch = await svc.api('PATCH', `/v1/households/${id}`, { body: { children: 1 }, token: tok.coord });
  assertProblem(patch, 409);

  // The same person can be created again on the platform.
  const back = await post('/v1/households', body, tok.coord);
  assert.equal(back.status, 201, show(back));
  assert.notEqual(back.json.id, id);
  // …and a referral for that person is attached to the new household, not the erased one.
  const inline = await createReferral(newReferral({ household: { ...body } }), tok.partner);
  const inlineFull = await svc.api('GET', `/v1/referrals/${inline.json.id}`, { token: tok.coord });
  assert.equal(inlineFull.json.household, back.json.id);

  // Audited as an erasure.
  const audit = await auditOf(id);
  assert.ok(
    audit.some((a) => a.action === 'erase' && a.token_id === tokId.admin && a.status === 204),
    JSON.stringify(audit),
  );
  assert.ok(!audit.some((a) => a.action === 'erase' && a.token_id === tokId.coord), 'a 403 is no erasure');

  // Unknown id: 404.
  const missing = await svc.api('DELETE', '/v1/households/00000000-0000-4000-8000-000000000000', { token: tok.admin });
  assertProblem(missing, 404);
});

// ---------------------------------------------------------------------------- (f) partners

test('partners: CRUD, scope (403 outside), referral partner checks', async () => {
  const c = await post('/v1/partners', { name: 'Mission locale de Lens', kind: 'mission_locale', platform: 'artois' }, tok.coord);
  assert.equal(c.status, 201, show(c));
  const id = c.json.id;
  assert.equal(c.headers.location, `/v1/partners/${id}`);
  assert.ok(c.headers.etag);
  assert.equal(c.json.name, 'Mission locale de Lens');
  assert.equal(c.json.kind, 'mission_locale');
  assert.equal(c.json.platform, 'artois');

  const g = await svc.api('GET', `/v1/partners/${id}`, { token: tok.coord });
  assert.equal(g.status, 200, show(g));
  assert.deepEqual(g.json, c.json);
  const gp = await svc.api('GET', `/v1/partners/${id}`, { token: tok.partner });
  assert.equal(gp.status, 200, show(gp));

  const p = await svc.api('PATCH', `/v1/partners/${id}`, {
    body: { name: 'Mission locale de Béthune' },
    token: tok.coord,
    headers: { 'If-Match': g.headers.etag },
  });
  assert.equal(p.status, 200, show(p));
  assert.equal(p.json.name, 'Mission locale de Béthune');
  assert.equal(p.json.kind, 'mission_locale');
  assert.notEqual(p.headers.etag, g.headers.etag);
  const stale = await svc.api('PATCH', `/v1/partners/${id}`, {
    body: { name: 'Autre' },
    token: tok.coord,
    headers: { 'If-Match': g.headers.etag },
  });
  assertProblem(stale, 412);

  // Listed (by name), for the coordinator and the partner of the platform.
  for (const t of [tok.coord, tok.partner, tok.admin]) {
    const l = await svc.api('GET', '/v1/partners?platform=artois&limit=500', { token: t });
    assert.equal(l.status, 200, show(l));
    assert.ok(l.json.items.some((i) => i.id === id && i.name === 'Mission locale de Béthune'));
    for (const i of l.json.items) assert.equal(i.platform, 'artois');
  }
  const byKind = await svc.api('GET', '/v1/partners?kind=mission_locale&limit=500', { token: tok.coord });
  assert.ok(byKind.json.items.every((i) => i.kind === 'mission_locale'));
  assert.ok(byKind.json.items.some((i) => i.id === id));

  // A coordinator may not create or move a partner outside its platforms: 403, nothing stored.
  const out = await storesNothing(() =>
    post('/v1/partners', { name: 'CCAS de Boulogne', kind: 'ccas', platform: 'boulonnais' }, tok.coord),
  );
  assertProblem(out, 403);
  const move = await svc.api('PATCH', `/v1/partners/${id}`, { body: { platform: 'boulonnais' }, token: tok.coord });
  assertProblem(move, 403);
  const notMoved = await svc.api('GET', `/v1/partners/${id}`, { token: tok.coord });
  assert.equal(notMoved.json.platform, 'artois');
  // Partners may read but not write partners.
  const byPartner = await storesNothing(() =>
    post('/v1/partners', { name: 'X', kind: 'ccas', platform: 'artois' }, tok.partner),
  );
  assertProblem(byPartner, 403);

  // A partner of another platform is invisible to the coordinator (404, not listed).
  const boul = await post('/v1/partners', { name: 'CCAS de Boulogne', kind: 'ccas', platform: 'boulonnais' }, tok.admin);
  assert.equal(boul.status, 201, show(boul));
  const hidden = await svc.api('GET', `/v1/partners/${boul.json.id}`, { token: tok.coord });
  assertProblem(hidden, 404);
  const all = await svc.api('GET', '/v1/partners?limit=500', { token: tok.coord });
  assert.ok(!all.json.items.some((i) => i.id === boul.json.id));
  // A department-wide partner (no platform): visible to the coordinator, changed by admin only.
  const dept = await post('/v1/partners', { name: 'UDAF du Pas-de-Calais', kind: 'guardianship' }, tok.admin);
  assert.equal(dept.status, 201, show(dept));
  assert.equal(dept.json.platform, null);
  const seen = await svc.api('GET', `/v1/partners/${dept.json.id}`, { token: tok.coord });
  assert.equal(seen.status, 200, show(seen));
  const deptPatch = await svc.api('PATCH', `/v1/partners/${dept.json.id}`, { body: { name: 'UDAF 62' }, token: tok.coord });
  assertProblem(deptPatch, 403);

  // Referral naming an unknown partner: 422 "/partner", nothing stored.
  const unknown = await storesNothing(() =>
    post(
      '/v1/referrals',
      { ...newReferral({ referrer_kind: undefined, referrer_name: undefined }), partner: '00000000-0000-4000-8000-000000000000' },
      tok.coord,
    ),
  );
  assertProblem(unknown, 422, { fields: ['/partner'] });
  // partner and referrer_kind together: 422, nothing stored.
  const both = await storesNothing(() =>
    post('/v1/referrals', { ...newReferral({ referrer_name: undefined }), partner: id, referrer_kind: 'ccas' }, tok.coord),
  );
  assertProblem(both, 422);
  assert.ok(
    both.json.errors.some((e) => ['/partner', '/referrer_kind', '/referrer_name', ''].includes(e.field)),
    show(both),
  );
  // With the registered partner alone: 201, and the partner filter finds it.
  const good = await createReferral({ ...newReferral({ referrer_kind: undefined, referrer_name: undefined }), partner: id });
  const filtered = await svc.api('GET', `/v1/referrals?partner=${id}&limit=500`, { token: tok.coord });
  assert.equal(filtered.status, 200, show(filtered));
  assert.deepEqual(filtered.json.items.map((i) => i.id), [good.json.id]);
});

// ---------------------------------------------------------------------------- (g) identity

test('identity never reaches a partner token (create, list, get)', async () => {
  const head = { last_name: 'Quaglieri-Xuereb', first_name: 'Zéphyrine', birth_date: '1979-11-23', sex: 'female' };
  const created = await createReferral(newReferral({ household: newHousehold({ head, external_ref: 'DOSS-77-ZQX' }) }), tok.partner);
  const id = created.json.id;
  const full = await svc.api('GET', `/v1/referrals/${id}`, { token: tok.coord });
  const hh = await svc.api('GET', `/v1/households/${full.json.household}`, { token: tok.coord });
  assert.equal(hh.json.head.first_name, 'Zéphyrine');
  const secrets = ['Quaglieri', 'Xuereb', 'Zéphyrine', 'Zephyrine', '1979-11-23', 'DOSS-77-ZQX', hh.json.person_key];

  const seen = [created];
  seen.push(await svc.api('GET', `/v1/referrals/${id}`, { token: tok.partner }));
  seen.push(await svc.api('GET', '/v1/referrals?limit=500', { token: tok.partner }));
  seen.push(await svc.api('GET', `/v1/referrals?household=${full.json.household}`, { token: tok.partner }));
  for (const res of seen) {
    assert.equal(res.status === 200 || res.status === 201, true, show(res));
    for (const s of secrets) {
      assert.ok(!res.text.toLowerCase().includes(s.toLowerCase()), `partner response leaks ${s}: ${show(res)}`);
    }
  }
  const listed = seen[2].json.items;
  assert.ok(listed.some((i) => i.id === id));
  for (const i of listed) assert.deepEqual(Object.keys(i).sort(), STATUS_VIEW_KEYS);

  // The household itself, its events and measures: not for partners.
  assertProblem(await svc.api('GET', `/v1/households/${full.json.household}`, { token: tok.partner }), 403);
  assertProblem(await svc.api('GET', '/v1/households', { token: tok.partner }), 403);
  assertProblem(await svc.api('GET', `/v1/referrals/${id}/events`, { token: tok.partner }), 403);
  assertProblem(await svc.api('GET', `/v1/referrals/${id}/measures`, { token: tok.partner }), 403);

  // Another partner token of the same platform sees nothing of it.
  assertProblem(await svc.api('GET', `/v1/referrals/${id}`, { token: tok.partner2 }), 404);
  const other = await svc.api('GET', '/v1/referrals?limit=500', { token: tok.partner2 });
  assert.equal(other.status, 200, show(other));
  assert.ok(!other.json.items.some((i) => i.id === id));

  // A partner must give the household inline; another platform is refused.
  const byId = await storesNothing(() =>
    post('/v1/referrals', newReferral({ household: full.json.household }), tok.partner),
  );
  assert.ok([403, 422].includes(byId.status), show(byId));
  const lens = await storesNothing(() => post('/v1/referrals', newReferral({ platform: 'lens_henin' }), tok.partner));
  assertProblem(lens, 403);
  // A known person sent by the partner: attached, still no identity in the answer.
  const again = await createReferral(newReferral({ household: newHousehold({ head }) }), tok.partner);
  for (const s of secrets) assert.ok(!again.text.toLowerCase().includes(s.toLowerCase()));
});
