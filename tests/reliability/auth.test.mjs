// Authentication and authorisation: every operation of openapi.yaml with no
// token, an unknown, revoked or expired one, malformed Authorization headers and tokens sent
// where they must not work (query string, cookie); every role — admin, coordinator, partner,
// siao, analyst, and scoped tokens of another platform — against every operation: an operation
// the role may never use answers 403 (BFLA), a resource outside the token's scope answers 404
// as if it did not exist, lists never show it and batches never write it (BOLA); and mass
// assignment of server-owned members (id, platform where it is fixed, timestamps, row version,
// person_key, audit fields) is refused, never applied. Every refusal leaves the database as
// it was and no audit event.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { SEEDED_AMI1_RULE, caseBody, caseRecord, householdBody, householdRecord, measureBody, meetingBody, offerBody, partnerBody, placementBody, referralBody, referralRecord, ruleBody, siaoRecord, uniqueLetters } from '../lib/data.mjs';
import { changedTables, fingerprint } from '../lib/fingerprint.mjs';
import { summary } from '../lib/load.mjs';
import { concretePath, deref, opKey, operations } from '../lib/openapi.mjs';
import { assertSane } from '../lib/problems.mjs';
import { request } from '../lib/http.mjs';
import { NO_RATE_LIMIT_ENV, startService } from '../lib/service.mjs';
import { sleep } from '../lib/wait.mjs';

let svc;
const tok = {}; // name → bearer token
const tokId = {}; // name → token id
const A = { code: 'artois' }; // resources on artois
const B = { code: 'lens_henin' }; // resources on lens_henin
const refusedIds = [];
const tally = new Map();

const ROLES = ['admin', 'coordinator', 'partner', 'siao', 'analyst'];
// The tokens every operation is tried with: the five roles on artois (admin and the analyst
// unscoped), and scoped tokens of lens_henin, which must not reach artois' data.
const TOKENS = ['admin', 'coordinator', 'partner', 'siao', 'analyst', 'coordinatorB', 'partnerB', 'siaoB', 'analystB'];
const roleOf = (name) => name.replace(/B$|2$/, '');
const homeOf = (name) => (name.endsWith('B') ? B : A);

function count(cat, status) {
  let t = tally.get(cat);
  if (!t) tally.set(cat, (t = { sent: 0, statuses: {} }));
  t.sent += 1;
  t.statuses[status] = (t.statuses[status] ?? 0) + 1;
}
const statusLine = (cat) => {
  const t = tally.get(cat) ?? { sent: 0, statuses: {} };
  return `${t.sent} requests (${Object.entries(t.statuses).map(([k, v]) => `${k}×${v}`).join(' ')})`;
};

/** A request through the harness (checked against openapi.yaml), no 5xx, clean problems. */
async function call(cat, method, path, { token, body, headers = {}, raw = false } = {}) {
  const res = await svc.api(method, path, { token, body, headers, raw });
  assertSane(res, `${cat}: ${method} ${path}`);
  count(cat, res.status);
  if (res.status >= 400) refusedIds.push(res.headers['x-request-id']);
  return res;
}

async function mustCreate(path, body, token = tok.admin) {
  const res = await call('setup', 'POST', path, { token, body });
  assert.equal(res.status, 201, `${path}: ${res.text}`);
  return res.json;
}

async function freshReferral(P) {
  return (await mustCreate('/v1/referrals', referralBody(householdBody(P.code), P.code))).id;
}

async function freshHousehold(P) {
  return (await mustCreate('/v1/households', householdBody(P.code))).id;
}

async function freshToken() {
  return (await mustCreate('/v1/tokens', { role: 'analyst', name: `jetable ${uniqueLetters()}` })).id;
}

/** Pushes one record of each kind as a siao token; returns the stored ids. */
async function pushAs(name, P) {
  const token = tok[name];
  const ext = `${name}-${uniqueLetters()}`;
  const h = await call('setup', 'POST', '/v1/households/batch', { token, body: [householdRecord(`H-${ext}`, { platform: P.code })] });
  assert.equal(h.json?.created, 1, h.text);
  const r = await call('setup', 'POST', '/v1/referrals/batch', {
    token,
    body: [referralRecord(`R-${ext}`, `H-${ext}`, { platform: P.code })],
  });
  assert.equal(r.json?.created, 1, r.text);
  const s = await call('setup', 'POST', '/v1/siao-requests/batch', { token, body: [siaoRecord(`S-${ext}`, { platform: P.code })] });
  assert.equal(s.json?.created, 1, s.text);
  const one = async (sql, v) => (await svc.sql(sql, [v])).rows[0].id;
  const referral = await one(`SELECT id::text FROM referral WHERE external_id = $1`, `R-${ext}`);
  // eviction prevention and the housing offer: a case, an offer and a placement of the source
  await mustCreate(`/v1/referrals/${referral}/measures`, measureBody());
  const pc = await call('setup', 'POST', '/v1/prevention-cases/batch', { token, body: [caseRecord(`C-${ext}`, `H-${ext}`, { platform: P.code })] });
  assert.equal(pc.json?.created, 1, pc.text);
  const po = await call('setup', 'POST', '/v1/housing-offers/batch', { token, body: [{ external_id: `O-${ext}`, ...offerBody({ platform: P.code, capacity: 50 }) }] });
  assert.equal(po.json?.created, 1, po.text);
  const pp = await call('setup', 'POST', '/v1/placements/batch', {
    token,
    body: [{ external_id: `P-${ext}`, referral_external_id: `R-${ext}`, offer_external_id: `O-${ext}`, entered_on: '2025-02-01' }],
  });
  assert.equal(pp.json?.created, 1, pp.text);
  return {
    ext,
    household: await one(`SELECT id::text FROM household WHERE external_ref = $1`, `H-${ext}`),
    referral,
    siaoRequest: await one(`SELECT id::text FROM siao_request WHERE external_id = $1`, `S-${ext}`),
    case: await one(`SELECT id::text FROM prevention_case WHERE external_id = $1`, `C-${ext}`),
    offer: await one(`SELECT id::text FROM housing_offer WHERE external_id = $1`, `O-${ext}`),
    placement: await one(`SELECT id::text FROM placement WHERE external_id = $1`, `P-${ext}`),
  };
}

/** A prevention case of P (created by the admin), with an action long enough ago for its
 * 6-month follow-up to be due. */
async function freshCase(P) {
  const id = (await mustCreate('/v1/prevention-cases', caseBody(householdBody(P.code), P.code))).id;
  await mustCreate(`/v1/prevention-cases/${id}/actions`, { kind: 'vej', done_on: '2025-01-15' });
  return id;
}

before(async () => {
  svc = await startService({ env: NO_RATE_LIMIT_ENV });
  tok.admin = await svc.createToken('admin', { name: 'auth-admin' });
  const viaApi = async (name, body) => {
    const t = await mustCreate('/v1/tokens', { name: `auth-${name}`, ...body });
    tok[name] = t.token;
    tokId[name] = t.id;
  };
  await viaApi('coordinator', { role: 'coordinator', platforms: ['artois'] });
  await viaApi('partner', { role: 'partner', platforms: ['artois'] });
  await viaApi('partner2', { role: 'partner', platforms: ['artois'] });
  await viaApi('siao', { role: 'siao', platforms: ['artois'], source: 'siao62' });
  await viaApi('analyst', { role: 'analyst' });
  await viaApi('coordinatorB', { role: 'coordinator', platforms: ['lens_henin'] });
  await viaApi('partnerB', { role: 'partner', platforms: ['lens_henin'] });
  // the same source as `siao`, on another platform: the source alone must not open artois
  await viaApi('siaoB', { role: 'siao', platforms: ['lens_henin'], source: 'siao62' });
  await viaApi('analystB', { role: 'analyst', platforms: ['lens_henin'] });
  await viaApi('revoked', { role: 'admin' });
  await viaApi('expired', { role: 'admin' });
  const del = await call('setup', 'DELETE', `/v1/tokens/${tokId.revoked}`, { token: tok.admin });
  assert.equal(del.status, 204, del.text);
  await svc.sql(`UPDATE api_token SET expires_at = now() - interval '1 minute' WHERE id = $1`, [tokId.expired]);
  tok.unknown = `lda_${randomBytes(32).toString('base64url')}`;

  for (const P of [A, B]) {
    P.partner = (await mustCreate('/v1/partners', partnerBody({ platform: P.code }))).id;
    P.household = await freshHousehold(P);
    P.referral = (await mustCreate('/v1/referrals', referralBody(P.household, P.code))).id;
    P.measure = (await mustCreate(`/v1/referrals/${P.referral}/measures`, measureBody())).id;
  }
  const closed = await call('setup', 'PATCH', `/v1/prevention-rules/${SEEDED_AMI1_RULE}`, { token: tok.admin, body: { valid_to: '2099-12-31' } });
  assert.equal(closed.status, 200, closed.text);
  A.rule = (await mustCreate('/v1/prevention-rules', ruleBody())).id;
  for (const P of [A, B]) {
    P.case = await freshCase(P);
    P.action = (await mustCreate(`/v1/prevention-cases/${P.case}/actions`, { kind: 'fsl_aid', done_on: '2025-02-01' })).id;
    P.offer = (await mustCreate('/v1/housing-offers', offerBody({ platform: P.code, capacity: 200, available_from: '2020-01-01' }))).id;
    // a referral housed since 2020, placed one day at a time (placementBody)
    P.placeReferral = (await mustCreate('/v1/referrals', referralBody(P.household, P.code, { received_on: '2020-01-02', concertation: null }))).id;
    await mustCreate(`/v1/referrals/${P.placeReferral}/measures`, measureBody());
    P.placement = (await mustCreate('/v1/placements', placementBody(P.placeReferral, P.offer))).id;
    P.meeting = (await mustCreate('/v1/fluidity-meetings', meetingBody([P.referral], { platform: P.code }))).id;
  }
  A.partnerNoPlatform = (await mustCreate('/v1/partners', partnerBody({ platform: null }))).id;
  A.byPartner = (await mustCreate('/v1/referrals', referralBody(householdBody('artois'), 'artois'), tok.partner)).id;
  B.byPartner = (await mustCreate('/v1/referrals', referralBody(householdBody('lens_henin'), 'lens_henin'), tok.partnerB)).id;
  A.caseByPartner = (await mustCreate('/v1/prevention-cases', caseBody(householdBody('artois'), 'artois'), tok.partner)).id;
  B.caseByPartner = (await mustCreate('/v1/prevention-cases', caseBody(householdBody('lens_henin'), 'lens_henin'), tok.partnerB)).id;
  A.pushed = await pushAs('siao', A);
  B.pushed = await pushAs('siaoB', B);
  // a webhook endpoint of artois' admin: no other token reaches it
  A.hook = await freshHook('admin');
  B.hook = await freshHook('coordinatorB');
  // a household per platform pushed by the admin as source auth-admin
  for (const P of [A, B]) {
    const ext = `ADM-${uniqueLetters()}`;
    const h = await call('setup', 'POST', '/v1/households/batch?source=auth-admin', { token: tok.admin, body: [householdRecord(ext, { platform: P.code })] });
    assert.equal(h.json?.created, 1, h.text);
    P.adminPushed = (await svc.sql('SELECT id::text FROM household WHERE source = $1 AND external_ref = $2', ['auth-admin', ext])).rows[0].id;
  }
});

/** A webhook endpoint registered by token `who` (to a public name: deliveries just fail),
 * with one delivery in its log. */
async function freshHook(who) {
  const w = await mustCreate('/v1/webhooks', { url: `https://hooks.example.org/auth-${uniqueLetters()}` }, tok[who]);
  const d = await svc.sql(
    `INSERT INTO webhook_delivery (endpoint_id, event_id, position, type, body, state)
     VALUES ($1, 1, 1, 'referral_created', '{}', 'delivered') RETURNING id::text`,
    [w.id],
  );
  return { id: w.id, delivery: d.rows[0].id };
}

after(async () => {
  await svc?.stop();
});

// ---------------------------------------------------------------------------------------------
// The matrix: who may use each operation, and a request on a platform's data.

const ADMIN = ['admin'];
const CASE = ['admin', 'coordinator'];
const PUSH = ['admin', 'siao'];
const STATS = ['admin', 'coordinator', 'analyst'];
const FEED = ['admin', 'coordinator', 'partner', 'siao'];

/** A webhook endpoint for the request: its own (a fresh one) or artois' admin's. */
const hookFor = async (P, who, own) => (own ? freshHook(who) : P.hook);

/** The referral a token may read: partners those they created, siao tokens those they pushed. */
function referralFor(P, who) {
  if (roleOf(who) === 'partner') return P.byPartner;
  if (roleOf(who) === 'siao') return P.pushed.referral;
  return P.referral;
}

/** The prevention case a token may read: partners those they created, siao tokens those their
 * source pushed. */
function caseFor(P, who) {
  if (roleOf(who) === 'partner') return P.caseByPartner;
  if (roleOf(who) === 'siao') return P.pushed.case;
  return P.case;
}

const batch = (path, record) => ({
  req: (P, who) => ({
    path: `${path}${roleOf(who) === 'admin' ? '?source=auth-admin' : ''}`,
    body: [record(`X-${uniqueLetters()}`, P, who)],
  }),
  ok: 200,
  batch: true,
});

const OPS = [
  { key: 'GET /v1/tokens', roles: ADMIN, req: () => ({ path: '/v1/tokens' }), ok: 200 },
  { key: 'GET /metrics', roles: ADMIN, req: () => ({ path: '/metrics' }), ok: 200 },
  { key: 'POST /v1/tokens', roles: ADMIN, req: () => ({ path: '/v1/tokens', body: { role: 'analyst', name: `m ${uniqueLetters()}` } }), ok: 201 },
  { key: 'DELETE /v1/tokens/{id}', roles: ADMIN, req: async () => ({ path: `/v1/tokens/${await freshToken()}` }), ok: 204 },
  { key: 'GET /v1/audit-events', roles: ADMIN, req: () => ({ path: '/v1/audit-events' }), ok: 200 },
  { key: 'GET /v1/partners', roles: [...CASE, 'partner'], req: () => ({ path: '/v1/partners?limit=500' }), ok: 200, list: (P) => [P.partner] },
  { key: 'POST /v1/partners', roles: CASE, req: (P) => ({ path: '/v1/partners', body: partnerBody({ platform: P.code }) }), ok: 201, cross: 403 },
  { key: 'GET /v1/partners/{id}', roles: [...CASE, 'partner'], req: (P) => ({ path: `/v1/partners/${P.partner}` }), ok: 200, cross: 404 },
  { key: 'PATCH /v1/partners/{id}', roles: CASE, req: (P) => ({ path: `/v1/partners/${P.partner}`, body: { name: `Renommé ${uniqueLetters()}` } }), ok: 200, cross: 404 },
  { key: 'POST /v1/households/batch', roles: PUSH, ...batch('/v1/households/batch', (x, P) => householdRecord(x, { platform: P.code })) },
  { key: 'GET /v1/households', roles: [...CASE, 'siao'], req: () => ({ path: '/v1/households?limit=500' }), ok: 200, list: (P) => [P.household, P.pushed.household] },
  { key: 'POST /v1/households', roles: CASE, req: (P) => ({ path: '/v1/households', body: householdBody(P.code) }), ok: 201, cross: 403 },
  {
    key: 'GET /v1/households/{id}',
    roles: [...CASE, 'siao'],
    req: (P, who) => ({ path: `/v1/households/${roleOf(who) === 'siao' ? P.pushed.household : P.household}` }),
    ok: 200,
    cross: 404,
  },
  { key: 'PATCH /v1/households/{id}', roles: CASE, req: (P) => ({ path: `/v1/households/${P.household}`, body: { children: 1 } }), ok: 200, cross: 404 },
  { key: 'DELETE /v1/households/{id}', roles: ADMIN, req: async (P) => ({ path: `/v1/households/${await freshHousehold(P)}` }), ok: 204 },
  {
    key: 'POST /v1/referrals/batch',
    roles: PUSH,
    // a referral batch attaches only to a household its own source pushed (here by id)
    ...batch('/v1/referrals/batch', (x, P, who) =>
      referralRecord(x, undefined, { household_external_id: undefined, household: roleOf(who) === 'admin' ? P.adminPushed : P.pushed.household, platform: P.code }),
    ),
  },
  {
    key: 'GET /v1/referrals',
    roles: [...CASE, 'partner', 'siao'],
    req: () => ({ path: '/v1/referrals?limit=500' }),
    ok: 200,
    list: (P) => [P.referral, P.byPartner, P.pushed.referral],
  },
  {
    key: 'POST /v1/referrals',
    roles: [...CASE, 'partner'],
    req: (P) => ({ path: '/v1/referrals', body: referralBody(householdBody(P.code), P.code) }),
    ok: 201,
    cross: 403,
  },
  { key: 'GET /v1/referrals/{id}', roles: [...CASE, 'partner', 'siao'], req: (P, who) => ({ path: `/v1/referrals/${referralFor(P, who)}` }), ok: 200, cross: 404 },
  { key: 'PATCH /v1/referrals/{id}', roles: CASE, req: (P) => ({ path: `/v1/referrals/${P.referral}`, body: { decision_note: `Note ${uniqueLetters()}` } }), ok: 200, cross: 404 },
  {
    key: 'POST /v1/referrals/{id}/transitions',
    roles: CASE,
    req: async (P, who, own) => ({
      path: `/v1/referrals/${own ? await freshReferral(P) : P.referral}/transitions`,
      body: { to: 'assessing', on: '2025-01-15', note: 'Étayage' },
    }),
    ok: 200,
    cross: 404,
  },
  { key: 'GET /v1/referrals/{id}/events', roles: CASE, req: (P) => ({ path: `/v1/referrals/${P.referral}/events` }), ok: 200, cross: 404 },
  { key: 'GET /v1/referrals/{id}/measures', roles: CASE, req: (P) => ({ path: `/v1/referrals/${P.referral}/measures` }), ok: 200, cross: 404 },
  { key: 'POST /v1/referrals/{id}/measures', roles: CASE, req: (P) => ({ path: `/v1/referrals/${P.referral}/measures`, body: measureBody() }), ok: 201, cross: 404 },
  { key: 'GET /v1/measures/{id}', roles: CASE, req: (P) => ({ path: `/v1/measures/${P.measure}` }), ok: 200, cross: 404 },
  { key: 'PATCH /v1/measures/{id}', roles: CASE, req: (P) => ({ path: `/v1/measures/${P.measure}`, body: { operator: `Op ${uniqueLetters()}` } }), ok: 200, cross: 404 },
  { key: 'POST /v1/siao-requests/batch', roles: PUSH, ...batch('/v1/siao-requests/batch', (x, P) => siaoRecord(x, { platform: P.code })) },
  { key: 'GET /v1/siao-requests', roles: PUSH, req: () => ({ path: '/v1/siao-requests?limit=500' }), ok: 200, list: (P) => [P.pushed.siaoRequest] },
  // eviction prevention
  { key: 'POST /v1/prevention-rules', roles: ADMIN, req: () => ({ path: '/v1/prevention-rules', body: ruleBody() }), ok: 201 },
  { key: 'PATCH /v1/prevention-rules/{id}', roles: ADMIN, req: () => ({ path: `/v1/prevention-rules/${A.rule}`, body: { note: `Note ${uniqueLetters()}` } }), ok: 200 },
  { key: 'POST /v1/prevention-cases/batch', roles: PUSH, ...batch('/v1/prevention-cases/batch', (x, P) => caseRecord(x, undefined, { household_external_id: undefined, household: P.household, platform: P.code })) },
  {
    key: 'GET /v1/prevention-cases',
    roles: [...CASE, 'partner', 'siao'],
    req: () => ({ path: '/v1/prevention-cases?limit=500' }),
    ok: 200,
    list: (P) => [P.case, P.caseByPartner, P.pushed.case],
  },
  {
    key: 'POST /v1/prevention-cases',
    roles: [...CASE, 'partner'],
    req: (P) => ({ path: '/v1/prevention-cases', body: caseBody(householdBody(P.code), P.code) }),
    ok: 201,
    cross: 403,
  },
  { key: 'GET /v1/prevention-cases/{id}', roles: [...CASE, 'partner', 'siao'], req: (P, who) => ({ path: `/v1/prevention-cases/${caseFor(P, who)}` }), ok: 200, cross: 404 },
  { key: 'PATCH /v1/prevention-cases/{id}', roles: CASE, req: (P) => ({ path: `/v1/prevention-cases/${P.case}`, body: { debt_eur: 2000, debt_on: '2025-01-05' } }), ok: 200, cross: 404 },
  { key: 'GET /v1/prevention-cases/{id}/stages', roles: CASE, req: (P) => ({ path: `/v1/prevention-cases/${P.case}/stages` }), ok: 200, cross: 404 },
  {
    key: 'POST /v1/prevention-cases/{id}/stages',
    roles: CASE,
    req: async (P, who, own) => ({ path: `/v1/prevention-cases/${own ? await freshCase(P) : P.case}/stages`, body: { stage: 'judgment', on: '2025-03-01' } }),
    ok: 200,
    cross: 404,
  },
  { key: 'GET /v1/prevention-cases/{id}/actions', roles: CASE, req: (P) => ({ path: `/v1/prevention-cases/${P.case}/actions` }), ok: 200, cross: 404 },
  { key: 'POST /v1/prevention-cases/{id}/actions', roles: CASE, req: (P) => ({ path: `/v1/prevention-cases/${P.case}/actions`, body: { kind: 'social_support', done_on: '2025-03-05' } }), ok: 201, cross: 404 },
  { key: 'GET /v1/prevention-cases/{id}/follow-ups', roles: CASE, req: (P) => ({ path: `/v1/prevention-cases/${P.case}/follow-ups` }), ok: 200, cross: 404 },
  {
    key: 'POST /v1/prevention-cases/{id}/follow-ups',
    roles: CASE,
    req: async (P, who, own) => ({ path: `/v1/prevention-cases/${own ? await freshCase(P) : P.case}/follow-ups`, body: { at_months: 6, situation: 'procedure_pending' } }),
    ok: 201,
    cross: 404,
  },
  { key: 'POST /v1/prevention-actions/batch', roles: PUSH, ...batch('/v1/prevention-actions/batch', (x, P) => ({ external_id: x, case: P.case, kind: 'vej', done_on: '2025-03-01' })) },
  { key: 'GET /v1/prevention-actions/{id}', roles: CASE, req: (P) => ({ path: `/v1/prevention-actions/${P.action}` }), ok: 200, cross: 404 },
  { key: 'PATCH /v1/prevention-actions/{id}', roles: CASE, req: (P) => ({ path: `/v1/prevention-actions/${P.action}`, body: { outcome_notes: `Notes ${uniqueLetters()}` } }), ok: 200, cross: 404 },
  { key: 'POST /v1/prevention-follow-ups/batch', roles: PUSH, ...batch('/v1/prevention-follow-ups/batch', (x, P) => ({ case: P.case, at_months: 12, situation: 'procedure_pending' })) },
  // the housing offer
  { key: 'POST /v1/housing-offers/batch', roles: PUSH, ...batch('/v1/housing-offers/batch', (x, P) => ({ external_id: x, ...offerBody({ platform: P.code }) })) },
  { key: 'GET /v1/housing-offers', roles: [...CASE, 'siao'], req: () => ({ path: '/v1/housing-offers?limit=500' }), ok: 200, list: (P) => [P.offer, P.pushed.offer] },
  { key: 'POST /v1/housing-offers', roles: CASE, req: (P) => ({ path: '/v1/housing-offers', body: offerBody({ platform: P.code }) }), ok: 201, cross: 403 },
  {
    key: 'GET /v1/housing-offers/{id}',
    roles: [...CASE, 'siao'],
    req: (P, who) => ({ path: `/v1/housing-offers/${roleOf(who) === 'siao' ? P.pushed.offer : P.offer}` }),
    ok: 200,
    cross: 404,
  },
  { key: 'PATCH /v1/housing-offers/{id}', roles: CASE, req: (P) => ({ path: `/v1/housing-offers/${P.offer}`, body: { label: `Logement ${uniqueLetters()}` } }), ok: 200, cross: 404 },
  { key: 'POST /v1/placements/batch', roles: PUSH, ...batch('/v1/placements/batch', (x, P) => ({ external_id: x, ...placementBody(P.placeReferral, P.offer) })) },
  { key: 'GET /v1/placements', roles: [...CASE, 'siao'], req: () => ({ path: '/v1/placements?limit=500' }), ok: 200, list: (P) => [P.placement, P.pushed.placement] },
  // a referral and an offer of another platform are not found (422 naming them), the platform being theirs
  { key: 'POST /v1/placements', roles: CASE, req: (P) => ({ path: '/v1/placements', body: placementBody(P.placeReferral, P.offer) }), ok: 201, cross: 422 },
  {
    key: 'GET /v1/placements/{id}',
    roles: [...CASE, 'siao'],
    req: (P, who) => ({ path: `/v1/placements/${roleOf(who) === 'siao' ? P.pushed.placement : P.placement}` }),
    ok: 200,
    cross: 404,
  },
  { key: 'PATCH /v1/placements/{id}', roles: CASE, req: (P) => ({ path: `/v1/placements/${P.placement}`, body: { exit_reason: 'moved_elsewhere' } }), ok: 200, cross: 404 },
  { key: 'GET /v1/fluidity-meetings', roles: CASE, req: () => ({ path: '/v1/fluidity-meetings?limit=500' }), ok: 200, list: (P) => [P.meeting] },
  {
    key: 'POST /v1/fluidity-meetings',
    roles: CASE,
    req: (P) => ({ path: '/v1/fluidity-meetings', body: meetingBody([P.referral], { platform: P.code }) }),
    ok: 201,
    cross: 403,
  },
  { key: 'GET /v1/fluidity-meetings/{id}', roles: CASE, req: (P) => ({ path: `/v1/fluidity-meetings/${P.meeting}` }), ok: 200, cross: 404 },
  { key: 'PATCH /v1/fluidity-meetings/{id}', roles: CASE, req: (P) => ({ path: `/v1/fluidity-meetings/${P.meeting}`, body: { proposals_made: 2 } }), ok: 200, cross: 404 },
  { key: 'GET /v1/stats/activity', roles: STATS, req: (P) => ({ path: `/v1/stats/activity?platform=${P.code}` }), ok: 200, cross: 403 },
  { key: 'GET /v1/stats/outcomes', roles: STATS, req: (P) => ({ path: `/v1/stats/outcomes?platform=${P.code}` }), ok: 200, cross: 403 },
  { key: 'GET /v1/stats/prevention', roles: STATS, req: (P) => ({ path: `/v1/stats/prevention?platform=${P.code}` }), ok: 200, cross: 403 },
  { key: 'GET /v1/stats/housing', roles: STATS, req: (P) => ({ path: `/v1/stats/housing?platform=${P.code}` }), ok: 200, cross: 403 },
  { key: 'GET /v1/observatory/youth', roles: STATS, req: (P) => ({ path: `/v1/observatory/youth?platform=${P.code}` }), ok: 200, cross: 403 },
  { key: 'GET /v1/observatory/youth/series', roles: STATS, req: (P) => ({ path: `/v1/observatory/youth/series?platform=${P.code}` }), ok: 200, cross: 403 },
  // the feed: a list whose items carry their platform (another platform's never shown)
  { key: 'GET /v1/changes', roles: FEED, req: () => ({ path: '/v1/changes?limit=500' }), ok: 200, list: () => [] },
  {
    key: 'POST /v1/webhooks',
    roles: FEED,
    req: (P) => ({ path: '/v1/webhooks', body: { url: `https://hooks.example.org/m-${uniqueLetters()}`, platforms: [P.code] } }),
    ok: 201,
    cross: 403,
  },
  // each token lists its own endpoints: artois' admin's is not another token's business
  { key: 'GET /v1/webhooks', roles: FEED, req: () => ({ path: '/v1/webhooks?limit=500' }), ok: 200, cross: 200 },
  { key: 'GET /v1/webhooks/{id}', roles: FEED, req: async (P, who, own) => ({ path: `/v1/webhooks/${(await hookFor(P, who, own)).id}` }), ok: 200, cross: 404 },
  {
    key: 'PATCH /v1/webhooks/{id}',
    roles: FEED,
    req: async (P, who, own) => ({ path: `/v1/webhooks/${(await hookFor(P, who, own)).id}`, body: { event_types: ['referral_created'] } }),
    ok: 200,
    cross: 404,
  },
  { key: 'DELETE /v1/webhooks/{id}', roles: FEED, req: async (P, who, own) => ({ path: `/v1/webhooks/${(await hookFor(P, who, own)).id}` }), ok: 204, cross: 404 },
  {
    key: 'POST /v1/webhooks/{id}/rotate-secret',
    roles: FEED,
    req: async (P, who, own) => ({ path: `/v1/webhooks/${(await hookFor(P, who, own)).id}/rotate-secret` }),
    ok: 200,
    cross: 404,
  },
  {
    key: 'GET /v1/webhooks/{id}/deliveries',
    roles: FEED,
    req: async (P, who, own) => ({ path: `/v1/webhooks/${(await hookFor(P, who, own)).id}/deliveries` }),
    ok: 200,
    cross: 404,
  },
  {
    key: 'POST /v1/webhooks/{id}/deliveries/{delivery_id}/replay',
    roles: FEED,
    req: async (P, who, own) => {
      const h = await hookFor(P, who, own);
      return { path: `/v1/webhooks/${h.id}/deliveries/${h.delivery}/replay` };
    },
    ok: 202,
    cross: 404,
  },
];

/** The roles an operation's description in openapi.yaml names ("Roles: ..."). */
function documentedRoles(o, all) {
  let text = (o.op.description ?? '').replace(/\s+/g, ' ');
  const i = text.indexOf('Roles:');
  if (i < 0) return null;
  text = text.slice(i + 6);
  if (/^ as for the list/.test(text)) {
    const list = all.find((x) => x.method === 'GET' && x.template === o.template.replace(/\/\{id\}$/, ''));
    return documentedRoles(list, all);
  }
  text = text.replace(/Others: 403.*$/, '').replace(/`siao` and `analyst`: 403/, '');
  return [...new Set([...text.matchAll(/`(admin|coordinator|partner|siao|analyst)`/g)].map((m) => m[1]))].sort();
}

test('the_matrix_covers_every_protected_operation_of_openapi_yaml_with_the_roles_it_documents', (t) => {
  const all = operations();
  const protectedOps = all.filter((o) => !(Array.isArray(o.op.security) && o.op.security.length === 0));
  const keys = OPS.map((o) => o.key);
  assert.deepEqual([...keys].sort(), protectedOps.map(opKey).sort(), 'OPS lists exactly the protected operations');
  for (const o of protectedOps) {
    const mine = OPS.find((x) => x.key === opKey(o));
    assert.deepEqual(documentedRoles(o, all), [...mine.roles].sort(), `${opKey(o)}: roles documented in openapi.yaml vs the access matrix`);
  }
  summary(t, `matrix: ${OPS.length} protected operations, their roles as documented in openapi.yaml and the access matrix (${all.length - protectedOps.length} public operations)`);
});

test('every_role_and_scope_against_every_operation_bfla_403_bola_404_and_nothing_changes', async (t) => {
  const grid = [];
  for (const op of OPS) {
    const row = [];
    for (const who of TOKENS) {
      const role = roleOf(who);
      const home = homeOf(who);
      const allowed = op.roles.includes(role);
      // the request on artois' data (A); scoped lens_henin tokens try it too
      const own = allowed && home === A;
      const reqA = await op.req(A, who, own);
      const fp = await fingerprint(svc);
      const res = await call('matrix', op.key.split(' ')[0], reqA.path, { token: tok[who], body: reqA.body });
      const where = `${who} ${op.key} ${reqA.path}`;
      if (!allowed) {
        assert.equal(res.status, 403, `${where}: BFLA ${res.status} ${res.text}`);
        assert.deepEqual(changedTables(fp, await fingerprint(svc)), [], `${where}: a 403 changed the database`);
      } else if (own) {
        assert.equal(res.status, op.ok, `${where}: ${res.status} ${res.text.slice(0, 300)}`);
        if (op.batch) assert.equal(res.json.rejected.length, 0, `${where}: ${res.text}`);
        if (op.list) {
          const ids = res.json.items.map((x) => x.id);
          for (const id of op.list(A).filter(Boolean)) {
            const visible =
              role === 'admin' ||
              (role === 'coordinator' && ![A.pushed.siaoRequest].includes(id)) ||
              (role === 'partner' && [A.partner, A.byPartner, A.caseByPartner].includes(id)) ||
              (role === 'siao' &&
                [A.pushed.household, A.pushed.referral, A.pushed.siaoRequest, A.pushed.case, A.pushed.offer, A.pushed.placement].includes(id));
            assert.equal(ids.includes(id), visible, `${where}: ${id} ${visible ? 'missing from' : 'shown in'} the list`);
          }
        }
      } else {
        // a lens_henin token on artois' data: as if it did not exist
        if (op.batch) {
          assert.equal(res.status, 200, `${where}: ${res.text}`);
          assert.equal(res.json.rejected.length, 1, `${where}: an artois record pushed by a lens_henin token: ${res.text}`);
          assert.deepEqual(changedTables(fp, await fingerprint(svc)).filter((x) => x !== 'idempotency_key'), [], `${where}: changed`);
        } else if (op.list) {
          assert.equal(res.status, 200, `${where}: ${res.text}`);
          const ids = res.json.items.map((x) => x.id);
          for (const id of op.list(A).filter(Boolean)) assert.ok(!ids.includes(id), `${where}: artois' ${id} listed`);
          assert.ok(res.json.items.every((x) => x.platform == null || x.platform === 'lens_henin'), `${where}: another platform listed`);
        } else {
          assert.equal(res.status, op.cross, `${where}: BOLA ${res.status} ${res.text.slice(0, 300)}`);
          assert.deepEqual(changedTables(fp, await fingerprint(svc)), [], `${where}: a refused request changed the database`);
        }
        // and on its own platform it works: the refusal above is the scope, not the role
        const reqB = await op.req(B, who, true);
        const mine = await call('matrix', op.key.split(' ')[0], reqB.path, { token: tok[who], body: reqB.body });
        assert.equal(mine.status, op.ok, `${who} ${op.key} ${reqB.path} (own platform): ${mine.status} ${mine.text.slice(0, 300)}`);
      }
      row.push(res.status);
    }
    grid.push(`${op.key.padEnd(40)} ${row.map((s) => String(s).padStart(4)).join('')}`);
  }
  summary(t, `role x scope matrix (${TOKENS.join(', ')}):\n# ${grid.join('\n# ')}`);
  summary(t, `matrix: ${statusLine('matrix')}; every 403 and cross-platform refusal left the database unchanged`);
});

test('within_a_platform_partners_and_siao_sources_see_only_their_own_and_coordinators_may_not_touch_department_wide_partners', async (t) => {
  const cases = [
    // another partner token of the same platform
    ['partner2', 'GET', `/v1/referrals/${A.byPartner}`, undefined, 404],
    // a siao token of another platform with the same source name
    ['siaoB', 'GET', `/v1/referrals/${A.pushed.referral}`, undefined, 404],
    ['siaoB', 'GET', `/v1/households/${A.pushed.household}`, undefined, 404],
    // a siao token reads what its source pushed, not the coordinators' households
    ['siao', 'GET', `/v1/households/${A.household}`, undefined, 404],
    ['siao', 'GET', `/v1/referrals/${A.referral}`, undefined, 404],
    // a partner reads no household at all
    ['partner', 'GET', `/v1/households/${A.household}`, undefined, 403],
    // a department-wide partner (no platform) is changed by an admin only
    ['coordinator', 'PATCH', `/v1/partners/${A.partnerNoPlatform}`, { name: 'Changé' }, 403],
    // a coordinator moves nothing to a platform outside its scope
    ['coordinator', 'PATCH', `/v1/partners/${A.partner}`, { platform: 'lens_henin' }, 403],
    ['coordinator', 'PATCH', `/v1/households/${A.household}`, { platform: 'lens_henin' }, 403],
    // a siao token pushes as its own source only
    ['siao', 'POST', '/v1/siao-requests/batch?source=other', [siaoRecord('SRC-1')], 403],
    // statistics of a platform outside an analyst's scope
    ['analystB', 'GET', '/v1/stats/activity?platform=artois', undefined, 403],
    ['analystB', 'GET', '/v1/observatory/youth?ami=1', undefined, 403],
    // prevention cases: another partner token, a same-named source of another platform, a
    // siao token on the coordinators' cases; offers and placements of another source
    ['partner2', 'GET', `/v1/prevention-cases/${A.caseByPartner}`, undefined, 404],
    ['siaoB', 'GET', `/v1/prevention-cases/${A.pushed.case}`, undefined, 404],
    ['siao', 'GET', `/v1/prevention-cases/${A.case}`, undefined, 404],
    ['siao', 'GET', `/v1/housing-offers/${A.offer}`, undefined, 404],
    ['siao', 'GET', `/v1/placements/${A.placement}`, undefined, 404],
    ['siaoB', 'GET', `/v1/placements/${A.pushed.placement}`, undefined, 404],
    // a partner reads no stage history, action, offer or placement
    ['partner', 'GET', `/v1/prevention-cases/${A.caseByPartner}/stages`, undefined, 403],
    ['partner', 'GET', `/v1/placements/${A.placement}`, undefined, 403],
  ];
  for (const [who, m, p, body, want] of cases) {
    const fp = await fingerprint(svc);
    const res = await call('within platform', m, p, { token: tok[who], body });
    assert.equal(res.status, want, `${who} ${m} ${p}: ${res.text}`);
    assert.deepEqual(changedTables(fp, await fingerprint(svc)), [], `${who} ${m} ${p}: changed`);
  }
  // the same source, another platform: an artois record cannot be moved to lens_henin
  const fp = await fingerprint(svc);
  const hijack = await call('within platform', 'POST', '/v1/siao-requests/batch', {
    token: tok.siaoB,
    body: [siaoRecord(`S-${A.pushed.ext}`, { platform: 'lens_henin', person_key: 'pk-hijack' })],
  });
  assert.equal(hijack.status, 200, hijack.text);
  assert.equal(hijack.json.rejected.length, 1, `siaoB overwrote siao's artois record: ${hijack.text}`);
  const hh = await call('within platform', 'POST', '/v1/households/batch', {
    token: tok.siaoB,
    body: [householdRecord(`H-${A.pushed.ext}`, { platform: 'lens_henin' })],
  });
  assert.equal(hh.json.rejected.length, 1, `siaoB overwrote siao's artois household: ${hh.text}`);
  assert.deepEqual(changedTables(fp, await fingerprint(svc)), [], 'cross-platform upserts changed the database');
  // a siao token's list is its source on its platforms: siaoB does not see siao's artois rows
  const list = await call('within platform', 'GET', '/v1/siao-requests?limit=500', { token: tok.siaoB });
  assert.ok(!list.json.items.some((x) => x.id === A.pushed.siaoRequest), 'siaoB lists an artois request of the same source');
  summary(t, `within a platform: ${statusLine('within platform')}; other partner tokens, same-named sources of other platforms and department-wide partners stay out of reach`);
});

// ---------------------------------------------------------------------------------------------
// Credentials

const PUBLIC = () => operations().filter((o) => Array.isArray(o.op.security) && o.op.security.length === 0);

/** A concrete request for every protected operation (admin's view of artois). */
async function protectedRequests() {
  const out = [];
  for (const op of OPS) {
    const r = await op.req(A, 'admin', false);
    out.push({ method: op.key.split(' ')[0], ...r, key: op.key });
  }
  return out;
}

test('no_unknown_revoked_expired_or_malformed_credentials_are_401_with_www_authenticate_on_every_protected_operation', async (t) => {
  const reqs = await protectedRequests();
  const adm = tok.admin;
  const AUTH = {
    none: undefined,
    unknown: `Bearer ${tok.unknown}`,
    revoked: `Bearer ${tok.revoked}`,
    expired: `Bearer ${tok.expired}`,
    'scheme only': 'Bearer',
    'scheme and space': 'Bearer ',
    'Basic': `Basic ${Buffer.from(`admin:${adm}`).toString('base64')}`,
    'no scheme': adm,
    'other scheme': `Token ${adm}`,
    'token and more': `Bearer ${adm} ${adm}`,
    'token with a suffix': `Bearer ${adm}x`,
    'truncated token': `Bearer ${adm.slice(0, -1)}`,
    'case-changed token': `Bearer ${adm.toUpperCase()}`,
    'comma list': `Bearer ${tok.unknown}, Bearer ${adm}`,
    'very long': `Bearer ${'a'.repeat(6000)}`,
    'quoted': `Bearer "${adm}"`,
  };
  const fp = await fingerprint(svc);
  for (const r of reqs) {
    for (const [label, h] of Object.entries(AUTH)) {
      const headers = h === undefined ? {} : { Authorization: h };
      const res = await call('credentials', r.method, r.path, { body: r.body, headers });
      assert.equal(res.status, 401, `${label}: ${r.key}: ${res.status} ${res.text}`);
      assert.match(res.headers['www-authenticate'] ?? '', /^Bearer\b/, `${label}: ${r.key}: WWW-Authenticate`);
      assert.ok(!res.text.includes(adm), `${label}: the token echoed`);
    }
    // two Authorization headers (an unknown one first): not authenticated
    const two = await request(svc.url, r.method, r.path, { keepAlive: false, raw: true,
      headers: { Authorization: [`Bearer ${tok.unknown}`, `Bearer ${adm}`], 'Content-Type': 'application/json' },
      body: r.body === undefined ? undefined : JSON.stringify(r.body),
    });
    assert.equal(two.status, 401, `two Authorization headers: ${r.key}: ${two.status}`);
    count('credentials', two.status);
  }
  assert.deepEqual(changedTables(fp, await fingerprint(svc)), [], 'a 401 changed the database');
  // the scheme is case-insensitive (RFC 9110): this is the token, not a malformed header
  const lower = await call('credentials', 'GET', '/v1/tokens', { headers: { Authorization: `bearer ${adm}` } });
  assert.equal(lower.status, 200, lower.text);
  summary(
    t,
    `credentials: ${Object.keys(AUTH).length + 1} kinds of missing, unknown, revoked, expired or malformed Authorization on ${reqs.length} protected operations: ${statusLine(
      'credentials',
    )}; all 401 with WWW-Authenticate: Bearer, database unchanged`,
  );
});

test('a_token_in_the_query_string_or_a_cookie_never_authenticates', async (t) => {
  const reqs = await protectedRequests();
  const NAMES = ['access_token', 'token', 'api_key', 'bearer', 'Authorization'];
  for (const r of reqs) {
    for (const name of NAMES) {
      const sep = r.path.includes('?') ? '&' : '?';
      const res = await call('token elsewhere', r.method, `${r.path}${sep}${name}=${encodeURIComponent(tok.admin)}`, { body: r.body });
      assert.equal(res.status, 401, `${r.key} ?${name}=: ${res.text}`);
    }
    const cookie = await call('token elsewhere', r.method, r.path, {
      body: r.body,
      headers: { Cookie: `token=${tok.admin}; access_token=${tok.admin}; Authorization=Bearer%20${tok.admin}` },
    });
    assert.equal(cookie.status, 401, `${r.key} cookie: ${cookie.text}`);
  }
  // on public routes the token is an unknown query parameter, never a credential
  for (const o of PUBLIC()) {
    const res = await call('token elsewhere', 'GET', `${concretePath(o.template, {})}?access_token=${encodeURIComponent(tok.admin)}`);
    assert.equal(res.status, 422, `${o.template}: ${res.text}`);
  }
  // and the service never logs it
  const leaked = svc.logs.filter((l) => l.includes(tok.admin));
  assert.deepEqual(leaked, [], 'a token in the service log');
  summary(t, `tokens outside the Authorization header: ${statusLine('token elsewhere')}; 401 on protected routes, 422 (unknown parameter) on public ones, never in the log`);
});

test('revocation_takes_effect_at_once_and_expiry_while_the_token_is_cached', async (t) => {
  // revoked through the API after use (the token is in the authentication cache)
  const r1 = await mustCreate('/v1/tokens', { role: 'coordinator', name: 'to-revoke', platforms: ['artois'] });
  assert.equal((await call('revocation', 'GET', '/v1/households', { token: r1.token })).status, 200);
  assert.equal((await call('revocation', 'DELETE', `/v1/tokens/${r1.id}`, { token: tok.admin })).status, 204);
  const after = await call('revocation', 'GET', '/v1/households', { token: r1.token });
  assert.equal(after.status, 401, 'a revoked token is refused at once');
  // revoked by another process (the CLI): refused within the cache's lifetime (2 s)
  const r2 = await mustCreate('/v1/tokens', { role: 'coordinator', name: 'to-revoke-cli', platforms: ['artois'] });
  assert.equal((await call('revocation', 'GET', '/v1/households', { token: r2.token })).status, 200);
  const cli = await svc.runCli(['token', 'revoke', r2.id]);
  assert.equal(cli.code, 0, cli.stderr);
  const since = Date.now();
  let status = 200;
  while (status === 200 && Date.now() - since < 5_000) {
    status = (await call('revocation', 'GET', '/v1/households', { token: r2.token })).status;
    if (status === 200) await sleep(100);
  }
  const revokedAfter = Date.now() - since;
  assert.equal(status, 401, 'revoked by the CLI');
  assert.ok(revokedAfter <= 3_000, `refused ${revokedAfter} ms after the CLI revoked it`);
  // expiring while cached: in use until expires_at, refused after it
  const expiresAt = new Date(Date.now() + 3_000);
  const r3 = await mustCreate('/v1/tokens', { role: 'analyst', name: 'expiring', expires_at: expiresAt.toISOString() });
  assert.equal((await call('revocation', 'GET', '/v1/stats/activity', { token: r3.token })).status, 200);
  await sleep(Math.max(0, expiresAt - Date.now()) + 50);
  const expired = await call('revocation', 'GET', '/v1/stats/activity', { token: r3.token });
  assert.equal(expired.status, 401, 'an expired token is refused even while cached');
  summary(t, `revocation and expiry: revoked through the API refused at once, through the CLI after ${revokedAfter} ms, expired while cached refused; ${statusLine('revocation')}`);
});

test('public_operations_need_no_token', async (t) => {
  for (const o of PUBLIC()) {
    const res = await call('public', 'GET', concretePath(o.template, {}));
    assert.ok(res.status < 400 || res.status === 404, `${o.template}: ${res.status}`);
    assert.ok(![401, 403].includes(res.status));
  }
  summary(t, `public operations: ${statusLine('public')}; none asks for a token`);
});

// ---------------------------------------------------------------------------------------------
// Mass assignment

const SERVER_OWNED = {
  id: '00000000-0000-4000-8000-000000000001',
  created_at: '2001-01-01T00:00:00Z',
  updated_at: '2001-01-01T00:00:00Z',
  row_version: 999,
  version: 999,
  etag: '"999"',
  person_key: 'f'.repeat(64),
  erased_at: '2001-01-01T00:00:00Z',
  created_by: '00000000-0000-4000-8000-000000000002',
  token_id: '00000000-0000-4000-8000-000000000002',
  source: 'forged',
  status: 'accompanied',
  status_dates: { received: '2001-01-01' },
  age_band: '18-25',
  audit: [],
  token: 'lda_forged',
  token_hash: '0'.repeat(64),
  revoked_at: null,
  role: 'admin',
  // eviction prevention and the housing offer
  rk: 5,
  pex_status: 'within_criteria',
  pex_eligibility: { status: 'within_criteria' },
  stage_dates: { payment_order: '2001-01-01' },
  first_action_on: '2001-01-01',
  due_on: '2001-01-01',
  occupied: 0,
};

/** The members a body may not carry (everything in SERVER_OWNED its input schema lacks). */
function forbiddenFor(schema) {
  const allowed = new Set(Object.keys(deref(schema).properties ?? {}));
  return Object.entries(SERVER_OWNED).filter(([k]) => !allowed.has(k));
}

test('mass_assignment_of_server_owned_members_is_refused_and_never_applied', async (t) => {
  const all = operations();
  const schemaOf = (key) => {
    const o = all.find((x) => opKey(x) === key);
    const s = o.body['application/json'];
    return s.type === 'array' ? deref(s.items) : s;
  };
  const WRITES = [
    ['POST /v1/tokens', () => ({ path: '/v1/tokens', body: { role: 'analyst', name: `ma ${uniqueLetters()}` } })],
    ['POST /v1/partners', () => ({ path: '/v1/partners', body: partnerBody() })],
    ['PATCH /v1/partners/{id}', () => ({ path: `/v1/partners/${A.partner}`, body: { name: 'Nom' } })],
    ['POST /v1/households', () => ({ path: '/v1/households', body: householdBody() })],
    ['PATCH /v1/households/{id}', () => ({ path: `/v1/households/${A.household}`, body: { children: 2 } })],
    ['POST /v1/referrals', () => ({ path: '/v1/referrals', body: referralBody(A.household) })],
    ['PATCH /v1/referrals/{id}', () => ({ path: `/v1/referrals/${A.referral}`, body: { decision_note: 'x' } })],
    ['POST /v1/referrals/{id}/transitions', () => ({ path: `/v1/referrals/${A.referral}/transitions`, body: { to: 'reoriented', on: '2025-01-20' } })],
    ['POST /v1/referrals/{id}/measures', () => ({ path: `/v1/referrals/${A.referral}/measures`, body: measureBody() })],
    ['PATCH /v1/measures/{id}', () => ({ path: `/v1/measures/${A.measure}`, body: { operator: 'Op' } })],
    ['POST /v1/prevention-rules', () => ({ path: '/v1/prevention-rules', body: ruleBody() })],
    ['POST /v1/prevention-cases', () => ({ path: '/v1/prevention-cases', body: caseBody(A.household) })],
    ['PATCH /v1/prevention-cases/{id}', () => ({ path: `/v1/prevention-cases/${A.case}`, body: { debt_eur: 2100, debt_on: '2025-01-05' } })],
    ['POST /v1/prevention-cases/{id}/actions', () => ({ path: `/v1/prevention-cases/${A.case}/actions`, body: { kind: 'other', done_on: '2025-03-10' } })],
    ['POST /v1/prevention-cases/{id}/follow-ups', () => ({ path: `/v1/prevention-cases/${A.case}/follow-ups`, body: { at_months: 6, situation: 'procedure_pending' } })],
    ['POST /v1/housing-offers', () => ({ path: '/v1/housing-offers', body: offerBody() })],
    ['POST /v1/placements', () => ({ path: '/v1/placements', body: placementBody(A.placeReferral, A.offer) })],
    ['POST /v1/fluidity-meetings', () => ({ path: '/v1/fluidity-meetings', body: meetingBody([A.referral]) })],
  ];
  let n = 0;
  for (const [key, mk] of WRITES) {
    const method = key.split(' ')[0];
    const forbidden = forbiddenFor(schemaOf(key));
    // platform where it is fixed: a referral's platform after creation; no platform on measures or transitions
    if (!deref(schemaOf(key)).properties?.platform) forbidden.push(['platform', 'lens_henin']);
    for (const who of key.includes('tokens') || key.includes('prevention-rules') ? ['admin'] : ['admin', 'coordinator']) {
      for (const [member, value] of forbidden) {
        const { path, body } = mk();
        const fp = await fingerprint(svc);
        const res = await call('mass assignment', method, path, { token: tok[who], body: { ...body, [member]: value } });
        assert.equal(res.status, 422, `${who} ${key} with ${member}: ${res.status} ${res.text.slice(0, 300)}`);
        assert.ok(res.json.errors?.some((e) => e.field === `/${member}`), `${key}: ${member} named: ${res.text}`);
        assert.deepEqual(changedTables(fp, await fingerprint(svc)), [], `${who} ${key} with ${member}: changed`);
        n += 1;
      }
    }
    // nested: a household's head carries identity only, nothing server-owned
    if (key.includes('households')) {
      for (const member of ['person_key', 'age_band', 'id']) {
        const { path, body } = mk();
        const head = { ...(body.head ?? {}), [member]: SERVER_OWNED[member] };
        const res = await call('mass assignment', method, path, { token: tok.admin, body: { ...body, head } });
        assert.equal(res.status, 422, `${key} head.${member}: ${res.text}`);
        n += 1;
      }
    }
  }
  // batch records: server-owned members make the record rejected, nothing stored
  const BATCHES = [
    ['POST /v1/siao-requests/batch', (x) => siaoRecord(x)],
    ['POST /v1/households/batch', (x) => householdRecord(x)],
    ['POST /v1/referrals/batch', (x) => referralRecord(x, `H-${A.pushed.ext}`)],
    ['POST /v1/prevention-cases/batch', (x) => caseRecord(x, `H-${A.pushed.ext}`)],
    ['POST /v1/housing-offers/batch', (x) => ({ external_id: x, ...offerBody() })],
    ['POST /v1/placements/batch', (x) => ({ external_id: x, ...placementBody(A.placeReferral, A.offer) })],
  ];
  for (const [key, rec] of BATCHES) {
    const forbidden = forbiddenFor(schemaOf(key));
    const records = forbidden.map(([member, value], i) => ({ ...rec(`MA-${uniqueLetters()}-${i}`), [member]: value }));
    const fp = await fingerprint(svc);
    const res = await call('mass assignment', 'POST', key.split(' ')[1], { token: tok.siao, body: records });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.rejected.length, records.length, `${key}: ${res.text.slice(0, 500)}`);
    res.json.rejected.forEach((r) => assert.ok(r.errors.some((e) => e.field === `/${forbidden[r.index][0]}`), JSON.stringify(r)));
    assert.deepEqual(changedTables(fp, await fingerprint(svc)), [], `${key}: changed`);
    n += records.length;
  }
  // the stored rows still carry what the server set
  const ref = await call('mass assignment', 'GET', `/v1/referrals/${A.referral}`, { token: tok.admin });
  assert.notEqual(ref.json.status, 'accompanied');
  assert.notEqual(ref.json.id, SERVER_OWNED.id);
  // a coordinator cannot make tokens, nor give a token more than its role
  const esc = await call('mass assignment', 'POST', '/v1/tokens', { token: tok.coordinator, body: { role: 'admin', name: 'escalate' } });
  assert.equal(esc.status, 403, esc.text);
  const wide = await call('mass assignment', 'POST', '/v1/tokens', { token: tok.admin, body: { role: 'admin', name: 'wide', platforms: ['artois'] } });
  assert.equal(wide.status, 422, wide.text);
  summary(
    t,
    `mass assignment: ${n} bodies and batch records carrying id, platform where it is fixed, created_at/updated_at, row_version, person_key, status, source, audit and token fields: ${statusLine(
      'mass assignment',
    )}; every one refused naming the member, none applied, database unchanged`,
  );
});

test('no_refused_request_left_an_audit_event', async (t) => {
  await sleep(600); // the audit queue is flushed every 200 ms
  const r = await svc.sql(`SELECT count(*)::int AS n FROM audit_event WHERE request_id = ANY($1)`, [refusedIds]);
  assert.equal(r.rows[0].n, 0);
  const errors = svc.logEntries().filter((e) => e.level === 'error');
  assert.deepEqual(errors, [], 'error lines in the service log');
  for (const [name, value] of Object.entries(tok)) {
    assert.ok(!svc.logs.some((l) => l.includes(value)), `token ${name} in the service log`);
  }
  summary(t, `audit: ${refusedIds.length} refused requests, none audited; no token value and no error in the service log`);
});
