// Shared pieces of the bad-input, auth and privacy suites (tests/reliability/{bad_input,auth,
// privacy}.test.mjs): the operations and request schemas read from openapi.yaml, valid request
// bodies to mutate, a fingerprint of the database (to prove that a rejected request changed
// nothing), raw HTTP over a socket, and the checks every answer must pass (a problem+json body
// that leaks no SQL, PostgreSQL DETAIL, file path or stack trace).
import assert from 'node:assert/strict';
import net from 'node:net';
import { randomBytes, randomUUID } from 'node:crypto';
import { getContract } from '../lib/contract.mjs';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let seq = 0;
/** Letters only, unique in this process: person_key folds case, accents and punctuation. */
export function uniqueLetters(prefix = 'x') {
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  let s = '';
  for (const b of randomBytes(10)) s += letters[b % 26];
  seq += 1;
  let n = seq;
  let t = '';
  do {
    t = letters[n % 26] + t;
    n = Math.floor(n / 26);
  } while (n > 0);
  return `${prefix}${t}${s}`;
}

/** Service environment for these suites: no per-token rate limit (thousands of requests). */
export const SUITE_ENV = { LDA_RATE_LIMIT_RPS: '0' };

// ---------------------------------------------------------------------------------------------
// openapi.yaml

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

export function specDoc() {
  return getContract().doc;
}

/** Follows local $refs to the node they name. */
export function deref(node) {
  const doc = specDoc();
  const seen = new Set();
  while (node && typeof node === 'object' && typeof node.$ref === 'string') {
    assert.ok(!seen.has(node.$ref), `$ref cycle ${node.$ref}`);
    seen.add(node.$ref);
    const tokens = node.$ref
      .slice(2)
      .split('/')
      .map((t) => decodeURIComponent(t).replace(/~1/g, '/').replace(/~0/g, '~'));
    node = tokens.reduce((n, t) => n?.[t], doc);
  }
  return node;
}

/**
 * Every operation of the spec: { method (upper case), template, op, params: [{ name, in,
 * schema, required }], body: { mediaType: schema } | null }.
 */
export function operations() {
  const out = [];
  for (const [template, rawItem] of Object.entries(specDoc().paths)) {
    const item = deref(rawItem);
    const shared = (item.parameters ?? []).map(deref);
    for (const m of METHODS) {
      if (!item[m]) continue;
      const op = item[m];
      const params = [...shared];
      for (const p of (op.parameters ?? []).map(deref)) {
        const i = params.findIndex((q) => q.name === p.name && q.in === p.in);
        if (i >= 0) params[i] = p;
        else params.push(p);
      }
      let body = null;
      if (op.requestBody) {
        body = {};
        for (const [mt, c] of Object.entries(deref(op.requestBody).content ?? {})) body[mt] = deref(c.schema);
      }
      out.push({ method: m.toUpperCase(), template, op, params, body });
    }
  }
  return out;
}

/** The methods the spec documents for a path template (upper case). */
export function documentedMethods(template) {
  const item = deref(specDoc().paths[template]);
  return METHODS.filter((m) => item[m]).map((m) => m.toUpperCase());
}

/** "METHOD template" of an operation. */
export const opKey = (o) => `${o.method} ${o.template}`;

/** True for a schema that is plain text: a string with no format, pattern or enum. */
function isPlainText(schema) {
  const s = deref(schema);
  if (!s || s.oneOf || s.anyOf || s.enum || s.format || s.pattern || s.const !== undefined) return false;
  const types = Array.isArray(s.type) ? s.type : [s.type];
  return types.includes('string') && types.every((t) => t === 'string' || t === 'null');
}

/** The object schemas a (possibly oneOf) schema allows. */
function objectAlternatives(schema) {
  const s = deref(schema);
  if (!s) return [];
  if (s.properties) return [s];
  if (s.oneOf || s.anyOf) return (s.oneOf ?? s.anyOf).flatMap(objectAlternatives);
  return [];
}

/**
 * Every member of an object schema, as JSON pointers (arrays of names), descending into nested
 * objects where `base` holds an object at that place. Each: { ptr, schema, text } where `text`
 * says the member is plain text (a value of any characters is valid there).
 */
export function schemaFields(schema, base, ptr = []) {
  const out = [];
  for (const obj of objectAlternatives(schema)) {
    for (const [name, sub] of Object.entries(obj.properties)) {
      const p = [...ptr, name];
      out.push({ ptr: p, schema: deref(sub), text: isPlainText(sub) });
      const here = base?.[name];
      if (here && typeof here === 'object' && !Array.isArray(here)) out.push(...schemaFields(sub, here, p));
    }
    break; // the first object alternative describes the members
  }
  return out;
}

/** A deep copy of `obj` with the member at `ptr` set to `value`. */
export function withValue(obj, ptr, value) {
  const copy = structuredClone(obj);
  let node = copy;
  for (const k of ptr.slice(0, -1)) node = node[k];
  node[ptr[ptr.length - 1]] = value;
  return copy;
}

/** The value at `ptr`, or undefined. */
export const valueAt = (obj, ptr) => ptr.reduce((n, k) => (n == null ? undefined : n[k]), obj);

/** A concrete path for a template: {id} → id, {code} → artois, {name} → a file name. */
export function concretePath(template, ids = {}) {
  return template.replace(/\{([^}]+)\}/g, (_, name) => {
    if (ids[name] !== undefined) return ids[name];
    if (name === 'code') return 'artois';
    if (name === 'name') return 'docs.js';
    return randomUUID();
  });
}

// ---------------------------------------------------------------------------------------------
// Valid bodies

export const TODAY = new Date().toISOString().slice(0, 10);

export function householdBody(platform = 'artois', over = {}) {
  return {
    platform,
    external_ref: `ref-${uniqueLetters('r')}`,
    composition: 'single_person',
    adults: 1,
    children: 0,
    head: { last_name: uniqueLetters('Nom'), first_name: uniqueLetters('Prenom'), birth_date: '1990-05-17', sex: 'female' },
    resources: ['rsa'],
    housing_situation: 'street',
    vulnerabilities: ['eviction'],
    ...over,
  };
}

export function referralBody(household, platform = 'artois', over = {}) {
  return {
    household,
    platform,
    referrer_kind: 'ccas',
    referrer_name: 'CCAS de test',
    received_on: '2025-01-10',
    has_social_note: true,
    reasons: ['homelessness'],
    decision_note: 'Note de décision',
    concertation: { held_on: '2025-01-12', household_present: true },
    ...over,
  };
}

export const measureBody = (over = {}) => ({
  kind: 'adsl',
  operator: 'La Vie Active',
  started_on: '2025-01-20',
  ended_on: '2025-02-20',
  end_reason: 'goals_met',
  housing_outcome: 'accessed',
  housing_type: 'social_housing',
  housing_on: '2025-02-01',
  ...over,
});

export const partnerBody = (over = {}) => ({ name: `Partenaire ${uniqueLetters('p')}`, kind: 'ccas', platform: 'artois', ...over });

export function siaoRecord(externalId, over = {}) {
  return {
    external_id: externalId,
    received_at: '2024-03-10T22:14:05+01:00',
    platform: 'artois',
    channel: 'call_115',
    person_key: `pk-${externalId}`,
    age: 21,
    birth_year: null,
    sex: 'male',
    composition: 'single_person',
    situation: 'street',
    resources: ['none'],
    needs: ['emergency_shelter', 'food'],
    response: 'no_place_available',
    alternatives_known: false,
    ...over,
  };
}

export function householdRecord(externalId, over = {}) {
  const h = householdBody('artois');
  delete h.external_ref;
  return { external_id: externalId, ...h, ...over };
}

export function referralRecord(externalId, householdExternalId, over = {}) {
  const r = referralBody(undefined, 'artois');
  delete r.household;
  return { external_id: externalId, household_external_id: householdExternalId, ...r, ...over };
}

// Eviction prevention and the housing offer.

export function caseBody(household, platform = 'artois', over = {}) {
  return {
    household,
    platform,
    landlord_kind: 'social',
    debt_eur: 2400,
    debt_on: '2025-01-05',
    stage: 'payment_order',
    stage_on: '2025-01-02',
    ...over,
  };
}

export function caseRecord(externalId, householdExternalId, over = {}) {
  const c = caseBody(undefined, 'artois');
  delete c.household;
  return { external_id: externalId, household_external_id: householdExternalId, ...c, stage: 'summons', stage_on: '2025-01-10', ...over };
}

let ruleYear = 2100;
/** The AMI 1 rule the migrations create (open-ended): close it before 2100 with
 * `PATCH /v1/prevention-rules/${SEEDED_AMI1_RULE}` {valid_to: '2099-12-31'} so that ruleBody()
 * periods are free. */
export const SEEDED_AMI1_RULE = '5f0c2a1e-7b3d-4e6a-9c2f-1a0b3c4d5e61';
/** A PEX rule of a year of its own (2101, 2102...): rules of one AMI never overlap. */
export function ruleBody(over = {}) {
  const y = (ruleYear += 1);
  return { ami: 1, valid_from: `${y}-01-01`, valid_to: `${y}-12-31`, debt_min_eur: 1500, debt_max_eur: 4000, note: 'Critères PEX', ...over };
}

export const offerBody = (over = {}) => ({
  platform: 'artois',
  kind: 'sas_flat',
  landlord_kind: 'social',
  typology: 't1',
  capacity: 1,
  available_from: '2024-01-01',
  label: 'Logement SAS',
  ...over,
});

let stayDay = 0;
/** A stay of one day of its own (from 2020-01-02 on): placements of one referral in one offer
 * of capacity 1 never overlap. */
export function nextStay() {
  const d = new Date(Date.UTC(2020, 0, 2 + (stayDay += 1)));
  const e = new Date(d.getTime() + 86_400_000);
  return { entered_on: d.toISOString().slice(0, 10), left_on: e.toISOString().slice(0, 10) };
}

export const placementBody = (referral, offer, over = {}) => ({ referral, offer, ...nextStay(), exit_reason: 'permanent_housing', ...over });

export const meetingBody = (presented, over = {}) => ({
  platform: 'artois',
  held_on: '2025-03-01',
  landlords_present: ['Pas-de-Calais Habitat'],
  households_presented: presented,
  proposals_made: 1,
  proposals_accepted: 1,
  ...over,
});

// ---------------------------------------------------------------------------------------------
// The database

const FINGERPRINT_TABLES = [
  'platform',
  'funding',
  'api_token',
  'partner',
  'household',
  'referral',
  'referral_event',
  'measure',
  'siao_request',
  'idempotency_key',
  'app_secret',
  'webhook_endpoint',
  'prevention_rule',
  'prevention_case',
  'prevention_stage_event',
  'prevention_action',
  'prevention_follow_up',
  'housing_offer',
  'placement',
  'fluidity_meeting',
  'fluidity_presentation',
];

/**
 * { table: "count:md5" } over every row of the service's tables (superuser). The audit log is
 * left out: reads append to it (the suites check it apart, by request id).
 */
export async function fingerprint(svc, tables = FINGERPRINT_TABLES) {
  const parts = tables.map(
    (t) => `SELECT '${t}' AS t, count(*)::text || ':' || coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '-') AS f FROM ${t} x`,
  );
  const r = await svc.sql(parts.join(' UNION ALL '));
  return Object.fromEntries(r.rows.map((row) => [row.t, row.f]));
}

/** The tables whose fingerprint differs. */
export function changedTables(a, b) {
  return Object.keys(a).filter((t) => a[t] !== b[t]);
}

export const rowCounts = (fp) => Object.fromEntries(Object.entries(fp).map(([t, f]) => [t, Number(f.split(':')[0])]));

// ---------------------------------------------------------------------------------------------
// Answers

const LEAKS = [
  [/\b(SELECT|INSERT INTO|UPDATE \w+ SET|DELETE FROM|WHERE \w+ =|ON CONFLICT)\b/, 'SQL text'],
  [/\bDETAIL:|\bHINT:|\bSTATEMENT:|\bCONTEXT:/, 'a PostgreSQL DETAIL/HINT/STATEMENT line'],
  [/duplicate key value|violates (unique|check|foreign key|not-null) constraint|invalid input syntax|syntax error at or near/i, 'a PostgreSQL error message'],
  [/SQLSTATE|PGRES_|libpq|pq_|relation "\w+"/i, 'database internals'],
  [/(^|[\s"'(=])\/(work|home|root|usr|tmp|var|etc|opt)\/[\w./-]+/, 'a file path'],
  [/\b[\w/-]+\.(c|h|cc|cpp):\d+/, 'a source location'],
  [/AddressSanitizer|runtime error:|Segmentation fault|stack trace|backtrace|#\d+ 0x[0-9a-f]+/i, 'a crash report'],
];

/** The leak patterns a text matches: [] when clean. */
export function leaksIn(text) {
  return LEAKS.filter(([re]) => re.test(text)).map(([, what]) => what);
}

/** Asserts an RFC 9457 problem: content type, status, type, request id; no leak in it. */
export function assertProblemJson(res, what = '') {
  const label = `${what}: ${res.status} ${String(res.text).slice(0, 300)}`;
  assert.match(res.headers['content-type'] ?? '', /^application\/problem\+json/, `${label}: problem+json`);
  assert.ok(res.json && typeof res.json === 'object', `${label}: a JSON problem`);
  assert.equal(res.json.status, res.status, `${label}: problem status`);
  assert.match(res.json.type ?? '', /^\/problems\/[a-z-]+$/, `${label}: problem type`);
  assert.equal(typeof res.json.title, 'string', `${label}: title`);
  assert.equal(res.json.request_id, res.headers['x-request-id'], `${label}: request_id = X-Request-Id`);
  // `instance` is the caller's own request path, echoed: the caller's own text is no leak
  const { instance, ...rest } = res.json;
  assert.equal(typeof instance, 'string', `${label}: instance`);
  assert.deepEqual(leaksIn(JSON.stringify(rest)), [], `${label}: leaks`);
}

/** Asserts: not a 5xx, and a problem+json when >= 400. */
export function assertSane(res, what = '') {
  assert.ok(res.status < 500, `${what}: ${res.status} ${String(res.text).slice(0, 300)}`);
  if (res.status >= 400) assertProblemJson(res, what);
}

// ---------------------------------------------------------------------------------------------
// Raw HTTP

/**
 * Writes `data` (string/Buffer, or an array written piece by piece) on a fresh connection and
 * resolves the parsed answer { status, headers, text, json, raw } (the first response only),
 * or { error } when the connection closed without one.
 */
export function rawRequest(port, data, { timeout = 15_000, halfClose = true } = {}) {
  return new Promise((resolve) => {
    const chunks = [];
    let done = false;
    const sock = net.connect(port, '127.0.0.1');
    const finish = (err) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      const buf = Buffer.concat(chunks);
      if (!buf.length) {
        resolve({ error: err ? err.message : 'no answer' });
        return;
      }
      resolve(parseRawResponse(buf));
    };
    const timer = setTimeout(() => finish(new Error('timeout')), timeout);
    sock.on('connect', async () => {
      const pieces = Array.isArray(data) ? data : [data];
      for (const p of pieces) {
        if (!sock.writable) break;
        await new Promise((r) => sock.write(p, r));
      }
      if (halfClose && sock.writable) sock.end();
    });
    sock.on('data', (d) => {
      chunks.push(d);
      const parsed = parseRawResponse(Buffer.concat(chunks));
      if (parsed.complete) finish();
    });
    sock.on('error', (e) => finish(e));
    sock.on('close', () => finish());
  });
}

function parseRawResponse(buf) {
  const raw = buf.toString('latin1');
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return { raw, complete: false, status: 0, headers: {}, text: '' };
  const lines = raw.slice(0, end).split('\r\n');
  const status = Number(lines[0].split(' ')[1]);
  const headers = {};
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':');
    if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  let bodyBuf = buf.subarray(Buffer.byteLength(raw.slice(0, end + 4), 'latin1'));
  let complete = false;
  if (headers['content-length'] !== undefined) {
    const n = Number(headers['content-length']);
    complete = bodyBuf.length >= n;
    bodyBuf = bodyBuf.subarray(0, n);
  } else if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
    const parts = [];
    let off = 0;
    const s = bodyBuf.toString('latin1');
    for (;;) {
      const nl = s.indexOf('\r\n', off);
      if (nl < 0) break;
      const size = parseInt(s.slice(off, nl), 16);
      if (Number.isNaN(size)) break;
      if (size === 0) {
        complete = true;
        break;
      }
      parts.push(bodyBuf.subarray(nl + 2, nl + 2 + size));
      off = nl + 2 + size + 2;
    }
    bodyBuf = Buffer.concat(parts);
  }
  const text = bodyBuf.toString('utf8');
  let json;
  if (/json/.test(headers['content-type'] ?? '')) {
    try {
      json = JSON.parse(text);
    } catch {
      /* reported by the caller */
    }
  }
  return { raw, complete, status, headers, text, json };
}

// ---------------------------------------------------------------------------------------------
// Reporting

/** Prints one summary line (visible in ctest's output). */
export function summary(t, line) {
  console.log(`# ${line}`);
}
