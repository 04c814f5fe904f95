// Foundation: reference data (platforms, funding, vocabularies), the system routes
// (readyz, metrics, openapi.yaml), HTTP conventions (problem+json, 404/405, X-Request-Id,
// body limits, content types, JSON syntax, query validation), start-up checks
// (bad configuration, schema behind), the fixed thread pool under 200 keep-alive
// connections, a clean SIGTERM under load, and the structured request log.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import YAML from 'yaml';
import { startService, runBinary, freePort } from '../lib/service.mjs';
import { request, validateResponse } from '../lib/http.mjs';
import { parseMetrics, samples } from '../lib/metrics.mjs';
import { sleep, pollUntil, within } from '../lib/wait.mjs';
import { threadCount } from '../lib/load.mjs';
import { assertProblem } from '../lib/problems.mjs';

const MAX_BODY = 2048;

// The platform table.
const PLATFORMS = [
  { code: 'artois', name: 'Artois', ami: 1, active_since: '2019-01-01' },
  { code: 'lens_henin', name: 'Lens-Hénin', ami: 1, active_since: '2019-01-01' },
  { code: 'audomarois', name: 'Audomarois', ami: 2, active_since: '2021-01-01' },
  { code: 'boulonnais', name: 'Boulonnais', ami: 2, active_since: '2021-01-01' },
  { code: 'montreuillois', name: 'Montreuillois', ami: 2, active_since: '2021-01-01' },
];

// Funding (ordered by ami then year, as openapi.yaml says).
const FUNDING = [
  { ami: 1, year: 2018, amount_eur: 223978 },
  { ami: 1, year: 2019, amount_eur: 880000 },
  { ami: 1, year: 2020, amount_eur: 207084 },
  { ami: 1, year: 2021, amount_eur: 623078 },
  { ami: 1, year: 2022, amount_eur: 1200000 },
  { ami: 1, year: 2023, amount_eur: 1100000, eligible_cost_eur: 1469514, state_share_percent: 74.85 },
  { ami: 2, year: 2021, amount_eur: 840000 },
  { ami: 2, year: 2022, amount_eur: 836493 },
];

// Every enumeration and its codes. `unknown: true` marks the enumerations of a
// person's situation, which also accept `unknown` ("Source systems do not always
// know a value").
const VOCABULARIES = {
  platform: { codes: ['artois', 'lens_henin', 'audomarois', 'boulonnais', 'montreuillois'] },
  partner_kind: {
    codes: ['ccas', 'departement_mds', 'guardianship', 'shelter_structure', 'siao', 'social_landlord',
      'association', 'mental_health', 'justice_spip', 'caf', 'mission_locale', 'other'],
  },
  composition: {
    codes: ['single_person', 'couple_no_child', 'couple_with_children', 'single_parent', 'other'],
    unknown: true,
  },
  sex: { codes: ['female', 'male', 'other', 'unknown'], unknown: true },
  resource: {
    codes: ['rsa', 'aah', 'salary', 'unemployment_benefit', 'pension', 'youth_guarantee', 'none', 'other'],
    unknown: true,
  },
  housing_situation: {
    codes: ['housed', 'street', 'squat', 'hosted_by_third_party', 'shelter_structure', 'hotel', 'institution',
      'precarious_housing', 'other'],
    unknown: true,
  },
  vulnerability: {
    codes: ['mental_health', 'addiction', 'domestic_violence', 'eviction', 'justice_release', 'disability',
      'child_welfare_leaver', 'no_resources_youth'],
    unknown: true,
  },
  referral_reason: {
    codes: ['eviction_risk', 'homelessness', 'leaving_structure', 'unsuitable_housing', 'domestic_violence',
      'health', 'other'],
  },
  referral_status: {
    codes: ['received', 'assessing', 'orientation_proposed', 'accompanied', 'accompaniment_ended', 'reoriented',
      'no_follow_up'],
  },
  measure_kind: { codes: ['adsl', 'vial', 'envaul', 'other'] },
  measure_end_reason: { codes: ['goals_met', 'handover_mainstream', 'broken_off', 'moved_away', 'death', 'other'] },
  housing_outcome: { codes: ['accessed', 'maintained', 'none'] },
  housing_type: {
    codes: ['social_housing', 'private_rental', 'sas_housing', 'youth_flatshare', 'rental_intermediation',
      'boarding_house', 'other'],
  },
  siao_channel: { codes: ['call_115', 'siao_insertion', 'street_outreach', 'day_centre', 'other'] },
  siao_need: {
    codes: ['emergency_shelter', 'housing', 'food', 'health', 'employment_training', 'rights_access', 'mobility',
      'other'],
    unknown: true,
  },
  siao_response: {
    codes: ['sheltered', 'housing_orientation', 'no_place_available', 'declined_by_person', 'referred_elsewhere',
      'pending', 'other'],
  },
  role: { codes: ['admin', 'coordinator', 'partner', 'siao', 'analyst'] },
};

const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;

let svc;
let admin;

before(async () => {
  svc = await startService({ env: { LDA_MAX_BODY_BYTES: String(MAX_BODY) } });
  admin = await svc.createToken('admin', { name: 'foundation-admin' });
});

after(async () => {
  await svc?.stop();
});

// ---------------------------------------------------------------------------------------------
// Reference data

test('platforms_list_is_exactly_the_five_platforms_of_the_spec', async () => {
  const res = await svc.api('GET', '/v1/platforms');
  assert.equal(res.status, 200);
  assert.equal(res.json.next_cursor, null);
  const got = res.json.items
    .map(({ code, name, ami, active_since }) => ({ code, name, ami, active_since }))
    .sort((a, b) => a.code.localeCompare(b.code));
  const want = [...PLATFORMS].sort((a, b) => a.code.localeCompare(b.code));
  assert.deepEqual(got, want);
  for (const p of res.json.items) {
    assert.ok(Array.isArray(p.epcis), `${p.code}: epcis is a list`);
    assert.ok(p.created_at && p.updated_at, `${p.code}: created_at/updated_at`);
  }
});

test('platforms_list_is_ordered_by_active_since_then_code', async () => {
  // openapi.yaml, listPlatforms: "ordered by `active_since` then `code`".
  const res = await svc.api('GET', '/v1/platforms');
  assert.equal(res.status, 200);
  const want = [...PLATFORMS]
    .sort((a, b) => a.active_since.localeCompare(b.active_since) || a.code.localeCompare(b.code))
    .map((p) => p.code);
  assert.deepEqual(res.json.items.map((p) => p.code), want);
});

test('platform_lens_henin_is_served_with_its_etag', async () => {
  const res = await svc.api('GET', '/v1/platforms/lens_henin');
  assert.equal(res.status, 200);
  assert.equal(res.json.code, 'lens_henin');
  assert.equal(res.json.name, 'Lens-Hénin');
  assert.equal(res.json.ami, 1);
  assert.equal(res.json.active_since, '2019-01-01');
  assert.ok(res.headers.etag, 'ETag header');
});

test('unknown_platform_is_a_404_problem', async () => {
  const res = await svc.api('GET', '/v1/platforms/paris');
  await assertProblem(res, 404, { path: '/v1/platforms/paris' });
});

test('funding_lists_the_state_credits_of_the_spec_exactly', async () => {
  const res = await svc.api('GET', '/v1/funding');
  assert.equal(res.status, 200);
  assert.equal(res.json.next_cursor, null);
  const got = res.json.items.map((f) => ({
    ami: f.ami,
    year: f.year,
    amount_eur: f.amount_eur,
    eligible_cost_eur: f.eligible_cost_eur,
    state_share_percent: f.state_share_percent,
  }));
  const want = FUNDING.map((f) => ({
    eligible_cost_eur: null,
    state_share_percent: null,
    ...f,
  })).map(({ ami, year, amount_eur, eligible_cost_eur, state_share_percent }) => ({
    ami,
    year,
    amount_eur,
    eligible_cost_eur,
    state_share_percent,
  }));
  assert.deepEqual(got, want, 'funding rows (ordered by ami then year)');
});

test('funding_filters_by_ami', async () => {
  const res = await svc.api('GET', '/v1/funding?ami=2');
  assert.equal(res.status, 200);
  assert.deepEqual(
    res.json.items.map((f) => [f.ami, f.year, f.amount_eur]),
    [
      [2, 2021, 840000],
      [2, 2022, 836493],
    ],
  );
});

test('funding_with_ami_3_is_a_422_naming_ami', async () => {
  const res = await svc.api('GET', '/v1/funding?ami=3');
  const p = await assertProblem(res, 422, { path: '/v1/funding?ami=3' });
  assert.ok(p.errors?.some((e) => e.field === 'ami'), `errors name ami: ${JSON.stringify(p.errors)}`);
});

test('vocabularies_hold_every_enumeration_of_the_spec_with_french_labels', async () => {
  const res = await svc.api('GET', '/v1/vocabularies');
  assert.equal(res.status, 200);
  const vocab = res.json;
  for (const [name, { codes, unknown }] of Object.entries(VOCABULARIES)) {
    assert.ok(Array.isArray(vocab[name]), `vocabulary ${name} is missing`);
    const got = vocab[name].map((e) => e.code);
    const want = unknown && !codes.includes('unknown') ? [...codes, 'unknown'] : codes;
    assert.deepEqual([...got].sort(), [...want].sort(), `codes of ${name}`);
    assert.equal(new Set(got).size, got.length, `${name}: no duplicate code`);
    for (const e of vocab[name]) {
      assert.equal(typeof e.label_fr, 'string', `${name}.${e.code}: label_fr`);
      assert.ok(e.label_fr.trim().length > 0, `${name}.${e.code}: empty label`);
      assert.notEqual(e.label_fr, e.code, `${name}.${e.code}: the label is the code, not French`);
    }
  }
  const label = (name, code) => vocab[name].find((e) => e.code === code)?.label_fr;
  // The documented example, and a few labels that must be French (accents included).
  assert.equal(label('housing_situation', 'hosted_by_third_party'), 'Hébergé chez des tiers');
  assert.equal(label('platform', 'lens_henin'), 'Lens-Hénin');
  assert.match(label('sex', 'female'), /^Femme/);
  assert.match(label('composition', 'single_parent'), /monoparentale/i);
  assert.match(label('measure_kind', 'adsl'), /Autonome Dans Son Logement/);
});

test('unknown_is_accepted_for_every_enumeration_of_a_persons_situation', async () => {
  const res = await svc.api('POST', '/v1/households', {
    token: admin,
    body: {
      platform: 'boulonnais',
      composition: 'unknown',
      adults: 1,
      children: 0,
      head: { last_name: 'Inconnu', first_name: 'Situation', birth_date: '1980-02-29', sex: 'unknown' },
      resources: ['unknown'],
      housing_situation: 'unknown',
      vulnerabilities: ['unknown'],
    },
  });
  assert.equal(res.status, 201, res.text);
  assert.equal(res.json.composition, 'unknown');
  assert.equal(res.json.head.sex, 'unknown');
  assert.deepEqual(res.json.resources, ['unknown']);
  assert.equal(res.json.housing_situation, 'unknown');
  assert.deepEqual(res.json.vulnerabilities, ['unknown']);
});

// ---------------------------------------------------------------------------------------------
// System routes

test('openapi_yaml_is_served_as_yaml_that_parses_as_openapi_3_1_0', async () => {
  const res = await svc.api('GET', '/openapi.yaml');
  assert.equal(res.status, 200);
  assert.match(res.headers['content-type'], /yaml/);
  const doc = YAML.parse(res.text, { maxAliasCount: -1 });
  assert.equal(doc.openapi, '3.1.0');
  assert.ok(doc.paths?.['/v1/platforms'], 'the served document describes /v1/platforms');
  assert.ok(doc.components?.schemas?.Problem, 'the served document has the Problem schema');
});

test('readyz_answers_200_with_the_schema_version_of_the_build', async () => {
  const res = await svc.api('GET', '/readyz');
  assert.equal(res.status, 200);
  assert.equal(res.json.status, 'ready');
  assert.ok(Number.isInteger(res.json.schema_version) && res.json.schema_version > 0, res.text);
  const v = await runBinary(['version'], { timeout: 30_000 });
  const m = (v.stdout + v.stderr).match(/schema\s+(\d+)/);
  assert.ok(m, `lda-api version names its schema version: ${v.stdout}${v.stderr}`);
  assert.equal(res.json.schema_version, Number(m[1]));
});

test('metrics_expose_request_counts_by_route_latency_histogram_and_db_pool', async () => {
  await svc.api('GET', '/v1/platforms');
  const partner = await createPartner('Partenaire métriques');
  assert.equal((await svc.api('GET', `/v1/partners/${partner.id}`, { token: admin })).status, 200);
  // on the service's address, /metrics needs an admin token (LDA_METRICS_LISTEN: without)
  assert.equal((await svc.api('GET', '/metrics')).status, 401);
  const res = await svc.api('GET', '/metrics', { token: admin });
  assert.equal(res.status, 200);
  assert.match(res.headers['content-type'], /^text\/plain/);
  const text = res.text;
  const m = parseMetrics(text);
  assert.match(text, /^# TYPE lda_http_requests_total counter$/m);
  const platformCount = samples(m, 'lda_http_requests_total', { route: '/v1/platforms', status: '200' });
  assert.ok(platformCount.length >= 1 && platformCount[0].value >= 1, 'lda_http_requests_total{route="/v1/platforms"}');
  // Route labels are templates, not raw paths (bounded cardinality).
  assert.ok(
    samples(m, 'lda_http_requests_total').every((s) => !s.labels.route?.includes(partner.id)),
    'route label of /v1/partners/<id> is the template',
  );
  assert.ok(samples(m, 'lda_http_requests_total', { route: '/v1/partners/{id}', status: '200' }).length >= 1);
  // A latency histogram.
  const hist = text.match(/^# TYPE (lda_\w+) histogram$/m);
  assert.ok(hist, 'a histogram metric');
  const h = hist[1];
  assert.ok(samples(m, `${h}_bucket`, { le: '+Inf' }).length >= 1, `${h}_bucket{le="+Inf"}`);
  assert.ok(samples(m, `${h}_sum`).length >= 1, `${h}_sum`);
  assert.ok(samples(m, `${h}_count`).length >= 1, `${h}_count`);
  assert.ok(samples(m, `${h}_bucket`, { route: '/v1/platforms' }).length >= 1, 'latency by route');
  // The database pool.
  const inUse = samples(m, 'lda_db_pool_connections', { state: 'in_use' });
  const idle = samples(m, 'lda_db_pool_connections', { state: 'idle' });
  assert.equal(inUse.length, 1, 'lda_db_pool_connections{state="in_use"}');
  assert.equal(idle.length, 1, 'lda_db_pool_connections{state="idle"}');
  assert.ok(inUse[0].value >= 0 && idle[0].value >= 0);
  const rec = samples(m, 'lda_db_reconnections_total');
  assert.equal(rec.length, 1, 'lda_db_reconnections_total');
  assert.ok(Number.isFinite(rec[0].value) && rec[0].value >= 0);
});

// ---------------------------------------------------------------------------------------------
// HTTP conventions

test('unknown_path_is_a_404_problem_json', async () => {
  const res = await svc.api('GET', '/v1/nothing-here', { token: admin });
  await assertProblem(res, 404, { path: '/v1/nothing-here' });
  const root = await svc.api('GET', '/nope');
  await assertProblem(root, 404, { path: '/nope' });
});

test('wrong_method_is_a_405_problem_json_with_allow', async () => {
  const res = await svc.api('DELETE', '/v1/platforms');
  await assertProblem(res, 405, { path: '/v1/platforms' });
  assert.ok(res.headers.allow, 'Allow header');
  const allowed = res.headers.allow.split(',').map((s) => s.trim().toUpperCase());
  assert.ok(allowed.includes('GET'), `Allow lists GET: ${res.headers.allow}`);
  assert.ok(!allowed.includes('DELETE'));

  const put = await svc.api('PUT', '/v1/funding', { body: {} });
  await assertProblem(put, 405, { path: '/v1/funding' });
  assert.ok(put.headers.allow?.toUpperCase().includes('GET'));
});

test('x_request_id_is_generated_when_absent_or_unusable_and_echoed_when_sent', async () => {
  const a = await svc.api('GET', '/healthz');
  const b = await svc.api('GET', '/healthz');
  assert.match(a.headers['x-request-id'] ?? '', REQUEST_ID_RE);
  assert.match(b.headers['x-request-id'] ?? '', REQUEST_ID_RE);
  assert.notEqual(a.headers['x-request-id'], b.headers['x-request-id'], 'generated ids are unique');

  const mine = `client-${randomBytes(6).toString('hex')}:1.a_b`;
  const echoed = await svc.api('GET', '/v1/platforms', { headers: { 'X-Request-Id': mine } });
  assert.equal(echoed.headers['x-request-id'], mine);

  // Echoed on errors too, and quoted in the problem body.
  const err = await svc.api('GET', '/v1/nope', { headers: { 'X-Request-Id': mine } });
  assert.equal(err.headers['x-request-id'], mine);
  assert.equal(err.json.request_id, mine);

  // An unusable id (spaces, too long) is replaced by a generated one.
  for (const bad of ['has spaces in it', 'x'.repeat(129), 'semi;colon']) {
    const res = await svc.api('GET', '/healthz', { headers: { 'X-Request-Id': bad } });
    assert.match(res.headers['x-request-id'] ?? '', REQUEST_ID_RE, `replacement for ${JSON.stringify(bad)}`);
    assert.notEqual(res.headers['x-request-id'], bad);
  }
});

/** A valid partner creation padded with spaces (valid JSON) to exactly `size` bytes. */
function paddedPartnerBody(name, size) {
  const core = JSON.stringify({ name, kind: 'ccas', platform: 'artois' });
  const bytes = Buffer.byteLength(core);
  assert.ok(bytes + 2 <= size);
  return `{${' '.repeat(size - bytes)}${core.slice(1)}`;
}

async function createPartner(name) {
  const res = await svc.api('POST', '/v1/partners', { token: admin, body: { name, kind: 'association', platform: 'artois' } });
  assert.equal(res.status, 201, res.text);
  return res.json;
}

async function partnerNames() {
  const res = await svc.api('GET', '/v1/partners?limit=500', { token: admin });
  assert.equal(res.status, 200);
  return res.json.items.map((p) => p.name);
}

test('a_body_at_the_limit_is_accepted', async () => {
  const body = paddedPartnerBody('Partenaire à la limite', MAX_BODY);
  assert.equal(Buffer.byteLength(body), MAX_BODY);
  const res = await svc.api('POST', '/v1/partners', {
    token: admin,
    body,
    raw: true,
    headers: { 'Content-Type': 'application/json' },
  });
  assert.equal(res.status, 201, res.text);
});

test('a_body_over_the_limit_with_content_length_is_413_and_stores_nothing', async () => {
  const name = `Trop gros CL ${randomBytes(4).toString('hex')}`;
  const body = paddedPartnerBody(name, MAX_BODY + 1);
  const res = await svc.api('POST', '/v1/partners', {
    token: admin,
    body,
    raw: true,
    headers: { 'Content-Type': 'application/json' },
  });
  await assertProblem(res, 413, { path: '/v1/partners' });
  assert.ok(!(await partnerNames()).includes(name), 'the oversized partner was not stored');
});


test('a_chunked_body_over_the_limit_is_413_and_stores_nothing', async () => {
  const name = `Trop gros chunked ${randomBytes(4).toString('hex')}`;
  const body = paddedPartnerBody(name, MAX_BODY * 2);
  const chunks = [];
  for (let i = 0; i < body.length; i += 300) chunks.push(body.slice(i, i + 300));
  let res;
  try {
    res = await request(svc.url, 'POST', '/v1/partners', {
      keepAlive: false,
      raw: true,
      headers: { Authorization: `Bearer ${admin}`, 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' },
      chunks,
    });
  } catch (err) {
    assert.fail(`chunked oversized body: no HTTP answer (${err.code ?? err.message})`);
  }
  assert.ok(res.complete, 'a complete answer');
  await assertProblem(res, 413, { path: '/v1/partners' });
  assert.ok(!(await partnerNames()).includes(name), 'the oversized chunked partner was not stored');

  // A small chunked body is read as usual.
  const okName = `Chunked ok ${randomBytes(4).toString('hex')}`;
  const small = JSON.stringify({ name: okName, kind: 'caf', platform: 'artois' });
  const ok = await request(svc.url, 'POST', '/v1/partners', {
    keepAlive: false,
    raw: true,
    headers: { Authorization: `Bearer ${admin}`, 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' },
    chunks: [small.slice(0, 10), small.slice(10)],
  });
  assert.equal(ok.status, 201, ok.text);
  assert.ok((await partnerNames()).includes(okName));
});

test('a_wrong_content_type_is_415', async () => {
  for (const ctype of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) {
    const res = await svc.api('POST', '/v1/partners', {
      token: admin,
      body: JSON.stringify({ name: 'Type faux', kind: 'ccas' }),
      raw: true,
      headers: { 'Content-Type': ctype },
    });
    await assertProblem(res, 415, { path: '/v1/partners', what: ctype });
  }
  assert.ok(!(await partnerNames()).includes('Type faux'));
});

test('malformed_json_is_400', async () => {
  for (const text of ['{"name": "x", "kind": ', '{"name": "x" "kind": "ccas"}', 'nul', '{"name":"x","kind":"ccas"} trailing']) {
    const res = await svc.api('POST', '/v1/partners', {
      token: admin,
      body: text,
      raw: true,
      headers: { 'Content-Type': 'application/json' },
    });
    await assertProblem(res, 400, { path: '/v1/partners', what: JSON.stringify(text) });
  }
});

test('a_json_body_with_a_duplicate_key_is_400', async () => {
  const name = `Doublon ${randomBytes(4).toString('hex')}`;
  const res = await svc.api('POST', '/v1/partners', {
    token: admin,
    body: `{"name":"${name}","kind":"ccas","kind":"caf"}`,
    raw: true,
    headers: { 'Content-Type': 'application/json' },
  });
  await assertProblem(res, 400, { path: '/v1/partners' });
  assert.ok(!(await partnerNames()).includes(name));
});

test('query_limit_out_of_range_is_422_naming_limit', async () => {
  const res = await svc.api('GET', '/v1/partners?limit=100000', { token: admin });
  const p = await assertProblem(res, 422, { path: '/v1/partners?limit=100000' });
  assert.ok(p.errors?.some((e) => e.field === 'limit'), JSON.stringify(p.errors));
  for (const bad of ['0', '501', 'abc', '-1']) {
    const r = await svc.api('GET', `/v1/partners?limit=${bad}`, { token: admin });
    await assertProblem(r, 422, { path: `/v1/partners?limit=${bad}`, what: `limit=${bad}` });
  }
  const ok = await svc.api('GET', '/v1/partners?limit=500', { token: admin });
  assert.equal(ok.status, 200);
});

test('an_unknown_query_parameter_is_422_naming_it', async () => {
  const res = await svc.api('GET', '/v1/partners?bogus=1', { token: admin });
  const p = await assertProblem(res, 422, { path: '/v1/partners?bogus=1' });
  assert.ok(p.errors?.some((e) => e.field === 'bogus'), JSON.stringify(p.errors));
  const pub = await svc.api('GET', '/v1/funding?bogus=1');
  await assertProblem(pub, 422, { path: '/v1/funding?bogus=1' });
});

// ---------------------------------------------------------------------------------------------
// Start-up

test('a_bad_LDA_THREADS_stops_start_up_with_exit_2_and_one_line_naming_it', async () => {
  const port = await freePort();
  const r = await runBinary(['serve'], {
    env: { LDA_DATABASE_URL: svc.dbUrl, LDA_LISTEN: `127.0.0.1:${port}`, LDA_THREADS: 'abc' },
    timeout: 30_000,
  });
  assert.equal(r.signal, null);
  assert.equal(r.code, 2, `exit code (stderr: ${r.stderr})`);
  const lines = r.stderr.split('\n').filter((l) => l.length > 0);
  assert.equal(lines.length, 1, `exactly one line on stderr, got:\n${r.stderr}`);
  assert.match(lines[0], /LDA_THREADS/);
});

test('serve_refuses_a_database_whose_schema_is_behind', async () => {
  const behind = await startService({ migrate: false, waitReady: false });
  try {
    const exit = await within(behind.exited, 30_000);
    assert.ok(exit, `serve kept running on an empty (unmigrated) database\n${behind.logs.join('\n')}`);
    assert.ok(exit.code !== 0 || exit.signal, `non-zero exit, got ${JSON.stringify(exit)}`);
    assert.match(behind.logs.join('\n'), /migrate/i, 'the message tells to migrate');
  } finally {
    await behind.stop({ check: false });
  }
});

// ---------------------------------------------------------------------------------------------
// Concurrency, shutdown, logs

test('200_keep_alive_connections_are_served_by_a_fixed_number_of_threads', async () => {
  const pid = svc.child.pid;
  await svc.api('GET', '/v1/platforms'); // warm
  await sleep(100);
  const baseline = await threadCount(pid);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 200 });
  const seen = [];
  let sampling = true;
  const sampler = (async () => {
    for (let i = 0; i < 2_000 && sampling; i += 1) {
      seen.push(await threadCount(pid));
      await sleep(10);
    }
  })();
  const sockets = new Set();
  const statuses = [];
  const failures = [];
  try {
    await Promise.all(
      Array.from({ length: 200 }, async () => {
        for (let i = 0; i < 5; i += 1) {
          try {
            const res = await request(svc.url, 'GET', '/v1/platforms', { agent, timeout: 60_000 });
            sockets.add(res.socket);
            statuses.push(res.complete ? res.status : `cut ${res.status}`);
          } catch (err) {
            failures.push(err.code ?? err.message);
          }
        }
      }),
    );
  } finally {
    sampling = false;
    await sampler;
    agent.destroy();
  }
  assert.deepEqual(failures, [], 'no connection failed');
  assert.equal(statuses.length, 1000);
  assert.ok(statuses.every((s) => s === 200), `every answer a complete 200: ${[...new Set(statuses)]}`);
  assert.equal(sockets.size, 200, 'the requests used 200 connections');
  assert.ok(seen.length > 0);
  const max = Math.max(...seen);
  assert.ok(max <= baseline, `threads before: ${baseline}, during: max ${max} (${[...new Set(seen)].join(',')})`);
});

test('one_json_log_line_per_request_with_the_required_fields', async () => {
  const id = `log-probe-${randomBytes(6).toString('hex')}`;
  const partner = await createPartner('Partenaire journal');
  const res = await svc.api('GET', `/v1/partners/${partner.id}`, { token: admin, headers: { 'X-Request-Id': id } });
  assert.equal(res.status, 200);
  await svc.waitForLog((line, e) => e?.request_id === id, 10_000);
  await sleep(200); // a second line for the same request would have arrived by now
  const mine = svc.logEntries().filter((e) => e.request_id === id);
  assert.equal(mine.length, 1, `exactly one log line for the request: ${JSON.stringify(mine)}`);
  const e = mine[0];
  assert.equal(typeof e.time, 'string');
  assert.ok(!Number.isNaN(Date.parse(e.time)), `time is a timestamp: ${e.time}`);
  assert.match(e.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/);
  assert.equal(typeof e.level, 'string');
  assert.equal(e.method, 'GET');
  assert.equal(e.route, '/v1/partners/{id}');
  assert.equal(e.status, 200);
  assert.equal(typeof e.duration_ms, 'number');
  assert.ok(e.duration_ms >= 0 && e.duration_ms < 60_000);

  assert.ok(!svc.logs.some((l) => l.includes(admin)), 'a log line contains a token');
});

/** The stderr lines of a service that are not JSON objects. */
function nonJsonLines(service) {
  return service.logs
    .filter((l) => !l.startsWith('[harness]'))
    .filter((l) => {
      try {
        const v = JSON.parse(l);
        return !v || typeof v !== 'object' || Array.isArray(v);
      } catch {
        return true;
      }
    });
}

test('stderr_stays_one_json_object_per_line_when_a_client_drops_a_request_mid_body', async () => {
  // A client that goes away in the middle of its body (a dropped mobile connection).
  await new Promise((resolve) => {
    const s = net.connect(svc.port, '127.0.0.1', () => {
      s.write(
        `POST /v1/partners HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${admin}\r\n` +
          'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"name":',
      );
      setTimeout(() => {
        s.destroy();
        resolve();
      }, 200);
    });
    s.on('error', () => resolve());
  });
  await sleep(300);
  assert.equal((await svc.api('GET', '/healthz')).status, 200, 'still serving');
  await sleep(100);
  assert.deepEqual(nonJsonLines(svc), [], 'stderr lines that are not JSON objects');
});

test('sigterm_under_load_finishes_requests_in_flight_and_exits_0', async (t) => {
  const own = await startService();
  let exit;
  try {
    const CLIENTS = 50; // ~50 requests in flight at any time
    const results = { ok: 0, cut: 0, notOk: [], refused: 0, resetBeforeAnswer: 0, writtenBeforeSignalLost: 0 };
    let signalledAt = 0;
    const deadline = Date.now() + 60_000;
    const client = async () => {
      for (let i = 0; i < 5_000 && Date.now() < deadline; i += 1) {
        try {
          const res = await request(own.url, 'GET', '/v1/platforms', { keepAlive: false, timeout: 30_000, validate: false });
          if (!res.complete) results.cut += 1;
          else if (res.status !== 200) results.notOk.push(`${res.status} ${res.text.slice(0, 200)}`);
          else {
            validateResponse('GET', '/v1/platforms', res);
            assert.equal(res.json.items.length, 5);
            results.ok += 1;
          }
        } catch (err) {
          if (err.phase !== 'before-response') throw err;
          if (!signalledAt) throw new Error(`request failed before SIGTERM: ${err.code ?? err.message}`);
          if (err.code === 'ECONNREFUSED') results.refused += 1;
          else results.resetBeforeAnswer += 1;
          // Sent in full before the signal, yet never answered: a request in flight was dropped.
          if (err.writtenAt !== null && err.writtenAt < signalledAt) results.writtenBeforeSignalLost += 1;
          return; // the listener is gone: this client is done
        }
      }
    };
    const clients = Array.from({ length: CLIENTS }, client);
    // Mid-way: once the load is established.
    await pollUntil(() => results.ok >= 200, { timeout: 30_000, interval: 5 });
    assert.ok(results.ok >= 200, 'the load did not get going');
    const okAtSignal = results.ok;
    signalledAt = Date.now();
    own.child.kill('SIGTERM');
    await Promise.all(clients);
    exit = await within(own.exited, 30_000);
    const report = JSON.stringify({ ...results, okAtSignal, notOk: results.notOk.slice(0, 5) });
    t.diagnostic(report);
    assert.ok(exit, `no exit 30 s after SIGTERM ${report}`);
    assert.equal(exit.signal, null, `killed by ${exit.signal}`);
    assert.equal(exit.code, 0, `exit code after SIGTERM\n${own.logs.slice(-20).join('\n')}`);
    assert.equal(results.cut, 0, `answers cut mid-body: ${report}`);
    assert.deepEqual(results.notOk, [], `answers other than 200: ${report}`);
    assert.ok(results.ok > okAtSignal, `requests in flight at SIGTERM were answered: ${report}`);
    assert.equal(results.writtenBeforeSignalLost, 0, `requests sent before SIGTERM got no answer: ${report}`);
  } finally {
    await own.stop({ check: false });
  }
});
