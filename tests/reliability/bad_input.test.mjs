// Bad input: every writable operation and every query parameter of openapi.yaml fed
// malformed JSON, wrong types, huge bodies (Content-Length and chunked), deep nesting, invalid
// UTF-8, NUL bytes, SQL injection strings, duplicate and unknown keys, out-of-range dates and
// numbers, missing and wrong Content-Types; every path fed the methods it does not document.
//
// Every answer must be a status openapi.yaml documents for the operation (the harness checks
// each one against the spec), an RFC 9457 problem+json for errors that leaks no SQL, PostgreSQL
// DETAIL, file path or stack trace, never a 5xx; and a rejected request must leave the database
// exactly as it was (a fingerprint of every table, taken as superuser, before and after) and no
// audit event. SQL injection strings in plain-text fields are valid data: they must be stored
// verbatim and change nothing else. Each category prints what it tried and what held.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SEEDED_AMI1_RULE, caseBody, caseRecord, householdBody, householdRecord, measureBody, meetingBody, offerBody, partnerBody, placementBody, referralBody, referralRecord, ruleBody, siaoRecord, uniqueLetters } from '../lib/data.mjs';
import { changedTables, fingerprint } from '../lib/fingerprint.mjs';
import { rawExchange, request } from '../lib/http.mjs';
import { summary } from '../lib/load.mjs';
import { concretePath, deref, documentedMethods, opKey, operations, schemaFields, specDoc, valueAt, withValue } from '../lib/openapi.mjs';
import { assertProblem, assertSane, leaksIn } from '../lib/problems.mjs';
import { NO_RATE_LIMIT_ENV, startService } from '../lib/service.mjs';
import { sleep } from '../lib/wait.mjs';

const MAX_BODY = 1 << 20; // LDA_MAX_BODY_BYTES default
const MAX_BATCH = 32 << 20; // LDA_MAX_BATCH_BYTES default

/** Resident set size of a process, in bytes. */
function rss(pid) {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m);
  return Number(m[1]) * 1024;
}

let svc;
const tok = {};
const ids = {};
let rejSeq = 0;
const tally = new Map(); // category → { sent, statuses }

function count(cat, status) {
  let t = tally.get(cat);
  if (!t) tally.set(cat, (t = { sent: 0, statuses: {} }));
  t.sent += 1;
  t.statuses[status] = (t.statuses[status] ?? 0) + 1;
}

function statusLine(cat) {
  const t = tally.get(cat) ?? { sent: 0, statuses: {} };
  const s = Object.entries(t.statuses)
    .map(([k, v]) => `${k}×${v}`)
    .join(' ');
  return `${t.sent} requests (${s || 'none'})`;
}

/**
 * One request through the harness (checked against openapi.yaml), asserting no 5xx and a clean
 * problem+json for errors. Requests expected to be refused carry X-Request-Id rej-N, so that
 * the audit log can be searched for them at the end.
 */
async function send(cat, method, path, opts = {}) {
  const { body, raw = false, headers = {}, refused = true, validate = true, timeout } = opts;
  const token = 'token' in opts ? opts.token : tok.admin;
  const h = { ...headers };
  if (refused) h['X-Request-Id'] = `rej-${(rejSeq += 1)}`;
  const started = Date.now();
  const res = await svc.api(method, path, { token, body, raw, headers: h, validate, timeout });
  res.ms = Date.now() - started;
  assertSane(res, `${cat}: ${method} ${path}`);
  count(cat, res.status);
  if (res.status >= 400) refusedIds.push(res.headers['x-request-id']);
  return res;
}

/** A raw JSON text (string or Buffer) as the body. */
const sendText = (cat, method, path, text, opts = {}) =>
  send(cat, method, path, {
    ...opts,
    body: text,
    raw: true,
    headers: { 'Content-Type': 'application/json', ...(opts.headers ?? {}) },
  });

/** node:http request (chunked bodies, no Content-Type) with the same checks. */
async function sendHttp(cat, method, path, opts = {}) {
  const headers = { ...(opts.headers ?? {}) };
  if (opts.token !== null) headers.Authorization = `Bearer ${opts.token ?? tok.admin}`;
  headers['X-Request-Id'] = `rej-${(rejSeq += 1)}`;
  const res = await request(svc.url, method, path, { keepAlive: false, raw: true, ...opts, headers, timeout: opts.timeout ?? 120_000 });
  if (method === 'HEAD') {
    assert.ok(res.status < 500, `${cat}: HEAD ${path}: ${res.status}`);
  } else {
    assert.ok(res.complete, `${cat}: ${method} ${path}: a complete answer`);
    assertSane(res, `${cat}: ${method} ${path}`);
  }
  count(cat, res.status);
  if (res.status >= 400) refusedIds.push(res.headers['x-request-id']);
  return res;
}

async function unchanged(before, what) {
  const now = await fingerprint(svc);
  assert.deepEqual(changedTables(before, now), [], `${what}: a refused request changed the database`);
}

/** True when the problem lists an error at `field` (or inside it: `/platforms/0`). */
function hasError(res, field) {
  return Array.isArray(res.json?.errors) && res.json.errors.some((e) => e.field === field || e.field.startsWith(`${field}/`));
}

/** Request ids of the answers >= 400: none may leave an audit event. */
const refusedIds = [];

const pointer = (ptr) => `/${ptr.join('/')}`;

// ---------------------------------------------------------------------------------------------
// The writable operations: a valid body (or batch record) for each, and where to send it.

async function freshReferral() {
  const res = await send('setup', 'POST', '/v1/referrals', {
    body: referralBody(householdBody()),
    refused: false,
  });
  assert.equal(res.status, 201, res.text);
  return res.json.id;
}

const WRITES = {
  'POST /v1/tokens': {
    path: () => '/v1/tokens',
    bases: [() => ({ role: 'siao', name: `Jeton ${uniqueLetters()}`, platforms: ['artois'], source: 'siaox', expires_at: '2099-01-01T00:00:00Z' })],
  },
  'POST /v1/partners': { path: () => '/v1/partners', bases: [() => partnerBody()] },
  'PATCH /v1/partners/{id}': { path: () => `/v1/partners/${ids.partner}`, bases: [() => partnerBody()] },
  'POST /v1/households': { path: () => '/v1/households', bases: [() => householdBody()] },
  'PATCH /v1/households/{id}': { path: () => `/v1/households/${ids.household}`, bases: [() => householdBody()] },
  'POST /v1/referrals': {
    path: () => '/v1/referrals',
    bases: [() => referralBody(ids.household), () => referralBody(householdBody())],
  },
  'PATCH /v1/referrals/{id}': {
    path: () => `/v1/referrals/${ids.referral}`,
    bases: [
      () => {
        const b = referralBody();
        delete b.household;
        delete b.platform;
        return b;
      },
    ],
  },
  'POST /v1/referrals/{id}/transitions': {
    // an accepted transition moves the referral on: each one gets a referral of its own
    path: async (accepting) => `/v1/referrals/${accepting ? await freshReferral() : ids.referral}/transitions`,
    bases: [() => ({ to: 'assessing', on: '2025-01-15', note: 'Étayage' })],
  },
  'POST /v1/referrals/{id}/measures': { path: () => `/v1/referrals/${ids.referral}/measures`, bases: [() => measureBody()] },
  'PATCH /v1/measures/{id}': { path: () => `/v1/measures/${ids.measure}`, bases: [() => measureBody()] },
  'POST /v1/siao-requests/batch': { batch: true, path: () => '/v1/siao-requests/batch', record: (ext) => siaoRecord(ext) },
  'POST /v1/households/batch': { batch: true, path: () => '/v1/households/batch', record: (ext) => householdRecord(ext) },
  'POST /v1/referrals/batch': {
    batch: true,
    path: () => '/v1/referrals/batch',
    record: (ext) => referralRecord(ext, ids.batchHousehold),
  },
  'POST /v1/webhooks': {
    path: () => '/v1/webhooks',
    bases: [() => ({ url: `https://hooks.example.org/bad-${uniqueLetters()}`, event_types: ['referral_created'], platforms: ['artois'] })],
  },
  'PATCH /v1/webhooks/{id}': {
    path: () => `/v1/webhooks/${ids.webhook}`,
    bases: [() => ({ url: 'https://hooks.example.org/bad-input', event_types: ['measure_ended'], platforms: ['artois'], status: 'active' })],
  },
  // eviction prevention and the housing offer
  'POST /v1/prevention-rules': { path: () => '/v1/prevention-rules', bases: [() => ruleBody()] },
  'PATCH /v1/prevention-rules/{id}': {
    path: () => `/v1/prevention-rules/${ids.rule}`,
    bases: [
      () => {
        const b = ruleBody();
        delete b.ami;
        return b;
      },
    ],
  },
  'POST /v1/prevention-cases/batch': { batch: true, path: () => '/v1/prevention-cases/batch', record: (ext) => caseRecord(ext, ids.batchHousehold) },
  'POST /v1/prevention-cases': {
    path: () => '/v1/prevention-cases',
    bases: [() => caseBody(ids.household), () => caseBody(householdBody())],
  },
  'PATCH /v1/prevention-cases/{id}': { path: () => `/v1/prevention-cases/${ids.case}`, bases: [() => ({ landlord_kind: 'private', debt_eur: 3000, debt_on: '2025-01-05' })] },
  'POST /v1/prevention-cases/{id}/stages': {
    // an accepted stage moves the case on: each one gets a case of its own
    path: async (accepting) => `/v1/prevention-cases/${accepting ? await freshCase() : ids.case}/stages`,
    bases: [() => ({ stage: 'judgment', on: '2025-03-01', note: 'Jugement rendu' })],
  },
  'POST /v1/prevention-cases/{id}/actions': {
    path: () => `/v1/prevention-cases/${ids.case}/actions`,
    bases: [() => ({ kind: 'vej', done_on: '2025-02-01', partner: null, outcome_notes: 'Visite réalisée' })],
  },
  'POST /v1/prevention-cases/{id}/follow-ups': {
    path: () => `/v1/prevention-cases/${ids.followCase}/follow-ups`,
    bases: [() => ({ at_months: 6, situation: 'procedure_pending' })],
  },
  'POST /v1/prevention-actions/batch': {
    batch: true,
    path: () => '/v1/prevention-actions/batch',
    record: (ext) => ({ external_id: ext, case: ids.case, kind: 'fsl_aid', done_on: '2025-02-10', outcome_notes: 'Aide FSL accordée' }),
  },
  'PATCH /v1/prevention-actions/{id}': {
    path: () => `/v1/prevention-actions/${ids.action}`,
    bases: [() => ({ kind: 'vej', done_on: '2025-02-01', partner: null, outcome_notes: 'Notes' })],
  },
  'POST /v1/prevention-follow-ups/batch': {
    batch: true,
    path: () => '/v1/prevention-follow-ups/batch',
    record: () => ({ case: ids.followCase, at_months: 12, situation: 'procedure_pending' }),
  },
  'POST /v1/housing-offers/batch': {
    batch: true,
    path: () => '/v1/housing-offers/batch',
    record: (ext) => {
      const o = offerBody();
      return { external_id: ext, ...o };
    },
  },
  'POST /v1/housing-offers': { path: () => '/v1/housing-offers', bases: [() => offerBody()] },
  'PATCH /v1/housing-offers/{id}': {
    path: () => `/v1/housing-offers/${ids.offer}`,
    bases: [
      () => {
        const b = offerBody();
        delete b.platform;
        return b;
      },
    ],
  },
  'POST /v1/placements/batch': {
    batch: true,
    path: () => '/v1/placements/batch',
    record: (ext) => ({ external_id: ext, ...placementBody(ids.placeReferral, ids.placeOffer) }),
  },
  'POST /v1/placements': { path: () => '/v1/placements', bases: [() => placementBody(ids.placeReferral, ids.placeOffer)] },
  'PATCH /v1/placements/{id}': { path: () => `/v1/placements/${ids.placement}`, bases: [() => ({ ...ids.placementStay, exit_reason: 'other' })] },
  'POST /v1/fluidity-meetings': { path: () => '/v1/fluidity-meetings', bases: [() => meetingBody([ids.referral])] },
  'PATCH /v1/fluidity-meetings/{id}': {
    path: () => `/v1/fluidity-meetings/${ids.meeting}`,
    bases: [
      () => {
        const b = meetingBody([ids.referral]);
        delete b.platform;
        return b;
      },
    ],
  },
};

async function freshCase() {
  const res = await send('setup', 'POST', '/v1/prevention-cases', { body: caseBody(householdBody()), refused: false });
  assert.equal(res.status, 201, res.text);
  return res.json.id;
}

/** The writable operations of the spec, each with its entry of WRITES and its body schema. */
function writableOps() {
  return operations()
    .filter((o) => o.body)
    .map((o) => {
      const w = WRITES[opKey(o)];
      assert.ok(w, `${opKey(o)} takes a body: add it to WRITES`);
      const json = o.body['application/json'];
      const schema = w.batch ? deref(json.items) : json;
      return { ...o, ...w, schema };
    });
}

/** The fields of one writable op (batch: of a record) with the base they were read from. */
function fieldsOf(w) {
  if (w.batch) {
    const base = w.record('x');
    return [{ base: () => w.record('x'), fields: schemaFields(w.schema, base) }];
  }
  return w.bases.map((b) => ({ base: b, fields: schemaFields(w.schema, b()) }));
}

/** Sends a batch (as the siao token) and returns the report; asserts a 200 report. */
async function sendBatch(cat, w, records, opts = {}) {
  const res = await send(cat, 'POST', w.path(), { token: tok.siao, body: records, ...opts });
  return res;
}

before(async () => {
  svc = await startService({ env: NO_RATE_LIMIT_ENV });
  tok.admin = await svc.createToken('admin', { name: 'bad-input-admin' });
  const t = await send('setup', 'POST', '/v1/tokens', {
    body: { role: 'siao', name: 'bad-input-siao', platforms: ['artois'], source: 'siao62' },
    refused: false,
  });
  assert.equal(t.status, 201, t.text);
  tok.siao = t.json.token;
  const mk = async (path, body) => {
    const res = await send('setup', 'POST', path, { body, refused: false });
    assert.equal(res.status, 201, `${path}: ${res.text}`);
    return res.json;
  };
  ids.partner = (await mk('/v1/partners', partnerBody())).id;
  ids.household = (await mk('/v1/households', householdBody())).id;
  ids.referral = (await mk('/v1/referrals', referralBody(ids.household))).id;
  ids.measure = (await mk(`/v1/referrals/${ids.referral}/measures`, measureBody())).id;
  ids.token = t.json.id;
  const wh = await mk('/v1/webhooks', { url: 'https://hooks.example.org/bad-input' });
  ids.webhook = wh.id;
  ids.delivery = (
    await svc.sql(
      `INSERT INTO webhook_delivery (endpoint_id, event_id, position, type, body, state)
       VALUES ($1, 1, 1, 'referral_created', '{}', 'delivered')
       ON CONFLICT (endpoint_id, event_id) DO UPDATE SET state = 'delivered' RETURNING id::text`,
      [wh.id],
    )
  ).rows[0].id;
  // the household the referral batches point at (pushed by the same source)
  ids.batchHousehold = 'HH-BASE';
  const hb = await send('setup', 'POST', '/v1/households/batch', {
    token: tok.siao,
    body: [householdRecord(ids.batchHousehold)],
    refused: false,
  });
  assert.equal(hb.json?.created, 1, hb.text);
  // eviction prevention and the housing offer
  const closed = await send('setup', 'PATCH', `/v1/prevention-rules/${SEEDED_AMI1_RULE}`, { body: { valid_to: '2099-12-31' }, refused: false });
  assert.equal(closed.status, 200, closed.text);
  ids.rule = (await mk('/v1/prevention-rules', ruleBody())).id;
  ids.case = (await mk('/v1/prevention-cases', caseBody(householdBody()))).id;
  ids.action = (await mk(`/v1/prevention-cases/${ids.case}/actions`, { kind: 'vej', done_on: '2025-01-20' })).id;
  ids.followCase = (await mk('/v1/prevention-cases', caseBody(householdBody()))).id;
  await mk(`/v1/prevention-cases/${ids.followCase}/actions`, { kind: 'pex_mobile_team', done_on: '2025-01-15' });
  ids.offer = (await mk('/v1/housing-offers', offerBody())).id;
  ids.placeOffer = (await mk('/v1/housing-offers', offerBody({ available_from: '2020-01-01' }))).id;
  ids.placeReferral = (await mk('/v1/referrals', referralBody(householdBody(), 'artois', { received_on: '2020-01-02', concertation: null }))).id;
  await mk(`/v1/referrals/${ids.placeReferral}/measures`, measureBody());
  const first = placementBody(ids.placeReferral, ids.placeOffer);
  ids.placementStay = { entered_on: first.entered_on, left_on: first.left_on };
  ids.placement = (await mk('/v1/placements', first)).id;
  ids.meeting = (await mk('/v1/fluidity-meetings', meetingBody([ids.referral]))).id;
});

after(async () => {
  await svc?.stop();
});

// ---------------------------------------------------------------------------------------------

test('malformed_json_is_400_on_every_json_operation_and_stores_nothing', async (t) => {
  const BAD = [
    '{',
    '{"a":}',
    "{'name':'x'}",
    '{"name":"x",}',
    '{"name":"x"}{"kind":"ccas"}',
    '{"name":"x"} trailing',
    '{"name":"\\x"}',
    '{"name":tru}',
    '{"name":NaN}',
    '{"name":Infinity}',
    '{"name":1e999}',
    '{"name":123456789012345678901234567890}',
    '{"name":"\\uD800"}',
    '{"name":"\\uZZZZ"}',
    '\uFEFF{"name":"x"}',
    '{"name":"x"',
    '/* comment */ {}',
    '"just a string"',
    '42',
    'null',
  ];
  const fp = await fingerprint(svc);
  const ops = writableOps();
  for (const w of ops) {
    for (const text of BAD) {
      const res = await sendText('malformed JSON', 'POST' === w.method ? 'POST' : w.method, await w.path(false), text, {
        token: w.batch ? tok.siao : tok.admin,
      });
      assert.equal(res.status, 400, `${opKey(w)} ${JSON.stringify(text)}: ${res.status} ${res.text}`);
    }
  }
  await unchanged(fp, 'malformed JSON');
  summary(t, `malformed JSON: ${BAD.length} bodies x ${ops.length} operations: ${statusLine('malformed JSON')}; all 400, database unchanged`);
});

// ---------------------------------------------------------------------------------------------

function wrongValues(schema) {
  const s = deref(schema);
  const alts = (s.oneOf ?? s.anyOf ?? [s]).map(deref);
  const types = new Set(alts.flatMap((a) => (Array.isArray(a.type) ? a.type : [a.type ?? (a.enum ? 'string' : undefined)])));
  const out = [];
  if (!types.has('string')) out.push('1');
  if (!types.has('integer') && !types.has('number')) out.push(12345);
  if (types.has('integer')) out.push(1.5);
  if (!types.has('boolean')) out.push(true);
  if (!types.has('object')) out.push({ a: 1 });
  if (!types.has('array')) out.push(['x']);
  if (types.has('array')) out.push([12], [['nested']]);
  if (!types.has('null')) out.push(null);
  return out;
}

test('wrong_types_in_every_field_are_422_naming_the_field_and_store_nothing', async (t) => {
  let fields = 0;
  let cases = 0;
  const failures = []; // collected, so that one run lists every field that lets a wrong type in
  for (const w of writableOps()) {
    for (const { base, fields: list } of fieldsOf(w)) {
      for (const f of list) {
        const values = wrongValues(f.schema);
        fields += 1;
        cases += values.length;
        const fp = await fingerprint(svc);
        const where = `${opKey(w)} ${pointer(f.ptr)}`;
        if (w.batch) {
          const records = values.map((v, i) => withValue(w.record(`WT-${uniqueLetters()}-${i}`), f.ptr, v));
          const res = await sendBatch('wrong types', w, records);
          assert.equal(res.status, 200, res.text);
          const named = new Set(res.json.rejected.filter((r) => hasError({ json: r }, pointer(f.ptr))).map((r) => r.index));
          values.forEach((v, i) => {
            if (!named.has(i)) failures.push(`${where} = ${JSON.stringify(v)}: not rejected naming the field`);
          });
          const atomic = await send('wrong types', 'POST', `${w.path()}?atomic=true`, { token: tok.siao, body: records });
          if (atomic.status !== 422) failures.push(`${where} atomic: ${atomic.status}`);
        } else {
          for (const v of values) {
            const res = await send('wrong types', w.method, await w.path(false), { body: withValue(base(), f.ptr, v) });
            if (res.status !== 422 || !hasError(res, pointer(f.ptr))) failures.push(`${where} = ${JSON.stringify(v)}: ${res.status} ${res.text.slice(0, 200)}`);
          }
        }
        if (changedTables(fp, await fingerprint(svc)).length) failures.push(`${where}: the database changed`);
      }
    }
  }
  assert.deepEqual(failures, [], 'wrong types let in');
  // every error listed: all top-level members wrong at once
  let together = 0;
  for (const w of writableOps().filter((x) => !x.batch)) {
    for (const { base, fields: list } of fieldsOf(w)) {
      const top = list.filter((f) => f.ptr.length === 1);
      let body = base();
      for (const f of top) body = withValue(body, f.ptr, wrongValues(f.schema)[0]);
      const res = await send('wrong types', w.method, await w.path(false), { body });
      assert.equal(res.status, 422, res.text);
      for (const f of top) assert.ok(hasError(res, pointer(f.ptr)), `${opKey(w)}: ${pointer(f.ptr)} not listed: ${res.text}`);
      together += 1;
    }
  }
  summary(
    t,
    `wrong types: ${cases} values in ${fields} fields of every writable operation, and ${together} bodies with every member wrong at once: ${statusLine('wrong types')}; each error names its field, database unchanged`,
  );
});

// ---------------------------------------------------------------------------------------------

const SQLI = [
  "' OR '1'='1",
  "'; DROP TABLE household; --",
  '" OR ""="',
  '1; SELECT pg_sleep(5)--',
  "' UNION SELECT token_hash FROM api_token --",
  "admin'--",
  "\\'; TRUNCATE referral CASCADE; --",
  '$$; DELETE FROM partner; $$',
  "1' AND 1=(SELECT COUNT(*) FROM pg_user) AND '1'='1",
  "') ; UPDATE household SET head_last_name = 'pwned' --",
  "'||(SELECT version())||'",
  '%27%20OR%201%3D1--',
];
const SLEEP_MS = 4_000; // an answer this slow would mean pg_sleep(5) ran

const AXES_TABLES = ['prevention_rule', 'prevention_case', 'prevention_stage_event', 'prevention_action', 'prevention_follow_up', 'housing_offer', 'placement', 'fluidity_meeting', 'fluidity_presentation'];

/** Rows (row_to_json text) of every table that contain `needle`. */
async function rowsMentioning(needle) {
  const tables = ['api_token', 'partner', 'household', 'referral', 'referral_event', 'measure', 'siao_request', ...AXES_TABLES];
  const q = tables.map((tb) => `SELECT row_to_json(x)::text AS j FROM ${tb} x WHERE strpos(row_to_json(x)::text, $1) > 0`).join(' UNION ALL ');
  return (await svc.sql(q, [needle])).rows.map((r) => r.j);
}

/** Every row of the service's tables, as JSON text, per table. */
async function snapshotRows() {
  const tables = ['platform', 'funding', 'api_token', 'partner', 'household', 'referral', 'referral_event', 'measure', 'siao_request', 'idempotency_key', ...AXES_TABLES];
  const q = tables.map((tb) => `SELECT '${tb}' AS t, row_to_json(x)::text AS j FROM ${tb} x`).join(' UNION ALL ');
  const out = Object.fromEntries(tables.map((tb) => [tb, []]));
  for (const row of (await svc.sql(q)).rows) out[row.t].push(row.j);
  return out;
}

/** The tables whose rows differ between two snapshots, leaving out rows that mention any of `needles`. */
function changedExcept(a, b, needles) {
  const keep = (rows) => rows.filter((j) => !needles.some((k) => j.includes(k))).sort();
  return Object.keys(a).filter((tb) => JSON.stringify(keep(a[tb])) !== JSON.stringify(keep(b[tb])));
}

test('sql_injection_in_every_field_of_every_writable_resource_is_stored_verbatim_or_refused_and_changes_nothing_else', async (t) => {
  let textFields = 0;
  let otherFields = 0;
  let tagSeq = 0;
  for (const w of writableOps()) {
    for (const { base, fields: list } of fieldsOf(w)) {
      for (const f of list) {
        const tag = `sqli${(tagSeq += 1)}${uniqueLetters('t')}`;
        const payloads = SQLI.map((p, i) => `${p} ~${tag}-${i}`);
        // a SIAO system's person_key is stored re-keyed, never as sent
        const rekeyed = w.batch && f.ptr.join('/') === 'person_key' && opKey(w).includes('siao-requests');
        // a reference to another record of the source (household_external_id...) finds none
        const expectStored = f.text && !(w.batch && /_external_id$/.test(f.ptr.join('/')));
        if (f.text) textFields += 1;
        else otherFields += 1;
        const before = expectStored ? await snapshotRows() : await fingerprint(svc);
        const touched = [tag];
        if (w.batch) {
          const records = payloads.map((p, i) => withValue(w.record(`SQ-${tag}-${i}`), f.ptr, p));
          const res = await sendBatch('sql injection (fields)', w, records, { refused: !expectStored });
          assert.equal(res.status, 200, res.text);
          assert.ok(res.ms < SLEEP_MS, `${opKey(w)}: ${res.ms} ms`);
          if (expectStored) {
            assert.equal(res.json.created, payloads.length, `${opKey(w)} ${pointer(f.ptr)}: ${res.text}`);
          } else {
            assert.equal(res.json.rejected.length, payloads.length, `${opKey(w)} ${pointer(f.ptr)}: ${res.text}`);
            assert.equal(res.json.created + res.json.updated, 0);
          }
        } else {
          for (const p of payloads) {
            const res = await send('sql injection (fields)', w.method, await w.path(expectStored), {
              body: withValue(base(), f.ptr, p),
              refused: !expectStored,
            });
            assert.ok(res.ms < SLEEP_MS, `${opKey(w)}: ${res.ms} ms`);
            if (expectStored) {
              assert.ok([200, 201].includes(res.status), `${opKey(w)} ${pointer(f.ptr)} = ${p}: ${res.status} ${res.text}`);
              const echoed = valueAt(res.json, f.ptr);
              if (echoed !== undefined) assert.equal(echoed, p, `${opKey(w)}: the answer holds the value as sent`);
              // stored verbatim (a PATCH overwrites the previous payload: checked one by one)
              const escaped = JSON.stringify(p).slice(1, -1);
              assert.ok((await rowsMentioning(p.slice(-12))).some((j) => j.includes(escaped)), `${opKey(w)} ${pointer(f.ptr)}: ${p} not stored verbatim`);
              for (const k of ['id', 'household']) if (typeof res.json?.[k] === 'string') touched.push(res.json[k]);
              const m = (await w.path(false)).match(/[0-9a-f-]{36}/);
              if (m) touched.push(m[0]);
            } else {
              assert.equal(res.status, 422, `${opKey(w)} ${pointer(f.ptr)} = ${p}: ${res.text}`);
            }
          }
        }
        if (expectStored) {
          if (w.batch) {
            // stored verbatim, each one (a person_key: re-keyed, never as sent)
            const rows = await rowsMentioning(rekeyed ? `SQ-${tag}` : tag);
            for (const p of payloads) {
              const escaped = JSON.stringify(p).slice(1, -1);
              if (rekeyed) assert.ok(!rows.some((j) => j.includes(escaped)), `${opKey(w)} ${pointer(f.ptr)}: ${p} stored as sent`);
              else assert.ok(rows.some((j) => j.includes(escaped)), `${opKey(w)} ${pointer(f.ptr)}: ${p} not stored verbatim`);
            }
            if (rekeyed) assert.equal(rows.length, payloads.length, `${opKey(w)}: the records are stored`);
          }
          // rows written by the requests: those holding a payload, the ids they hold, their events
          for (const j of await rowsMentioning(tag)) for (const m of j.matchAll(/"id" ?: ?"([0-9a-f-]{36})"/g)) touched.push(m[1]);
          const now = await snapshotRows();
          assert.deepEqual(changedExcept(before, now, touched), [], `${opKey(w)} ${pointer(f.ptr)}: other rows changed`);
        } else {
          await unchanged(before, `${opKey(w)} ${pointer(f.ptr)}`);
        }
      }
    }
  }
  summary(
    t,
    `SQL injection (fields): ${SQLI.length} payloads in ${textFields + otherFields} fields of ${writableOps().length} writable operations ` +
      `(${textFields} plain-text fields: stored verbatim; ${otherFields} typed fields: 422/rejected): ${statusLine('sql injection (fields)')}; ` +
      `no 5xx, no answer slower than ${SLEEP_MS} ms, no other row changed`,
  );
});

// ---------------------------------------------------------------------------------------------

/** Path ids for every template with parameters. */
function pathIds(template) {
  if (template.startsWith('/v1/partners/')) return { id: ids.partner };
  if (template.startsWith('/v1/households/')) return { id: ids.household };
  if (template.startsWith('/v1/referrals/')) return { id: ids.referral };
  if (template.startsWith('/v1/measures/')) return { id: ids.measure };
  if (template.startsWith('/v1/tokens/')) return { id: randomUUID() };
  if (template.startsWith('/v1/webhooks/')) return { id: ids.webhook, delivery_id: ids.delivery };
  if (template.startsWith('/v1/prevention-rules/')) return { id: ids.rule };
  if (template.startsWith('/v1/prevention-cases/')) return { id: ids.case };
  if (template.startsWith('/v1/prevention-actions/')) return { id: ids.action };
  if (template.startsWith('/v1/housing-offers/')) return { id: ids.offer };
  if (template.startsWith('/v1/placements/')) return { id: ids.placement };
  if (template.startsWith('/v1/fluidity-meetings/')) return { id: ids.meeting };
  return {};
}

test('sql_injection_in_every_query_and_path_parameter_of_every_route_is_refused_or_matches_nothing', async (t) => {
  let params = 0;
  let pathParams = 0;
  const fp = await fingerprint(svc);
  for (const o of operations()) {
    const base = concretePath(o.template, pathIds(o.template));
    const w = WRITES[opKey(o)];
    for (const p of o.params.filter((x) => x.in === 'query')) {
      params += 1;
      const plain = p.name === 'source'; // free text: a source's name
      for (const payload of SQLI) {
        const q = `${p.name}=${encodeURIComponent(payload)}`;
        if (w?.batch) {
          // as an admin, `source` names the source pushed as: stored verbatim
          const ext = `SQP-${uniqueLetters()}`;
          const res = await send('sql injection (parameters)', 'POST', `${base}?${q}`, {
            body: [w.record(ext)],
            refused: !plain,
          });
          if (plain) {
            assert.equal(res.status, 200, res.text);
            const table = {
              '/v1/siao-requests/batch': 'siao_request',
              '/v1/households/batch': 'household',
              '/v1/referrals/batch': 'referral',
              '/v1/prevention-cases/batch': 'prevention_case',
              '/v1/prevention-actions/batch': 'prevention_action',
              '/v1/housing-offers/batch': 'housing_offer',
              '/v1/placements/batch': 'placement',
            }[o.template];
            const col = table === 'household' ? 'external_ref' : 'external_id';
            // (follow-ups have no external_id: one per case and horizon, whatever the source)
            const r = table ? await svc.sql(`SELECT source FROM ${table} WHERE ${col} = $1`, [ext]) : { rows: [] };
            // a record pushed as another source that names another record of its own source
            // (a household, a case) finds none
            if (['siao_request', 'household', 'prevention_action', 'housing_offer', 'placement'].includes(table)) {
              assert.deepEqual(r.rows, [{ source: payload }], `${o.template}: source stored verbatim`);
            } else assert.ok(r.rows.length === 0 || r.rows[0].source === payload);
          } else assert.equal(res.status, 422, `${opKey(o)} ${q}: ${res.text}`);
          continue;
        }
        const body = w && !w.batch ? w.bases[0]() : undefined;
        const res = await send('sql injection (parameters)', o.method, `${base}?${q}`, { body, refused: !plain || o.method !== 'GET' });
        assert.ok(res.ms < SLEEP_MS, `${opKey(o)}: ${res.ms} ms`);
        if (plain) {
          assert.equal(res.status, 200, `${opKey(o)} ${q}: ${res.text}`);
          // exactly the rows of that literal source (pushed above under that name), no more
          const want = (await svc.sql(`SELECT count(*)::int AS n FROM siao_request WHERE source = $1`, [payload])).rows[0].n;
          assert.equal(res.json.items.length, want, `${opKey(o)} ${q}: ${res.json.items.length} rows`);
          assert.ok(res.json.items.every((x) => x.source === payload), `${opKey(o)} ${q}: another source listed`);
        } else assert.equal(res.status, 422, `${opKey(o)} ${q}: ${res.status} ${res.text}`);
      }
    }
    for (const p of o.params.filter((x) => x.in === 'path')) {
      pathParams += 1;
      for (const payload of SQLI) {
        const path = concretePath(o.template, { ...pathIds(o.template), [p.name]: encodeURIComponent(payload) });
        const body = w && !w.batch ? w.bases[0]() : undefined;
        const res = await send('sql injection (parameters)', o.method, path, { body });
        assert.equal(res.status, 404, `${opKey(o)} ${path}: ${res.status} ${res.text}`);
      }
    }
  }
  const after = await fingerprint(svc);
  const changed = changedTables(fp, after);
  // only the `source` pushes above may have written, and only records of those sources
  const pushed = ['siao_request', 'household', 'referral', 'referral_event', 'prevention_case', 'prevention_stage_event', 'prevention_action', 'prevention_follow_up', 'housing_offer', 'placement'];
  assert.ok(changed.every((x) => pushed.includes(x)), `changed: ${changed}`);
  const other = await svc.sql(
    `SELECT count(*)::int AS n FROM siao_request WHERE source <> 'siao62' AND NOT external_id LIKE 'SQP-%'`,
  );
  assert.equal(other.rows[0].n, 0);
  summary(
    t,
    `SQL injection (parameters): ${SQLI.length} payloads in ${params} query parameters and ${pathParams} path parameters of every route: ${statusLine(
      'sql injection (parameters)',
    )}; typed parameters 422, ids 404, a pushed source is stored verbatim and the source filter matches that literal source only`,
  );
});

// ---------------------------------------------------------------------------------------------

test('duplicate_keys_are_400_and_unknown_keys_422_at_every_level', async (t) => {
  const fp = await fingerprint(svc);
  let dup = 0;
  let unknown = 0;
  for (const w of writableOps()) {
    const token = w.batch ? tok.siao : tok.admin;
    const path = await w.path(false);
    for (const { base, fields: list } of fieldsOf(w)) {
      const record = w.batch ? w.record(`DK-${uniqueLetters()}`) : base();
      // a duplicate of the first member, then of a nested object's member
      const nested = list.filter((f) => f.ptr.length === 2);
      const places = [[], ...new Set(nested.map((f) => f.ptr.slice(0, 1).join('/')))].map((p) => (Array.isArray(p) ? p : [p]));
      for (const place of places) {
        const obj = place.length ? valueAt(record, place) : record;
        const [k, v] = Object.entries(obj)[0];
        const inner = JSON.stringify(obj).replace(/^\{/, `{${JSON.stringify(k)}:${JSON.stringify(v)},`);
        let text = place.length ? JSON.stringify(record).replace(JSON.stringify(obj), inner) : inner;
        if (w.batch) text = `[${text}]`;
        const res = await sendText('duplicate keys', w.method, path, text, { token });
        assert.equal(res.status, 400, `${opKey(w)} duplicate ${place.join('/')}.${k}: ${res.text}`);
        dup += 1;
        if (w.batch) {
          // one NDJSON line with a duplicate key: that record is rejected, the others stored
          const lines = `${text.slice(1, -1)}\n`;
          const r2 = await send('duplicate keys', 'POST', path, {
            token,
            body: lines,
            raw: true,
            headers: { 'Content-Type': 'application/x-ndjson' },
          });
          assert.equal(r2.status, 200, r2.text);
          assert.equal(r2.json.rejected.length, 1, r2.text);
          dup += 1;
        }
      }
      // unknown members, at the top and in each nested object
      for (const place of places) {
        const ptr = [...place, 'unexpected_member'];
        const body = withValue(record, ptr, 1);
        if (w.batch) {
          const res = await send('unknown keys', 'POST', path, { token, body: [body] });
          assert.equal(res.json.rejected.length, 1, res.text);
          assert.ok(res.json.rejected[0].errors.some((e) => e.field === pointer(ptr)), res.text);
        } else {
          const res = await send('unknown keys', w.method, path, { token, body });
          assert.equal(res.status, 422, res.text);
          assert.ok(hasError(res, pointer(ptr)), `${opKey(w)} ${pointer(ptr)}: ${res.text}`);
        }
        unknown += 1;
      }
    }
  }
  await unchanged(fp, 'duplicate and unknown keys');
  summary(
    t,
    `duplicate keys: ${dup} bodies (top level and nested; JSON and NDJSON): ${statusLine('duplicate keys')}; unknown keys: ${unknown} bodies: ${statusLine(
      'unknown keys',
    )}; database unchanged`,
  );
});

// ---------------------------------------------------------------------------------------------

function outOfRange(f) {
  const s = deref(f.schema);
  const alts = (s.oneOf ?? [s]).map(deref);
  const desc = `${s.description ?? ''}`.toLowerCase();
  const out = [];
  for (const a of alts) {
    const types = Array.isArray(a.type) ? a.type : [a.type];
    if (types.includes('integer')) {
      if (a.minimum !== undefined) out.push(a.minimum - 1, -(2 ** 31));
      if (a.maximum !== undefined) out.push(a.maximum + 1, 2 ** 31, 2 ** 53);
      if (a.enum) out.push(Math.max(...a.enum) + 1);
    }
    if (types.includes('string') && a.format === 'date') {
      out.push('2023-02-29', '2024-02-30', '2024-13-01', '2024-00-10', '2024-1-10', '20240110', '10/01/2024', '2024-01-10T00:00:00Z', '', '0000-00-00', '1899-12-31');
      if (/not in the future/.test(desc)) out.push(`${new Date().getUTCFullYear() + 1}-01-01`);
    }
    if (types.includes('string') && a.format === 'date-time') {
      out.push('2024-03-10 22:14:05', '2024-03-10T22:14:05', '2024-03-10T25:00:00Z', '2024-02-30T10:00:00Z', '2024-03-10T22:14:05+25:00', '1899-12-31T23:00:00Z', '');
      if (/not in the future/.test(desc)) out.push(`${new Date().getUTCFullYear() + 1}-01-01T00:00:00Z`);
      else if (/\(in the future\)/.test(desc)) out.push('2020-01-01T00:00:00Z');
    }
    if (types.includes('string') && a.maxLength) out.push('x'.repeat(a.maxLength + 1));
    if (types.includes('string') && a.minLength) out.push('');
  }
  return [...new Set(out.map((v) => JSON.stringify(v)))].map((v) => JSON.parse(v));
}

test('out_of_range_numbers_dates_and_lengths_are_422_naming_the_field', async (t) => {
  let cases = 0;
  for (const w of writableOps()) {
    for (const { base, fields: list } of fieldsOf(w)) {
      for (const f of list) {
        const values = outOfRange(f);
        if (!values.length) continue;
        const fp = await fingerprint(svc);
        if (w.batch) {
          const records = values.map((v, i) => withValue(w.record(`OR-${uniqueLetters()}-${i}`), f.ptr, v));
          const res = await sendBatch('out of range', w, records);
          assert.equal(res.status, 200, res.text);
          const bad = res.json.rejected.filter((r) => !r.errors.some((e) => e.field === pointer(f.ptr)));
          assert.equal(res.json.rejected.length, values.length, `${opKey(w)} ${pointer(f.ptr)}: ${res.text.slice(0, 600)}`);
          assert.deepEqual(bad, [], `${opKey(w)} ${pointer(f.ptr)}`);
        } else {
          for (const v of values) {
            const res = await send('out of range', w.method, await w.path(false), { body: withValue(base(), f.ptr, v) });
            assert.equal(res.status, 422, `${opKey(w)} ${pointer(f.ptr)} = ${JSON.stringify(v).slice(0, 60)}: ${res.text}`);
            assert.ok(hasError(res, pointer(f.ptr)), `${opKey(w)} ${pointer(f.ptr)} = ${JSON.stringify(v).slice(0, 60)}: ${res.text}`);
          }
        }
        cases += values.length;
        await unchanged(fp, `${opKey(w)} ${pointer(f.ptr)}`);
      }
    }
  }
  // rules between fields
  const fp = await fingerprint(svc);
  const CROSS = [
    ['POST', `/v1/referrals/${ids.referral}/measures`, measureBody({ started_on: '2025-02-01', ended_on: '2025-01-01' }), '/ended_on'],
    ['POST', `/v1/referrals/${ids.referral}/measures`, measureBody({ ended_on: null, end_reason: 'goals_met' }), '/end_reason'],
    ['POST', `/v1/referrals/${ids.referral}/measures`, measureBody({ housing_on: '2025-01-01' }), '/housing_on'],
    ['POST', '/v1/referrals', referralBody(ids.household, 'artois', { concertation: { held_on: '2025-01-01', household_present: true } }), '/concertation/held_on'],
    ['POST', '/v1/households', householdBody('artois', { adults: 0 }), '/adults'],
    ['POST', `/v1/referrals/${ids.referral}/transitions`, { to: 'assessing', on: '2024-01-01' }, '/on'],
    ['POST', '/v1/prevention-rules', ruleBody({ valid_to: '2000-01-01' }), '/valid_to'],
    ['POST', '/v1/prevention-rules', ruleBody({ debt_min_eur: 5000, debt_max_eur: 1000 }), '/debt_max_eur'],
    ['POST', '/v1/prevention-cases', caseBody(ids.household, 'artois', { debt_on: null }), '/debt_on'],
    ['POST', `/v1/prevention-cases/${ids.case}/stages`, { stage: 'summons', on: '2024-12-31' }, '/on'],
    ['POST', '/v1/housing-offers', offerBody({ available_to: '2023-12-31' }), '/available_to'],
    ['POST', '/v1/placements', placementBody(ids.placeReferral, ids.placeOffer, { left_on: '2019-12-31' }), '/left_on'],
    ['POST', '/v1/placements', placementBody(ids.placeReferral, ids.placeOffer, { left_on: null }), '/exit_reason'],
    ['POST', '/v1/fluidity-meetings', meetingBody([ids.referral], { proposals_made: 0 }), '/proposals_accepted'],
  ];
  for (const [m, p, body, field] of CROSS) {
    const res = await send('out of range', m, p, { body });
    assert.equal(res.status, 422, `${p} ${field}: ${res.text}`);
    assert.ok(hasError(res, field), `${p}: no error at ${field}: ${res.text}`);
    cases += 1;
  }
  await unchanged(fp, 'cross-field rules');
  summary(t, `out of range: ${cases} values (numbers past their bounds, impossible and future dates, lengths, end before start): ${statusLine('out of range')}; each error names its field, database unchanged`);
});

// ---------------------------------------------------------------------------------------------

test('query_parameters_are_validated_on_every_route', async (t) => {
  const fp = await fingerprint(svc);
  let n = 0;
  for (const o of operations()) {
    const path = concretePath(o.template, pathIds(o.template));
    const w = WRITES[opKey(o)];
    const body = w ? (w.batch ? [] : w.bases[0]()) : undefined;
    const token = w?.batch ? tok.siao : tok.admin;
    const go = async (q, cat) => send(cat, o.method, `${path}?${q}`, { body, token });
    // an unknown parameter, on every route (also those that take none)
    let res = await go('unexpected_param=1', 'query: unknown');
    assert.equal(res.status, 422, `${opKey(o)}: ${res.text}`);
    assert.ok(hasError(res, 'unexpected_param'), res.text);
    // the token as a query parameter is just an unknown parameter
    res = await go(`access_token=${tok.admin}`, 'query: unknown');
    assert.ok([401, 422].includes(res.status), `${opKey(o)}: ${res.text}`);
    // badly encoded: a broken escape, a NUL, invalid UTF-8
    for (const q of ['limit=%zz', 'limit=%4', 'x=%00', 'x=%FF%FE', 'x=%C3%28', '%C3=1']) {
      res = await go(q, 'query: encoding');
      assert.equal(res.status, 400, `${opKey(o)} ?${q}: ${res.text}`);
    }
    n += 8;
    for (const p of o.params.filter((x) => x.in === 'query')) {
      const s = deref(p.schema);
      const values = [];
      if (s.type === 'integer') values.push('0x10', '1.5', '1e2', ' 5', '5 ', '', '-', '99999999999999999999', ...(s.minimum !== undefined ? [String(s.minimum - 1)] : []), ...(s.maximum !== undefined ? [String(s.maximum + 1), String(Math.max(100000, s.maximum * 10))] : []), ...(s.enum ? ['3'] : []));
      if (s.format === 'date') values.push('2024-02-30', '2024-13-01', '1899-12-31', '2024-1-1', '', 'today');
      if (s.format === 'date-time' || p.name === 'from' || p.name === 'to') values.push('2024-02-30T00:00:00Z', '2024-03-10T22:14:05', 'yesterday', '');
      if (s.format === 'uuid') values.push('not-a-uuid', '', '00000000-0000-0000-0000-00000000000g');
      if (s.type === 'boolean') values.push('1', 'yes', 'TRUE', '');
      if (deref(s.items ?? {}).enum || s.enum || deref(s).enum) values.push('unknown_code', '');
      if (s.$ref || s.items?.$ref) values.push('unknown_code', 'ARTOIS');
      if (p.name === 'cursor') values.push('!!!', 'x'.repeat(600), Buffer.from('["a"]').toString('base64url'), Buffer.from('{}').toString('base64url'));
      if (p.name === 'source') values.push('', 'x'.repeat(201), 'a\u0001b');
      for (const v of [...new Set(values)]) {
        res = await go(`${p.name}=${encodeURIComponent(v)}`, 'query: values');
        if (w?.batch && p.name === 'source' && tok.siao) {
          assert.ok([403, 422].includes(res.status), `${opKey(o)} ${p.name}=${v}: ${res.text}`);
        } else assert.equal(res.status, 422, `${opKey(o)} ${p.name}=${JSON.stringify(v)}: ${res.status} ${res.text}`);
        n += 1;
      }
      // given twice (only the statistics' platform may repeat)
      const schemaIsArray = s.type === 'array';
      if (!schemaIsArray) {
        const ok = { integer: s.enum ? String(s.enum[0]) : String(s.minimum ?? 1), boolean: 'true' }[s.type] ?? null;
        const sample = p.example !== undefined ? String(p.example) : ok ?? 'x';
        res = await go(`${p.name}=${encodeURIComponent(sample)}&${p.name}=${encodeURIComponent(sample)}`, 'query: repeated');
        assert.ok(hasError(res, p.name) && [403, 422].includes(res.status), `${opKey(o)} ${p.name} twice: ${res.text}`);
        n += 1;
      }
    }
  }
  // relations between parameters
  for (const [q, field] of [
    ['/v1/stats/activity?from=2024-12-31&to=2024-01-01', 'from'],
    ['/v1/observatory/youth/series?from=2025-01-01&to=2024-01-31', 'to'],
    ['/v1/stats/activity?from=2024-01-01&to=2024-11-30', 'to'],
    ['/v1/observatory/youth?from=2024-02-01&to=2024-04-30', 'to'],
    ['/v1/observatory/youth?platform=artois&ami=1', 'ami'],
  ]) {
    const res = await send('query: values', 'GET', q);
    assert.equal(res.status, 422, `${q}: ${res.text}`);
    assert.ok(hasError(res, field), `${q}: ${res.text}`);
    n += 1;
  }
  await unchanged(fp, 'query parameters');
  summary(
    t,
    `query parameters: ${n} requests over every operation: unknown ${statusLine('query: unknown')}; badly encoded ${statusLine('query: encoding')}; bad values ${statusLine(
      'query: values',
    )}; repeated ${statusLine('query: repeated')}; database unchanged`,
  );
});

// ---------------------------------------------------------------------------------------------

/** `{"name":"x", <spaces>, ...rest}`: a valid JSON body of exactly `size` bytes. */
function paddedBody(obj, size) {
  const text = JSON.stringify(obj);
  const pad = size - Buffer.byteLength(text);
  assert.ok(pad >= 0);
  return `{${' '.repeat(pad)}${text.slice(1)}`;
}

function chunksOf(text, size = 64 * 1024) {
  const out = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

test('bodies_over_the_limit_are_413_with_content_length_and_chunked_and_never_reach_a_handler_truncated', async (t) => {
  const fp = await fingerprint(svc);
  let n = 0;
  for (const w of writableOps()) {
    const token = w.batch ? tok.siao : tok.admin;
    const limit = w.batch ? MAX_BATCH : MAX_BODY;
    const path = await w.path(false);
    const one = w.batch ? [w.record(`HUGE-${uniqueLetters()}`)] : w.bases[0]();
    const text = w.batch ? `[${' '.repeat(limit + 1 - Buffer.byteLength(JSON.stringify(one)))}${JSON.stringify(one).slice(1)}` : paddedBody(one, limit + 1);
    assert.equal(Buffer.byteLength(text), limit + 1);
    // Content-Length one byte over the limit
    let res = await sendText('huge bodies', w.method, path, text, { token, timeout: 120_000 });
    assert.equal(res.status, 413, `${opKey(w)} CL: ${res.text}`);
    n += 1;
    // chunked (no Content-Length), twice the limit for single records, 1 byte over for batches
    const chunked = w.batch ? text : paddedBody(one, 2 * limit);
    res = await sendHttp('huge bodies', w.method, path, {
      token,
      headers: { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' },
      chunks: chunksOf(chunked),
    });
    assert.equal(res.status, 413, `${opKey(w)} chunked: ${res.text}`);
    n += 1;
  }
  // Far over the limit: refused from its Content-Length, before any byte of the body is
  // read or kept (a valid token's body is read and discarded, up to the largest limit + 16 MiB,
  // so that a client still writing gets the answer; beyond, the answer comes at once and the
  // connection is closed). Memory does not grow with the body.
  const rssBefore = rss(svc.child.pid);
  const big = `{"name":"x",${' '.repeat(MAX_BATCH + (8 << 20))}"kind":"ccas"}`;
  const far = await sendHttp('huge bodies', 'POST', '/v1/partners', {
    token: tok.admin,
    headers: { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(big)) },
    chunks: chunksOf(big, 1 << 20),
  });
  assert.equal(far.status, 413, far.text);
  const grown = rss(svc.child.pid) - rssBefore;
  assert.ok(grown < 8 << 20, `RSS grew by ${grown} bytes for a ${big.length}-byte body`);
  n += 1;
  // more records than a batch may hold
  const many = [];
  for (let i = 0; i < 10_001; i += 1) many.push({ external_id: `M-${i}` });
  const res = await send('huge bodies', 'POST', '/v1/siao-requests/batch', { token: tok.siao, body: many });
  assert.equal(res.status, 413, res.text);
  n += 1;
  await unchanged(fp, 'huge bodies');
  summary(t, `huge bodies: ${n} requests over every writable operation (1 byte over the limit with Content-Length, 2x the limit chunked, 40 MiB with Content-Length answered 413 with bounded memory, 10 001 records): ${statusLine('huge bodies')}; database unchanged`);
});

test('bodies_within_the_limit_are_read_whole_even_when_the_single_record_limit_exceeds_the_batch_limit', async (t) => {
  // LDA_MAX_BODY_BYTES above LDA_MAX_BATCH_BYTES: a 1.5 MiB single-record body must reach the
  // handler whole (ulfius truncates silently at its own limit), a 1.5 MiB batch is 413.
  const small = await startService({ env: { ...NO_RATE_LIMIT_ENV, LDA_MAX_BODY_BYTES: String(2 << 20), LDA_MAX_BATCH_BYTES: String(1 << 20) } });
  try {
    const admin = await small.createToken('admin', { name: 'limits' });
    const size = 3 << 19; // 1.5 MiB
    const mk = (name) => {
      // the last member comes after the padding: a truncated body cannot parse
      const text = `{"name":${JSON.stringify(name)},"kind":"ccas"${' '.repeat(size)},"platform":"artois"}`;
      return text;
    };
    const a = mk(`Grand ${uniqueLetters()}`);
    const r1 = await small.api('POST', '/v1/partners', { token: admin, body: a, raw: true, headers: { 'Content-Type': 'application/json' } });
    assert.equal(r1.status, 201, `Content-Length ${Buffer.byteLength(a)}: ${r1.text}`);
    assert.equal(r1.json.platform, 'artois', 'the member after the padding was read');
    const b = mk(`Grand ${uniqueLetters()}`);
    const r2 = await request(small.url, 'POST', '/v1/partners', { keepAlive: false, raw: true,
      headers: { Authorization: `Bearer ${admin}`, 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' },
      chunks: chunksOf(b),
      timeout: 120_000,
    });
    assert.equal(r2.status, 201, `chunked: ${r2.text}`);
    assert.equal(r2.json.platform, 'artois');
    const batch = `[${' '.repeat(size)}]`;
    const r3 = await small.api('POST', '/v1/siao-requests/batch?source=s', { token: admin, body: batch, raw: true, headers: { 'Content-Type': 'application/json' } });
    assert.equal(r3.status, 413, r3.text);
    summary(t, 'body limits: with LDA_MAX_BODY_BYTES 2 MiB > LDA_MAX_BATCH_BYTES 1 MiB, 1.5 MiB single-record bodies (Content-Length and chunked) were read whole (201), a 1.5 MiB batch was 413');
  } finally {
    await small.stop();
  }
});

test('a_body_on_a_route_that_takes_none_is_ignored_when_small_and_413_when_over_the_limit', async (t) => {
  // openapi.yaml documents the 413 of body-less operations (GET, DELETE): validated here.
  const big = await request(svc.url, 'GET', '/v1/platforms', { keepAlive: false, raw: true, body: 'x'.repeat(MAX_BODY + 1) });
  assert.equal(big.status, 413, big.text);
  assertProblem(big, undefined, { what: 'GET with a huge body' });
  const smallBody = await request(svc.url, 'GET', '/v1/platforms', { keepAlive: false, raw: true, body: '{"x":', headers: { 'Content-Type': 'application/json' } });
  assert.equal(smallBody.status, 200, smallBody.text);
  summary(t, 'bodies on body-less routes: a small one is ignored (200), one over the limit is 413 problem+json (as openapi.yaml documents for GET)');
});

// ---------------------------------------------------------------------------------------------

test('deep_nesting_is_refused_and_stores_nothing', async (t) => {
  const fp = await fingerprint(svc);
  const arrays = (d) => '['.repeat(d) + ']'.repeat(d);
  const objects = (d) => '{"a":'.repeat(d) + '1' + '}'.repeat(d);
  let n = 0;
  for (const w of writableOps()) {
    const token = w.batch ? tok.siao : tok.admin;
    const path = await w.path(false);
    const base = w.batch ? w.record(`DEEP-${uniqueLetters()}`) : w.bases[0]();
    const firstArrayField = Object.keys(base).find((k) => Array.isArray(base[k])) ?? 'unexpected';
    for (const [label, inner] of [
      ['arrays 40', arrays(40)],
      ['objects 40', objects(40)],
      ['arrays 3000', arrays(3000)],
      ['objects 100000 unclosed', '{"a":'.repeat(100_000)],
    ]) {
      const rec = JSON.stringify({ ...base, [firstArrayField]: '__X__' }).replace('"__X__"', inner);
      const text = w.batch ? `[${rec}]` : rec;
      const res = await sendText('deep nesting', w.method, path, text, { token });
      if (w.batch && res.status === 200) {
        // the batch parser has no depth limit of its own below jansson's 2048: the record is
        // refused by validation instead (nothing stored)
        assert.equal(res.json.rejected.length, 1, `${opKey(w)} ${label}: ${res.text}`);
        assert.equal(res.json.created + res.json.updated + res.json.unchanged, 0);
      } else assert.equal(res.status, 400, `${opKey(w)} ${label}: ${res.status} ${res.text.slice(0, 300)}`);
      n += 1;
    }
  }
  await unchanged(fp, 'deep nesting');
  summary(t, `deep nesting: ${n} bodies (arrays and objects 40 deep, 3000 deep, 100 000 unclosed) on every writable operation: ${statusLine('deep nesting')}; database unchanged`);
});

// ---------------------------------------------------------------------------------------------

const BAD_UTF8 = [
  [0xff],
  [0xc0, 0xaf],
  [0xe0, 0x80, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0xe2, 0x82],
  [0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
];

test('invalid_utf8_and_nul_bytes_are_refused_in_bodies_paths_and_query_strings', async (t) => {
  const fp = await fingerprint(svc);
  for (const w of writableOps()) {
    const token = w.batch ? tok.siao : tok.admin;
    const path = await w.path(false);
    const { base, fields: list } = fieldsOf(w)[0];
    const rec = w.batch ? w.record(`U8-${uniqueLetters()}`) : base();
    const textFields = list.filter((f) => f.text);
    const wrap = (s) => (w.batch ? `[${s}]` : s);
    for (const f of textFields) {
      const marker = `__${uniqueLetters()}__`;
      const json = JSON.stringify(withValue(rec, f.ptr, marker));
      const [pre, post] = json.split(marker);
      for (const bytes of BAD_UTF8) {
        const body = Buffer.concat([Buffer.from(wrap(pre).replace(/\]$/, '')), Buffer.from('ab'), Buffer.from(bytes), Buffer.from('cd'), Buffer.from(w.batch ? `${post}]` : post)]);
        const res = await sendText('invalid UTF-8', w.method, path, body, { token });
        assert.equal(res.status, 400, `${opKey(w)} ${pointer(f.ptr)} ${bytes}: ${res.text}`);
      }
      // NUL: escaped, and raw
      for (const nul of ['\\u0000', '\0']) {
        const res = await sendText('NUL bytes', w.method, path, wrap(`${pre}a${nul}b${post}`), { token });
        assert.equal(res.status, 400, `${opKey(w)} ${pointer(f.ptr)} NUL: ${res.text}`);
      }
    }
    // invalid UTF-8 in a member name; a raw NUL between tokens
    const badKey = Buffer.concat([Buffer.from(wrap('{"').replace(/\]$/, '')), Buffer.from([0xff, 0xfe]), Buffer.from(`":1,${JSON.stringify(rec).slice(1)}${w.batch ? ']' : ''}`)]);
    let res = await sendText('invalid UTF-8', w.method, path, badKey, { token });
    assert.equal(res.status, 400, `${opKey(w)} bad key: ${res.text}`);
    res = await sendText('NUL bytes', w.method, path, wrap(`{\0${JSON.stringify(rec).slice(1)}`), { token });
    assert.equal(res.status, 400, `${opKey(w)} raw NUL: ${res.text}`);
    if (w.batch) {
      // NDJSON: the bad line is rejected, a good line beside it is not affected
      const good = JSON.stringify(w.record(`U8OK-${uniqueLetters()}`));
      const lines = Buffer.concat([Buffer.from(`{"external_id":"`), Buffer.from([0xff]), Buffer.from(`"}\n{"a":"\\u0000"}\n`)]);
      res = await send('NUL bytes', 'POST', path, { token, body: lines, raw: true, headers: { 'Content-Type': 'application/x-ndjson' } });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.json.rejected.map((r) => r.index), [0, 1], res.text);
      assert.ok(good);
    }
  }
  // paths and query strings
  for (const o of operations().filter((x) => x.method === 'GET')) {
    const path = concretePath(o.template, pathIds(o.template));
    for (const q of ['x=%00', 'x=%FF', 'x=a%ED%A0%80b']) {
      const res = await send('invalid UTF-8', 'GET', `${path}?${q}`);
      assert.equal(res.status, 400, `${path}?${q}: ${res.text}`);
    }
    if (o.template.includes('{')) {
      for (const seg of ['%00', '%FF%FE', 'a%00b', '%C0%AF']) {
        const res = await send('invalid UTF-8', 'GET', concretePath(o.template, { id: seg, code: seg, name: seg }));
        assert.equal(res.status, 404, `${o.template} ${seg}: ${res.text}`);
      }
    }
  }
  await unchanged(fp, 'invalid UTF-8 and NUL');
  summary(
    t,
    `invalid UTF-8: ${BAD_UTF8.length} byte sequences in every plain-text field and in member names of every writable operation, in query strings and path segments of every GET: ${statusLine(
      'invalid UTF-8',
    )}; NUL bytes (\\u0000 and raw, in fields, between tokens, NDJSON lines): ${statusLine('NUL bytes')}; database unchanged`,
  );
});

// ---------------------------------------------------------------------------------------------

test('missing_and_wrong_content_types_are_415', async (t) => {
  const fp = await fingerprint(svc);
  const TYPES = [
    null,
    'text/plain',
    'text/json',
    'application/xml',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=XyZ',
    'application/jsonx',
    'application/json-patch+json',
    'application/problem+json',
    'application/octet-stream',
    '',
  ];
  for (const w of writableOps()) {
    const token = w.batch ? tok.siao : tok.admin;
    const path = await w.path(false);
    const body = JSON.stringify(w.batch ? [w.record(`CT-${uniqueLetters()}`)] : w.bases[0]());
    for (const ct of [...TYPES, ...(w.batch ? [] : ['application/x-ndjson'])]) {
      const headers = ct === null ? {} : { 'Content-Type': ct };
      const res = await sendHttp('content types', w.method, path, { token, headers, body });
      assert.equal(res.status, 415, `${opKey(w)} Content-Type ${ct}: ${res.status} ${res.text}`);
    }
    // a form body of the same kind, with a large field (the post processor must stay out)
    const form = await sendHttp('content types', w.method, path, {
      token,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: `name=${'a'.repeat(200_000)}&kind=ccas`,
    });
    assert.equal(form.status, 415, form.text);
  }
  await unchanged(fp, 'content types');
  summary(t, `content types: ${TYPES.length + 1} missing or wrong types on every writable operation: ${statusLine('content types')}; database unchanged`);
});

// ---------------------------------------------------------------------------------------------

test('undocumented_methods_are_405_with_allow_on_every_path', async (t) => {
  const fp = await fingerprint(svc);
  const TRY = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'TRACE', 'PROPFIND', 'MKCOL', 'LOCK'];
  let n = 0;
  for (const template of Object.keys(specDoc().paths)) {
    const documented = documentedMethods(template);
    const allowed = new Set(documented);
    if (allowed.has('GET')) allowed.add('HEAD');
    const path = concretePath(template, pathIds(template));
    for (const m of TRY.filter((x) => !allowed.has(x))) {
      const res = await sendHttp('methods', m, path, { body: m === 'GET' || m === 'HEAD' ? undefined : '{}', headers: { 'Content-Type': 'application/json' }, validate: m !== 'HEAD' });
      assert.equal(res.status, 405, `${m} ${path}: ${res.status} ${res.text}`);
      const allow = (res.headers.allow ?? '').split(',').map((s) => s.trim()).filter(Boolean);
      assert.deepEqual(new Set(allow), allowed, `${m} ${path}: Allow ${res.headers.allow}`);
      n += 1;
    }
    // a method that is no HTTP method at all
    const raw = await rawExchange(svc.port, `FROB ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    assert.ok([400, 405, 501].includes(raw.status), `FROB ${path}: ${raw.raw?.slice(0, 200)}`);
    assert.ok(raw.status !== 405 || raw.headers.allow, 'Allow with a 405');
    count('methods', raw.status);
    n += 1;
  }
  await unchanged(fp, 'methods');
  summary(t, `methods: ${n} undocumented methods on ${Object.keys(specDoc().paths).length} paths: ${statusLine('methods')}; Allow lists exactly the documented methods (+HEAD with GET)`);
});

// ---------------------------------------------------------------------------------------------

test('malformed_http_framing_never_reaches_a_handler', async (t) => {
  const fp = await fingerprint(svc);
  const auth = `Authorization: Bearer ${tok.admin}\r\nContent-Type: application/json\r\n`;
  const partner = JSON.stringify(partnerBody());
  const CASES = [
    ['non-numeric Content-Length', `POST /v1/partners HTTP/1.1\r\nHost: x\r\n${auth}Content-Length: abc\r\nConnection: close\r\n\r\n${partner}`],
    ['negative Content-Length', `POST /v1/partners HTTP/1.1\r\nHost: x\r\n${auth}Content-Length: -5\r\nConnection: close\r\n\r\n${partner}`],
    ['two different Content-Lengths', `POST /v1/partners HTTP/1.1\r\nHost: x\r\n${auth}Content-Length: 5\r\nContent-Length: ${partner.length}\r\nConnection: close\r\n\r\n${partner}`],
    ['Content-Length shorter than the body', `POST /v1/partners HTTP/1.1\r\nHost: x\r\n${auth}Content-Length: 10\r\nConnection: close\r\n\r\n${partner}`],
    ['Content-Length and chunked together', `POST /v1/partners HTTP/1.1\r\nHost: x\r\n${auth}Content-Length: 5\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${partner.length.toString(16)}\r\n${partner}\r\n0\r\n\r\n`],
    ['bad chunk size', `POST /v1/partners HTTP/1.1\r\nHost: x\r\n${auth}Transfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n${partner}\r\n0\r\n\r\n`],
    ['unknown transfer coding', `POST /v1/partners HTTP/1.1\r\nHost: x\r\n${auth}Transfer-Encoding: gzip\r\nConnection: close\r\n\r\n${partner}`],
    ['HTTP/1.0 without Content-Length', `POST /v1/partners HTTP/1.0\r\n${auth}\r\n${partner}`],
  ];
  const seen = [];
  for (const [label, req] of CASES) {
    const res = await rawExchange(svc.port, req);
    seen.push(`${label}: ${res.status || res.error}`);
    if (res.status) {
      assert.ok(res.status < 500, `${label}: ${res.raw.slice(0, 300)}`);
      assert.notEqual(res.status, 201, `${label}: a malformed request created a partner`);
      // libmicrohttpd answers framing errors itself (HTML, no X-Request-Id): only ours are problem+json
      if (res.headers['x-request-id']) assertProblem(res, undefined, { what: label });
    }
  }
  await unchanged(fp, 'framing');
  summary(t, `HTTP framing: ${seen.join('; ')}; none reached a handler as a valid request`);
});

// ---------------------------------------------------------------------------------------------

test('headers_with_garbage_are_handled', async (t) => {
  const fp = await fingerprint(svc);
  const path = `/v1/partners/${ids.partner}`;
  let n = 0;
  for (const im of ['garbage', '"', 'W/', '""', '"1", W/"x", ,,', 'x'.repeat(8000)]) {
    const res = await send('headers', 'PATCH', path, { body: { name: 'Nouveau nom' }, headers: { 'If-Match': im } });
    assert.equal(res.status, 412, `If-Match ${im.slice(0, 20)}: ${res.text}`);
    n += 1;
  }
  for (const rid of ['', 'a b', 'x'.repeat(129), 'é', '<script>', "'; DROP TABLE x; --"]) {
    const res = await svc.api('GET', '/v1/platforms', { headers: { 'X-Request-Id': rid } });
    assert.equal(res.status, 200);
    assert.match(res.headers['x-request-id'], /^[0-9a-f]{24}$/, `X-Request-Id ${rid.slice(0, 20)} replaced by a fresh id`);
    count('headers', res.status);
    n += 1;
  }
  for (const key of ['', 'k'.repeat(201)]) {
    const res = await send('headers', 'POST', '/v1/siao-requests/batch', { token: tok.siao, body: [], headers: { 'Idempotency-Key': key } });
    assert.equal(res.status, 422, `Idempotency-Key of ${key.length}: ${res.text}`);
    n += 1;
  }
  for (const acc of ['text/csv;q=abc', '*/*;;;', 'x'.repeat(4000), 'application/json, text/csv']) {
    const res = await svc.api('GET', '/v1/stats/activity', { token: tok.admin, headers: { Accept: acc } });
    assert.ok([200, 406].includes(res.status), `Accept ${acc.slice(0, 20)}: ${res.status}`);
    count('headers', res.status);
    n += 1;
  }
  await unchanged(fp, 'headers');
  summary(t, `headers: ${n} requests with garbage If-Match, X-Request-Id, Idempotency-Key and Accept: ${statusLine('headers')}`);
});

// ---------------------------------------------------------------------------------------------

test('no_refused_request_left_an_audit_event_and_the_service_logged_no_error', async (t) => {
  await sleep(600); // the audit queue is flushed every 200 ms
  const r = await svc.sql(`SELECT count(*)::int AS n FROM audit_event WHERE request_id = ANY($1)`, [refusedIds]);
  assert.equal(r.rows[0].n, 0, 'audit events for refused requests');
  const errors = svc.logEntries().filter((e) => e.level === 'error');
  assert.deepEqual(errors, [], 'error lines in the service log');
  const leaky = svc.logs.filter((l) => leaksIn(l).length);
  assert.deepEqual(leaky, [], 'service log lines with SQL, paths or crash reports');
  const total = [...tally.values()].reduce((a, b) => a + b.sent, 0);
  summary(t, `bad input overall: ${total} requests, ${refusedIds.length} refused (4xx): no 5xx, no audit event for a refused request, no error line in the service log`);
});

