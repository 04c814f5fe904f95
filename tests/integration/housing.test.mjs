// The housing offer over HTTP (docs/prevention-and-housing.md): offers (validation, scope,
// filters, what they hold today, capacity and availability kept for their placements),
// placements (a referral counted as housed, one place at a time, capacity, platform, dates),
// the measure that keeps a placed referral housed, fluidity meetings, batch push of offers and
// placements, siao read-back and audit.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startService } from '../lib/service.mjs';
import { show } from '../lib/http.mjs';
import { assertProblem } from '../lib/problems.mjs';

let svc;
const tok = {};
const tokId = {};

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
function letters(prefix) {
  const a = 'abcdefghijklmnopqrstuvwxyz';
  let s = '';
  for (const b of randomBytes(10)) s += a[b % 26];
  return `${prefix}${s}`;
}
const call = (method, path, token, body, headers) => svc.api(method, path, { token, body, headers });
async function created(path, body, token = tok.coord) {
  const res = await call('POST', path, token, body);
  assert.equal(res.status, 201, `${path}: ${show(res)}`);
  return res.json;
}
const TABLES = ['housing_offer', 'placement', 'fluidity_meeting', 'fluidity_presentation', 'measure'];
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
async function auditOf(id) {
  return (await call('GET', `/v1/audit-events?resource_id=${id}&limit=500`, tok.admin)).json.items;
}

function offerBody(over = {}) {
  return { platform: 'artois', kind: 'sas_flat', landlord_kind: 'social', typology: 't1', capacity: 1, available_from: daysAgo(400), label: 'Logement SAS — Béthune', ...over };
}

/** A referral of `platform` received `receivedAgo` days ago; with `housed`, a measure whose
 * housing was accessed. */
async function referral(platform = 'artois', { housed = true, receivedAgo = 300, token } = {}) {
  const t = token ?? (platform === 'artois' ? tok.coord : tok.coordLens);
  const r = await created('/v1/referrals', {
    household: {
      platform, composition: 'single_person', adults: 1, children: 0,
      head: { last_name: letters('Nom'), first_name: 'Jordan', birth_date: '1999-04-11', sex: 'male' },
      housing_situation: 'street',
    },
    platform, referrer_kind: 'siao', referrer_name: 'SIAO 62', received_on: daysAgo(receivedAgo), reasons: ['homelessness'],
  }, t);
  if (housed) {
    r.measure = await created(`/v1/referrals/${r.id}/measures`, {
      kind: 'vial', operator: 'La Vie Active', started_on: daysAgo(receivedAgo - 10),
      housing_outcome: 'accessed', housing_type: 'sas_housing', housing_on: daysAgo(receivedAgo - 20),
    }, t);
  }
  return r;
}

before(async () => {
  svc = await startService();
  const specs = {
    admin: ['admin', {}],
    coord: ['coordinator', { platforms: ['artois'] }],
    coordLens: ['coordinator', { platforms: ['lens_henin'] }],
    partner: ['partner', { platforms: ['artois'] }],
    siao: ['siao', { platforms: ['artois'], source: 'si-log' }],
    analyst: ['analyst', {}],
  };
  for (const [label, [role, opts]] of Object.entries(specs)) tok[label] = await svc.createToken(role, { ...opts, name: `hous-${label}` });
  const res = await call('GET', '/v1/tokens?limit=500', tok.admin);
  for (const label of Object.keys(specs)) tokId[label] = res.json.items.find((i) => i.name === `hous-${label}`).id;
});

after(async () => {
  await svc?.stop();
});

// ---------------------------------------------------------------------------------------------
// offers

test('offers: created, read, listed with filters, changed; validation lists every error and stores nothing', async () => {
  const res = await call('POST', '/v1/housing-offers', tok.coord, offerBody({ kind: 'youth_shared_flat', typology: 'room', capacity: 3, landlord_kind: 'private' }));
  assert.equal(res.status, 201, show(res));
  assert.equal(res.headers.location, `/v1/housing-offers/${res.json.id}`);
  assert.deepEqual([res.json.kind, res.json.typology, res.json.capacity, res.json.occupied, res.json.available_to], ['youth_shared_flat', 'room', 3, 0, null]);
  const g = await call('GET', `/v1/housing-offers/${res.json.id}`, tok.coord);
  assert.deepEqual(g.json, res.json);
  assertProblem(await storesNothing(() => call('POST', '/v1/housing-offers', tok.coord, { ...offerBody({ kind: 'hotel', typology: 't9', capacity: 0, landlord_kind: 'state', available_to: daysAgo(500) }), rooms: 2 })), 422, { fields: ['/kind', '/typology', '/capacity', '/landlord_kind', '/rooms'] });
  assertProblem(await storesNothing(() => call('POST', '/v1/housing-offers', tok.coord, offerBody({ available_to: daysAgo(500) }))), 422, { fields: ['/available_to'] });
  assertProblem(await storesNothing(() => call('POST', '/v1/housing-offers', tok.coord, offerBody({ platform: 'lens_henin' }))), 403);
  assertProblem(await call('POST', '/v1/housing-offers', tok.partner, offerBody()), 403);
  assertProblem(await call('GET', '/v1/housing-offers', tok.analyst), 403);
  const sas = await created('/v1/housing-offers', offerBody({ available_to: daysAgo(10) }));
  let list = await call('GET', '/v1/housing-offers?kind=sas_flat&limit=500', tok.coord);
  assert.ok(list.json.items.some((o) => o.id === sas.id) && list.json.items.every((o) => o.kind === 'sas_flat'));
  list = await call('GET', `/v1/housing-offers?available_on=${daysAgo(5)}&limit=500`, tok.coord);
  assert.ok(!list.json.items.some((o) => o.id === sas.id) && list.json.items.some((o) => o.id === res.json.id));
  list = await call('GET', '/v1/housing-offers?typology=room&limit=500', tok.coord);
  assert.deepEqual(list.json.items.map((o) => o.id), [res.json.id]);
  assertProblem(await call('GET', '/v1/housing-offers?typology=t6', tok.coord), 422, { fields: ['typology'] });
  const p = await call('PATCH', `/v1/housing-offers/${sas.id}`, tok.coord, { available_to: null, label: null }, { 'If-Match': (await call('GET', `/v1/housing-offers/${sas.id}`, tok.coord)).headers.etag });
  assert.equal(p.status, 200, show(p));
  assert.deepEqual([p.json.available_to, p.json.label], [null, null]);
  assertProblem(await call('PATCH', `/v1/housing-offers/${sas.id}`, tok.coord, { platform: 'lens_henin' }), 422, { fields: ['/platform'] });
  assertProblem(await call('PATCH', `/v1/housing-offers/${sas.id}`, tok.coord, { capacity: 2 }, { 'If-Match': '"1"' }), 412);
  // another platform: as if it did not exist
  const lens = await created('/v1/housing-offers', offerBody({ platform: 'lens_henin' }), tok.coordLens);
  assertProblem(await call('GET', `/v1/housing-offers/${lens.id}`, tok.coord), 404);
  assertProblem(await storesNothing(() => call('PATCH', `/v1/housing-offers/${lens.id}`, tok.coord, { capacity: 2 })), 404);
  assert.ok(!(await call('GET', '/v1/housing-offers?limit=500', tok.coord)).json.items.some((o) => o.id === lens.id));
});

// ---------------------------------------------------------------------------------------------
// placements

test('a placement needs the referral housed, its platform, dates after the referral and within the offer', async () => {
  const offer = await created('/v1/housing-offers', offerBody({ available_from: daysAgo(250), available_to: daysAgo(100) }));
  const notHoused = await referral('artois', { housed: false });
  assertProblem(await storesNothing(() => call('POST', '/v1/placements', tok.coord, { referral: notHoused.id, offer: offer.id, entered_on: daysAgo(200) })), 409);
  const r = await referral();
  assertProblem(await storesNothing(() => call('POST', '/v1/placements', tok.coord, { referral: r.id, offer: offer.id, entered_on: daysAgo(301) })), 422, { fields: ['/entered_on'] });
  assertProblem(await storesNothing(() => call('POST', '/v1/placements', tok.coord, { referral: r.id, offer: offer.id, entered_on: daysAgo(90) })), 422, { fields: ['/entered_on'] });
  assertProblem(await storesNothing(() => call('POST', '/v1/placements', tok.coord, { referral: r.id, offer: offer.id, entered_on: addDays(TODAY, 1), left_on: daysAgo(300), exit_reason: 'gone' })), 422, { fields: ['/entered_on', '/left_on', '/exit_reason'] });
  assertProblem(await storesNothing(() => call('POST', '/v1/placements', tok.coord, { referral: r.id, offer: offer.id, entered_on: daysAgo(200), exit_reason: 'death' })), 422, { fields: ['/exit_reason'] });
  const lensOffer = await created('/v1/housing-offers', offerBody({ platform: 'lens_henin' }), tok.coordLens);
  assertProblem(await storesNothing(() => call('POST', '/v1/placements', tok.coord, { referral: r.id, offer: lensOffer.id, entered_on: daysAgo(200) })), 422, { fields: ['/offer'] });
  assertProblem(await storesNothing(() => call('POST', '/v1/placements', tok.admin, { referral: r.id, offer: lensOffer.id, entered_on: daysAgo(200) })), 422, { fields: ['/offer'] });
  const lensRef = await referral('lens_henin');
  assertProblem(await storesNothing(() => call('POST', '/v1/placements', tok.coord, { referral: lensRef.id, offer: offer.id, entered_on: daysAgo(200) })), 422, { fields: ['/referral'] });
  const res = await call('POST', '/v1/placements', tok.coord, { referral: r.id, offer: offer.id, entered_on: daysAgo(200) });
  assert.equal(res.status, 201, show(res));
  assert.equal(res.headers.location, `/v1/placements/${res.json.id}`);
  assert.deepEqual([res.json.referral, res.json.offer, res.json.platform, res.json.entered_on, res.json.left_on], [r.id, offer.id, 'artois', daysAgo(200), null]);
  assert.equal((await call('GET', `/v1/housing-offers/${offer.id}`, tok.coord)).json.occupied, 1);
  assert.deepEqual((await auditOf(res.json.id)).map((e) => [e.action, e.resource_type]), [['create', 'placement']]);
});

test('an offer holds no more households than its capacity; a household is in one place at a time', async () => {
  const flat = await created('/v1/housing-offers', offerBody({ kind: 'youth_shared_flat', typology: 'room', capacity: 2 }));
  const [a, b, c] = [await referral(), await referral(), await referral()];
  const pa = await created('/v1/placements', { referral: a.id, offer: flat.id, entered_on: daysAgo(200), left_on: daysAgo(100), exit_reason: 'permanent_housing' });
  await created('/v1/placements', { referral: b.id, offer: flat.id, entered_on: daysAgo(150) });
  // a third household while both are there: full
  assertProblem(await storesNothing(() => call('POST', '/v1/placements', tok.coord, { referral: c.id, offer: flat.id, entered_on: daysAgo(120) })), 409);
  // the day the first leaves, the room is free
  const pc = await created('/v1/placements', { referral: c.id, offer: flat.id, entered_on: daysAgo(100) });
  assert.equal((await call('GET', `/v1/housing-offers/${flat.id}`, tok.coord)).json.occupied, 2);
  // extending the first stay would overfill it
  assertProblem(await storesNothing(() => call('PATCH', `/v1/placements/${pa.id}`, tok.coord, { left_on: daysAgo(99) })), 409);
  // c is placed: not elsewhere at the same time
  const other = await created('/v1/housing-offers', offerBody());
  assertProblem(await storesNothing(() => call('POST', '/v1/placements', tok.coord, { referral: c.id, offer: other.id, entered_on: daysAgo(50) })), 409);
  // once c has left, it can move
  const left = await call('PATCH', `/v1/placements/${pc.id}`, tok.coord, { left_on: daysAgo(50), exit_reason: 'moved_elsewhere' });
  assert.equal(left.status, 200, show(left));
  assert.equal((await call('POST', '/v1/placements', tok.coord, { referral: c.id, offer: other.id, entered_on: daysAgo(50) })).status, 201);
  // the offer keeps room and time for its placements
  assertProblem(await storesNothing(() => call('PATCH', `/v1/housing-offers/${flat.id}`, tok.coord, { capacity: 1 })), 422, { fields: ['/capacity'] });
  assertProblem(await storesNothing(() => call('PATCH', `/v1/housing-offers/${flat.id}`, tok.coord, { available_from: daysAgo(180), available_to: daysAgo(160) })), 422, { fields: ['/available_from', '/available_to'] });
  assert.equal((await call('PATCH', `/v1/housing-offers/${flat.id}`, tok.coord, { capacity: 3 })).status, 200);
  // listing: by offer, by referral, current or not
  const byOffer = await call('GET', `/v1/placements?offer=${flat.id}&limit=500`, tok.coord);
  assert.equal(byOffer.json.items.length, 3);
  const current = await call('GET', `/v1/placements?offer=${flat.id}&current=true`, tok.coord);
  assert.deepEqual(current.json.items.map((p) => p.referral), [b.id]);
  const past = await call('GET', `/v1/placements?offer=${flat.id}&current=false`, tok.coord);
  assert.equal(past.json.items.length, 2);
  assert.equal((await call('GET', `/v1/placements?referral=${c.id}`, tok.coord)).json.items.length, 2);
  assertProblem(await call('PATCH', `/v1/placements/${pa.id}`, tok.coord, { offer: other.id, referral: c.id }), 422, { fields: ['/offer', '/referral'] });
  assertProblem(await call('GET', `/v1/placements/${pa.id}`, tok.coordLens), 404);
  assertProblem(await call('GET', '/v1/placements', tok.partner), 403);
});

test('concurrent placements in the last place: exactly one gets it', async () => {
  const offer = await created('/v1/housing-offers', offerBody());
  const refs = [];
  for (let i = 0; i < 6; i += 1) refs.push(await referral());
  const answers = await Promise.all(refs.map((r) => call('POST', '/v1/placements', tok.coord, { referral: r.id, offer: offer.id, entered_on: daysAgo(100) })));
  assert.deepEqual(answers.map((a) => a.status).sort(), [201, 409, 409, 409, 409, 409], answers.map(show).join('\n'));
  const n = await svc.sql('SELECT count(*)::int AS n FROM placement WHERE offer_id = $1', [offer.id]);
  assert.equal(n.rows[0].n, 1);
  // one household sent to four places at once: it gets one
  const r = await referral();
  const offers = [];
  for (let i = 0; i < 4; i += 1) offers.push(await created('/v1/housing-offers', offerBody({ capacity: 5 })));
  const tries = await Promise.all(offers.map((o) => call('POST', '/v1/placements', tok.coord, { referral: r.id, offer: o.id, entered_on: daysAgo(90) })));
  assert.deepEqual(tries.map((a) => a.status).sort(), [201, 409, 409, 409], tries.map(show).join('\n'));
  // and in batch, concurrently with the single-record route: still one place each
  const flat = await created('/v1/housing-offers', offerBody());
  const [x, y] = [await referral(), await referral()];
  const both = await Promise.all([
    call('POST', '/v1/placements', tok.coord, { referral: x.id, offer: flat.id, entered_on: daysAgo(80) }),
    call('POST', '/v1/placements/batch?source=concurrent', tok.admin, [{ external_id: 'CC-1', referral: y.id, offer: flat.id, entered_on: daysAgo(80) }]),
  ]);
  const placed = (await svc.sql('SELECT count(*)::int AS n FROM placement WHERE offer_id = $1', [flat.id])).rows[0].n;
  assert.equal(placed, 1, both.map(show).join('\n'));
});

test('a placed referral keeps a measure with its housing accessed or maintained', async () => {
  const r = await referral();
  const offer = await created('/v1/housing-offers', offerBody());
  await created('/v1/placements', { referral: r.id, offer: offer.id, entered_on: daysAgo(280) });
  const fp = await svc.sql('SELECT housing_outcome FROM measure WHERE id = $1', [r.measure.id]);
  let res = await call('PATCH', `/v1/measures/${r.measure.id}`, tok.coord, { housing_outcome: 'none', housing_type: null, housing_on: null });
  assertProblem(res, 409);
  assert.deepEqual((await svc.sql('SELECT housing_outcome FROM measure WHERE id = $1', [r.measure.id])).rows, fp.rows);
  res = await call('PATCH', `/v1/measures/${r.measure.id}`, tok.coord, { housing_outcome: 'maintained' });
  assert.equal(res.status, 200, show(res));
  // with another measure housed, the first may change
  await created(`/v1/referrals/${r.id}/measures`, { kind: 'adsl', operator: 'APSA', started_on: daysAgo(100), housing_outcome: 'accessed', housing_type: 'social_housing', housing_on: daysAgo(90) });
  res = await call('PATCH', `/v1/measures/${r.measure.id}`, tok.coord, { housing_outcome: 'none', housing_type: null, housing_on: null });
  assert.equal(res.status, 200, show(res));
});

// ---------------------------------------------------------------------------------------------
// fluidity meetings

test('fluidity meetings: landlords, households presented of the platform, proposals made and accepted', async () => {
  const [a, b] = [await referral(), await referral()];
  const late = await referral('artois', { housed: false, receivedAgo: 5 });
  const lens = await referral('lens_henin', { housed: false });
  const body = { platform: 'artois', held_on: daysAgo(20), landlords_present: ['Pas-de-Calais Habitat', 'Maisons & Cités'], households_presented: [a.id, b.id.toUpperCase()], proposals_made: 3, proposals_accepted: 2 };
  const res = await call('POST', '/v1/fluidity-meetings', tok.coord, body);
  assert.equal(res.status, 201, show(res));
  assert.equal(res.headers.location, `/v1/fluidity-meetings/${res.json.id}`);
  assert.deepEqual(res.json.households_presented, [a.id, b.id].sort());
  assert.deepEqual(res.json.landlords_present, ['Pas-de-Calais Habitat', 'Maisons & Cités']);
  assert.deepEqual([res.json.proposals_made, res.json.proposals_accepted], [3, 2]);
  assertProblem(await storesNothing(() => call('POST', '/v1/fluidity-meetings', tok.coord, { ...body, proposals_accepted: 4 })), 422, { fields: ['/proposals_accepted'] });
  assertProblem(await storesNothing(() => call('POST', '/v1/fluidity-meetings', tok.coord, { ...body, households_presented: [a.id], proposals_accepted: 2 })), 422, { fields: ['/proposals_accepted'] });
  assertProblem(await storesNothing(() => call('POST', '/v1/fluidity-meetings', tok.coord, { ...body, households_presented: [a.id, lens.id, late.id, 'nope', a.id] })), 422, { fields: ['/households_presented/1', '/households_presented/2', '/households_presented/3', '/households_presented/4'] });
  assertProblem(await storesNothing(() => call('POST', '/v1/fluidity-meetings', tok.coord, { ...body, held_on: addDays(TODAY, 7), proposals_made: -1, venue: 'x' })), 422, { fields: ['/held_on', '/proposals_made', '/venue'] });
  assertProblem(await storesNothing(() => call('POST', '/v1/fluidity-meetings', tok.coord, { ...body, platform: 'lens_henin', households_presented: [] })), 403);
  const g = await call('GET', `/v1/fluidity-meetings/${res.json.id}`, tok.coord);
  assert.deepEqual(g.json, res.json);
  const p = await call('PATCH', `/v1/fluidity-meetings/${res.json.id}`, tok.coord, { households_presented: [a.id], proposals_accepted: 1 }, { 'If-Match': g.headers.etag });
  assert.equal(p.status, 200, show(p));
  assert.deepEqual([p.json.households_presented, p.json.proposals_accepted, p.json.proposals_made], [[a.id], 1, 3]);
  assertProblem(await call('PATCH', `/v1/fluidity-meetings/${res.json.id}`, tok.coord, { proposals_accepted: 2 }), 422, { fields: ['/proposals_accepted'] });
  assertProblem(await call('PATCH', `/v1/fluidity-meetings/${res.json.id}`, tok.coord, { households_presented: [lens.id] }), 422, { fields: ['/households_presented/0'] });
  assertProblem(await call('PATCH', `/v1/fluidity-meetings/${res.json.id}`, tok.coord, { proposals_made: 1 }, { 'If-Match': g.headers.etag }), 412);
  const list = await call('GET', `/v1/fluidity-meetings?held_from=${daysAgo(30)}&held_to=${daysAgo(10)}&limit=500`, tok.coord);
  assert.deepEqual(list.json.items.map((m) => m.id), [res.json.id]);
  assert.equal((await call('GET', `/v1/fluidity-meetings?held_to=${daysAgo(21)}`, tok.coord)).json.items.length, 0);
  assertProblem(await call('GET', `/v1/fluidity-meetings/${res.json.id}`, tok.coordLens), 404);
  assertProblem(await call('GET', '/v1/fluidity-meetings', tok.siao), 403);
  assert.deepEqual((await auditOf(res.json.id)).map((e) => e.action), ['create', 'read', 'update', 'list']);
});

// ---------------------------------------------------------------------------------------------
// batch push

test('offers and placements in batch: by the source\'s ids, capacity across the batch, unchanged on replay, siao read-back', async () => {
  const hh = await call('POST', '/v1/households/batch', tok.siao, [1, 2, 3].map((i) => ({
    external_id: `HB-${i}`, platform: 'artois', composition: 'single_person', adults: 1, children: 0,
    head: { last_name: letters('Nom'), first_name: 'Kelly', birth_date: '2001-02-03', sex: 'female' }, housing_situation: 'street',
  })));
  assert.equal(hh.json.created, 3, show(hh));
  const rb = await call('POST', '/v1/referrals/batch', tok.siao, [1, 2, 3].map((i) => ({
    external_id: `RB-${i}`, household_external_id: `HB-${i}`, platform: 'artois', referrer_kind: 'siao', referrer_name: 'SIAO 62', received_on: daysAgo(300), reasons: ['homelessness'],
  })));
  assert.equal(rb.json.created, 3, show(rb));
  const refs = (await svc.sql("SELECT id::text, external_id FROM referral WHERE source = 'si-log' ORDER BY external_id")).rows;
  for (const r of refs.slice(0, 2)) {
    await created(`/v1/referrals/${r.id}/measures`, { kind: 'vial', operator: 'APSA', started_on: daysAgo(280), housing_outcome: 'accessed', housing_type: 'youth_flatshare', housing_on: daysAgo(250) });
  }
  let res = await call('POST', '/v1/housing-offers/batch', tok.siao, [
    { external_id: 'OB-1', platform: 'artois', kind: 'youth_shared_flat', landlord_kind: 'social', typology: 'room', capacity: 1, available_from: daysAgo(365) },
    { external_id: 'OB-2', platform: 'artois', kind: 'youth_shared_flat', landlord_kind: 'social', typology: 'rooms', capacity: 1, available_from: daysAgo(365) },
  ]);
  assert.deepEqual([res.json.created, res.json.rejected.map((r) => [r.external_id, r.errors[0].field])], [1, [['OB-2', '/typology']]]);
  res = await call('POST', '/v1/placements/batch', tok.siao, [
    { external_id: 'PB-1', referral_external_id: 'RB-1', offer_external_id: 'OB-1', entered_on: daysAgo(250) },
    { external_id: 'PB-2', referral_external_id: 'RB-2', offer_external_id: 'OB-1', entered_on: daysAgo(240) },
    { external_id: 'PB-3', referral_external_id: 'RB-3', offer_external_id: 'OB-1', entered_on: daysAgo(100) },
    { external_id: 'PB-4', referral_external_id: 'RB-9', offer_external_id: 'OB-1', entered_on: daysAgo(100) },
    { external_id: 'PB-5', referral_external_id: 'RB-2', offer_external_id: 'OB-7', entered_on: daysAgo(100) },
  ]);
  assert.equal(res.status, 200, show(res));
  assert.equal(res.json.created, 1);
  assert.deepEqual(res.json.rejected.map((r) => [r.external_id, r.errors[0].field]), [
    ['PB-2', ''], // the only room is taken (capacity counted across the batch)
    ['PB-3', ''], // RB-3 has no housing recorded
    ['PB-4', '/referral_external_id'],
    ['PB-5', '/offer_external_id'],
  ]);
  assert.match(res.json.rejected[0].errors[0].message, /full/);
  // a second room: the second household can come; capacity back to 1 is refused while both live there
  res = await call('POST', '/v1/housing-offers/batch', tok.siao, [{ external_id: 'OB-1', platform: 'artois', kind: 'youth_shared_flat', landlord_kind: 'social', typology: 'room', capacity: 2, available_from: daysAgo(365) }]);
  assert.equal(res.json.updated, 1, show(res));
  res = await call('POST', '/v1/placements/batch', tok.siao, [
    { external_id: 'PB-1', referral_external_id: 'RB-1', offer_external_id: 'OB-1', entered_on: daysAgo(250) },
    { external_id: 'PB-2', referral_external_id: 'RB-2', offer_external_id: 'OB-1', entered_on: daysAgo(240) },
  ]);
  assert.deepEqual([res.json.created, res.json.unchanged, res.json.rejected.length], [1, 1, 0]);
  res = await call('POST', '/v1/housing-offers/batch', tok.siao, [{ external_id: 'OB-1', platform: 'artois', kind: 'youth_shared_flat', landlord_kind: 'social', typology: 'room', capacity: 1, available_from: daysAgo(365) }]);
  assert.deepEqual(res.json.rejected.map((r) => r.errors[0].field), ['/capacity']);
  // a placement pushed before keeps its referral and its offer; its exit is pushed later
  res = await call('POST', '/v1/placements/batch', tok.siao, [
    { external_id: 'PB-1', referral_external_id: 'RB-2', offer_external_id: 'OB-1', entered_on: daysAgo(250) },
    { external_id: 'PB-2', referral_external_id: 'RB-2', offer_external_id: 'OB-1', entered_on: daysAgo(240), left_on: daysAgo(30), exit_reason: 'permanent_housing' },
  ]);
  assert.deepEqual([res.json.updated, res.json.rejected.map((r) => [r.external_id, r.errors[0].field])], [1, [['PB-1', '/offer']]]);
  // the siao token reads back its offers and placements, not the coordinators'
  const coordOffer = await created('/v1/housing-offers', offerBody());
  const offers = await call('GET', '/v1/housing-offers?limit=500', tok.siao);
  assert.deepEqual(offers.json.items.map((o) => o.occupied), [1]);
  assertProblem(await call('GET', `/v1/housing-offers/${coordOffer.id}`, tok.siao), 404);
  const placements = await call('GET', '/v1/placements?limit=500', tok.siao);
  assert.equal(placements.json.items.length, 2);
  assert.equal((await call('GET', `/v1/placements/${placements.json.items[0].id}`, tok.siao)).status, 200);
  assertProblem(await call('POST', '/v1/placements', tok.siao, { referral: refs[0].id, offer: coordOffer.id, entered_on: TODAY }), 403);
  assertProblem(await call('POST', '/v1/placements/batch', tok.coord, []), 403);
  const audit = await call('GET', `/v1/audit-events?token_id=${tokId.siao}&resource_type=placement&limit=500`, tok.admin);
  assert.deepEqual([...new Set(audit.json.items.map((e) => e.action))].sort(), ['batch', 'list', 'read']);
});
