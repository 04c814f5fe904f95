// Privacy: a representative workload run with canary values — random markers in
// names, notes, free-text fields, SIAO external ids and person keys — and errors provoked with
// canaries in bad input (validation errors, conflicts, malformed bodies, crafted cursors and
// query values, refused credentials), while every line the service writes (stdout, stderr)
// and every line PostgreSQL writes (its own private cluster, default logging settings) is
// captured, and every response body kept. Then all of it is searched for the canaries: none
// in a log, none in a response outside the operations allowed to return them (the resource's
// own answers to a caller whose role may see that field), none anywhere for a canary sent in
// refused input. Also: no SQL text, PostgreSQL DETAIL, file path or token value in any answer
// or service log line.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sourceDir } from '../lib/contract.mjs';
import { caseBody, householdBody, householdRecord, measureBody, partnerBody, referralBody, referralRecord, siaoRecord } from '../lib/data.mjs';
import { summary } from '../lib/load.mjs';
import { leaksIn } from '../lib/problems.mjs';
import { NO_RATE_LIMIT_ENV, startService } from '../lib/service.mjs';
import { sleep } from '../lib/wait.mjs';

const PG_CLUSTER = join(sourceDir(), 'scripts', 'pg-cluster.sh');

let workDir;
let clusterDir;
let clusterReal;
let clusterStarted = false;
let pgProbe;
let svc;
const tok = {};
const tokId = {};
const responses = []; // { who, method, path, status, text }
const canaries = new Map(); // canary → { cls, where }

// Classes of canary, and who may get each back (2xx answers only):
//   ID    a household head's names and the household's external_ref: admin, coordinator
//   NOTE  referral notes, referrer names, transition notes, measure operators, prevention stage
//         notes and action outcome notes: admin, coordinator
//   PART  a partner's name: admin, coordinator, partner (it reads the partner list)
//   SIAO  what a siao token pushed (external ids, person keys): admin, and the siao token
//         (its batch report and its own list)
//   TOK   a token's name: admin (token management)
//   BAD   sent only in refused input: nobody, ever
const CANARY_RE = /CANARY(ID|NOTE|PART|SIAO|TOK|BAD)([0-9a-f]{12})/g;

function canary(cls, where) {
  const c = `CANARY${cls}${randomBytes(6).toString('hex')}`;
  canaries.set(c, { cls, where });
  return c;
}

function pgCluster(...args) {
  return new Promise((resolve, reject) => {
    execFile(PG_CLUSTER, args, { timeout: 180_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`pg-cluster.sh ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}

/** A request as `who`, kept for the final search. */
async function call(who, method, path, { body, headers = {}, raw = false, validate = true } = {}) {
  const res = await svc.api(method, path, { token: who ? tok[who] : undefined, body, headers, raw, validate });
  assert.ok(res.status < 500, `${who} ${method} ${path}: ${res.status} ${res.text}`);
  responses.push({ who, method, path, status: res.status, text: res.text, headers: res.headers });
  return res;
}

async function ok(who, method, path, body, want = [200, 201, 204]) {
  const res = await call(who, method, path, { body });
  assert.ok(want.includes(res.status), `${who} ${method} ${path}: ${res.status} ${res.text}`);
  return res.json;
}

before(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'lda-privacy-'));
  clusterDir = join(workDir, 'pg');
  clusterStarted = true;
  await pgCluster('start', clusterDir, 'auto');
  clusterReal = realpathSync(clusterDir);
  process.env.LDA_TEST_PG_URL = readFileSync(join(clusterDir, 'url'), 'utf8').trim();
  svc = await startService({ env: NO_RATE_LIMIT_ENV });
  // a line PostgreSQL must write to pg.log: proves the search below reads the right log
  pgProbe = `PGLOG-PROBE-${randomBytes(6).toString('hex')}`;
  await svc.sql(`DO $$ BEGIN RAISE WARNING '${pgProbe}'; END $$`);
  tok.admin = await svc.createToken('admin', { name: 'privacy-admin' });
  const mk = async (name, body) => {
    const t = await ok('admin', 'POST', '/v1/tokens', { name: canary('TOK', `token ${name}`), ...body });
    tok[name] = t.token;
    tokId[name] = t.id;
  };
  await mk('coordinator', { role: 'coordinator', platforms: ['artois'] });
  await mk('partner', { role: 'partner', platforms: ['artois'] });
  await mk('siao', { role: 'siao', platforms: ['artois'], source: 'siao62' });
  await mk('analyst', { role: 'analyst' });
});

after(async () => {
  try {
    await svc?.stop();
  } finally {
    delete process.env.LDA_TEST_PG_URL;
    try {
      if (clusterStarted) await pgCluster('stop', clusterDir);
    } finally {
      if (workDir) rmSync(workDir, { recursive: true, force: true });
      if (clusterReal && clusterReal.startsWith('/var/lib/lda-api/clusters/')) rmSync(clusterReal, { recursive: true, force: true });
    }
  }
});

// ---------------------------------------------------------------------------------------------

const ids = {};

test('a_workload_with_canaries_in_every_free_text_field', async (t) => {
  // partners, households, referrals, transitions, measures: admin and coordinator
  ids.partner = (await ok('admin', 'POST', '/v1/partners', partnerBody({ name: canary('PART', 'partner name') }))).id;
  const head = () => ({ last_name: canary('ID', 'last_name'), first_name: canary('ID', 'first_name'), birth_date: '2003-04-05', sex: 'female' });
  ids.headOf = {};
  for (const who of ['admin', 'coordinator']) {
    const h = householdBody('artois', { head: head(), external_ref: canary('ID', 'external_ref') });
    const created = await ok(who, 'POST', '/v1/households', h);
    ids[`household_${who}`] = created.id;
    ids.headOf[who] = h.head;
    const r = await ok(
      who,
      'POST',
      '/v1/referrals',
      referralBody(created.id, 'artois', { referrer_name: canary('NOTE', 'referrer_name'), decision_note: canary('NOTE', 'decision_note') }),
    );
    ids[`referral_${who}`] = r.id;
    await ok(who, 'POST', `/v1/referrals/${r.id}/transitions`, { to: 'assessing', on: '2025-01-12', note: canary('NOTE', 'transition note') });
    await ok(who, 'POST', `/v1/referrals/${r.id}/transitions`, { to: 'orientation_proposed', on: '2025-01-13', note: canary('NOTE', 'transition note') });
    const m = await ok(who, 'POST', `/v1/referrals/${r.id}/measures`, measureBody({ kind: 'envaul', operator: canary('NOTE', 'operator') }));
    ids[`measure_${who}`] = m.id;
    await ok(who, 'PATCH', `/v1/measures/${m.id}`, { operator: canary('NOTE', 'operator (patch)') });
    await ok(who, 'PATCH', `/v1/households/${created.id}`, { head: { first_name: canary('ID', 'first_name (patch)') } });
    await ok(who, 'PATCH', `/v1/referrals/${r.id}`, { decision_note: canary('NOTE', 'decision_note (patch)') });
    await ok(who, 'PATCH', `/v1/partners/${ids.partner}`, { name: canary('PART', 'partner name (patch)') });
  }
  // a partner refers a household inline: it gets the status view back, never the canaries
  ids.dupHead = head(); // never changed afterwards: a second household of this person conflicts
  const pr = await ok(
    'partner',
    'POST',
    '/v1/referrals',
    referralBody(householdBody('artois', { head: ids.dupHead, external_ref: canary('ID', 'external_ref (partner)') }), 'artois', {
      referrer_name: canary('NOTE', 'referrer_name (partner)'),
      decision_note: canary('NOTE', 'decision_note (partner)'),
    }),
  );
  ids.partnerReferral = pr.id;
  // eviction prevention: cases (household inline), stage notes and action outcome notes
  for (const who of ['admin', 'coordinator']) {
    const k = await ok(who, 'POST', '/v1/prevention-cases', caseBody(householdBody('artois', { head: head(), external_ref: canary('ID', 'external_ref (case)') })));
    ids[`case_${who}`] = k.id;
    await ok(who, 'POST', `/v1/prevention-cases/${k.id}/stages`, { stage: 'summons', on: '2025-02-01', note: canary('NOTE', 'stage note') });
    const a = await ok(who, 'POST', `/v1/prevention-cases/${k.id}/actions`, { kind: 'vej', done_on: '2025-02-10', outcome_notes: canary('NOTE', 'outcome_notes') });
    await ok(who, 'PATCH', `/v1/prevention-actions/${a.id}`, { outcome_notes: canary('NOTE', 'outcome_notes (patch)') });
    ids[`action_${who}`] = a.id;
  }
  const pcase = await ok('partner', 'POST', '/v1/prevention-cases', caseBody(householdBody('artois', { head: head(), external_ref: canary('ID', 'external_ref (partner case)') })));
  ids.partnerCase = pcase.id;
  // a SIAO system pushes requests, households and referrals
  const sx = (what = 'siao request external_id') => canary('SIAO', what);
  const siaoRecords = [];
  for (let i = 0; i < 5; i += 1) siaoRecords.push(siaoRecord(sx(), { person_key: canary('SIAO', 'person_key (re-keyed when stored: not exposed)') }));
  await ok('siao', 'POST', '/v1/siao-requests/batch', siaoRecords);
  const hExt = sx('household external_id');
  await ok('siao', 'POST', '/v1/households/batch', [householdRecord(hExt, { head: head() })]);
  // notes a siao token pushes are its own data: it reads them back (class SIAO)
  await ok('siao', 'POST', '/v1/referrals/batch', [
    // a referral's external_id is stored but no view shows it
    referralRecord(sx('referral external_id (not exposed)'), hExt, { referrer_name: canary('SIAO', 'referrer_name (batch)'), decision_note: canary('SIAO', 'decision_note (batch)') }),
  ]);
  // an NDJSON push too
  const nd = await call('siao', 'POST', '/v1/siao-requests/batch', {
    body: `${JSON.stringify(siaoRecord(sx(), { person_key: canary('SIAO', 'person_key (ndjson; re-keyed when stored: not exposed)') }))}\n`,
    raw: true,
    headers: { 'Content-Type': 'application/x-ndjson' },
  });
  assert.equal(nd.status, 200, nd.text);

  // every role reads what it may
  const READS = {
    admin: [
      '/v1/partners',
      '/v1/households',
      `/v1/households/${ids.household_coordinator}`,
      '/v1/referrals',
      `/v1/referrals/${ids.referral_coordinator}`,
      `/v1/referrals/${ids.referral_coordinator}/events`,
      `/v1/referrals/${ids.referral_coordinator}/measures`,
      `/v1/measures/${ids.measure_coordinator}`,
      '/v1/prevention-cases',
      `/v1/prevention-cases/${ids.case_coordinator}`,
      `/v1/prevention-cases/${ids.case_coordinator}/stages`,
      `/v1/prevention-cases/${ids.case_coordinator}/actions`,
      `/v1/prevention-actions/${ids.action_coordinator}`,
      '/v1/siao-requests',
      '/v1/tokens',
      '/v1/audit-events?limit=500',
      '/v1/stats/activity',
      '/v1/observatory/youth',
      '/v1/observatory/youth/series?granularity=year',
      '/v1/stats/activity?format=csv',
      '/metrics',
      '/v1/changes?limit=500',
    ],
    coordinator: [
      '/v1/partners',
      '/v1/households',
      `/v1/households/${ids.household_admin}`,
      '/v1/referrals',
      `/v1/referrals/${ids.referral_admin}`,
      `/v1/referrals/${ids.referral_admin}/events`,
      `/v1/referrals/${ids.referral_admin}/measures`,
      `/v1/measures/${ids.measure_admin}`,
      '/v1/prevention-cases',
      `/v1/prevention-cases/${ids.case_admin}/stages`,
      `/v1/prevention-cases/${ids.case_admin}/actions`,
      '/v1/stats/activity',
      '/v1/observatory/youth?format=csv',
      '/v1/changes?limit=500',
    ],
    // the change feed carries ids, codes and dates only: never a canary
    partner: ['/v1/partners', `/v1/partners/${ids.partner}`, '/v1/referrals', `/v1/referrals/${ids.partnerReferral}`, '/v1/prevention-cases', `/v1/prevention-cases/${ids.partnerCase}`, '/v1/changes?limit=500'],
    siao: ['/v1/siao-requests', '/v1/households', '/v1/referrals', '/v1/changes?limit=500'],
    analyst: ['/v1/stats/activity', '/v1/stats/outcomes', '/v1/stats/outcomes?format=csv', '/v1/observatory/youth', '/v1/observatory/youth/series', '/v1/observatory/youth?format=csv'],
  };
  let reads = 0;
  for (const [who, paths] of Object.entries(READS)) {
    for (const p of paths) {
      await ok(who, 'GET', p, undefined, [200]);
      reads += 1;
    }
  }
  // the siao token reads back one household and one referral it pushed
  const mine = await call('siao', 'GET', '/v1/households?limit=5');
  for (const h of mine.json.items) await ok('siao', 'GET', `/v1/households/${h.id}`, undefined, [200]);
  const mineR = await call('siao', 'GET', '/v1/referrals?limit=5');
  for (const r of mineR.json.items) await ok('siao', 'GET', `/v1/referrals/${r.id}`, undefined, [200]);
  summary(t, `workload: ${canaries.size} canaries in names, external refs, notes, operators, partner and token names, SIAO ids and person keys; ${reads} reads by the five roles`);
});

test('errors_provoked_with_canaries_in_refused_input', async (t) => {
  const bad = (where) => canary('BAD', where);
  const before = responses.length;
  const expect = async (who, method, path, body, status, opts = {}) => {
    const res = await call(who, method, path, { body, ...opts });
    assert.equal(res.status, status, `${who} ${method} ${path}: ${res.status} ${res.text}`);
    return res;
  };
  const h = () => ({ last_name: bad('last_name'), first_name: bad('first_name'), birth_date: '2003-04-05', sex: 'female' });
  // validation errors
  await expect('coordinator', 'POST', '/v1/households', householdBody('artois', { head: { ...h(), birth_date: '2999-01-01' }, external_ref: bad('external_ref') }), 422);
  await expect('coordinator', 'POST', '/v1/households', householdBody('artois', { head: h(), adults: 99 }), 422);
  await expect('coordinator', 'POST', '/v1/referrals', referralBody(ids.household_admin, 'artois', { decision_note: bad('decision_note'), reasons: ['nope'] }), 422);
  await expect('partner', 'POST', '/v1/referrals', referralBody(householdBody('artois', { head: h() }), 'artois', { referrer_name: bad('referrer_name'), received_on: '2999-01-01' }), 422);
  await expect('coordinator', 'POST', `/v1/referrals/${ids.referral_admin}/measures`, measureBody({ operator: bad('operator'), ended_on: '2020-01-01' }), 422);
  await expect('admin', 'POST', '/v1/partners', { name: bad('partner name'), kind: 'nope' }, 422);
  await expect('admin', 'POST', '/v1/tokens', { name: bad('token name'), role: 'root' }, 422);
  await expect('coordinator', 'POST', '/v1/prevention-cases', caseBody(householdBody('artois', { head: h() }), 'artois', { landlord_kind: 'nope' }), 422);
  await expect('partner', 'POST', '/v1/prevention-cases', caseBody(householdBody('artois', { head: h() }), 'artois', { stage_on: '2999-01-01' }), 422);
  await expect('coordinator', 'POST', `/v1/prevention-cases/${ids.case_admin}/stages`, { stage: 'payment_order', on: '2025-03-01', note: bad('stage note') }, 409);
  await expect('coordinator', 'POST', `/v1/prevention-cases/${ids.case_admin}/actions`, { kind: 'vej', done_on: '2999-01-01', outcome_notes: bad('outcome_notes') }, 422);
  await expect('coordinator', 'PATCH', `/v1/households/${ids.household_admin}`, { head: { last_name: bad('last_name'), birth_date: 'yesterday' } }, 422);
  // conflicts: the same person twice; a transition the state machine refuses
  const dupHead = ids.dupHead;
  await expect('coordinator', 'POST', '/v1/households', householdBody('artois', { head: dupHead, external_ref: bad('external_ref (conflict)') }), 409);
  await expect('coordinator', 'POST', `/v1/referrals/${ids.referral_admin}/transitions`, { to: 'received', on: '2025-01-14', note: bad('transition note') }, 409);
  // a stale If-Match
  await expect('coordinator', 'PATCH', `/v1/referrals/${ids.referral_admin}`, { decision_note: bad('decision_note') }, 412, { headers: { 'If-Match': '"0"' } });
  // malformed, oversized, wrong type, duplicate keys
  await expect('coordinator', 'POST', '/v1/households', `{"platform":"artois","head":{"last_name":"${bad('last_name')}"`, 400, {
    raw: true,
    headers: { 'Content-Type': 'application/json' },
  });
  await expect('coordinator', 'POST', '/v1/partners', `{"name":"${bad('partner name')}","name":"x","kind":"ccas"}`, 400, {
    raw: true,
    headers: { 'Content-Type': 'application/json' },
  });
  await expect('coordinator', 'POST', '/v1/partners', `{"name":"${bad('partner name')}","kind":"ccas"${' '.repeat(1 << 20)}}`, 413, {
    raw: true,
    headers: { 'Content-Type': 'application/json' },
  });
  await expect('coordinator', 'POST', '/v1/partners', `{"name":"${bad('partner name')}","kind":"ccas"}`, 415, { raw: true, headers: { 'Content-Type': 'text/plain' } });
  // refused roles and credentials
  await expect('partner', 'PATCH', `/v1/referrals/${ids.partnerReferral}`, { decision_note: bad('decision_note') }, 403);
  await expect('analyst', 'POST', '/v1/households', householdBody('artois', { head: h() }), 403);
  const unk = await call(null, 'GET', '/v1/households', { headers: { Authorization: `Bearer ${bad('token')}` } });
  assert.equal(unk.status, 401);
  // query strings: bad values, a crafted cursor, a filter matching nothing
  const cursor = (a) => Buffer.from(JSON.stringify(a)).toString('base64url');
  for (const p of [
    `/v1/households?updated_since=${bad('updated_since')}`,
    `/v1/referrals?status=${bad('status')}`,
    `/v1/partners?platform=${bad('platform')}`,
    `/v1/audit-events?resource_type=${bad('resource_type')}`,
    `/v1/households?cursor=${cursor([bad('cursor key'), bad('cursor id')])}`,
    `/v1/referrals?cursor=${cursor([bad('cursor key'), bad('cursor id')])}`,
    `/v1/partners?cursor=${cursor([bad('cursor key'), bad('cursor id')])}`,
    `/v1/tokens?cursor=${cursor([bad('cursor key'), bad('cursor id')])}`,
    `/v1/audit-events?cursor=${cursor([bad('cursor key'), bad('cursor id')])}`,
    `/v1/siao-requests?cursor=${cursor([bad('cursor key'), bad('cursor id')])}`,
    `/v1/referrals/${ids.referral_admin}/events?cursor=${cursor([bad('cursor key'), bad('cursor id')])}`,
    `/v1/referrals/${ids.referral_admin}/measures?cursor=${cursor([bad('cursor key'), bad('cursor id')])}`,
    `/v1/households?cursor=${cursor(['2025-01-01 00:00:00+00', bad('cursor id')])}`,
    `/v1/partners?cursor=${cursor(['Nom', bad('cursor id')])}`,
  ]) {
    const res = await call('admin', 'GET', p);
    assert.ok([422, 400].includes(res.status), `${p}: ${res.status} ${res.text}`);
  }
  await ok('admin', 'GET', `/v1/siao-requests?source=${bad('source filter')}`, undefined, [200]);
  // batches: invalid records with canaries (the pusher gets its own external ids back only)
  const rec = siaoRecord(canary('SIAO', 'external_id (rejected)'), { person_key: bad('person_key'), channel: 'nope' });
  const rep = await ok('siao', 'POST', '/v1/siao-requests/batch', [rec], [200]);
  assert.equal(rep.rejected.length, 1);
  const atomic = await call('siao', 'POST', '/v1/siao-requests/batch?atomic=true', {
    body: [siaoRecord(canary('SIAO', 'external_id (atomic)'), { person_key: bad('person_key'), age: 500 })],
  });
  assert.equal(atomic.status, 422);
  const hrec = householdRecord(canary('SIAO', 'household external_id (rejected)'), { head: { ...h(), sex: 'nope' } });
  await ok('siao', 'POST', '/v1/households/batch', [hrec], [200]);
  const dupRec = householdRecord(canary('SIAO', 'household external_id (duplicate person)'), { head: { ...ids.dupHead } });
  await ok('siao', 'POST', '/v1/households/batch', [dupRec], [200]);
  const ndBad = await call('siao', 'POST', '/v1/siao-requests/batch', {
    body: `{"external_id":"${bad('ndjson line')}",\n{"person_key":"${bad('ndjson person_key')}"}\n`,
    raw: true,
    headers: { 'Content-Type': 'application/x-ndjson' },
  });
  assert.equal(ndBad.status, 200, ndBad.text);
  await expect('siao', 'POST', '/v1/siao-requests/batch', [siaoRecord('IDEM-1')], 422, { headers: { 'Idempotency-Key': 'x'.repeat(201) } });
  // erasure: after DELETE, the identity canaries of that household are gone from every answer
  await ok('admin', 'DELETE', `/v1/households/${ids.household_coordinator}`, undefined, [204]);
  const erased = await ok('admin', 'GET', `/v1/households/${ids.household_coordinator}`, undefined, [200]);
  for (const v of [...Object.values(ids.headOf.coordinator)]) {
    if (String(v).startsWith('CANARY')) assert.ok(!JSON.stringify(erased).includes(v), `erased identity still answered: ${v}`);
  }
  ids.erased = ids.household_coordinator;
  summary(t, `refused input: ${responses.length - before} requests (validation errors, conflicts, stale If-Match, malformed, oversized, wrong type, refused roles and credentials, crafted cursors, bad query values, rejected batch records), ${[...canaries.values()].filter((c) => c.cls === 'BAD').length} BAD canaries`);
});

// ---------------------------------------------------------------------------------------------

/** The canaries a text holds, as a list of { canary, cls }. */
function found(text) {
  return [...String(text).matchAll(CANARY_RE)].map((m) => ({ canary: m[0], cls: m[1] }));
}

/** The canary classes an answer may hold. */
function allowedClasses(r) {
  const p = r.path.split('?')[0];
  // a batch report (200, or 422 for an atomic batch) lists the pusher's own rejected external ids
  if (p.endsWith('/batch') && [200, 422].includes(r.status) && ['siao', 'admin'].includes(r.who)) return new Set(['SIAO']);
  if (r.status >= 300) return new Set();
  const caseData = /^\/v1\/(households|referrals|measures|prevention-cases|prevention-actions)(\/|$)/.test(p) && !/\/(batch)$/.test(p);
  switch (r.who) {
    case 'admin':
      if (p.startsWith('/v1/tokens')) return new Set(['TOK']);
      if (p.startsWith('/v1/partners')) return new Set(['PART']);
      if (p.startsWith('/v1/siao-requests')) return new Set(['SIAO']);
      if (caseData) return new Set(['ID', 'NOTE', 'SIAO']);
      return new Set();
    case 'coordinator':
      if (p.startsWith('/v1/partners')) return new Set(['PART']);
      if (caseData) return new Set(['ID', 'NOTE', 'SIAO']);
      return new Set();
    case 'partner':
      return p.startsWith('/v1/partners') ? new Set(['PART']) : new Set();
    case 'siao':
      // its batch reports and what it reads back: the ids it pushed, never identity or notes
      if (p.startsWith('/v1/siao-requests') || p.endsWith('/batch') || /^\/v1\/(households|referrals)/.test(p)) return new Set(['SIAO']);
      return new Set();
    default:
      return new Set();
  }
}

test('no_canary_in_any_log_or_in_any_answer_outside_the_operations_allowed_to_return_it', async (t) => {
  await sleep(500); // the audit writer and the log lines of the last requests
  const serviceLines = [...svc.logs, ...svc.stdout];
  const pgLog = readFileSync(join(clusterDir, 'pg.log'), 'utf8');
  const pgLines = pgLog.split('\n');

  assert.ok(pgLog.includes(pgProbe), 'pg.log holds the probe line: it is the cluster the service used');
  assert.ok(serviceLines.some((l) => /"msg":"request"/.test(l)), 'the service logged its requests');
  // logs: no canary at all
  const inService = serviceLines.filter((l) => found(l).length);
  assert.deepEqual(inService, [], 'canaries in the service log');
  const inPg = pgLines.filter((l) => found(l).length);
  assert.deepEqual(inPg, [], 'canaries in the PostgreSQL log');

  // answers: only where allowed; BAD canaries nowhere
  const violations = [];
  const seen = new Set();
  for (const r of responses) {
    const allowed = allowedClasses(r);
    for (const { canary: c, cls } of found(r.text)) {
      seen.add(c);
      if (!allowed.has(cls)) violations.push(`${r.who} ${r.method} ${r.path} → ${r.status}: ${cls} canary (${canaries.get(c)?.where ?? '?'})`);
    }
    for (const [name, value] of Object.entries(r.headers ?? {})) {
      if (found(value).length) violations.push(`${r.who} ${r.method} ${r.path}: canary in header ${name}`);
    }
  }
  assert.deepEqual([...new Set(violations)], [], 'canaries in answers that may not hold them');

  // the search works: every canary of stored data came back to someone allowed to see it
  const stored = [...canaries.entries()].filter(([, v]) => v.cls !== 'BAD' && !/rejected|atomic|duplicate person|not exposed/.test(v.where));
  const never = stored.filter(([c]) => !seen.has(c)).map(([c, v]) => `${v.cls} ${v.where}`);
  assert.deepEqual(never, [], 'canaries of stored data never answered to an allowed caller (the search would be blind)');

  summary(
    t,
    `privacy: ${canaries.size} canaries; ${serviceLines.length} service log lines and ${pgLines.length} PostgreSQL log lines hold none; ` +
      `${responses.length} answers hold them only where the role may see them (${stored.length - never.length} stored canaries seen by allowed callers, no BAD canary anywhere)`,
  );
});

test('no_sql_detail_file_path_or_token_in_any_answer_or_service_log_line', async (t) => {
  const tokens = Object.entries(tok);
  const problems = [];
  for (const r of responses) {
    let body = r.text;
    if (/problem\+json/.test(r.headers?.['content-type'] ?? '')) {
      try {
        const { instance, ...rest } = JSON.parse(r.text); // the caller's own path
        body = JSON.stringify(rest);
      } catch {
        /* not JSON: searched as is */
      }
    }
    const leaks = leaksIn(body);
    if (leaks.length && !(r.path.startsWith('/metrics') || r.path.startsWith('/openapi.yaml'))) problems.push(`${r.method} ${r.path}: ${leaks.join(', ')}`);
    for (const [name, value] of tokens) {
      const own = r.method === 'POST' && r.path === '/v1/tokens' && r.status === 201 && JSON.parse(r.text).token === value;
      if (!own && r.text.includes(value)) problems.push(`${r.method} ${r.path}: token ${name}`);
    }
  }
  for (const line of [...svc.logs, ...svc.stdout]) {
    const leaks = leaksIn(line);
    if (leaks.length) problems.push(`log: ${leaks.join(', ')}: ${line.slice(0, 200)}`);
    for (const [name, value] of tokens) if (line.includes(value)) problems.push(`log: token ${name}`);
  }
  assert.deepEqual(problems, []);
  const errors = svc.logEntries().filter((e) => e.level === 'error');
  assert.deepEqual(errors, [], 'no error line in the service log');
  summary(t, `leaks: ${responses.length} answers and ${svc.logs.length + svc.stdout.length} service log lines: no SQL, no PostgreSQL DETAIL, no file path, no stack trace, no token outside its creation answer`);
});

test('the_audit_log_holds_no_canary', async (t) => {
  const r = await svc.sql(`SELECT row_to_json(a)::text AS j FROM audit_event a`);
  const hits = r.rows.filter((x) => found(x.j).length);
  assert.deepEqual(hits, []);
  assert.ok(r.rows.length > 0, 'the workload was audited');
  summary(t, `audit log: ${r.rows.length} events, none holds a canary (never the data itself)`);
});

